"""Thousands of calls across threads and asyncio tasks: right parents, no leaks, none lost.

Every call sends a tag that the mock provider echoes back as the response id, so each recorded
span says which caller it belongs to; the test then checks, span by span, the parent, the trace
and the prompt attributes that caller expected.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

import otel_llm
from otel_llm._telemetry import set_telemetry
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.reliability import _echo

MODEL = "gpt-4o-mini"
SHARED = otel_llm.prompt("shared", version="1")
"""One scope object entered concurrently by every async task (documented as supported)."""


@dataclass(frozen=True)
class Expected:
    """What the chat span of one tagged call must show."""

    workflow: str | None
    """The workflow the span is a child of (None: a root span)."""
    prompt: str | None
    version: str | None = None


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """OpenAI instrumented against in-memory providers (manual spans go there too)."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()
        set_telemetry(None)


def _check(captured: Captured, expected: dict[str, Expected]) -> None:
    """Every expected call has exactly one span, with the right parent, trace and prompt."""
    spans = captured.finished_spans()
    assert len({s.context.span_id for s in spans}) == len(spans)
    workflows = {
        s.attributes["gen_ai.workflow.name"]: s
        for s in spans
        if s.attributes.get("gen_ai.operation.name") == "invoke_workflow"
    }
    chats = [s for s in spans if s.name == f"chat {MODEL}"]
    tags = Counter(str(s.attributes["gen_ai.response.id"]).removeprefix("chatcmpl-") for s in chats)
    assert tags == Counter(list(expected)), "a call was lost, recorded twice or mislabelled"
    assert len(workflows) == len({e.workflow for e in expected.values()} - {None})
    assert len(spans) == len(chats) + len(workflows)
    for chat in chats:
        want = expected[str(chat.attributes["gen_ai.response.id"]).removeprefix("chatcmpl-")]
        if want.workflow is None:
            assert chat.parent is None
        else:
            parent = workflows[want.workflow]
            assert chat.parent.span_id == parent.context.span_id
            assert chat.context.trace_id == parent.context.trace_id
        assert chat.attributes.get("gen_ai.prompt.name") == want.prompt
        assert chat.attributes.get("gen_ai.prompt.version") == want.version


def _sync_job(client: Any, worker: int, job: int) -> dict[str, Expected]:
    """One unit of work on a pool thread; every fourth runs outside any scope, another fails."""
    base = f"w{worker}j{job}"
    kind = job % 4
    if kind == 3:
        # Right after scoped jobs on the same pool thread: nothing may carry over.
        client.chat.completions.create(model=MODEL, messages=_echo.messages(f"{base}-bare"))
        return {f"{base}-bare": Expected(None, None)}
    workflow = f"wf-{base}"
    with otel_llm.workflow(workflow):
        try:
            with otel_llm.prompt(f"p-{base}", version=str(job)):
                tag = _echo.messages(f"{base}-in")
                if kind == 0:
                    client.chat.completions.create(model=MODEL, messages=tag)
                else:
                    stream = client.chat.completions.create(model=MODEL, messages=tag, stream=True)
                    for _ in stream:
                        if kind == 2:
                            break  # abandoned early: its span must still end, once
                    stream.close()
                if kind == 2:
                    raise LookupError("the caller's own failure inside the scopes")
        except LookupError:
            pass
        client.chat.completions.create(model=MODEL, messages=_echo.messages(f"{base}-after"))
    return {
        f"{base}-in": Expected(workflow, f"p-{base}", str(job)),
        f"{base}-after": Expected(workflow, None),
    }


def test_threads_keep_parents_and_prompts_apart(instrumented: Captured) -> None:
    """1,008 calls from 8 pool threads sharing one client: right parent and prompt on each."""
    client = fakes.openai_client(_echo.echo_handler)
    workers, jobs = 8, 72
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_sync_job, client, worker, job)
            for job in range(jobs)
            for worker in range(workers)
        ]
        expected: dict[str, Expected] = {}
        for future in futures:
            expected.update(future.result())
    assert len(expected) == 1_008  # 3 of 4 jobs make two calls
    _check(instrumented, expected)


async def _async_job(client: Any, job: int) -> dict[str, Expected]:
    """A task under the shared scope: an inner prompt, two concurrent children, a thread hop."""
    base = f"a{job}"
    workflow = f"wf-{base}"
    expected: dict[str, Expected] = {}
    async with otel_llm.workflow(workflow), SHARED:
        async with otel_llm.prompt(f"p-{base}", version="2"):
            stream = await client.chat.completions.create(
                model=MODEL, messages=_echo.messages(f"{base}-stream"), stream=True
            )
            async for _ in stream:
                await asyncio.sleep(0)  # let the other tasks run between chunks
            expected[f"{base}-stream"] = Expected(workflow, f"p-{base}", "2")

        @otel_llm.prompt(f"child-{base}", version="3")
        async def child(suffix: str) -> None:
            await client.chat.completions.create(
                model=MODEL, messages=_echo.messages(f"{base}-{suffix}")
            )

        await asyncio.gather(child("left"), child("right"))
        for suffix in ("left", "right"):
            expected[f"{base}-{suffix}"] = Expected(workflow, f"child-{base}", "3")
        await client.chat.completions.create(model=MODEL, messages=_echo.messages(f"{base}-back"))
        expected[f"{base}-back"] = Expected(workflow, "shared", "1")
    return expected


def test_asyncio_tasks_keep_parents_and_prompts_apart(instrumented: Captured) -> None:
    """800 calls from 200 concurrent tasks: right parent and prompt on every span."""
    client = fakes.async_openai_client(_echo.echo_handler)

    async def main() -> list[dict[str, Expected]]:
        return await asyncio.gather(*(_async_job(client, job) for job in range(200)))

    expected: dict[str, Expected] = {}
    for part in asyncio.run(main()):
        expected.update(part)
    assert len(expected) == 800
    _check(instrumented, expected)


def test_to_thread_carries_the_scope_and_plain_threads_do_not(instrumented: Captured) -> None:
    """asyncio.to_thread copies the context (parent and prompt); a plain pool submit does not."""
    sync_client = fakes.openai_client(_echo.echo_handler)

    def call(tag: str) -> None:
        sync_client.chat.completions.create(model=MODEL, messages=_echo.messages(tag))

    async def main() -> dict[str, Expected]:
        expected: dict[str, Expected] = {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            for job in range(50):
                async with otel_llm.workflow(f"wf-h{job}"), otel_llm.prompt(f"p-h{job}"):
                    await asyncio.to_thread(call, f"h{job}-copied")
                    pool.submit(call, f"h{job}-plain").result()
                expected[f"h{job}-copied"] = Expected(f"wf-h{job}", f"p-h{job}")
                expected[f"h{job}-plain"] = Expected(None, None)
        return expected

    _check(instrumented, asyncio.run(main()))
