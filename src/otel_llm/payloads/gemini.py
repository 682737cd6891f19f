"""Gemini API and Vertex AI bodies as the services send them: responses, SSE streams, errors.

Plain JSON data, no google-genai import, so a simulated provider can serve them without the
SDK. The shapes follow recorded traffic of google-genai against generativelanguage.googleapis.com
(the Gemini API) and *-aiplatform.googleapis.com (Vertex AI). Where the two differ the builders
take `vertex=True`: Vertex adds `createTime`, `trafficType` and `avgLogprobs`, omits the
candidate `index`, and its stream chunks carry token counts only in the last chunk, while the
Gemini API repeats running counts in every chunk. Both stream as server-sent events
(`:streamGenerateContent?alt=sse`, events separated by a blank CRLF line).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

Body = dict[str, Any]

MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-2.5-flash-image"
EMBEDDING_MODEL = "gemini-embedding-001"
GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/"
VERTEX_BASE_URL = "https://us-central1-aiplatform.googleapis.com/"
RESPONSE_ID = "2zR8aYTnEvahz7IPmq6EoQ0"
CREATE_TIME = "2025-10-06T15:51:06.600201Z"
ANSWER = "Your order A-1042 shipped this morning and should arrive on Thursday."
THOUGHT = (
    "**Checking the order**\n\nThe customer asks where order A-1042 is. The tool result says "
    "it shipped today, so I can give the delivery estimate directly.\n\n"
)
THOUGHT_SIGNATURE = (
    "CiIBcsjafACy65Vwcm8qOq5jkTTLReoTQLfzt+Kzcg/hK99FCmkBcsjafEthipDT"
    "cI/YYtUZ7CYSyHmQdcB+9mnqDLhmtT0vndI0EY9S37MSOIm5dy738djlO27x3Qll"
    "TQIvHkbLqXcDx3GN4mkY/Cq3J74DS7wz1aCe3yoRdcBGF4FIQU8i2mP2Z8YwMuEK"
)
"""An opaque thought signature (base64), as thinking models attach to a turn's first part."""
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)
"""A 1x1 PNG, base64 as `inlineData.data` carries it."""

_SAFETY_CATEGORIES = (
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
)


# --- Building blocks ---------------------------------------------------------------------------
def usage(
    prompt: int,
    candidates: int | None = None,
    *,
    thoughts: int | None = None,
    cached: int | None = None,
    tool_use_prompt: int | None = None,
    vertex: bool = False,
    output_modality: str = "TEXT",
) -> Body:
    """`usageMetadata`: the total is prompt + candidates + thoughts + tool-use prompt tokens."""
    body: Body = {"promptTokenCount": prompt}
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


def safety_ratings(blocked: str | None = None) -> list[Body]:
    """Per-category ratings; the `blocked` category is rated HIGH and marked blocked."""
    ratings: list[Body] = []
    for category in _SAFETY_CATEGORIES:
        rating: Body = {"category": category, "probability": "NEGLIGIBLE"}
        if category == blocked:
            rating = {"category": category, "probability": "HIGH", "blocked": True}
        ratings.append(rating)
    return ratings


def candidate(
    parts: Sequence[Body] | None,
    finish_reason: str | None = "STOP",
    *,
    vertex: bool = False,
    index: int = 0,
) -> Body:
    """One candidate; `parts=None` is a candidate with no content (e.g. blocked mid-stream)."""
    body: Body = {}
    if parts is not None:
        body["content"] = {"parts": list(parts), "role": "model"}
    if finish_reason is not None:
        body["finishReason"] = finish_reason
        if vertex:
            body["avgLogprobs"] = -0.4127
    if not vertex:
        body["index"] = index
    return body


def response(
    candidates: Sequence[Body] | None,
    usage_metadata: Body | None,
    *,
    model: str = MODEL,
    vertex: bool = False,
    response_id: str = RESPONSE_ID,
) -> Body:
    """A generateContent response (or one stream chunk, which has the same shape)."""
    body: Body = {}
    if candidates is not None:
        body["candidates"] = list(candidates)
    if usage_metadata is not None:
        body["usageMetadata"] = usage_metadata
    body["modelVersion"] = model
    if vertex:
        body["createTime"] = CREATE_TIME
    body["responseId"] = response_id
    return body


