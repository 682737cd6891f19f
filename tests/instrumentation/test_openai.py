"""OpenAI instrumentation through the real SDK over a mock HTTP transport."""

from __future__ import annotations

import asyncio
import copy
import gc
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm.config import ContentCapturingMode, Settings, load_settings
from otel_llm.cost import PriceBook
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.instrumentation.types import Usage
from otel_llm.redaction import Redactor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.instrumentation.test_fit import kept_chars, messages_of
from tests.test_budget import FINDINGS, leaked_fragment, straddling_texts

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """OpenAI instrumented against in-memory providers, uninstrumented afterwards."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()


@pytest.fixture
def with_content() -> Iterator[Captured]:
    """Like `instrumented`, with content capture on spans and events."""
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_AND_EVENT))
    OpenAIInstrumentor().instrument(
        **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()


def _bare(captured: Captured, call: Any) -> Any:
    """Run `call` with instrumentation removed, to compare against the uninstrumented client."""
    OpenAIInstrumentor().uninstrument()
    try:
        return call()
    finally:
        OpenAIInstrumentor().instrument(
            **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
        )


def _one_span(captured: Captured) -> Any:
    (span,) = captured.finished_spans()
    return span


def test_chat_returns_the_same_object_and_records_the_span(instrumented: Captured) -> None:
    """A chat call returns exactly what the bare client returns and records one CLIENT span."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    result = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.2)
    bare = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    expected = _bare(
        instrumented,
        lambda: bare.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, temperature=0.2
        ),
    )
    assert result == expected
    assert type(result) is openai.types.chat.ChatCompletion
    span = _one_span(instrumented)
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2,
        "server.address": "api.openai.com",
        "server.port": 443,
        "openai.api.type": "chat_completions",
        "gen_ai.response.id": "chatcmpl-AbC123",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.usage.output_tokens": 9,
        "gen_ai.usage.cache_read.input_tokens": 32,
        "gen_ai.usage.reasoning.output_tokens": 4,
        "openai.response.service_tier": "default",
        "openai.response.system_fingerprint": "fp_44709d6fcb",
        # Priced by the cost processor otel-llm put in front of the test's exporter (the engine
        # prices the spend metrics off the calling thread, the span on the exporter's side).
        **PriceBook()
        .price(
            "openai",
            "gpt-4o-mini-2024-07-18",
            Usage(input_tokens=42, output_tokens=9, cache_read_tokens=32, reasoning_tokens=4),
        )
        .attributes(),
    }


def test_chat_metrics_use_only_low_cardinality_dimensions(instrumented: Captured) -> None:
    """Duration, token counters and the outcome counter are recorded with the allowed keys."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (duration,) = instrumented.metric_points("gen_ai.client.inference.duration")
    assert duration.count == 1
    assert dict(duration.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "server.address": "api.openai.com",
        "server.port": 443,
        "openai.response.service_tier": "default",
    }
    (tokens_in,) = instrumented.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens_in.value == 42
    assert tokens_in.attributes["gen_ai.token.modality"] == "unknown"
    (cached,) = instrumented.metric_points("gen_ai.client.inference.usage.cache_read.input_tokens")
    assert cached.value == 32
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "success"
    assert instrumented.metric_points("gen_ai.client.inference.time_to_first_chunk") == []


def test_zero_cache_and_reasoning_counts_add_no_measurement(instrumented: Captured) -> None:
    """Reported 0 cached/reasoning tokens record no counter point; input/output still count."""
    body = fakes.chat_completion()
    body["usage"]["prompt_tokens_details"]["cached_tokens"] = 0
    body["usage"]["completion_tokens_details"]["reasoning_tokens"] = 0
    client = fakes.openai_client(fakes.respond_json(body))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    usage = "gen_ai.client.inference.usage"
    assert instrumented.metric_points(f"{usage}.cache_read.input_tokens") == []
    assert instrumented.metric_points(f"{usage}.reasoning.output_tokens") == []
    (tokens_out,) = instrumented.metric_points(f"{usage}.output_tokens")
    assert tokens_out.value == 9
    (span,) = instrumented.finished_spans()
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 0  # the span keeps the 0


def test_http_error_raises_the_same_exception_and_marks_the_span(instrumented: Captured) -> None:
    """A 500 raises the SDK's own exception unchanged; the span is ERROR with error.type."""
    client = fakes.openai_client(fakes.openai_error(500, "upstream exploded"))
    with pytest.raises(openai.InternalServerError) as excinfo:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    bare = fakes.openai_client(fakes.openai_error(500, "upstream exploded"))
    with pytest.raises(openai.InternalServerError) as bare_info:
        _bare(
            instrumented,
            lambda: bare.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
        )
    assert str(excinfo.value) == str(bare_info.value)
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "openai.InternalServerError"
    assert [e.name for e in span.events] == ["exception"]
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "error"
    assert outcome.attributes["error.type"] == "openai.InternalServerError"
    (tokens,) = instrumented.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == 0  # failed calls still count, with 0 tokens
    assert "error.type" not in tokens.attributes


