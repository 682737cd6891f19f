"""Gemini API and Vertex AI payloads: generateContent replies, their SSE chunks, embeddings, errors.

The shapes follow recorded google-genai traffic against generativelanguage.googleapis.com (the
Gemini API) and *-aiplatform.googleapis.com (Vertex AI). Where the two differ the builders take
``vertex=True``: Vertex adds ``createTime``, ``trafficType`` and ``avgLogprobs``, omits the
candidate ``index``, and its stream chunks carry token counts only in the last chunk, while the
Gemini API repeats running counts in every chunk. Both stream as server-sent events
(``:streamGenerateContent?alt=sse``) framed with CRLF line ends (`encode`), and every chunk is
a whole generateContent response.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeVar

from otel_llm.payloads._common import Json, deltas, words

__all__ = [
    "CONTENT_TYPE",
    "CREATE_TIME",
    "EMBEDDING_MODEL",
    "ERROR_TYPES",
    "GEMINI_BASE_URL",
    "IMAGE_MODEL",
    "MODEL",
    "PNG_BASE64",
    "RESPONSE_ID",
    "TEXT",
    "THINKING_MODEL",
    "THOUGHT",
    "THOUGHT_SIGNATURE",
    "VERTEX_BASE_URL",
    "batch_embeddings",
    "cached_response",
    "candidate",
    "chunks",
    "embedding",
    "encode",
    "error",
    "frame",
    "function_call",
    "function_call_response",
    "function_response",
    "image_response",
    "inline_data",
    "max_tokens_response",
    "method_of",
    "model_of",
    "predictions",
    "prompt_blocked_response",
    "response",
    "safety_blocked_response",
    "safety_blocked_stream",
    "safety_ratings",
    "text_part",
    "text_response",
    "thinking_response",
    "usage",
    "vector",
]

MODEL: Final = "gemini-2.5-flash"
THINKING_MODEL: Final = "gemini-2.5-pro"
IMAGE_MODEL: Final = "gemini-2.5-flash-image"
EMBEDDING_MODEL: Final = "gemini-embedding-001"
GEMINI_BASE_URL: Final = "https://generativelanguage.googleapis.com/"
VERTEX_BASE_URL: Final = "https://us-central1-aiplatform.googleapis.com/"
RESPONSE_ID: Final = "2zR8aYTnEvahz7IPmq6EoQ0"
CREATE_TIME: Final = "2025-10-06T15:51:06.600201Z"
CONTENT_TYPE: Final = "text/event-stream"
"""The Content-Type of a streamGenerateContent reply."""
TEXT: Final = "Your order ships today."
"""The canonical reply."""
THOUGHT: Final = (
    "**Checking the order**\n\nThe customer asks where their order is. The tracker says it "
    "left the warehouse today, so I can answer directly.\n\n"
)
"""A thought summary, as thinking models send it with ``include_thoughts``."""
THOUGHT_SIGNATURE: Final = (
    "CiIBcsjafACy65Vwcm8qOq5jkTTLReoTQLfzt+Kzcg/hK99FCmkBcsjafEthipDT"
    "cI/YYtUZ7CYSyHmQdcB+9mnqDLhmtT0vndI0EY9S37MSOIm5dy738djlO27x3Qll"
    "TQIvHkbLqXcDx3GN4mkY/Cq3J74DS7wz1aCe3yoRdcBGF4FIQU8i2mP2Z8YwMuEK"
)
"""An opaque thought signature (base64), as thinking models attach to a turn's first part."""
PNG_BASE64: Final = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)
"""A 1x1 PNG, base64 as ``inlineData.data`` carries it."""

ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
"""The google.rpc ``status`` both services send with each HTTP status."""

_ORDER: Final[Mapping[str, Any]] = {"order_id": "A-1042"}
_SAFETY_CATEGORIES: Final = (
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
)


_T = TypeVar("_T")


def _fresh(value: _T) -> _T:
    """A deep copy: builders hand out new objects, whatever the caller passed in."""
    return copy.deepcopy(value)