def function_call(name: str, args: Body, call_id: str | None = None) -> Body:
    """A `functionCall` part; thinking models sign the first part of their turn."""
    call: Body = {"name": name, "args": args}
    if call_id is not None:
        call = {"id": call_id, **call}  # Gemini 3 returns ids; 2.x models do not
    return {"functionCall": call, "thoughtSignature": THOUGHT_SIGNATURE}


# --- generateContent ---------------------------------------------------------------------------
def text_response(text: str = ANSWER, *, vertex: bool = False, model: str = MODEL) -> Body:
    """A plain text answer."""
    return response(
        [candidate([{"text": text}], vertex=vertex)],
        usage(12, 17, vertex=vertex),
        model=model,
        vertex=vertex,
    )


def function_call_response(
    name: str = "get_order_status",
    args: Body | None = None,
    *,
    call_id: str | None = None,
    vertex: bool = False,
) -> Body:
    """The model asks for a tool: the finish reason is still STOP (Gemini has no tool_calls)."""
    part = function_call(name, args if args is not None else {"order_id": "A-1042"}, call_id)
    return response(
        [candidate([part], vertex=vertex)],
        usage(58, 9, thoughts=41, vertex=vertex),
        vertex=vertex,
    )


def thinking_response(
    thought: str = THOUGHT, answer: str = ANSWER, *, vertex: bool = False
) -> Body:
    """A thought summary (`thought: true`, asked for with include_thoughts) and the answer."""
    parts: list[Body] = [
        {"text": thought, "thought": True},
        {"text": answer, "thoughtSignature": THOUGHT_SIGNATURE},
    ]
    return response(
        [candidate(parts, vertex=vertex)],
        usage(34, 17, thoughts=759, vertex=vertex),
        model="gemini-2.5-pro",
        vertex=vertex,
    )


def image_response(*, vertex: bool = False) -> Body:
    """An image model's answer: text plus the image as `inlineData` (base64)."""
    parts: list[Body] = [
        {"text": "Here is the shipping label.", "thoughtSignature": THOUGHT_SIGNATURE},
        {"inlineData": {"mimeType": "image/png", "data": PNG_BASE64}},
    ]
    return response(
        [candidate(parts, vertex=vertex)],
        usage(11, 1290, vertex=vertex, output_modality="IMAGE"),
        model=IMAGE_MODEL,
        vertex=vertex,
    )


def safety_blocked_response(*, vertex: bool = False) -> Body:
    """The answer was blocked: finish reason SAFETY, an empty content, no candidate tokens."""
    blocked = candidate(None, "SAFETY", vertex=vertex)
    blocked["content"] = {}
    blocked["safetyRatings"] = safety_ratings("HARM_CATEGORY_HATE_SPEECH")
    return response([blocked], usage(14, vertex=vertex), vertex=vertex)


def prompt_blocked_response(*, vertex: bool = False) -> Body:
    """The prompt was blocked: no candidates at all, only `promptFeedback.blockReason`."""
    body = response(None, usage(9, vertex=vertex), vertex=vertex)
    feedback: Body = {"blockReason": "PROHIBITED_CONTENT"}
    return {"promptFeedback": feedback, **body}


def max_tokens_response(
    text: str | None = "Your order A-1042 shipped", *, vertex: bool = False
) -> Body:
    """Stopped at max_output_tokens; `text=None` is a thinking model that spent it all thinking."""
    parts = [{"text": text}] if text is not None else None
    cut = candidate(parts, "MAX_TOKENS", vertex=vertex)
    if parts is None:
        cut["content"] = {"role": "model"}
    return response(
        [cut],
        usage(
            15, 5 if text is not None else None, thoughts=2 if text is None else None, vertex=vertex
        ),
        vertex=vertex,
    )


