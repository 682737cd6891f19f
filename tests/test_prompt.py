"""Tests for otel_llm._prompt: the prompt carried in context and the attributes derived from it."""

import asyncio
import contextvars
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from opentelemetry.sdk.trace import SpanProcessor

from otel_llm._prompt import (
    PromptInfo,
    current_prompt,
    prompt,
    prompt_metric_attributes,
    prompt_span_attributes,
)
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.semconv.attributes import gen_ai
from otel_llm.semconv.attributes import otel_llm as ol
from tests.conftest import make_captured
from tests.instrumentation import _fakes as fakes
from tests.test_budget import redactor_text


def _name() -> str | None:
    info = current_prompt()
    return None if info is None else info.name


def test_no_prompt_outside_any_scope() -> None:
    """Without an enclosing prompt scope current_prompt() is None."""
    assert current_prompt() is None


def test_context_manager_sets_and_clears_prompt() -> None:
    """A `with prompt(...)` block makes its PromptInfo current and clears it on exit."""
    with prompt("support_answer", version="v42", variables={"tier": "gold"}) as info:
        assert current_prompt() is info
        assert info == PromptInfo("support_answer", "v42", {"tier": "gold"})
    assert current_prompt() is None


def test_variables_are_stringified() -> None:
    """Variable keys and values are converted to strings when the scope is created."""
    scope = prompt("p", variables={"count": 3, "ratio": 0.5, "flag": None})
    assert scope.info.variables == {"count": "3", "ratio": "0.5", "flag": "None"}


def test_variables_cannot_be_mutated_after_creation() -> None:
    """The stored variables are read-only, so one scope cannot change under concurrent users."""
    source = {"a": "1"}
    scope = prompt("p", variables=source)
    source["a"] = "2"
    assert scope.info.variables == {"a": "1"}
    with pytest.raises(TypeError):
        scope.info.variables["a"] = "3"  # type: ignore[index]


def test_nested_scopes_restore_outer_prompt() -> None:
    """An inner scope replaces the outer one and the outer one is current again after it."""
    with prompt("outer"):
        with prompt("inner"):
            assert _name() == "inner"
        assert _name() == "outer"
    assert current_prompt() is None


def test_prompt_restored_when_block_raises() -> None:
    """An exception leaving the block still restores the previous prompt and propagates as is."""
    error = ValueError("boom")
    with prompt("outer"):
        with pytest.raises(ValueError, match="boom") as caught, prompt("inner"):
            raise error
        assert caught.value is error
        assert _name() == "outer"


def test_async_with_form() -> None:
    """`async with prompt(...)` works like the sync form."""

    async def main() -> tuple[str | None, str | None]:
        async with prompt("async_block"):
            inside = _name()
        return inside, _name()

    assert asyncio.run(main()) == ("async_block", None)


def test_reused_scope_object_nests() -> None:
    """One scope object entered twice (nested) restores correctly on each exit."""
    scope = prompt("shared")
    with prompt("outer"):
        with scope:
            with scope:
                assert _name() == "shared"
            assert _name() == "shared"
        assert _name() == "outer"


def test_sync_decorator_sets_prompt_per_call() -> None:
    """A decorated sync function runs under the prompt, and the caller's prompt is restored."""

    @prompt("decorated", version="1")
    def work(x: int) -> tuple[int, PromptInfo | None]:
        return x * 2, current_prompt()

    with prompt("caller"):
        result, info = work(21)
        assert _name() == "caller"
    assert result == 42
    assert info == PromptInfo("decorated", "1")
    assert work.__name__ == "work"


def test_sync_decorator_restores_on_exception() -> None:
    """A decorated function that raises propagates the same exception and restores the prompt."""
    error = RuntimeError("nope")

    @prompt("failing")
    def work() -> None:
        raise error

    with pytest.raises(RuntimeError) as caught:
        work()
    assert caught.value is error
    assert current_prompt() is None


def test_async_decorator_sets_prompt_per_call() -> None:
    """A decorated coroutine function stays a coroutine function and runs under the prompt."""

    @prompt("async_decorated")
    async def work() -> str | None:
        await asyncio.sleep(0)
        return _name()

    assert inspect.iscoroutinefunction(work)
    assert asyncio.run(work()) == "async_decorated"
    assert current_prompt() is None


