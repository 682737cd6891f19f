"""Fuzzed OpenAI responses and stream chunks: callers see exactly what the bare SDK gives them.

For every generated payload the same call runs through the bare SDK method and through the
instrumented one; the results (or the exception type and message) must be equal, and the
instrumented call must start one span and end it exactly once. Our internal errors are
re-raised under pytest, so a bug in otel-llm shows up as a difference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openai.resources.chat.completions import AsyncCompletions, Completions
from openai.resources.responses import Responses

from otel_llm.config import ContentCapturingMode
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.instrumentation import _fakes as fakes
from tests.reliability import _fuzz, _payloads
from tests.reliability._fuzz import FUZZ, Fuzzed

MESSAGES: Any = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Where is order A-1? Mail me at jane@example.com"},
]
TOOLS: Any = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
STATUSES = st.sampled_from([200, 200, 200, 200, 201, 400, 404, 429, 500, 503])


@pytest.fixture(params=[ContentCapturingMode.NO_CONTENT, ContentCapturingMode.SPAN_AND_EVENT])
def fuzz(request: pytest.FixtureRequest) -> Iterator[Fuzzed]:
    """OpenAI instrumented with content capture off, then on (spans and events)."""
    with _fuzz.fuzzed(OpenAIInstrumentor(), request.param) as instrumented:
        yield instrumented


def _bodies(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON bodies from `strategy`, some cut short, some not valid UTF-8."""
    encoded = strategy.map(_fuzz.json_bytes)
    truncated = encoded.flatmap(lambda raw: st.integers(0, len(raw)).map(lambda n: raw[:n]))
    return st.one_of(encoded, truncated, st.just(b'{"id": "\xff\xfe", "choices": []}'))


@FUZZ
@given(body=_bodies(_payloads.CHAT_BODIES), status=STATUSES)
@example(body=_payloads.with_usage(fakes.chat_completion(), prompt_tokens="many"), status=200)
def test_chat_completion_bodies(fuzz: Fuzzed, body: bytes, status: int) -> None:
    """chat.completions.create returns (or raises) what the bare SDK does; one span, ended once."""
    fuzz.reset()
    client = fakes.openai_client(_fuzz.raw_response(body, status=status))
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, "tools": TOOLS}
    bare = _fuzz.outcome(
        lambda: _fuzz.original(Completions, "create")(client.chat.completions, **kwargs)
    )
    ours = _fuzz.outcome(lambda: client.chat.completions.create(**kwargs))
    assert ours == bare, (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)


@FUZZ
@given(stream=_payloads.CHAT_STREAMS)
@example(stream=([{"id": "x", "choices": [None]}], b""))
@example(stream=([{"id": "x", "choices": ["x"]}], b""))
@example(stream=([{"id": "x", "choices": [{"index": None}, {"index": 0}]}], b""))
def test_chat_completion_streams(fuzz: Fuzzed, stream: tuple[list[Any], bytes]) -> None:
    """A fuzzed chunk stream yields the bare SDK's chunks and error; its span ends at the end."""
    fuzz.reset()
    events, tail = stream
    payload = _fuzz.sse_bytes(events, named=False, tail=tail)
    client = fakes.openai_client(_fuzz.raw_response(payload, content_type="text/event-stream"))
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    create = _fuzz.original(Completions, "create")
    bare, bare_stream = _fuzz.stream_outcome(lambda: create(client.chat.completions, **kwargs))
    ours, our_stream = _fuzz.stream_outcome(lambda: client.chat.completions.create(**kwargs))
    assert ours == bare, (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)  # ended by the last chunk or the error, not by close
    for opened in (bare_stream, our_stream):
        if opened is not None:
            opened.close()
    fuzz.counter.assert_each_ended_once(1)


@FUZZ
@given(stream=_payloads.CHAT_STREAMS)
def test_async_chat_completion_streams(fuzz: Fuzzed, stream: tuple[list[Any], bytes]) -> None:
    """The async stream proxy behaves like the bare async stream on fuzzed chunks too."""
    fuzz.reset()
    events, tail = stream
    payload = _fuzz.sse_bytes(events, named=False, tail=tail)
    handler = _fuzz.raw_response(payload, content_type="text/event-stream")
    kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    create = _fuzz.original(AsyncCompletions, "create")

    async def run(instrumented: bool) -> _fuzz.Outcome:
        client = fakes.async_openai_client(handler)
        try:
            if instrumented:
                opened = await client.chat.completions.create(**kwargs)
            else:
                opened = await create(client.chat.completions, **kwargs)
        except Exception as exc:
            return _fuzz.failure((), exc)
        try:
            return await _fuzz.aconsume(opened)
        finally:
            await opened.close()

    ours = asyncio.run(run(instrumented=True))
    assert ours == asyncio.run(run(instrumented=False)), (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)


@FUZZ
@given(body=_bodies(_payloads.RESPONSES_BODIES), status=STATUSES)
def test_responses_bodies(fuzz: Fuzzed, body: bytes, status: int) -> None:
    """responses.create returns (or raises) what the bare SDK does; one span, ended once."""
    fuzz.reset()
    client = fakes.openai_client(_fuzz.raw_response(body, status=status))
    kwargs: dict[str, Any] = {"model": "gpt-4o", "input": "Where is order A-1?"}
    bare = _fuzz.outcome(lambda: _fuzz.original(Responses, "create")(client.responses, **kwargs))
    ours = _fuzz.outcome(lambda: client.responses.create(**kwargs))
    assert ours == bare, (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)


@FUZZ
@given(stream=_payloads.RESPONSES_STREAMS)
@example(stream=(_payloads.responses_events_with_usage(output_tokens="five"), b""))
def test_responses_streams(fuzz: Fuzzed, stream: tuple[list[Any], bytes]) -> None:
    """A fuzzed Responses event stream yields the bare SDK's events and error; one span."""
    fuzz.reset()
    events, tail = stream
    payload = _fuzz.sse_bytes(events, named=True, tail=tail)
    client = fakes.openai_client(_fuzz.raw_response(payload, content_type="text/event-stream"))
    kwargs: dict[str, Any] = {"model": "gpt-4o", "input": "hi", "stream": True}
    create = _fuzz.original(Responses, "create")
    bare, bare_stream = _fuzz.stream_outcome(lambda: create(client.responses, **kwargs))
    ours, our_stream = _fuzz.stream_outcome(lambda: client.responses.create(**kwargs))
    assert ours == bare, (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)
    for opened in (bare_stream, our_stream):
        if opened is not None:
            opened.close()