def cached_response(*, vertex: bool = False) -> Body:
    """An answer whose prompt was mostly served from a context cache (counted in the prompt)."""
    return response(
        [candidate([{"text": ANSWER}], vertex=vertex)],
        usage(4126, 17, cached=4096, thoughts=88, vertex=vertex),
        vertex=vertex,
    )


# --- streamGenerateContent ---------------------------------------------------------------------
def _running(prompt: int, candidates: int | None, thoughts: int | None, vertex: bool) -> Body:
    # Vertex sends only the traffic type until the last chunk; the Gemini API running totals.
    return {"trafficType": "ON_DEMAND"} if vertex else usage(prompt, candidates, thoughts=thoughts)


def text_stream(
    pieces: Sequence[str] = (
        "Your order A-1042 ",
        "shipped this morning and ",
        "arrives Thursday.",
    ),
    *,
    vertex: bool = False,
    finish_reason: str = "STOP",
    thoughts: Sequence[str] = (),
    prompt: int = 12,
) -> list[Body]:
    """A streamed answer's chunks, thought summaries first; the last has the finish reason."""
    chunks: list[Body] = []
    thought_tokens = 0
    for text in thoughts:
        thought_tokens += 70 + len(text) // 4
        parts = [{"text": text, "thought": True}]
        running = _running(prompt, None, thought_tokens, vertex)
        chunks.append(response([candidate(parts, None, vertex=vertex)], running, vertex=vertex))
    spent = thought_tokens or None
    tokens = 0
    for i, text in enumerate(pieces):
        tokens += max(1, len(text) // 4)
        part: Body = {"text": text}
        if i == 0 and thoughts:
            part["thoughtSignature"] = THOUGHT_SIGNATURE
        last = i == len(pieces) - 1
        reason = finish_reason if last else None
        counts = usage(prompt, tokens, thoughts=spent, vertex=vertex)
        body = response(
            [candidate([part], reason, vertex=vertex)],
            counts if last else _running(prompt, tokens, spent, vertex),
            vertex=vertex,
        )
        chunks.append(body)
    return chunks


def function_call_stream(
    name: str = "get_order_status", args: Body | None = None, *, vertex: bool = False
) -> list[Body]:
    """A sentence, then the call whole in one chunk (function calls are not streamed in pieces)."""
    first = response(
        [candidate([{"text": "Let me look that order up."}], None, vertex=vertex)],
        _running(58, 7, None, vertex),
        vertex=vertex,
    )
    call = function_call(name, args if args is not None else {"order_id": "A-1042"})
    last = response([candidate([call], vertex=vertex)], usage(58, 16, vertex=vertex), vertex=vertex)
    return [first, last]


def safety_blocked_stream(*, vertex: bool = False) -> list[Body]:
    """Text, then a last chunk with finish reason SAFETY and no content (streaming drops it)."""
    chunks = text_stream(("I can tell you that ",), vertex=vertex)
    chunks[-1]["candidates"][0].pop("finishReason")
    chunks[-1]["candidates"][0].pop("avgLogprobs", None)
    chunks[-1]["usageMetadata"] = _running(14, 5, None, vertex)
    blocked = candidate(None, "SAFETY", vertex=vertex)
    blocked["safetyRatings"] = safety_ratings("HARM_CATEGORY_DANGEROUS_CONTENT")
    chunks.append(response([blocked], usage(14, 5, vertex=vertex), vertex=vertex))
    return chunks


def sse_event(chunk: Body) -> bytes:
    """One server-sent event as the API frames it."""
    return b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n"


def sse(chunks: Iterable[Body]) -> bytes:
    """A whole `alt=sse` stream body (the form google-genai always asks for)."""
    return b"".join(sse_event(chunk) for chunk in chunks)


# --- Embeddings --------------------------------------------------------------------------------
def vector(dimensions: int = 8, seed: int = 1) -> list[float]:
    """A deterministic unit-length embedding."""
    raw = [math.sin(seed * (i + 1) * 0.7) for i in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [round(x / norm, 6) for x in raw]


def embed_gemini(count: int = 2, dimensions: int = 8) -> Body:
    """Gemini API `:batchEmbedContents`: the vectors only, no token usage."""
    return {"embeddings": [{"values": vector(dimensions, i + 1)} for i in range(count)]}


def embed_vertex_predict(token_counts: Sequence[int] = (6, 9), dimensions: int = 8) -> Body:
    """Vertex `:predict` (text-embedding-00x): per-text statistics and billable characters."""
    predictions = [
        {
            "embeddings": {
                "statistics": {"truncated": False, "token_count": count},
                "values": vector(dimensions, i + 1),
            }
        }
        for i, count in enumerate(token_counts)
    ]
    return {
        "predictions": predictions,
        "metadata": {"billableCharacterCount": 4 * sum(token_counts)},
    }


def embed_vertex(prompt_tokens: int = 8, dimensions: int = 8) -> Body:
    """Vertex `:embedContent` (gemini-embedding models): one vector and usage metadata."""
    return {
        "embedding": {"values": vector(dimensions)},
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
        },
        "truncated": False,
    }


# --- Errors --------------------------------------------------------------------------------------
def error(code: int, status: str, message: str, details: Sequence[Body] = ()) -> Body:
    """A google.rpc.Status error body."""
    body: Body = {"code": code, "message": message, "status": status}
    if details:
        body["details"] = list(details)
    return {"error": body}


def invalid_api_key() -> Body:
    """400 INVALID_ARGUMENT for a bad API key (the Gemini API)."""
    message = "API key not valid. Please pass a valid API key."
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }
    localized = {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US"}
    return error(400, "INVALID_ARGUMENT", message, [info, {**localized, "message": message}])


def permission_denied(*, vertex: bool = False) -> Body:
    """403 PERMISSION_DENIED: an IAM denial on Vertex, a missing identity on the Gemini API."""
    if not vertex:
        return error(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity)."
            " Please use API Key or other form of API consumer identity to call this API.",
        )
    resource = (
        "//aiplatform.googleapis.com/projects/my-project/locations/us-central1/publishers/google"
        f"/models/{MODEL}"
    )
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "IAM_PERMISSION_DENIED",
        "domain": "aiplatform.googleapis.com",
        "metadata": {"permission": "aiplatform.endpoints.predict", "resource": resource[2:]},
    }
    message = f"Permission 'aiplatform.endpoints.predict' denied on resource '{resource}'"
    return error(403, "PERMISSION_DENIED", message + " (or it may not exist).", [info])