def test_gathered_tasks_each_see_their_own_prompt() -> None:
    """Concurrent gathered tasks each see only the prompt of their own scope."""

    async def under(name: str) -> list[str | None]:
        seen = []
        with prompt(name):
            for _ in range(3):
                await asyncio.sleep(0)  # interleave with the other tasks
                seen.append(_name())
        seen.append(_name())
        return seen

    async def main() -> list[list[str | None]]:
        with prompt("parent"):
            return list(await asyncio.gather(under("a"), under("b"), under("c")))

    results = asyncio.run(main())
    assert results == [
        ["a", "a", "a", "parent"],
        ["b", "b", "b", "parent"],
        ["c", "c", "c", "parent"],
    ]


def test_shared_scope_object_in_concurrent_tasks() -> None:
    """One module-level scope entered from interleaving tasks restores each task's own prompt."""
    shared = prompt("shared")

    async def under(name: str) -> list[str | None]:
        seen = []
        with prompt(name):
            async with shared:
                await asyncio.sleep(0)
                seen.append(_name())
            await asyncio.sleep(0)
            seen.append(_name())
        return seen

    async def main() -> list[list[str | None]]:
        return list(await asyncio.gather(under("a"), under("b")))

    assert asyncio.run(main()) == [["shared", "a"], ["shared", "b"]]


def test_concurrent_decorated_calls_do_not_leak() -> None:
    """Gathered calls of differently decorated coroutines each run under their own prompt."""

    @prompt("first")
    async def first() -> list[str | None]:
        seen = []
        for _ in range(3):
            await asyncio.sleep(0)
            seen.append(_name())
        return seen

    @prompt("second")
    async def second() -> list[str | None]:
        seen = []
        for _ in range(3):
            await asyncio.sleep(0)
            seen.append(_name())
        return seen

    async def main() -> list[list[str | None]]:
        return list(await asyncio.gather(first(), second()))

    assert asyncio.run(main()) == [["first"] * 3, ["second"] * 3]


def test_thread_sees_prompt_via_copy_context() -> None:
    """Work submitted with copy_context().run sees the prompt; a bare submission does not."""
    with prompt("threaded"), ThreadPoolExecutor(max_workers=1) as executor:
        copied = executor.submit(contextvars.copy_context().run, _name).result()
        bare = executor.submit(_name).result()
    assert copied == "threaded"
    assert bare is None


def test_plain_thread_does_not_inherit_prompt() -> None:
    """A threading.Thread started inside a scope does not see the prompt."""
    seen: list[str | None] = []
    with prompt("main_thread"):
        thread = threading.Thread(target=lambda: seen.append(_name()))
        thread.start()
        thread.join()
    assert seen == [None]


def test_decorating_a_generator_is_rejected() -> None:
    """Decorating a generator function raises TypeError, since the prompt would not cover it."""
    with pytest.raises(TypeError, match="generator"):

        @prompt("gen")
        def numbers() -> object:
            yield 1


def test_span_attributes_without_content() -> None:
    """Span attributes carry name and version, and no variables while content capture is off."""
    info = prompt("p", version="v1", variables={"user": "alice"}).info
    assert prompt_span_attributes(info, capture_content=False) == {
        gen_ai.GEN_AI_PROMPT_NAME: "p",
        gen_ai.GEN_AI_PROMPT_VERSION: "v1",
    }


def test_span_attributes_with_content() -> None:
    """With content capture on, each variable is a `gen_ai.prompt.variable.<name>` attribute."""
    info = prompt("p", variables={"user": "alice", "n": 2}).info
    assert prompt_span_attributes(info, capture_content=True) == {
        gen_ai.GEN_AI_PROMPT_NAME: "p",
        "gen_ai.prompt.variable.user": "alice",
        "gen_ai.prompt.variable.n": "2",
    }