def test_rate_limit_and_timeout_are_classified(instrumented: Captured) -> None:
    """429 counts as rate_limited and a transport timeout as timeout."""
    client = fakes.openai_client(fakes.openai_error(429, "slow down"))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    def timeout(request: Any) -> Any:
        raise fakes.http.ReadTimeout("timed out", request=request)

    with pytest.raises(openai.APITimeoutError):
        fakes.openai_client(timeout).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    outcomes = {
        p.attributes["otel_llm.request.outcome"]: p.value
        for p in instrumented.metric_points("otel_llm.client.requests")
    }
    assert outcomes == {"rate_limited": 1, "timeout": 1}


def test_connection_error_is_reraised(instrumented: Captured) -> None:
    """A connection failure surfaces as the SDK's APIConnectionError, recorded on the span."""

    def refuse(request: Any) -> Any:
        raise fakes.http.ConnectError("refused", request=request)

    with pytest.raises(openai.APIConnectionError):
        fakes.openai_client(refuse).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert _one_span(instrumented).attributes["error.type"] == "openai.APIConnectionError"


def test_stream_is_transparent_and_ends_once_with_usage(instrumented: Captured) -> None:
    """A stream yields the same chunks, passes isinstance, and ends one span with usage."""
    payload = fakes.sse(fakes.chat_chunks())
    client = fakes.openai_client(fakes.respond_sse(payload))
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    bare = fakes.openai_client(fakes.respond_sse(payload))
    expected = list(
        _bare(
            instrumented,
            lambda: bare.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            ),
        )
    )
    assert chunks == expected
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.usage.output_tokens"] == 4
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    (ttfc,) = instrumented.metric_points("gen_ai.client.inference.time_to_first_chunk")
    assert ttfc.count == 1
    (tpoc,) = instrumented.metric_points("gen_ai.client.inference.time_per_output_chunk")
    assert tpoc.count == len(chunks) - 1
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "success"


_CALL_HISTOGRAMS = (
    "gen_ai.client.inference.duration",
    "gen_ai.client.inference.operation.input_tokens",
    "gen_ai.client.inference.operation.output_tokens",
    "otel_llm.client.request.cost",
)


def _exemplar_spans(captured: Captured) -> dict[str, list[tuple[int | None, int | None]]]:
    """(trace id, span id) of each metric's exemplars, from one collection (each resets them)."""
    data = captured.metrics.get_metrics_data()
    assert data is not None
    return {
        metric.name: [
            (exemplar.trace_id, exemplar.span_id)
            for point in metric.data.data_points
            for exemplar in getattr(point, "exemplars", ())
        ]
        for resource_metrics in data.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    }


@pytest.mark.parametrize("parent", [False, True], ids=["root call", "inside a parent span"])
def test_histogram_exemplars_point_at_the_call_span(instrumented: Captured, parent: bool) -> None:
    """Latency, token and cost exemplars link to the call's span, even with no parent span."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    tracer = instrumented.providers["tracer_provider"].get_tracer("app")
    if parent:
        with tracer.start_as_current_span("handle request"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    else:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (call,) = [s for s in instrumented.finished_spans() if s.name.startswith("chat")]
    expected = [(call.context.trace_id, call.context.span_id)]
    exemplars = _exemplar_spans(instrumented)
    for name in _CALL_HISTOGRAMS:
        assert exemplars[name] == expected, name


def test_stream_exemplars_link_first_chunk_but_not_each_chunk(instrumented: Captured) -> None:
    """Time to first chunk links to the stream's span; per-chunk gaps offer no exemplar."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    span = _one_span(instrumented)
    expected = [(span.context.trace_id, span.context.span_id)]
    exemplars = _exemplar_spans(instrumented)
    assert exemplars["gen_ai.client.inference.time_to_first_chunk"] == expected
    assert exemplars["gen_ai.client.inference.duration"] == expected
    assert exemplars["gen_ai.client.inference.time_per_output_chunk"] == []
    (gaps,) = instrumented.metric_points("gen_ai.client.inference.time_per_output_chunk")
    assert gaps.count > 1