def resource_exhausted(*, vertex: bool = False) -> Body:
    """429 RESOURCE_EXHAUSTED: quota details and a retry delay (Gemini API), a bare one (Vertex)."""
    if vertex:
        return error(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource exhausted. Please try again later. Please refer to https://cloud.google.com"
            "/vertex-ai/generative-ai/docs/error-code-429 for more details.",
        )
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    details: list[Body] = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": metric,
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": {"location": "global", "model": MODEL},
                    "quotaValue": "10",
                }
            ],
        },
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
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
    )
    return error(429, "RESOURCE_EXHAUSTED", message, details)


def internal() -> Body:
    """500 INTERNAL."""
    return error(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    )


def unavailable() -> Body:
    """503 UNAVAILABLE, as an overloaded model answers."""
    return error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def deadline_exceeded() -> Body:
    """504 DEADLINE_EXCEEDED: the server's own deadline (X-Server-Timeout) passed."""
    return error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")


def errors(*, vertex: bool = False) -> dict[int, Body]:
    """One realistic error body per HTTP status the services answer with."""
    return {
        400: invalid_api_key(),
        403: permission_denied(vertex=vertex),
        429: resource_exhausted(vertex=vertex),
        500: internal(),
        503: unavailable(),
        504: deadline_exceeded(),
    }


# --- Routing (for fake servers) ----------------------------------------------------------------
def method_of(path: str) -> str:
    """The API method a request path names (`generateContent`, `predict`, ...), or ""."""
    tail = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(":", 1)[1] if ":" in tail else ""


def model_of(path: str) -> str:
    """The model a request path names (`.../models/gemini-2.5-flash:generateContent`), or ""."""
    tail = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.split(":", 1)[0] if ":" in tail else ""
