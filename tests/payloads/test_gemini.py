"""Tests for otel_llm.payloads.gemini: the bodies parse as the real google-genai SDK reads them."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import ssl
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors, types
from google.oauth2.credentials import Credentials

from otel_llm.payloads import gemini as g

Handler = Callable[[httpx2.Request], httpx2.Response]
TOKEN = "ya29.test-token"
"""The OAuth access token fake Vertex clients send (no credential lookup runs)."""


# --- The fake HTTP layer (shared with tests/instrumentation/test_google_genai.py) --------------
@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def gemini_client(handler: Handler, *, vertex: bool = False) -> genai.Client:
    """A real google-genai client whose sync and async requests go to `handler` (httpx2).

    A transport in `client_args` / `async_client_args` makes the SDK use httpx2 for both (never
    aiohttp, even when installed); Vertex gets a ready OAuth token so no credential lookup runs.
    One shared TLS context spares the SDK loading the CA bundle twice per client (~0.1 s).
    """
    transport = httpx2.MockTransport(handler)
    tls = _tls_context()
    options = types.HttpOptions(
        client_args={"transport": transport, "verify": tls},
        async_client_args={"transport": transport, "verify": tls, "ssl": tls},
    )
    if vertex:
        return genai.Client(
            vertexai=True,
            project="my-project",
            location="us-central1",
            credentials=Credentials(token=TOKEN),  # type: ignore[no-untyped-call]
            http_options=options,
        )
    return genai.Client(api_key="AIza-test-key", http_options=options)


def serve(body: Any, status: int = 200, *, seen: list[httpx2.Request] | None = None) -> Handler:
    """A handler answering every request with `body`: a JSON body, or a list of stream chunks."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        if seen is not None:
            seen.append(request)
        if isinstance(body, list):
            headers = {"content-type": "text/event-stream"}
            return httpx2.Response(status, content=g.sse(body), headers=headers)
        return httpx2.Response(status, json=body)

    return handler


def generate(body: g.Body, *, vertex: bool = False) -> types.GenerateContentResponse:
    """`body` as the SDK returns it from generate_content."""
    client = gemini_client(serve(body), vertex=vertex)
    return client.models.generate_content(model=g.MODEL, contents="Where is my order A-1042?")


def stream(chunks: list[g.Body], *, vertex: bool = False) -> list[types.GenerateContentResponse]:
    """`chunks` as the SDK yields them from generate_content_stream."""
    client = gemini_client(serve(chunks), vertex=vertex)
    return list(client.models.generate_content_stream(model=g.MODEL, contents="Where is it?"))


BOTH = pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])


# --- generateContent ---------------------------------------------------------------------------
@BOTH
def test_text_response_parses_with_usage_and_ids(vertex: bool) -> None:
    """A text answer reaches the caller with its text, finish reason, usage, model and id."""
    response = generate(g.text_response(vertex=vertex), vertex=vertex)
    assert response.text == g.ANSWER
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count == 12
    assert response.usage_metadata.candidates_token_count == 17
    assert response.model_version == g.MODEL
    assert response.response_id == g.RESPONSE_ID
    assert (response.create_time is not None) is vertex
    assert (response.usage_metadata.traffic_type is not None) is vertex


@BOTH
def test_function_call_response_has_args_signature_and_stop(vertex: bool) -> None:
    """A function call arrives with its args and thought signature; Gemini still says STOP."""
    response = generate(g.function_call_response(call_id="fc_1", vertex=vertex), vertex=vertex)
    assert response.function_calls is not None
    call = response.function_calls[0]
    assert (call.name, call.args, call.id) == ("get_order_status", {"order_id": "A-1042"}, "fc_1")
    assert response.candidates is not None
    part = response.candidates[0].content.parts[0]  # type: ignore[union-attr,index]
    assert part.thought_signature
    assert response.candidates[0].finish_reason == types.FinishReason.STOP


def test_thinking_response_has_a_thought_part_and_counts() -> None:
    """Thought summaries are parts flagged `thought`; thoughts are counted apart from candidates."""
    response = generate(g.thinking_response())
    assert response.candidates is not None
    parts = response.candidates[0].content.parts  # type: ignore[union-attr]
    assert parts is not None
    assert [p.thought for p in parts] == [True, None]
    assert response.usage_metadata is not None
    assert response.usage_metadata.thoughts_token_count == 759
    assert response.usage_metadata.total_token_count == 34 + 17 + 759


def test_image_response_decodes_inline_data_to_bytes() -> None:
    """`inlineData.data` is base64 on the wire and raw PNG bytes in the SDK."""
    response = generate(g.image_response())
    assert response.candidates is not None
    parts = response.candidates[0].content.parts  # type: ignore[union-attr]
    assert parts is not None
    blob = parts[1].inline_data
    assert blob is not None
    assert blob.mime_type == "image/png"
    assert blob.data is not None
    assert blob.data.startswith(b"\x89PNG")