def test_stream_without_usage_records_zero_tokens(instrumented: Captured) -> None:
    """Without include_usage the span has no usage attributes and counters record 0."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks(usage=False))))
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    span = _one_span(instrumented)
    assert "gen_ai.usage.input_tokens" not in span.attributes
    (tokens,) = instrumented.metric_points("gen_ai.client.inference.usage.output_tokens")
    assert tokens.value == 0


@pytest.mark.parametrize("exit_path", ["break_then_gc", "close", "context_manager"])
def test_stream_ends_exactly_once_on_early_exit(instrumented: Captured, exit_path: str) -> None:
    """Breaking out, close() or leaving a with-block ends the span once, as cancelled."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    stream: Any = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    if exit_path == "break_then_gc":
        for _ in stream:
            break
        del stream
        gc.collect()
    elif exit_path == "close":
        next(iter(stream))
        stream.close()
        stream.close()  # a second close must not end the span again
    else:
        with stream as entered:
            assert isinstance(entered, openai.Stream)
            next(iter(entered))
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "cancelled"


def test_stream_error_mid_way_ends_span_with_error(instrumented: Captured) -> None:
    """A malformed event mid-stream raises the SDK's error unchanged and ends the span as ERROR."""
    payload = (
        fakes.sse(fakes.chat_chunks()[:2], done=False) + b'data: {"error": {"message": "cut"}}\n\n'
    )
    client = fakes.openai_client(fakes.respond_sse(payload))
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError):
        list(stream)
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "openai.APIError"


def test_async_chat_and_stream(instrumented: Captured) -> None:
    """Async create and async streams record the same spans as sync ones."""

    async def main() -> list[Any]:
        client = fakes.async_openai_client(fakes.respond_json(fakes.chat_completion()))
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        streaming = fakes.async_openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
        stream: Any = await streaming.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        assert isinstance(stream, openai.AsyncStream)
        return [chunk async for chunk in stream]

    chunks = asyncio.run(main())
    assert len(chunks) == len(fakes.chat_chunks())
    spans = instrumented.finished_spans()
    assert [s.name for s in spans] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    assert spans[1].attributes["gen_ai.request.stream"] is True


def test_async_cancellation_ends_stream_span(instrumented: Captured) -> None:
    """Cancelling the task that reads a stream ends its span once, as cancelled, not ERROR."""

    async def main() -> None:
        client = fakes.async_openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )

        async def consume() -> None:
            async for _ in stream:
                await asyncio.sleep(10)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "cancelled"


def test_tool_calls_and_content_capture(with_content: Captured) -> None:
    """With SPAN_AND_EVENT, messages, tools and the tool-call reply go on the span and the event."""
    tool_call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "crm_account_lookup", "arguments": '{"account_id": "A-1"}'},
    }
    body = fakes.chat_completion(content=None, finish_reason="tool_calls", tool_calls=[tool_call])
    tools: Any = [
        {"type": "function", "function": {"name": "crm_account_lookup", "description": "CRM"}}
    ]
    client = fakes.openai_client(fakes.respond_json(body))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=tools)
    span = _one_span(with_content)
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    inputs = json.loads(span.attributes["gen_ai.input.messages"])
    assert inputs[0]["parts"][0] == {"type": "text", "content": "Where is my order?"}
    outputs = json.loads(span.attributes["gen_ai.output.messages"])
    assert outputs[0]["parts"][0]["type"] == "tool_call"
    assert outputs[0]["parts"][0]["arguments"] == {"account_id": "A-1"}
    definitions = json.loads(span.attributes["gen_ai.tool.definitions"])
    assert definitions[0]["name"] == "crm_account_lookup"
    (event,) = with_content.events("gen_ai.client.inference.operation.details")
    assert event.severity_number.value == 5
    assert event.attributes["gen_ai.input.messages"][0]["role"] == "user"
    assert event.span_id == span.context.span_id


