"""google-genai instrumentation through the real SDK over its own HTTP layer (httpx2 mock)."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
from typing import Any

import httpx2
import pytest
from google.genai import errors, models, types
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from otel_llm.instrumentation.google_genai import SUPPORTED, GoogleGenAIInstrumentor
from otel_llm.payloads import gemini as g
from tests.conftest import Captured
from tests.instrumentation._instrumented import instrument, one_span, provider_fixtures
from tests.instrumentation.google_genai._fakes import CONTENTS, client, serve

PNG = base64.b64decode(g.PNG_BASE64)


instrumented, with_content = provider_fixtures(GoogleGenAIInstrumentor)


def _replies(*bodies: Any) -> Any:
    """A handler answering successive requests with `bodies`, in order."""
    queue = list(bodies)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=queue.pop(0))

    return handler


# --- the instrumentor ----------------------------------------------------------------------------
def test_instrumentor_wraps_the_six_methods_and_unwraps_them_exactly() -> None:
    """Sync and async generate_content, its stream and embed_content are wrapped, then restored."""
    names = ("generate_content", "generate_content_stream", "embed_content")
    owners = (models.Models, models.AsyncModels)
    before = [owner.__dict__[name] for owner in owners for name in names]
    instrumentor = GoogleGenAIInstrumentor()
    assert tuple(instrumentor.instrumentation_dependencies()) == (SUPPORTED,)
    instrument(GoogleGenAIInstrumentor)
    try:
        wrapped = [owner.__dict__[name] for owner in owners for name in names]
        assert all(hasattr(method, "__wrapped__") for method in wrapped)
    finally:
        instrumentor.uninstrument()
    assert [owner.__dict__[name] for owner in owners for name in names] == before


# --- pricing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])
def test_a_gemini_call_is_priced_by_genai_prices(instrumented: Captured, vertex: bool) -> None:
    """gemini-2.5-pro's thinking reply costs its input plus thoughts and answer at output rate."""
    sdk = client(serve(g.thinking_response(vertex=vertex)), vertex=vertex)
    sdk.models.generate_content(model=f"models/{g.THINKING_MODEL}", contents=CONTENTS)
    attributes = one_span(instrumented).attributes
    assert attributes["gen_ai.request.model"] == g.THINKING_MODEL
    assert attributes["gen_ai.provider.name"] == ("gcp.vertex_ai" if vertex else "gcp.gemini")
    assert attributes["otel_llm.cost.price_source"] == "genai-prices"
    # $1.25 per million input tokens, $10 per million output tokens (thoughts included).
    assert attributes["otel_llm.cost.total"] == pytest.approx(34 * 1.25e-6 + (17 + 759) * 10e-6)
    assert "otel_llm.cost.unpriced" not in attributes


def test_cached_tokens_are_priced_at_the_cache_rate(instrumented: Captured) -> None:
    """A context-cache hit is counted and priced as cache reads (gemini-2.5-flash: $0.03/M)."""
    sdk = client(serve(g.cached_response()))
    sdk.models.generate_content(model=g.MODEL, contents=CONTENTS)
    attributes = one_span(instrumented).attributes
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 4096
    assert attributes["gen_ai.usage.reasoning.output_tokens"] == 88
    assert attributes["otel_llm.cost.cache_read"] == pytest.approx(4096 * 0.03e-6)
    (cached,) = instrumented.metric_points("gen_ai.client.inference.usage.cache_read.input_tokens")
    assert cached.value == 4096


# --- content -------------------------------------------------------------------------------------
def get_order_status(order_id: str) -> str:
    """Look up where an order is."""
    return json.dumps({"order_id": order_id, "status": "shipped"})


def test_content_records_calls_results_and_inline_data_by_reference(
    with_content: Captured,
) -> None:
    """Function calls and results, tools and system text are recorded; inline bytes never are."""
    contents = [
        types.Content(
            role="user",
            parts=[
                types.Part.from_text(text="Where is the order on this label?"),
                types.Part.from_bytes(data=PNG, mime_type="image/png"),
            ],
        ),
        types.Content(
            role="model",
            parts=[types.Part.from_function_call(name="get_order_status", args={"id": "A-1"})],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part.from_function_response(
                    name="get_order_status", response={"status": "shipped"}
                )
            ],
        ),
    ]
    config = types.GenerateContentConfig(
        system_instruction="You are a support agent.",
        tools=[
            types.Tool(function_declarations=[types.FunctionDeclaration(name="get_order_status")])
        ],
        temperature=0.2,
    )
    sdk = client(serve(g.image_response()))
    sdk.models.generate_content(model=g.IMAGE_MODEL, contents=contents, config=config)
    attributes = one_span(with_content).attributes
    assert [m["role"] for m in json.loads(attributes["gen_ai.input.messages"])] == [
        "user",
        "assistant",
        "tool",
    ]
    recorded = " ".join(str(value) for value in attributes.values())
    assert g.PNG_BASE64 not in recorded
    assert g.PNG_BASE64[:40] not in recorded  # neither the sent image nor the one returned
    assert '"type":"inline_data","modality":"image","mime_type":"image/png","size":70' in recorded
    assert json.loads(attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "You are a support agent."}
    ]
    assert json.loads(attributes["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_order_status"}
    ]
    assert attributes["gen_ai.request.temperature"] == 0.2


