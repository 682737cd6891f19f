"""Tests for the Gemini payloads: every field one the SDK knows, read back by a real client."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from google.genai import errors, types

from otel_llm.payloads import _common
from otel_llm.payloads import gemini as g
from tests.instrumentation.google_genai._fakes import client, generate, serve, stream

BOTH = pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])
_BASE64_FIELDS = ("thoughtSignature", "data")


def _standard_base64(value: Any) -> Any:
    """`value` with the SDK's URL-safe base64 bytes fields back in the API's standard alphabet."""
    if isinstance(value, dict):
        return {
            key: base64.b64encode(base64.urlsafe_b64decode(item)).decode()
            if key in _BASE64_FIELDS and isinstance(item, str)
            else _standard_base64(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_standard_base64(item) for item in value]
    return value


def read_back(response: types.GenerateContentResponse) -> dict[str, Any]:
    """What the SDK kept of a body: the fields it declares, in the API's JSON spelling."""
    dumped = response.model_dump(mode="json", by_alias=True, exclude_none=True)
    dumped.pop("sdkHttpResponse", None)
    dumped.pop("automaticFunctionCallingHistory", None)  # the SDK's own, not the API's
    return _standard_base64(dumped)  # type: ignore[no-any-return]


REPLIES: dict[str, Callable[..., dict[str, Any]]] = {
    "text": g.text_response,
    "function_call": lambda vertex: g.function_call_response(
        call_id="fc_1", text="Let me check.", vertex=vertex
    ),
    "thinking": g.thinking_response,
    "image": g.image_response,
    "safety_blocked": g.safety_blocked_response,
    "prompt_blocked": g.prompt_blocked_response,
    "max_tokens": g.max_tokens_response,
    "thoughts_only": lambda vertex: g.max_tokens_response(None, vertex=vertex),
    "cached": g.cached_response,
}


# --- generateContent ---------------------------------------------------------------------------
@BOTH
@pytest.mark.parametrize("reply", list(REPLIES))
def test_replies_have_every_field_the_sdk_knows_and_no_other(reply: str, vertex: bool) -> None:
    """Read through the real client, a reply keeps every field: none is unknown to the SDK."""
    body = REPLIES[reply](vertex=vertex)
    assert read_back(generate(body, vertex=vertex)) == body


@BOTH
def test_text_response_parses_with_usage_and_ids(vertex: bool) -> None:
    """A text answer reaches the caller with its text, finish reason, usage, model and id."""
    response = generate(g.text_response(vertex=vertex), vertex=vertex)
    assert response.text == g.TEXT
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count == 12
    assert response.usage_metadata.candidates_token_count == 5
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
    """``inlineData.data`` is base64 on the wire and raw PNG bytes in the SDK."""
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
    for text in ("Your order", None):
        cut = generate(g.max_tokens_response(text, vertex=vertex), vertex=vertex)
        assert cut.candidates is not None
        assert cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
        assert cut.text == text


def test_usage_totals_and_cache_inside_the_prompt() -> None:
    """The total sums prompt, candidates, thoughts and tool-use prompt; cache is in the prompt."""
    meta = g.usage(10, 5, thoughts=3, tool_use_prompt=7)
    assert meta["totalTokenCount"] == 25
    assert meta["toolUsePromptTokensDetails"] == [{"modality": "TEXT", "tokenCount": 7}]
    cached = g.cached_response()["usageMetadata"]
    assert cached["cachedContentTokenCount"] < cached["promptTokenCount"]
    assert "candidatesTokenCount" not in g.usage(9, None)


def test_builders_copy_what_they_are_given() -> None:
    """Arguments are copied in: changing the caller's dict later changes no built body."""
    args = {"order_id": "A-1"}
    part = g.function_call(args=args)
    args["order_id"] = "changed"
    assert part["functionCall"]["args"] == {"order_id": "A-1"}


# --- streamGenerateContent -------------------------------------------------------------------
@BOTH
def test_stream_adds_up_to_its_reply_and_finishes_last(vertex: bool) -> None:
    """Chunk texts join to the reply's text; only the last carries the finish reason and usage."""
    final = g.text_response(vertex=vertex)
    pieces = ["Your order ", "ships ", "today."]
    chunks = stream(g.chunks(final, pieces, vertex=vertex), vertex=vertex)
    assert [c.text for c in chunks] == pieces
    reasons = [c.candidates[0].finish_reason for c in chunks]  # type: ignore[index]
    assert reasons == [None, None, types.FinishReason.STOP]
    assert chunks[-1].usage_metadata == generate(final, vertex=vertex).usage_metadata