def test_no_content_by_default(instrumented: Captured) -> None:
    """With the default NO_CONTENT mode, no content attribute and no details event is emitted."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = _one_span(instrumented)
    assert not [k for k in span.attributes if k.endswith(("messages", "definitions"))]
    assert instrumented.events() == []


def test_azure_and_compatible_servers(instrumented: Captured) -> None:
    """Azure clients report azure.ai.openai; compatible base URLs report their host and port."""
    fakes.azure_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
        model="my-deployment", messages=MESSAGES
    )
    local = fakes.openai_client(
        fakes.respond_json(fakes.chat_completion()), base_url="http://127.0.0.1:8089/v1"
    )
    local.chat.completions.create(model="llama3", messages=MESSAGES)
    azure, compatible = instrumented.finished_spans()
    assert azure.attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert azure.attributes["server.address"] == "my-resource.openai.azure.com"
    assert compatible.attributes["gen_ai.provider.name"] == "openai"
    assert (compatible.attributes["server.address"], compatible.attributes["server.port"]) == (
        "127.0.0.1",
        8089,
    )


def test_embeddings(instrumented: Captured) -> None:
    """embeddings.create records an embeddings span, the operation duration and its tokens."""
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
    }
    client = fakes.openai_client(fakes.respond_json(body))
    client.embeddings.create(model="text-embedding-3-small", input="hello", encoding_format="float")
    span = _one_span(instrumented)
    assert span.name == "embeddings text-embedding-3-small"
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 3
    assert span.attributes["gen_ai.usage.input_tokens"] == 5
    assert span.attributes["gen_ai.request.encoding_formats"] == ("float",)
    (duration,) = instrumented.metric_points("gen_ai.client.operation.duration")
    assert duration.attributes["gen_ai.operation.name"] == "embeddings"
    (tokens,) = instrumented.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == 5
    assert tokens.attributes["gen_ai.operation.name"] == "embeddings"
    assert tokens.attributes["gen_ai.token.modality"] == "unknown"


def test_uninstrument_restores_originals() -> None:
    """After uninstrument the SDK methods are the original functions and nothing is recorded."""
    original = openai.resources.chat.completions.Completions.create
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    assert openai.resources.chat.completions.Completions.create is not original
    OpenAIInstrumentor().uninstrument()
    assert openai.resources.chat.completions.Completions.create is original
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert captured.finished_spans() == []


def test_responses_create_records_usage(instrumented: Captured) -> None:
    """responses.create records api type, cached and reasoning usage, and the response id."""
    client = fakes.openai_client(fakes.respond_json(fakes.responses_body()))
    result = client.responses.create(
        model="gpt-4o",
        input="Where is my order?",
        max_output_tokens=100,
        reasoning={"effort": "low"},
    )
    assert result.output_text == "It ships today."
    span = _one_span(instrumented)
    assert span.name == "chat gpt-4o"
    assert span.attributes["openai.api.type"] == "responses"
    assert span.attributes["gen_ai.request.max_tokens"] == 100
    assert span.attributes["gen_ai.request.reasoning.level"] == "low"
    assert span.attributes["gen_ai.response.id"] == "resp_67ccd2bed1ec8190"
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 10
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == 2
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_responses_stream_sync_and_async(instrumented: Captured) -> None:
    """Streamed Responses calls (sync and async) take usage from the completed event."""
    client = fakes.openai_client(fakes.respond_sse(fakes.responses_events()))
    events = [e.type for e in client.responses.create(model="gpt-4o", input="hi", stream=True)]
    assert events == ["response.created", "response.output_text.delta", "response.completed"]

    async def main() -> int:
        aclient = fakes.async_openai_client(fakes.respond_sse(fakes.responses_events()))
        stream: Any = await aclient.responses.create(model="gpt-4o", input="hi", stream=True)
        return len([e async for e in stream])

    assert asyncio.run(main()) == 3
    for span in instrumented.finished_spans():
        assert span.attributes["gen_ai.request.stream"] is True
        assert span.attributes["gen_ai.usage.output_tokens"] == 5
        assert span.attributes["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert len(instrumented.finished_spans()) == 2


def test_parse_records_json_output_type(instrumented: Captured) -> None:
    """chat.completions.parse with a pydantic model returns the parsed object and one span."""
    import pydantic  # noqa: PLC0415

    class Order(pydantic.BaseModel):
        status: str

    body = fakes.chat_completion(content='{"status": "shipped"}')
    client = fakes.openai_client(fakes.respond_json(body))
    result = client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Order
    )
    assert result.choices[0].message.parsed == Order(status="shipped")
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.output.type"] == "json"
    assert span.attributes["gen_ai.usage.input_tokens"] == 42


def test_async_gather_with_real_client_keeps_parents(instrumented: Captured) -> None:
    """Concurrent async calls under different parents are each children of their own parent."""
    tracer = instrumented.telemetry.tracer

    async def one(index: int) -> None:
        with tracer.start_as_current_span(f"request {index}"):
            client = fakes.async_openai_client(fakes.respond_json(fakes.chat_completion()))
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(10)))

    asyncio.run(main())
    spans = instrumented.finished_spans()
    parents = {s.context.span_id: s.name for s in spans if s.name.startswith("request")}
    chats = [s for s in spans if s.name.startswith("chat")]
    assert len(chats) == 10
    assert sorted(parents[c.parent.span_id] for c in chats) == sorted(parents.values())


def test_with_raw_response_still_records_usage(instrumented: Captured) -> None:
    """client.….with_raw_response.create returns the raw response, and the span still has usage."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.headers is not None
    assert raw.parse().usage is not None
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.usage.input_tokens"] == 42