def test_no_content_is_recorded_by_default(instrumented: Captured) -> None:
    """Without opting in, a call records no message, system instruction or tool definition."""
    sdk = client(serve(g.function_call_response()))
    config = types.GenerateContentConfig(system_instruction="Be brief.", tools=[get_order_status])
    sdk.models.generate_content(model=g.MODEL, contents=CONTENTS, config=config)
    attributes = one_span(instrumented).attributes
    assert not [key for key in attributes if "messages" in key or "instructions" in key]
    assert attributes["gen_ai.response.finish_reasons"] == ("tool_call",)


# --- the SDK's own loops -------------------------------------------------------------------------
def test_automatic_function_calling_is_one_span_with_the_last_usage(
    with_content: Captured,
) -> None:
    """AFC sends two requests inside one generate_content call: one span, the final answer."""
    seen: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(1)
        body = g.function_call_response() if len(seen) == 1 else g.text_response()
        return httpx2.Response(200, json=body)

    sdk = client(handler)
    config = types.GenerateContentConfig(tools=[get_order_status])
    response = sdk.models.generate_content(model=g.MODEL, contents=CONTENTS, config=config)
    assert response.text == g.TEXT
    assert len(seen) == 2
    attributes = one_span(with_content).attributes
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == 12  # the SDK reports the last request's
    assert json.loads(attributes["gen_ai.tool.definitions"])[0]["name"] == "get_order_status"


def test_a_chat_session_records_each_turn(instrumented: Captured) -> None:
    """client.chats sends each message through models.generate_content: one span per turn."""
    sdk = client(_replies(g.text_response(), g.text_response("Thursday.")))
    chat = sdk.chats.create(model=g.MODEL)
    chat.send_message("Where is my order?")
    assert chat.send_message("When does it arrive?").text == "Thursday."
    spans = instrumented.finished_spans()
    assert [s.name for s in spans] == [f"generate_content {g.MODEL}"] * 2


# --- streams -------------------------------------------------------------------------------------
def test_the_streams_request_is_sent_inside_its_span(instrumented: Captured) -> None:
    """The lazy stream's request (sent on the first next()) runs with the call's span current."""
    current: list[Any] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        current.append(trace.get_current_span())
        return httpx2.Response(200, content=g.encode(g.chunks()))

    sdk = client(handler)
    chunks = sdk.models.generate_content_stream(model=g.MODEL, contents=CONTENTS)
    assert current == []
    assert "".join(chunk.text or "" for chunk in chunks) == g.TEXT
    span = one_span(instrumented)
    assert [s.get_span_context().span_id for s in current] == [span.context.span_id]
    assert span.attributes["gen_ai.request.stream"] is True


def test_an_async_stream_closed_with_aclose_ends_its_span_as_cancelled(
    instrumented: Captured,
) -> None:
    """aclose() after the first chunk ends the call at once, cancelled, with the usage so far."""

    async def main() -> None:
        sdk = client(serve(g.chunks()))
        chunks = await sdk.aio.models.generate_content_stream(model=g.MODEL, contents=CONTENTS)
        await chunks.__anext__()
        await chunks.aclose()  # type: ignore[attr-defined]  # typed as an AsyncIterator
        assert len(instrumented.finished_spans()) == 1

    asyncio.run(main())
    gc.collect()
    span = one_span(instrumented)
    assert span.attributes["gen_ai.usage.input_tokens"] == 12
    (point,) = instrumented.metric_points("otel_llm.client.requests")
    assert point.attributes["otel_llm.request.outcome"] == "cancelled"


def test_a_429_on_the_first_chunk_is_rate_limited(instrumented: Captured) -> None:
    """The stream's 429 surfaces from next(); the span fails once, rate-limited, typed."""
    sdk = client(serve(g.error(429), 429))
    chunks = sdk.models.generate_content_stream(model=g.MODEL, contents=CONTENTS)
    with pytest.raises(errors.ClientError):
        next(chunks)
    span = one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RESOURCE_EXHAUSTED"
    assert span.attributes["http.response.status_code"] == 429
    assert span.attributes["otel_llm.error.code"] == "RESOURCE_EXHAUSTED"
    (point,) = instrumented.metric_points("otel_llm.client.requests")
    assert point.attributes["otel_llm.request.outcome"] == "rate_limited"


# --- embeddings ----------------------------------------------------------------------------------
def test_gemini_api_embeddings_report_no_tokens(instrumented: Captured) -> None:
    """The Gemini API's batchEmbedContents has no usage: no token attribute, 0 on the counter."""
    sdk = client(serve(g.batch_embeddings()))
    sdk.models.embed_content(model=g.EMBEDDING_MODEL, contents=["a", "b"])
    span = one_span(instrumented)
    assert span.name == f"embeddings {g.EMBEDDING_MODEL}"
    assert "gen_ai.usage.input_tokens" not in span.attributes
    assert span.attributes["gen_ai.embeddings.dimension.count"] == 8
    (tokens,) = instrumented.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == 0


def test_vertex_predict_embeddings_count_their_tokens(instrumented: Captured) -> None:
    """Vertex's text-embedding models report tokens per text; their sum is counted."""
    sdk = client(serve(g.predictions(token_counts=(6, 9))), vertex=True)
    sdk.models.embed_content(model="text-embedding-005", contents=["a", "b"])
    assert one_span(instrumented).attributes["gen_ai.usage.input_tokens"] == 15
    (tokens,) = instrumented.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert (tokens.value, tokens.attributes["gen_ai.operation.name"]) == (15, "embeddings")