# --- parts, candidates, usage ------------------------------------------------------------------
def text_part(text: str = TEXT, *, thought: bool = False, signature: str | None = None) -> Json:
    """A text part; `thought` marks a thought summary, `signature` a signed first part."""
    part: Json = {"text": text}
    if thought:
        part["thought"] = True
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def function_call(
    name: str = "get_order_status",
    args: Mapping[str, Any] | None = None,
    call_id: str | None = None,
) -> Json:
    """A ``functionCall`` part; thinking models sign the first part of their turn."""
    call: Json = {"name": name, "args": _fresh(dict(args if args is not None else _ORDER))}
    if call_id is not None:
        call = {"id": call_id, **call}  # Gemini 3 returns ids; 2.x models do not
    return {"functionCall": call, "thoughtSignature": THOUGHT_SIGNATURE}


def function_response(
    name: str = "get_order_status",
    response: Mapping[str, Any] | None = None,
    call_id: str | None = None,
) -> Json:
    """A ``functionResponse`` part, as the caller sends a tool's result back."""
    answer = response if response is not None else {"status": "shipped"}
    result: Json = {"name": name, "response": _fresh(dict(answer))}
    if call_id is not None:
        result = {"id": call_id, **result}
    return {"functionResponse": result}


def inline_data(mime_type: str = "image/png", data: str = PNG_BASE64) -> Json:
    """An ``inlineData`` part: the bytes base64-encoded, with their MIME type."""
    return {"inlineData": {"mimeType": mime_type, "data": data}}