def test_stream_helper_left_early_ends_the_span(instrumented: Captured) -> None:
    """Leaving chat.completions.stream(...) early ends its span at the end of the with-block."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        for _ in stream:
            break
        assert instrumented.finished_spans() == []
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "cancelled"


def test_exception_in_with_body_is_not_a_provider_error(instrumented: Captured) -> None:
    """An exception raised by the caller inside a stream's with-block abandons the stream."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    stream: Any = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )

    def read_then_fail() -> None:
        with stream:
            next(iter(stream))
            raise KeyError("caller bug")

    with pytest.raises(KeyError):
        read_then_fail()
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes


def test_token_histograms_skip_unknown_counts(instrumented: Captured) -> None:
    """Without usage, the per-call token histograms record nothing (the counters record 0)."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks(usage=False))))
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert instrumented.metric_points("gen_ai.client.inference.operation.input_tokens") == []
    (counter,) = instrumented.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert counter.value == 0


def test_instrumentors_keep_their_own_providers() -> None:
    """OpenAI and Anthropic instrumented with different providers each report to their own."""
    from otel_llm.instrumentation.anthropic import AnthropicInstrumentor  # noqa: PLC0415

    first, second = make_captured(), make_captured()
    OpenAIInstrumentor().instrument(**first.providers, skip_dep_check=True)
    AnthropicInstrumentor().instrument(**second.providers, skip_dep_check=True)
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        OpenAIInstrumentor().uninstrument()
        AnthropicInstrumentor().uninstrument()
    assert [s.name for s in first.finished_spans()] == ["chat gpt-4o-mini"]
    assert second.finished_spans() == []


def test_details_event_is_complete_when_the_span_is_sampled_out() -> None:
    """With a sampler that drops the span, the details event still carries the full attributes."""
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF  # noqa: PLC0415

    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY))
    providers = {**captured.providers, "tracer_provider": TracerProvider(sampler=ALWAYS_OFF)}
    OpenAIInstrumentor().instrument(
        **providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        OpenAIInstrumentor().uninstrument()
    (event,) = captured.events("gen_ai.client.inference.operation.details")
    assert event.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert event.attributes["gen_ai.usage.output_tokens"] == 9


@pytest.mark.parametrize(("prefix", "secret"), FINDINGS, ids=["aws_secret", "email", "card"])
def test_content_cut_never_exports_part_of_a_finding(prefix: str, secret: str) -> None:
    """Messages cut to the budget, on the span and the details event, never keep a finding's piece.

    The exporter's view is what the redaction processor makes of the recorded value.
    """
    budget, total = 512, 2000
    settings = Settings(
        capture_message_content=ContentCapturingMode.SPAN_AND_EVENT, max_content_bytes=budget
    )
    captured = make_captured(settings)
    OpenAIInstrumentor().instrument(**captured.providers, settings=settings, skip_dep_check=True)
    exporter = Redactor()
    room = kept_chars(messages_of, total, budget)
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    try:
        for start, text in straddling_texts(prefix, secret, room, total):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
            )
            span = captured.finished_spans()[-1]
            event = captured.events("gen_ai.client.inference.operation.details")[-1]
            for recorded in (
                span.attributes["gen_ai.input.messages"],
                json.dumps(event.attributes["gen_ai.input.messages"], ensure_ascii=False),
            ):
                assert len(recorded.encode()) <= budget + 16  # structured: spaces after commas
                exported, _ = exporter.redact_value("gen_ai.input.messages", recorded)
                assert leaked_fragment(str(exported), secret) is None, (start, recorded)
    finally:
        OpenAIInstrumentor().uninstrument()


def test_copied_stream_is_accounted_to_the_one_span(instrumented: Captured) -> None:
    """copy.copy(stream) works as on the bare SDK stream; the copy's chunks end the span once."""
    payload = fakes.sse(fakes.chat_chunks())
    client = fakes.openai_client(fakes.respond_sse(payload))
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    duplicate = copy.copy(stream)
    assert isinstance(duplicate, openai.Stream)
    del stream
    gc.collect()
    assert instrumented.finished_spans() == []
    chunks = [chunk.to_dict() for chunk in duplicate]
    bare = fakes.openai_client(fakes.respond_sse(payload))
    expected = _bare(
        instrumented,
        lambda: [
            c.to_dict()
            for c in copy.copy(
                bare.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
            )
        ],
    )
    assert chunks == expected
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.usage.output_tokens"] == 4
    (outcome,) = instrumented.metric_points("otel_llm.client.requests")
    assert outcome.attributes["otel_llm.request.outcome"] == "success"


