"""Fuzzed Anthropic messages and stream events: callers see exactly what the bare SDK gives them.

As for OpenAI: the same call runs through the bare SDK method and the instrumented one, the
results (or the exception type and message) must be equal, and the call's one span must end
exactly once. Streams are read through messages.create(stream=True) and messages.stream(...).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from anthropic.resources.messages import Messages
from hypothesis import example, given
from hypothesis import strategies as st

from otel_llm.config import ContentCapturingMode
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from tests.instrumentation import _fakes as fakes
from tests.reliability import _fuzz, _payloads
from tests.reliability._fuzz import FUZZ, Fuzzed

MODEL = "claude-sonnet-4-6"
MESSAGES: Any = [{"role": "user", "content": "Where is order A-1? I am jane@example.com"}]
TOOLS: Any = [{"name": "lookup", "description": "CRM", "input_schema": {"type": "object"}}]
KWARGS: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": MESSAGES, "tools": TOOLS}
STATUSES = st.sampled_from([200, 200, 200, 200, 400, 429, 500, 529])


@pytest.fixture(params=[ContentCapturingMode.NO_CONTENT, ContentCapturingMode.SPAN_AND_EVENT])
def fuzz(request: pytest.FixtureRequest) -> Iterator[Fuzzed]:
    """Anthropic instrumented with content capture off, then on (spans and events)."""
    with _fuzz.fuzzed(AnthropicInstrumentor(), request.param) as instrumented:
        yield instrumented


@FUZZ
@given(body=_payloads.ANTHROPIC_BODIES.map(_fuzz.json_bytes), status=STATUSES)
@example(body=_payloads.with_usage(fakes.anthropic_message(), input_tokens="ten"), status=200)
def test_message_bodies(fuzz: Fuzzed, body: bytes, status: int) -> None:
    """messages.create returns (or raises) what the bare SDK does; one span, ended once."""
    fuzz.reset()
    client = fakes.anthropic_client(_fuzz.raw_response(body, status=status))
    bare = _fuzz.outcome(lambda: _fuzz.original(Messages, "create")(client.messages, **KWARGS))
    ours = _fuzz.outcome(lambda: client.messages.create(**KWARGS))
    assert ours == bare, (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)


def _event_payload(stream: tuple[list[Any], bytes]) -> bytes:
    events, tail = stream
    return _fuzz.sse_bytes(events, named=True, tail=tail)


@FUZZ
@given(stream=_payloads.ANTHROPIC_STREAMS)
@example(stream=([{"type": "message_start"}, *fakes.anthropic_events()[1:]], b""))
def test_raw_event_streams(fuzz: Fuzzed, stream: tuple[list[Any], bytes]) -> None:
    """messages.create(stream=True) yields the bare SDK's events and error; one span, ended once."""
    fuzz.reset()
    handler = _fuzz.raw_response(_event_payload(stream), content_type="text/event-stream")
    client = fakes.anthropic_client(handler)
    kwargs = {**KWARGS, "stream": True}
    create = _fuzz.original(Messages, "create")
    bare, bare_stream = _fuzz.stream_outcome(lambda: create(client.messages, **kwargs))
    ours, our_stream = _fuzz.stream_outcome(lambda: client.messages.create(**kwargs))
    assert ours == bare, (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)  # ended by the last event or the error
    for opened in (bare_stream, our_stream):
        if opened is not None:
            opened.close()
    fuzz.counter.assert_each_ended_once(1)


def _helper_outcome(manager: Any) -> _fuzz.Outcome:
    """Enter a messages.stream(...) manager, read every event, then the final message."""
    try:
        with manager as stream:
            read = _fuzz.consume(stream)
            if read.error is not None:
                return read
            final = _fuzz.outcome(stream.get_final_message)
            return _fuzz.Outcome(read.values + final.values, final.error, final.raised_at)
    except Exception as exc:
        return _fuzz.failure((), exc)


@FUZZ
@given(stream=_payloads.ANTHROPIC_STREAMS)
@example(stream=([{"type": "message_start"}, *fakes.anthropic_events()[1:]], b""))
def test_stream_helper(fuzz: Fuzzed, stream: tuple[list[Any], bytes]) -> None:
    """messages.stream(...) yields the bare helper's events, final message and error; one span."""
    fuzz.reset()
    handler = _fuzz.raw_response(_event_payload(stream), content_type="text/event-stream")
    client = fakes.anthropic_client(handler)
    bare = _helper_outcome(_fuzz.original(Messages, "stream")(client.messages, **KWARGS))
    ours = _helper_outcome(client.messages.stream(**KWARGS))
    assert ours == bare, (ours.error, ours.raised_at)
    fuzz.counter.assert_each_ended_once(1)