def test_stream_pieces_default_to_words_and_must_add_up() -> None:
    """Without pieces the text streams word by word; pieces that do not add up are refused."""
    assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in g.chunks()] == (
        _common.words(g.TEXT)
    )
    with pytest.raises(ValueError, match="do not add up"):
        g.chunks(pieces=["Nope"])


def test_gemini_stream_repeats_running_counts_vertex_only_at_the_end() -> None:
    """Gemini API chunks carry growing counts; Vertex chunks only the traffic type until last."""
    pieces = ["Your order ", "ships ", "today."]
    gemini = [c.usage_metadata for c in stream(g.chunks(pieces=pieces))]
    vertex = [c.usage_metadata for c in stream(g.chunks(pieces=pieces, vertex=True), vertex=True)]
    counts = [u.candidates_token_count or 0 for u in gemini]  # type: ignore[union-attr]
    assert counts == sorted(counts)
    assert counts[-1] == 5
    assert [u.prompt_token_count for u in vertex] == [None, None, 12]  # type: ignore[union-attr]
    assert vertex[0].traffic_type == types.TrafficType.ON_DEMAND  # type: ignore[union-attr]


def test_thinking_stream_sends_thoughts_first_then_a_signed_answer() -> None:
    """Thought chunks come first and count thoughts; the answer's first piece is signed."""
    chunks = stream(g.chunks(g.thinking_response()))
    first = chunks[0].candidates[0].content.parts[0]  # type: ignore[index,union-attr]
    answer = chunks[1].candidates[0].content.parts[0]  # type: ignore[index,union-attr]
    later = chunks[2].candidates[0].content.parts[0]  # type: ignore[index,union-attr]
    assert first.thought is True
    assert answer.thought_signature
    assert later.thought_signature is None
    assert chunks[0].usage_metadata.thoughts_token_count == 759  # type: ignore[union-attr]
    assert chunks[0].usage_metadata.candidates_token_count is None  # type: ignore[union-attr]


@BOTH
def test_function_call_and_safety_streams_end_as_recorded(vertex: bool) -> None:
    """A streamed call arrives whole in the last chunk; a blocked stream ends with no content."""
    final = g.function_call_response(text="Let me look that up.", vertex=vertex)
    calls = stream(g.chunks(final, vertex=vertex), vertex=vertex)
    assert calls[-1].function_calls is not None
    assert calls[-1].function_calls[0].name == "get_order_status"
    assert all(c.function_calls is None for c in calls[:-1])
    blocked = stream(g.safety_blocked_stream(vertex=vertex), vertex=vertex)
    last = blocked[-1].candidates[0]  # type: ignore[index]
    assert last.finish_reason == types.FinishReason.SAFETY
    assert last.content is None
    assert blocked[-1].usage_metadata.candidates_token_count == 5  # type: ignore[union-attr]


def test_a_blocked_prompt_streams_as_its_one_reply() -> None:
    """A reply without candidates is streamed as itself, in one chunk."""
    assert g.chunks(g.prompt_blocked_response()) == [g.prompt_blocked_response()]


def test_frames_end_with_a_blank_crlf_line() -> None:
    """Each event is one compact `data:` line ended by a blank CRLF line, as the API frames it."""
    assert g.encode([{"a": 1}, {"b": 2}]) == b'data: {"a":1}\r\n\r\ndata: {"b":2}\r\n\r\n'


def test_async_stream_is_an_async_generator_over_the_same_chunks() -> None:
    """The async stream is an async generator (aclose, not close) yielding the same chunks."""

    async def main() -> list[str]:
        sdk = client(serve(g.chunks(vertex=True)), vertex=True)
        chunks = await sdk.aio.models.generate_content_stream(model=g.MODEL, contents="hi")
        assert hasattr(chunks, "aclose")
        assert not hasattr(chunks, "close")
        return [chunk.text or "" async for chunk in chunks]

    assert "".join(asyncio.run(main())) == g.TEXT