def test_metric_attributes_are_name_and_version_only() -> None:
    """Metric attributes never include the variables, and omit an unknown version."""
    info = prompt("p", version="v1", variables={"user": "alice"}).info
    assert prompt_metric_attributes(info) == {
        gen_ai.GEN_AI_PROMPT_NAME: "p",
        gen_ai.GEN_AI_PROMPT_VERSION: "v1",
    }
    assert prompt_metric_attributes(PromptInfo("q")) == {gen_ai.GEN_AI_PROMPT_NAME: "q"}


def test_template_hash_defaults_to_none() -> None:
    """A prompt scope made without a template hash has none, so nothing extra goes on spans."""
    info = prompt("p", version="v1").info
    assert info.template_hash is None
    assert ol.OTEL_LLM_PROMPT_TEMPLATE_HASH not in prompt_span_attributes(info, True)


def test_template_hash_on_span_attributes() -> None:
    """A template hash given to prompt(...) is a span attribute whether or not content is on."""
    info = prompt("p", version="v1", template_hash="sha256:0123456789abcdef").info
    assert info == PromptInfo("p", "v1", None, "sha256:0123456789abcdef")
    for capture in (False, True):
        attributes = prompt_span_attributes(info, capture_content=capture)
        assert attributes[ol.OTEL_LLM_PROMPT_TEMPLATE_HASH] == "sha256:0123456789abcdef"


def test_template_hash_never_on_metric_attributes() -> None:
    """The template hash stays off metric attributes, which carry name and version only."""
    info = prompt("p", version="v1", template_hash="sha256:0123456789abcdef").info
    assert prompt_metric_attributes(info) == {
        gen_ai.GEN_AI_PROMPT_NAME: "p",
        gen_ai.GEN_AI_PROMPT_VERSION: "v1",
    }


def test_template_hash_is_current_inside_scope() -> None:
    """Inside the scope, current_prompt() carries the template hash given to prompt(...)."""
    with prompt("p", template_hash="sha256:feedfacecafebeef"):
        info = current_prompt()
        assert info is not None
        assert info.template_hash == "sha256:feedfacecafebeef"


def test_long_variables_are_cut_to_the_budget_after_redaction() -> None:
    """A variable over the budget is cut with the truncation marker, its findings redacted first."""
    value = "~" * 230 + " john.doe@example.com " + "~" * 500
    info = prompt("p", variables={"note": value, "tier": "gold"}).info
    attributes = prompt_span_attributes(
        info, capture_content=True, max_bytes=256, redact=redactor_text()
    )
    note = attributes["gen_ai.prompt.variable.note"]
    assert isinstance(note, str)
    assert len(note.encode()) <= 256
    assert note.endswith(f"…[truncated {len(value)} bytes]")
    assert "john" not in note
    assert attributes["gen_ai.prompt.variable.tier"] == "gold"


def test_variables_on_llm_spans_keep_the_content_budget() -> None:
    """Through an instrumented call, a huge variable is cut to OTEL_LLM_MAX_CONTENT_BYTES."""
    captured = make_captured(
        Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY, max_content_bytes=1024)
    )
    OpenAIInstrumentor().instrument(
        **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        with prompt("support", variables={"document": "word " * 100_000}):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    finally:
        OpenAIInstrumentor().uninstrument()
    (span,) = captured.finished_spans()
    document = span.attributes["gen_ai.prompt.variable.document"]
    assert len(document.encode()) <= 1024
    assert document.endswith("…[truncated 500000 bytes]")


def test_variables_reach_llm_spans_only_after_they_started() -> None:
    """Prompt variables are content: a span processor's on_start sees the prompt, not them."""
    starts: list[dict[str, object]] = []

    class SeenAtStart(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            starts.append(dict(span.attributes or {}))

    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY))
    captured.providers["tracer_provider"].add_span_processor(SeenAtStart())
    OpenAIInstrumentor().instrument(
        **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        with prompt("support", version="2", variables={"customer": "Jane Roe"}):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    finally:
        OpenAIInstrumentor().uninstrument()
    (at_start,) = starts
    assert at_start[gen_ai.GEN_AI_PROMPT_NAME] == "support"
    assert not [key for key in at_start if key.startswith(gen_ai.GEN_AI_PROMPT_VARIABLE)]
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.prompt.variable.customer"] == "Jane Roe"
