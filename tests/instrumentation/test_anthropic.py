"""Anthropic instrumentation through the real SDK over a mock HTTP transport."""

from __future__ import annotations

import asyncio
import copy
import gc
import json
from typing import Any

import anthropic
import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.instrumentation._instrumented import one_span, provider_fixtures

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]
MODEL = "claude-sonnet-4-6"


instrumented, with_content = provider_fixtures(AnthropicInstrumentor)


def test_create_records_cache_usage_with_upstream_input_total(instrumented: Captured) -> None:
    """messages.create returns the SDK's Message; input tokens include cache read and write."""
    client = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
    message = client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES)
    assert type(message) is anthropic.types.Message
    span = one_span(instrumented)
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.request.max_tokens"] == 256
    assert attributes["gen_ai.response.id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == 10 + 1000 + 200
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 1000
    assert attributes["gen_ai.usage.cache_write.input_tokens"] == 200
    assert attributes["gen_ai.usage.output_tokens"] == 12
    assert attributes["server.address"] == "api.anthropic.com"
    (write,) = instrumented.metric_points("gen_ai.client.inference.usage.cache_write.input_tokens")
    assert write.value == 200


def test_sdk_span_is_suppressed_so_the_call_is_recorded_once() -> None:
    """With a global tracer provider set, the SDK's own call span is not emitted inside ours."""
    captured = make_captured()
    previous = trace._TRACER_PROVIDER
    trace._TRACER_PROVIDER = captured.providers["tracer_provider"]
    try:
        client = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
        client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
        sdk_only = [s.name for s in captured.finished_spans()]
        assert sdk_only, "the anthropic SDK should emit its own span when not instrumented"
        captured.spans.clear()
        AnthropicInstrumentor().instrument(**captured.providers, skip_dep_check=True)
        client = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
        client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
        assert [s.name for s in captured.finished_spans()] == [f"chat {MODEL}"]
    finally:
        AnthropicInstrumentor().uninstrument()
        trace._TRACER_PROVIDER = previous


def test_error_is_reraised_unchanged(instrumented: Captured) -> None:
    """An overloaded error (529) raises the SDK's exception and marks the span ERROR."""
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    client = fakes.anthropic_client(fakes.anthropic_respond(body, status=529))
    with pytest.raises(anthropic.APIStatusError) as excinfo:
        client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
    assert excinfo.value.status_code == 529
    span = one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"].startswith("anthropic.")


def test_raw_stream_records_usage_from_events(instrumented: Captured) -> None:
    """create(stream=True) yields the same events and the span gets usage from message_delta."""
    payload = fakes.anthropic_sse(fakes.anthropic_events())
    client = fakes.anthropic_client(fakes.anthropic_respond(payload))
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)
    assert isinstance(stream, anthropic.Stream)
    events = [event.type for event in stream]
    assert events[0] == "message_start"
    assert events[-1] == "message_stop"
    span = one_span(instrumented)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 7
    assert span.attributes["gen_ai.usage.input_tokens"] == 1210
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_stream_helper_records_one_span(with_content: Captured) -> None:
    """The messages.stream() helper works as before and records one span with the reply text."""
    payload = fakes.anthropic_sse(fakes.anthropic_events())
    client = fakes.anthropic_client(fakes.anthropic_respond(payload))
    with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Your order ships."
    assert final.usage.output_tokens == 7
    span = one_span(with_content)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 7
    output = json.loads(span.attributes["gen_ai.output.messages"])
    assert output[0]["parts"][0] == {"type": "text", "content": "Your order ships."}
    (outcome,) = with_content.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "success"


def test_stream_helper_left_early_ends_once(instrumented: Captured) -> None:
    """Leaving the stream() block before the end ends the span once, as cancelled."""
    payload = fakes.anthropic_sse(fakes.anthropic_events())
    client = fakes.anthropic_client(fakes.anthropic_respond(payload))
    with client.messages.stream(model=MODEL, max_tokens=64, messages=MESSAGES) as stream:
        next(iter(stream))
    gc.collect()
    span = one_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "cancelled"


def test_async_create_and_stream_helper(instrumented: Captured) -> None:
    """Async create and the async stream() helper each record one span."""

    async def main() -> str:
        client = fakes.async_anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
        await client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES)
        payload = fakes.anthropic_sse(fakes.anthropic_events())
        streaming = fakes.async_anthropic_client(fakes.anthropic_respond(payload))
        async with streaming.messages.stream(
            model=MODEL, max_tokens=64, messages=MESSAGES
        ) as stream:
            return "".join([text async for text in stream.text_stream])

    assert asyncio.run(main()) == "Your order ships."
    first, second = instrumented.finished_spans()
    assert "gen_ai.request.stream" not in first.attributes
    assert second.attributes["gen_ai.usage.output_tokens"] == 7


def test_tool_use_content(with_content: Captured) -> None:
    """A tool_use reply maps to a tool_call part and the tool_call finish reason."""
    tool_use = {"id": "toolu_01", "name": "crm_account_lookup", "input": {"account_id": "A-1"}}
    body = fakes.anthropic_message(stop_reason="tool_use", tool_use=tool_use)
    tools = [
        {"name": "crm_account_lookup", "description": "CRM", "input_schema": {"type": "object"}}
    ]
    client = fakes.anthropic_client(fakes.anthropic_respond(body))
    client.messages.create(
        model=MODEL, max_tokens=64, messages=MESSAGES, tools=tools, system="Be brief."
    )
    span = one_span(with_content)
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    output = json.loads(span.attributes["gen_ai.output.messages"])
    assert output[0]["parts"][1]["type"] == "tool_call"
    assert json.loads(span.attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Be brief."}
    ]


def test_copied_stream_is_accounted_to_the_one_span(instrumented: Captured) -> None:
    """copy.copy of an Anthropic stream is an anthropic.Stream whose events end the span once."""
    payload = fakes.anthropic_sse(fakes.anthropic_events())
    client = fakes.anthropic_client(fakes.anthropic_respond(payload))
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)
    duplicate = copy.copy(stream)
    assert isinstance(duplicate, anthropic.Stream)
    del stream
    gc.collect()
    assert instrumented.finished_spans() == []
    assert [event.type for event in duplicate][-1] == "message_stop"
    span = one_span(instrumented)
    assert span.attributes["gen_ai.usage.output_tokens"] == 7
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    del duplicate
    gc.collect()
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "success"


def test_deepcopied_stream_raises_as_the_bare_one(instrumented: Captured) -> None:
    """copy.deepcopy of an Anthropic stream raises what it raises without instrumentation."""
    payload = fakes.anthropic_sse(fakes.anthropic_events())
    client = fakes.anthropic_client(fakes.anthropic_respond(payload))
    stream = client.messages.create(model=MODEL, max_tokens=64, messages=MESSAGES, stream=True)
    with pytest.raises(TypeError, match="cannot pickle"):
        copy.deepcopy(stream)