# --- Embeddings --------------------------------------------------------------------------------
def test_embeddings_parse_for_every_endpoint() -> None:
    """Gemini batchEmbedContents, Vertex predict and Vertex embedContent bodies all parse."""
    seen: list[httpx2.Request] = []
    gemini = client(serve(g.batch_embeddings(), seen=seen))
    result = gemini.models.embed_content(model=g.EMBEDDING_MODEL, contents=["a", "b"])
    assert [e.values for e in result.embeddings or ()] == [g.vector(8, 1), g.vector(8, 2)]
    predict = client(serve(g.predictions(), seen=seen), vertex=True)
    result = predict.models.embed_content(model="text-embedding-005", contents=["a", "b"])
    stats = [e.statistics.token_count for e in result.embeddings or ()]  # type: ignore[union-attr]
    assert stats == [6, 9]
    embed = client(serve(g.embedding(), seen=seen), vertex=True)
    result = embed.models.embed_content(model=g.EMBEDDING_MODEL, contents="a")
    assert result.usage_metadata is not None
    assert result.usage_metadata.prompt_token_count == 8
    methods = [g.method_of(request.url.path) for request in seen]
    assert methods == ["batchEmbedContents", "predict", "embedContent"]


def test_vectors_are_deterministic_unit_vectors() -> None:
    """The same seed gives the same vector, of length one; predictions pad missing counts."""
    assert g.vector(16, 3) == g.vector(16, 3)
    assert math.isclose(math.fsum(x * x for x in g.vector(16, 3)), 1.0, abs_tol=1e-5)
    counts = [
        p["embeddings"]["statistics"]["token_count"]
        for p in g.predictions([[1.0]] * 3)["predictions"]
    ]
    assert counts == [6, 9, 1]


# --- Errors --------------------------------------------------------------------------------------
@BOTH
@pytest.mark.parametrize("status", sorted(g.ERROR_TYPES))
def test_error_bodies_raise_the_sdk_errors(vertex: bool, status: int) -> None:
    """Each error body raises ClientError (4xx) or ServerError (5xx) with its code and status."""
    body = g.error(status, vertex=vertex)
    sdk = client(serve(body, status), vertex=vertex)
    expected = errors.ClientError if status < 500 else errors.ServerError
    with pytest.raises(expected) as raised:
        sdk.models.generate_content(model=g.MODEL, contents="hi")
    assert raised.value.code == status
    assert raised.value.status == g.ERROR_TYPES[status]
    assert raised.value.message == body["error"]["message"]


def test_error_details_and_messages_as_recorded() -> None:
    """The 429 carries its quota details and retry delay on the Gemini API only; messages apply."""
    details = g.error(429)["error"]["details"]
    assert details[-1] == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "43s"}
    assert "details" not in g.error(429, vertex=True)["error"]
    assert g.error(503, "Try later")["error"]["message"] == "Try later"
    assert g.error(418)["error"]["status"] == "FAILED_PRECONDITION"


def test_stream_errors_raise_on_first_chunk_not_on_call() -> None:
    """A streamed call sends nothing until iterated: the 429 surfaces from the first next()."""
    seen: list[httpx2.Request] = []
    sdk = client(serve(g.error(429), 429, seen=seen))
    chunks = sdk.models.generate_content_stream(model=g.MODEL, contents="hi")
    assert seen == []
    with pytest.raises(errors.ClientError):
        next(chunks)
    assert len(seen) == 1


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
    streaming = client(serve(g.chunks(), seen=seen))
    list(streaming.models.generate_content_stream(model=g.MODEL, contents="hi"))
    # Keep the client referenced: a dropped genai.Client closes its HTTP client when collected.
    other = client(serve(g.text_response(), seen=seen))
    other.models.generate_content(model=g.MODEL, contents="hi")
    assert [str(r.url) for r in seen] == [
        f"{g.GEMINI_BASE_URL}v1/models/{g.MODEL}:streamGenerateContent?alt=sse",
        f"{g.GEMINI_BASE_URL}v1/models/{g.MODEL}:generateContent",
    ]
    assert json.loads(seen[1].content)["contents"] == [{"parts": [{"text": "hi"}], "role": "user"}]