@BOTH
def test_blocked_and_truncated_responses_parse(vertex: bool) -> None:
    """Safety-blocked, prompt-blocked and MAX_TOKENS bodies parse; blocked ones have no text."""
    blocked = generate(g.safety_blocked_response(vertex=vertex), vertex=vertex)
    assert blocked.candidates is not None
    assert blocked.candidates[0].finish_reason == types.FinishReason.SAFETY
    assert blocked.text is None
    prompt = generate(g.prompt_blocked_response(vertex=vertex), vertex=vertex)
    assert prompt.candidates is None
    assert prompt.prompt_feedback is not None
    assert prompt.prompt_feedback.block_reason == types.BlockedReason.PROHIBITED_CONTENT
    for text in ("Your order A-1042 shipped", None):
        cut = generate(g.max_tokens_response(text, vertex=vertex), vertex=vertex)
        assert cut.candidates is not None
        assert cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
        assert cut.text == text


def test_cached_response_counts_cache_inside_the_prompt() -> None:
    """The cached count is part of the prompt count, and the total adds thoughts."""
    meta = g.cached_response()["usageMetadata"]
    assert meta["cachedContentTokenCount"] < meta["promptTokenCount"]
    total = meta["promptTokenCount"] + meta["candidatesTokenCount"] + meta["thoughtsTokenCount"]
    assert meta["totalTokenCount"] == total


def test_usage_total_includes_tool_use_prompt_tokens() -> None:
    """The total sums prompt, candidates, thoughts and tool-use prompt tokens."""
    meta = g.usage(10, 5, thoughts=3, tool_use_prompt=7)
    assert meta["totalTokenCount"] == 25
    assert meta["toolUsePromptTokensDetails"] == [{"modality": "TEXT", "tokenCount": 7}]


# --- streamGenerateContent -------------------------------------------------------------------
@BOTH
def test_stream_yields_every_chunk_and_finishes_last(vertex: bool) -> None:
    """Every SSE event becomes one chunk; only the last one carries the finish reason."""
    chunks = stream(g.text_stream(), vertex=vertex)
    assert len(chunks) == 3
    assert "".join(c.text or "" for c in chunks) == (
        "Your order A-1042 shipped this morning and arrives Thursday."
    )
    reasons = [c.candidates[0].finish_reason for c in chunks]  # type: ignore[index]
    assert reasons == [None, None, types.FinishReason.STOP]


def test_gemini_stream_repeats_running_counts_vertex_only_at_the_end() -> None:
    """Gemini API chunks carry running counts; Vertex chunks only the traffic type until last."""
    gemini = [c.usage_metadata for c in stream(g.text_stream())]
    vertex = [c.usage_metadata for c in stream(g.text_stream(vertex=True), vertex=True)]
    assert [u.candidates_token_count for u in gemini] == [4, 10, 14]  # type: ignore[union-attr]
    assert [u.prompt_token_count for u in vertex] == [None, None, 12]  # type: ignore[union-attr]
    assert vertex[0].traffic_type == types.TrafficType.ON_DEMAND  # type: ignore[union-attr]


def test_thinking_stream_sends_thoughts_first_then_a_signed_answer() -> None:
    """Thought chunks come first and count thoughts; the answer's first part is signed."""
    chunks = stream(g.text_stream(thoughts=(g.THOUGHT,)))
    first = chunks[0].candidates[0].content.parts[0]  # type: ignore[index,union-attr]
    answer = chunks[1].candidates[0].content.parts[0]  # type: ignore[index,union-attr]
    assert first.thought is True
    assert answer.thought_signature
    assert chunks[-1].usage_metadata.thoughts_token_count is not None  # type: ignore[union-attr]


@BOTH
def test_function_call_and_safety_streams_end_as_recorded(vertex: bool) -> None:
    """A streamed call arrives whole in the last chunk; a blocked stream ends with no content."""
    calls = stream(g.function_call_stream(vertex=vertex), vertex=vertex)
    assert calls[-1].function_calls is not None
    assert calls[-1].function_calls[0].name == "get_order_status"
    blocked = stream(g.safety_blocked_stream(vertex=vertex), vertex=vertex)
    last = blocked[-1].candidates[0]  # type: ignore[index]
    assert last.finish_reason == types.FinishReason.SAFETY
    assert last.content is None


def test_sse_frames_events_with_a_blank_crlf_line() -> None:
    """Each event is one `data:` line ended by a blank CRLF line, as the API frames them."""
    body = g.sse([{"a": 1}, {"b": 2}])
    assert body == b'data: {"a": 1}\r\n\r\ndata: {"b": 2}\r\n\r\n'