def usage(
    prompt: int = 12,
    candidates: int | None = 5,
    *,
    thoughts: int | None = None,
    cached: int | None = None,
    tool_use_prompt: int | None = None,
    vertex: bool = False,
    output_modality: str = "TEXT",
) -> Json:
    """``usageMetadata``: the total is prompt + candidates + thoughts + tool-use prompt tokens.

    The prompt count includes the `cached` tokens; thoughts are not in the candidates count.
    A count left None is absent, as the services leave it out.
    """
    body: Json = {"promptTokenCount": prompt}
    if candidates is not None:
        body["candidatesTokenCount"] = candidates
    body["totalTokenCount"] = prompt + (candidates or 0) + (thoughts or 0) + (tool_use_prompt or 0)
    if cached is not None:
        body["cachedContentTokenCount"] = cached
    if vertex:
        body["trafficType"] = "ON_DEMAND"
    body["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    if cached is not None:
        body["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if candidates and (vertex or output_modality != "TEXT"):
        body["candidatesTokensDetails"] = [{"modality": output_modality, "tokenCount": candidates}]
    if tool_use_prompt is not None:
        body["toolUsePromptTokenCount"] = tool_use_prompt
        body["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": tool_use_prompt}]
    if thoughts is not None:
        body["thoughtsTokenCount"] = thoughts
    return body


def safety_ratings(blocked: str | None = None) -> list[Json]:
    """Per-category ratings; the `blocked` category is rated HIGH and marked blocked."""
    ratings: list[Json] = []
    for category in _SAFETY_CATEGORIES:
        rating: Json = {"category": category, "probability": "NEGLIGIBLE"}
        if category == blocked:
            rating = {"category": category, "probability": "HIGH", "blocked": True}
        ratings.append(rating)
    return ratings


def candidate(
    parts: Sequence[Json] | None = None,
    finish_reason: str | None = "STOP",
    *,
    vertex: bool = False,
    index: int = 0,
) -> Json:
    """One candidate of the model's turn (default: the canonical text); no reason: unfinished."""
    body: Json = {"content": {"parts": _fresh(list(parts or [text_part()])), "role": "model"}}
    if finish_reason is not None:
        body["finishReason"] = finish_reason
        if vertex:
            body["avgLogprobs"] = -0.4127
    if not vertex:
        body["index"] = index
    return body


def _envelope(
    candidates: Sequence[Json] | None,
    usage_metadata: Json | None,
    *,
    model: str,
    vertex: bool,
    response_id: str,
) -> Json:
    body: Json = {}
    if candidates is not None:
        body["candidates"] = _fresh(list(candidates))
    if usage_metadata is not None:
        body["usageMetadata"] = _fresh(usage_metadata)
    body["modelVersion"] = model
    if vertex:
        body["createTime"] = CREATE_TIME
    body["responseId"] = response_id
    return body


# --- generateContent ---------------------------------------------------------------------------
def response(
    candidates: Sequence[Json] | None = None,
    usage_metadata: Json | None = None,
    *,
    model: str = MODEL,
    vertex: bool = False,
    response_id: str = RESPONSE_ID,
) -> Json:
    """A generateContent response: default one text candidate and its usage."""
    return _envelope(
        candidates if candidates is not None else [candidate(vertex=vertex)],
        usage_metadata if usage_metadata is not None else usage(vertex=vertex),
        model=model,
        vertex=vertex,
        response_id=response_id,
    )


def text_response(
    text: str = TEXT,
    *,
    vertex: bool = False,
    model: str = MODEL,
    usage_metadata: Json | None = None,
) -> Json:
    """A plain text answer."""
    return response(
        [candidate([text_part(text)], vertex=vertex)],
        usage_metadata,
        model=model,
        vertex=vertex,
    )


def function_call_response(
    name: str = "get_order_status",
    args: Mapping[str, Any] | None = None,
    *,
    call_id: str | None = None,
    text: str | None = None,
    vertex: bool = False,
) -> Json:
    """The model asks for a tool (after `text`, if given): still STOP, Gemini has no tool_calls."""
    parts = [text_part(text)] if text is not None else []
    parts.append(function_call(name, args, call_id))
    return response(
        [candidate(parts, vertex=vertex)],
        usage(58, 9, thoughts=41, vertex=vertex),
        vertex=vertex,
    )


def thinking_response(thought: str = THOUGHT, answer: str = TEXT, *, vertex: bool = False) -> Json:
    """A thought summary (``thought: true``, asked for with include_thoughts) and the answer."""
    parts = [text_part(thought, thought=True), text_part(answer, signature=THOUGHT_SIGNATURE)]
    return response(
        [candidate(parts, vertex=vertex)],
        usage(34, 17, thoughts=759, vertex=vertex),
        model=THINKING_MODEL,
        vertex=vertex,
    )


def image_response(*, vertex: bool = False) -> Json:
    """An image model's answer: text plus the image as ``inlineData`` (base64)."""
    parts = [text_part("Here is the shipping label.", signature=THOUGHT_SIGNATURE), inline_data()]
    return response(
        [candidate(parts, vertex=vertex)],
        usage(11, 1290, vertex=vertex, output_modality="IMAGE"),
        model=IMAGE_MODEL,
        vertex=vertex,
    )


def safety_blocked_response(*, vertex: bool = False) -> Json:
    """The answer was blocked: finish reason SAFETY, an empty content, no candidate tokens."""
    blocked = candidate(finish_reason="SAFETY", vertex=vertex)
    blocked["content"] = {}
    blocked["safetyRatings"] = safety_ratings("HARM_CATEGORY_HATE_SPEECH")
    return response([blocked], usage(14, None, vertex=vertex), vertex=vertex)


def prompt_blocked_response(*, vertex: bool = False) -> Json:
    """The prompt was blocked: no candidates at all, only ``promptFeedback.blockReason``."""
    body = _envelope(
        None, usage(9, None, vertex=vertex), model=MODEL, vertex=vertex, response_id=RESPONSE_ID
    )
    return {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, **body}


def max_tokens_response(text: str | None = "Your order", *, vertex: bool = False) -> Json:
    """Stopped at max_output_tokens; `text=None` is a thinking model that spent it all thinking."""
    cut = candidate([text_part(text)] if text else None, "MAX_TOKENS", vertex=vertex)
    if text is None:
        cut["content"] = {"role": "model"}
    counts = usage(15, 2, vertex=vertex) if text else usage(15, None, thoughts=2, vertex=vertex)
    return response([cut], counts, vertex=vertex)


def cached_response(*, vertex: bool = False) -> Json:
    """An answer whose prompt was mostly served from a context cache (counted in the prompt)."""
    return response(
        [candidate(vertex=vertex)],
        usage(4126, 5, cached=4096, thoughts=88, vertex=vertex),
        vertex=vertex,
    )


# --- streamGenerateContent ---------------------------------------------------------------------
def _pieces(parts: Sequence[Json], pieces: Sequence[str] | None) -> list[Json]:
    """The parts of a turn as the stream sends them: the first answer text cut into `pieces`.

    Text is cut into deltas (the first answer text as the caller asked, later ones by word),
    each carrying the part's other fields only on its first piece; a thought summary, a
    function call (never streamed in fragments) or inline data arrives whole.
    """
    out: list[Json] = []
    for part in parts:
        text = part.get("text")
        if not isinstance(text, str) or part.get("thought"):
            out.append(part)
            continue
        cuts = deltas(text, pieces) if pieces is not None else words(text)
        pieces = None  # only the first answer text is cut as the caller asked
        for number, piece in enumerate(cuts or [""]):
            out.append({**part, "text": piece} if number == 0 else {"text": piece})
    return out


def chunks(
    final: Json | None = None, pieces: Sequence[str] | None = None, *, vertex: bool = False
) -> list[Json]:
    """The stream chunks of a generateContent call that ends in `final` (default: the canonical).

    One chunk per piece of the first candidate's parts (see `_pieces`), in order; the last
    carries the finish reason and `final`'s usage. Before it, Gemini API chunks carry running
    counts (the output counted in proportion to the text sent), Vertex chunks only the traffic
    type. A reply without candidates (a blocked prompt) is one chunk, `final` itself.
    """
    final = text_response(vertex=vertex) if final is None else _fresh(final)
    candidates = final.get("candidates") or []
    if not candidates:
        return [final]
    first = candidates[0]
    sent = _pieces((first.get("content") or {}).get("parts") or [], pieces)
    if not sent:
        return [final]
    totals = final.get("usageMetadata") or {}
    model = str(final.get("modelVersion", MODEL))
    response_id = str(final.get("responseId", RESPONSE_ID))
    answer = sum(len(p.get("text", "")) for p in sent if not p.get("thought")) or 1
    thinking = sum(len(p.get("text", "")) for p in sent if p.get("thought"))
    answered = thought = 0
    out: list[Json] = []
    for number, part in enumerate(sent):
        if part.get("thought"):
            thought += len(part.get("text", ""))
        else:
            answered += len(part.get("text", ""))
        body: Json = {"content": {"parts": [part], "role": "model"}}
        if not vertex:
            body["index"] = first.get("index", 0)
        # Thinking comes first: without thought summaries, every thought is counted at once.
        thought_share = thought / thinking if thinking else 1.0
        counts: Json = (
            {"trafficType": "ON_DEMAND"}
            if vertex
            else _running(totals, answered / answer, thought_share)
        )
        if number == len(sent) - 1:
            body.update({k: v for k, v in first.items() if k not in ("content", "index")})
            counts = totals
        out.append(
            _envelope([body], counts or None, model=model, vertex=vertex, response_id=response_id)
        )
    return out


def _running(totals: Json, answered: float, thought: float) -> Json:
    """The Gemini API's counts partway through a stream: the share of output sent so far."""
    prompt = int(totals.get("promptTokenCount", 0))
    candidates = totals.get("candidatesTokenCount")
    thoughts = totals.get("thoughtsTokenCount")
    return usage(
        prompt,
        math.ceil(candidates * answered) or None if isinstance(candidates, int) else None,
        thoughts=math.ceil(thoughts * thought) or None if isinstance(thoughts, int) else None,
        cached=totals.get("cachedContentTokenCount"),
    )


def safety_blocked_stream(*, vertex: bool = False) -> list[Json]:
    """Text, then a last chunk with finish reason SAFETY and no content (streaming drops it)."""
    start = text_response("I can tell you that", vertex=vertex, usage_metadata=usage(14, 5))
    out = chunks(start, ["I can tell you that"], vertex=vertex)
    last = out[-1]["candidates"][0]
    last.pop("finishReason")
    last.pop("avgLogprobs", None)
    out[-1]["usageMetadata"] = {"trafficType": "ON_DEMAND"} if vertex else usage(14, 5)
    blocked: Json = {"finishReason": "SAFETY"}
    if not vertex:
        blocked["index"] = 0
    blocked["safetyRatings"] = safety_ratings("HARM_CATEGORY_DANGEROUS_CONTENT")
    counts = usage(14, 5, vertex=vertex)
    out.append(_envelope([blocked], counts, model=MODEL, vertex=vertex, response_id=RESPONSE_ID))
    return out


def frame(chunk: Json) -> bytes:
    """One server-sent event as the services frame it: a ``data:`` line, a blank CRLF line."""
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\r\n\r\n"


def encode(stream: Sequence[Json]) -> bytes:
    """A whole ``alt=sse`` stream body (the form google-genai always asks for)."""
    return b"".join(frame(chunk) for chunk in stream)


# --- Embeddings --------------------------------------------------------------------------------
def vector(dimensions: int = 8, seed: int = 1) -> list[float]:
    """A deterministic unit-length embedding."""
    raw = [math.sin(seed * (i + 1) * 0.7) for i in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [round(x / norm, 6) for x in raw]


def _vectors(vectors: Sequence[Sequence[float]] | None) -> list[list[float]]:
    return [list(v) for v in vectors] if vectors is not None else [vector(8, 1), vector(8, 2)]


def batch_embeddings(vectors: Sequence[Sequence[float]] | None = None) -> Json:
    """Gemini API ``:batchEmbedContents``: one vector per text, and no token usage at all."""
    return {"embeddings": [{"values": v} for v in _vectors(vectors)]}


def predictions(
    vectors: Sequence[Sequence[float]] | None = None, token_counts: Sequence[int] = (6, 9)
) -> Json:
    """Vertex ``:predict`` (text-embedding-00x): per-text statistics, billable characters."""
    listed = _vectors(vectors)
    counts = list(token_counts)[: len(listed)] + [1] * (len(listed) - len(token_counts))
    return {
        "predictions": [
            {"embeddings": {"statistics": {"truncated": False, "token_count": c}, "values": v}}
            for v, c in zip(listed, counts, strict=True)
        ],
        "metadata": {"billableCharacterCount": 4 * sum(counts)},
    }


def embedding(values: Sequence[float] | None = None, prompt_tokens: int = 8) -> Json:
    """Vertex ``:embedContent`` (gemini-embedding models): one vector and usage metadata."""
    return {
        "embedding": {"values": list(values) if values is not None else vector()},
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        },
        "truncated": False,
    }


# --- Errors --------------------------------------------------------------------------------------
_KEY_MESSAGE: Final = "API key not valid. Please pass a valid API key."
_QUOTA_MESSAGE: Final = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)
_MESSAGES: Final[Mapping[int, str]] = {
    400: _KEY_MESSAGE,
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential.",
    403: "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API.",
    404: "models/gemini-2.5-nope is not found for API version v1beta, or is not supported for "
    "generateContent. Call ListModels to see the list of available models and their supported "
    "methods.",
    429: _QUOTA_MESSAGE,
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
_VERTEX_MESSAGES: Final[Mapping[int, str]] = {
    403: "Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis"
    f".com/projects/my-project/locations/us-central1/publishers/google/models/{MODEL}' (or it "
    "may not exist).",
    429: "Resource exhausted. Please try again later. Please refer to https://cloud.google.com"
    "/vertex-ai/generative-ai/docs/error-code-429 for more details.",
}


def _details(status: int, vertex: bool) -> list[Json]:
    """The google.rpc details the services attach to an error, as recorded."""
    if status == 400 and not vertex:
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }
        localized = {
            "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
            "locale": "en-US",
            "message": _KEY_MESSAGE,
        }
        return [info, localized]
    if status == 403 and vertex:
        resource = f"projects/my-project/locations/us-central1/publishers/google/models/{MODEL}"
        return [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "IAM_PERMISSION_DENIED",
                "domain": "aiplatform.googleapis.com",
                "metadata": {
                    "permission": "aiplatform.endpoints.predict",
                    "resource": resource,
                },
            }
        ]
    if status == 429 and not vertex:
        violation = {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "quotaDimensions": {"location": "global", "model": MODEL},
            "quotaValue": "10",
        }
        return [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]},
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "43s"},
        ]
    return []


def error(status: int = 500, message: str | None = None, *, vertex: bool = False) -> Json:
    """The google.rpc.Status body a service sends with an error `status` (default: recorded).

    Recorded details come along: the invalid API key's ErrorInfo (400), Vertex's IAM denial
    (403), the Gemini API's quota failure and retry delay (429).
    """
    default = (_VERTEX_MESSAGES if vertex else {}).get(status) or _MESSAGES.get(status)
    body: Json = {
        "code": status,
        "message": message if message is not None else default or _MESSAGES[500],
        "status": ERROR_TYPES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION"),
    }
    details = _details(status, vertex)
    if details:
        body["details"] = details
    return {"error": body}


# --- Routing (for fake servers) ----------------------------------------------------------------
def method_of(path: str) -> str:
    """The API method a request path names (``generateContent``, ``predict``, ...), or ""."""
    tail = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else ""


def model_of(path: str) -> str:
    """The model a request path names (``.../models/gemini-2.5-flash:generateContent``), or ""."""
    tail = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.split(":", 1)[0] if ":" in tail else ""
