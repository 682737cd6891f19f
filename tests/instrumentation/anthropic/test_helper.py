"""The messages.stream(...) helper: the call starts as its `with` block enters, ends once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from opentelemetry.trace import StatusCode

from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._engine import start_call
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from otel_llm.instrumentation.anthropic._helper import observe_raw_stream, stream_helper
from otel_llm.instrumentation.endpoint import Endpoint, RequestInfo
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

MODEL = "claude-sonnet-4-6"
MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """Anthropic instrumented against in-memory providers."""
    captured = make_captured()
    AnthropicInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        AnthropicInstrumentor().uninstrument()


def test_a_request_failing_as_the_block_enters_fails_the_call(instrumented: Captured) -> None:
    """An error answer raises from `with ...stream()` as bare, and the span fails once."""
    body = {"type": "error", "error": {"type": "api_error", "message": "Internal"}}
    client = fakes.anthropic_client(fakes.anthropic_respond(body, status=500))
    with (
        pytest.raises(anthropic.InternalServerError),
        client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES),
    ):
        pass
    (span,) = instrumented.finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["gen_ai.request.stream"] is True


def test_creating_the_manager_sends_nothing_and_records_nothing(instrumented: Captured) -> None:
    """The call starts when the block is entered, not when the manager is made."""
    client = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
    client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES)
    assert instrumented.finished_spans() == []


def test_a_stream_without_a_raw_stream_ends_its_call_at_once(captured: Captured) -> None:
    """A MessageStream of an SDK release without `_raw_stream` ends the call, not leaks it."""
    endpoint = Endpoint(
        operation="chat", provider="anthropic", request=lambda i, a, k: RequestInfo(model="m")
    )
    call = start_call(endpoint, object(), (), {}, Recorder(captured.telemetry))
    assert call is not None
    observe_raw_stream(object(), call)
    assert len(captured.finished_spans()) == 1


def test_the_helper_needs_the_messages_endpoint() -> None:
    """A target table naming no endpoint for the helper is refused at instrument time."""
    with pytest.raises(ValueError, match="messages endpoint"):
        stream_helper(None, Recorder(make_captured().telemetry))