# --- Embeddings --------------------------------------------------------------------------------
def test_embeddings_parse_for_every_endpoint() -> None:
    """Gemini batchEmbedContents, Vertex predict and Vertex embedContent bodies all parse."""
    seen: list[httpx2.Request] = []
    gemini = gemini_client(serve(g.embed_gemini(), seen=seen))
    result = gemini.models.embed_content(model=g.EMBEDDING_MODEL, contents=["a", "b"])
    assert [len(e.values or ()) for e in result.embeddings or ()] == [8, 8]
    predict = gemini_client(serve(g.embed_vertex_predict(), seen=seen), vertex=True)
    result = predict.models.embed_content(model="text-embedding-005", contents=["a", "b"])
    stats = [e.statistics.token_count for e in result.embeddings or ()]  # type: ignore[union-attr]
    assert stats == [6, 9]
    embed = gemini_client(serve(g.embed_vertex(), seen=seen), vertex=True)
    result = embed.models.embed_content(model=g.EMBEDDING_MODEL, contents="a")
    assert result.usage_metadata is not None
    assert result.usage_metadata.prompt_token_count == 8
    methods = [g.method_of(request.url.path) for request in seen]
    assert methods == ["batchEmbedContents", "predict", "embedContent"]


def test_vectors_are_deterministic_unit_vectors() -> None:
    """The same seed gives the same vector, of length one."""
    assert g.vector(16, 3) == g.vector(16, 3)
    assert math.isclose(math.fsum(x * x for x in g.vector(16, 3)), 1.0, abs_tol=1e-5)


# --- Errors --------------------------------------------------------------------------------------
@BOTH
@pytest.mark.parametrize("status", [400, 403, 429, 500, 503, 504])
def test_error_bodies_raise_the_sdk_errors(vertex: bool, status: int) -> None:
    """Each error body raises ClientError (4xx) or ServerError (5xx) with its code and status."""
    body = g.errors(vertex=vertex)[status]
    client = gemini_client(serve(body, status), vertex=vertex)
    expected = errors.ClientError if status < 500 else errors.ServerError
    with pytest.raises(expected) as raised:
        client.models.generate_content(model=g.MODEL, contents="hi")
    assert raised.value.code == status
    assert raised.value.status == body["error"]["status"]
    assert raised.value.message == body["error"]["message"]


def test_stream_errors_raise_on_first_chunk_not_on_call() -> None:
    """A streamed call sends nothing until iterated: the 429 surfaces from the first next()."""
    seen: list[httpx2.Request] = []
    client = gemini_client(serve(g.resource_exhausted(), 429, seen=seen))
    chunks = client.models.generate_content_stream(model=g.MODEL, contents="hi")
    assert seen == []
    with pytest.raises(errors.ClientError):
        next(chunks)
    assert len(seen) == 1


def test_async_stream_is_an_async_generator_over_the_same_chunks() -> None:
    """The async stream is an async generator (aclose, not close) yielding the same chunks."""

    async def main() -> list[str]:
        client = gemini_client(serve(g.text_stream(vertex=True)), vertex=True)
        chunks = await client.aio.models.generate_content_stream(model=g.MODEL, contents="hi")
        assert hasattr(chunks, "aclose")
        assert not hasattr(chunks, "close")
        return [chunk.text or "" async for chunk in chunks]

    assert len(asyncio.run(main())) == 3


# --- Routing -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "method", "model"),
    [
        ("/v1beta/models/gemini-2.5-flash:generateContent", "generateContent", "gemini-2.5-flash"),
        (
            "/v1beta1/projects/p/locations/us-central1/publishers/google/models/"
            "gemini-2.5-pro:streamGenerateContent?alt=sse",
            "streamGenerateContent",
            "gemini-2.5-pro",
        ),
        ("/v1/models/text-embedding-005:predict", "predict", "text-embedding-005"),
        ("/v1beta/files", "", ""),
    ],
)
def test_routing_reads_method_and_model_from_the_path(path: str, method: str, model: str) -> None:
    """A fake server can tell the method and model from the request path alone."""
    assert (g.method_of(path), g.model_of(path)) == (method, model)


def test_request_paths_the_sdk_uses() -> None:
    """The SDK posts generateContent, and streams with `:streamGenerateContent?alt=sse`."""
    seen: list[httpx2.Request] = []
    client = gemini_client(serve(g.text_stream(), seen=seen))
    list(client.models.generate_content_stream(model=g.MODEL, contents="hi"))
    # Keep the client referenced: a dropped genai.Client closes its HTTP client when collected.
    other = gemini_client(serve(g.text_response(), seen=seen))
    other.models.generate_content(model=g.MODEL, contents="hi")
    assert [str(r.url) for r in seen] == [
        f"{g.GEMINI_BASE_URL}v1/models/{g.MODEL}:streamGenerateContent?alt=sse",
        f"{g.GEMINI_BASE_URL}v1/models/{g.MODEL}:generateContent",
    ]
    assert json.loads(seen[1].content)["contents"] == [{"parts": [{"text": "hi"}], "role": "user"}]