def test_deepcopied_stream_raises_as_the_bare_one(instrumented: Captured) -> None:
    """copy.deepcopy(stream) raises exactly what it raises on the bare SDK stream."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - compared with the bare error below
        copy.deepcopy(stream)
    bare = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))

    def bare_deepcopy() -> Any:
        bare_stream = bare.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        with pytest.raises(Exception) as bare_caught:  # noqa: PT011
            copy.deepcopy(bare_stream)
        return bare_caught.value

    expected = _bare(instrumented, bare_deepcopy)
    assert (type(caught.value), str(caught.value)) == (type(expected), str(expected))


def test_async_copied_stream(instrumented: Captured) -> None:
    """copy.copy of an async stream is an AsyncStream whose chunks end the one span."""

    async def main() -> int:
        client = fakes.async_openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        duplicate = copy.copy(stream)
        assert isinstance(duplicate, openai.AsyncStream)
        return len([chunk async for chunk in duplicate])

    assert asyncio.run(main()) == len(fakes.chat_chunks())
    assert _one_span(instrumented).attributes["gen_ai.usage.input_tokens"] == 42


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_azure_stream_takes_ids_from_the_first_chunk_that_has_them(
    instrumented: Captured, mode: str
) -> None:
    """Azure's opening content-filter chunk (empty id and model) does not hide the reply's ids."""
    payload = fakes.sse(fakes.azure_chat_chunks())
    if mode == "sync":
        client = fakes.azure_client(fakes.respond_sse(payload))
        list(client.chat.completions.create(model="my-deployment", messages=MESSAGES, stream=True))
    else:
        aclient = openai.AsyncAzureOpenAI(
            api_key="azure-key",
            api_version="2024-10-21",
            azure_endpoint="https://my-resource.openai.azure.com",
            max_retries=0,
            http_client=fakes.http.AsyncClient(
                transport=fakes.http.MockTransport(fakes.respond_sse(payload))
            ),
        )

        async def main() -> None:
            stream = await aclient.chat.completions.create(
                model="my-deployment", messages=MESSAGES, stream=True
            )
            async for _ in stream:
                pass

        asyncio.run(main())
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-Str3am"
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-2024-11-20"
    assert span.attributes["openai.response.system_fingerprint"] == "fp_44709d6fcb"
    assert span.attributes["gen_ai.usage.input_tokens"] == 42
    (duration,) = instrumented.metric_points("gen_ai.client.inference.duration")
    assert duration.attributes["gen_ai.response.model"] == "gpt-4o-2024-11-20"


def test_azure_raw_stream_takes_ids_from_the_first_chunk_that_has_them(
    instrumented: Captured,
) -> None:
    """Read through with_streaming_response, an Azure stream still reports its response id."""
    client = fakes.azure_client(fakes.respond_sse(fakes.sse(fakes.azure_chat_chunks())))
    with client.chat.completions.with_streaming_response.create(
        model="my-deployment", messages=MESSAGES, stream=True
    ) as response:
        list(response.iter_lines())
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-Str3am"
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-2024-11-20"


def test_responses_stream_keeps_ids_a_final_event_leaves_empty(instrumented: Captured) -> None:
    """A Responses stream whose final response has an empty id and model keeps the earlier ones."""
    created = {**fakes.responses_body(status="in_progress"), "output": [], "usage": None}
    final = {**fakes.responses_body(), "id": "", "model": ""}
    events = [
        {"type": "response.created", "sequence_number": 0, "response": created},
        {"type": "response.completed", "sequence_number": 1, "response": final},
    ]
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    client = fakes.openai_client(fakes.respond_sse(body.encode()))
    list(client.responses.create(model="gpt-4o", input="hi", stream=True))
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.response.id"] == "resp_67ccd2bed1ec8190"
    assert span.attributes["gen_ai.response.model"] == "gpt-4o-2024-08-06"
    assert span.attributes["gen_ai.usage.output_tokens"] == 5


# --- OTEL_LLM_STREAM_USAGE -----------------------------------------------------------------------
@pytest.fixture
def stream_usage() -> Iterator[Captured]:
    """OpenAI instrumented with OTEL_LLM_STREAM_USAGE=true."""
    captured = make_captured(load_settings({"OTEL_LLM_STREAM_USAGE": "true"}))
    OpenAIInstrumentor().instrument(
        **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()


def _dicts(chunks: Any) -> list[dict[str, Any]]:
    return [chunk.to_dict() for chunk in chunks]


def test_stream_usage_is_off_by_default(instrumented: Captured) -> None:
    """Without the opt-in, a stream is sent as the caller wrote it and stays unpriced."""
    handler = fakes.openai_like_stream()
    client = fakes.openai_client(handler)
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert "stream_options" not in handler.requests[0]
    assert _one_span(instrumented).attributes["otel_llm.cost.unpriced_reason"] == "missing_usage"


def test_stream_usage_prices_the_stream_invisibly(stream_usage: Captured) -> None:
    """With the opt-in the stream is priced; the caller gets the bare chunks, unchanged.

    The usage-only chunk is held back; the `"usage": null` OpenAI then puts on every other
    chunk is passed on as sent (`chunk.usage` is None either way).
    """
    handler = fakes.openai_like_stream()
    client = fakes.openai_client(handler)
    chunks = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    assert handler.requests[0]["stream_options"] == {"include_usage": True}
    bare = fakes.openai_client(fakes.openai_like_stream())
    expected = _bare(
        stream_usage,
        lambda: list(
            bare.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        ),
    )
    assert [c.model_dump() for c in chunks] == [c.model_dump() for c in expected]
    assert all(chunk.usage is None for chunk in chunks)
    assert all(chunk.to_dict()["usage"] is None for chunk in chunks)  # as the server sent it
    span = _one_span(stream_usage)
    assert span.attributes["gen_ai.usage.input_tokens"] == 42
    assert span.attributes["otel_llm.cost.total"] > 0
    assert "otel_llm.cost.unpriced_reason" not in span.attributes


def test_stream_usage_is_invisible_to_the_stream_helper(stream_usage: Captured) -> None:
    """chat.completions.stream() yields the same events and final completion as without it."""
    client = fakes.openai_client(fakes.openai_like_stream())
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_completion()
    bare = fakes.openai_client(fakes.openai_like_stream())

    def bare_helper() -> Any:
        with bare.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as s:
            return [e.type for e in s], s.get_final_completion()

    expected_events, expected_final = _bare(stream_usage, bare_helper)
    assert events == expected_events
    assert final.to_dict() == expected_final.to_dict()
    assert final.usage is None
    assert _one_span(stream_usage).attributes["gen_ai.usage.output_tokens"] == 4


def test_stream_usage_async(stream_usage: Captured) -> None:
    """The async client gets the same invisible stream usage."""

    async def main() -> list[dict[str, Any]]:
        client = fakes.async_openai_client(fakes.openai_like_stream())
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        return [chunk.to_dict() async for chunk in stream]

    chunks = asyncio.run(main())
    assert len(chunks) == len(fakes.chat_chunks(usage=False))
    assert all(chunk["usage"] is None for chunk in chunks)
    assert _one_span(stream_usage).attributes["gen_ai.usage.input_tokens"] == 42


def test_stream_usage_hides_any_number_of_usage_chunks(stream_usage: Captured) -> None:
    """A server repeating the usage-only chunk thousands of times still shows the bare chunks."""
    client = fakes.openai_client(fakes.openai_like_stream(usage_chunks=3000))
    chunks = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    assert len(chunks) == len(fakes.chat_chunks(usage=False))
    assert _one_span(stream_usage).attributes["gen_ai.usage.input_tokens"] == 42


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stream_options": {"include_usage": True}},
        {"stream_options": {"include_obfuscation": False}},
        {"stream_options": None},
        {"extra_body": {"stream_options": {"include_usage": True}}},
    ],
    ids=["include_usage", "other options", "None", "extra_body"],
)
def test_stream_usage_leaves_the_callers_stream_options_alone(
    stream_usage: Captured, kwargs: dict[str, Any]
) -> None:
    """A caller who set stream_options (or sent them in extra_body) gets exactly that."""
    handler = fakes.openai_like_stream()
    client = fakes.openai_client(handler)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, **kwargs
        )
    )
    options = kwargs.get("stream_options", kwargs.get("extra_body", {}).get("stream_options"))
    assert handler.requests[0].get("stream_options") == options
    asked = isinstance(options, dict) and options.get("include_usage") is True
    assert (chunks[-1].usage is not None) is asked


def test_stream_usage_leaves_raw_responses_alone(stream_usage: Captured) -> None:
    """Raw-response streams are sent as written: their bytes could not hide a usage event."""
    handler = fakes.openai_like_stream()
    client = fakes.openai_client(handler)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    list(raw.parse())
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        list(response.iter_lines())
    assert [r.get("stream_options") for r in handler.requests] == [None, None]
    assert len(stream_usage.finished_spans()) == 2


class UsageOnFinish:
    """A server that reports usage on its finish chunk (with choices), asked for it or not."""

    def __init__(self, null_usage: bool) -> None:
        self.null_usage = null_usage
        """Whether the other chunks carry `"usage": null` (else no usage field)."""

    def __call__(self, request: Any) -> Any:
        chunks = fakes.chat_chunks(usage=False)
        for chunk in chunks[:-1]:
            if self.null_usage:
                chunk["usage"] = None
        chunks[-1]["usage"] = {"prompt_tokens": 42, "completion_tokens": 4, "total_tokens": 46}
        return fakes.http.Response(
            200, headers={"content-type": "text/event-stream"}, content=fakes.sse(chunks)
        )


@pytest.mark.parametrize("null_usage", [True, False], ids=["null usage", "no usage field"])
def test_stream_usage_keeps_usage_the_server_always_sends(
    stream_usage: Captured, null_usage: bool
) -> None:
    """A finish chunk that carries usage, and chunks with a null usage, reach the app as sent."""
    handler = UsageOnFinish(null_usage)
    client = fakes.openai_client(handler)
    chunks = _dicts(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    bare = fakes.openai_client(handler)
    expected = _bare(
        stream_usage,
        lambda: _dicts(
            bare.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        ),
    )
    assert chunks == expected
    assert chunks[-1]["usage"]["prompt_tokens"] == 42
    assert ("usage" in chunks[0]) is null_usage
    assert _one_span(stream_usage).attributes["gen_ai.usage.input_tokens"] == 42


def test_stream_usage_keeps_usage_the_server_always_sends_async(stream_usage: Captured) -> None:
    """The async client also gets the finish chunk's usage and the null usages as sent."""

    async def read(client: openai.AsyncOpenAI) -> list[dict[str, Any]]:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        return [chunk.to_dict() async for chunk in stream]

    handler = UsageOnFinish(null_usage=True)
    chunks = asyncio.run(read(fakes.async_openai_client(handler)))
    expected = _bare(stream_usage, lambda: asyncio.run(read(fakes.async_openai_client(handler))))
    assert chunks == expected
    assert chunks[-1]["usage"]["completion_tokens"] == 4
    assert _one_span(stream_usage).attributes["gen_ai.usage.output_tokens"] == 4
