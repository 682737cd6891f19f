"""OpenAI payloads: Chat Completions, embeddings and errors, with Azure OpenAI's variants."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Final

from otel_llm.payloads._common import Json, fragments, obfuscation, words

__all__ = [
    "AZURE_MODEL",
    "EMBEDDING_MODEL",
    "ERROR_TYPES",
    "MODEL",
    "TEXT",
    "azure_chat_chunks",
    "azure_content_filter_error",
    "base64_vector",
    "chat_chunks",
    "chat_completion",
    "content_filter_results",
    "embeddings",
    "error",
    "tool_call",
    "usage",
]

MODEL: Final = "gpt-4o-mini-2024-07-18"
"""The model a Chat Completions reply names (the dated snapshot behind ``gpt-4o-mini``)."""
EMBEDDING_MODEL: Final = "text-embedding-3-small"
AZURE_MODEL: Final = "gpt-4o-2024-11-20"
TEXT: Final = "Your order ships today."
"""The canonical reply."""
CREATED: Final = 1731000000
FINGERPRINT: Final = "fp_44709d6fcb"

ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "request_forbidden",
    404: "invalid_request_error",
    429: "requests",  # "tokens" for a token-rate limit, "insufficient_quota" when out of credit
    500: "server_error",
    503: "server_error",
}
"""The ``error.type`` OpenAI sends with each HTTP status."""

_ERRORS: Final[Mapping[int, tuple[str | None, str]]] = {
    400: (None, "We could not parse the JSON body of your request."),
    401: (
        "invalid_api_key",
        "Incorrect API key provided: sk-test. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: ("unsupported_country_region_territory", "Country, region, or territory not supported"),
    404: (
        "model_not_found",
        "The model `gpt-4o-mini-nope` does not exist or you do not have access to it.",
    ),
    429: (
        "rate_limit_exceeded",
        "Rate limit reached for gpt-4o-mini in organization org-d1ZzLXMZmT6gBEmYmWKl3X2o on "
        "requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. "
        "Visit https://platform.openai.com/account/rate-limits to learn more.",
    ),
    500: (None, "The server had an error while processing your request. Sorry about that!"),
    503: (None, "The server is overloaded or not ready yet."),
}
_FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")


def error(
    status: int = 500,
    message: str | None = None,
    *,
    kind: str | None = None,
    code: str | None = None,
    param: str | None = None,
) -> Json:
    """The body OpenAI sends with an error `status`; `kind` is its ``type`` (default: recorded)."""
    recorded_code, recorded_message = _ERRORS.get(status, (None, _ERRORS[500][1]))
    default_kind = "server_error" if status >= 500 else "invalid_request_error"
    return {
        "error": {
            "message": recorded_message if message is None else message,
            "type": kind or ERROR_TYPES.get(status, default_kind),
            "param": param,
            "code": code or recorded_code,
        }
    }


def content_filter_results(filtered: str | None = None) -> Json:
    """Azure's per-category verdicts: all ``safe``, or `filtered` blocked at ``medium``."""
    return {
        name: {"filtered": True, "severity": "medium"}
        if name == filtered
        else {"filtered": False, "severity": "safe"}
        for name in _FILTER_CATEGORIES
    }


def azure_content_filter_error(category: str = "violence") -> Json:
    """The HTTP 400 body Azure OpenAI sends when its content filter blocks a prompt."""
    return {
        "error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
            "content management policy. Please modify your prompt and retry. To learn more about "
            "our content filtering policies please read our documentation: "
            "https://go.microsoft.com/fwlink/?linkid=2198766",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": content_filter_results(category),
            },
        }
    }


def usage(
    prompt_tokens: int = 42,
    completion_tokens: int = 9,
    *,
    cached_tokens: int = 32,
    reasoning_tokens: int = 4,
) -> Json:
    """A Chat Completions ``usage``, with prompt-cache and reasoning token details."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def tool_call(
    name: str = "get_order_status",
    arguments: str | Mapping[str, Any] = '{"order_id":"A-1"}',
    *,
    id: str = "call_Qx9bTq3lN7pR2vW8yZ1aC4dE",
) -> Json:
    """One function call of an assistant message; mapping arguments are sent as JSON text."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": id, "type": "function", "function": {"name": name, "arguments": text}}


_usage = usage  # for the functions whose `usage` argument hides it


def _envelope(
    kind: str, *, ident: str, model: str, created: int, tier: str | None, fingerprint: str | None
) -> Json:
    envelope: Json = {"id": ident, "object": kind, "created": created, "model": model}
    if tier is not None:  # Azure sends no service_tier at all
        envelope["service_tier"] = tier
    return {**envelope, "system_fingerprint": fingerprint}


def chat_completion(
    content: str | None = TEXT,
    *,
    tool_calls: Sequence[Json] | None = None,
    finish_reason: str | None = None,
    choices: int = 1,
    id: str = "chatcmpl-AbC123",
    model: str = MODEL,
    created: int = CREATED,
    usage: Json | None = None,
    service_tier: str | None = "default",
    system_fingerprint: str | None = FINGERPRINT,
) -> Json:
    """A ``chat.completion`` body; `finish_reason` defaults to ``tool_calls`` or ``stop``."""
    reason = finish_reason or ("tool_calls" if tool_calls else "stop")

    def message() -> Json:
        body: Json = {"role": "assistant", "content": content, "refusal": None, "annotations": []}
        if tool_calls:
            body["tool_calls"] = [json.loads(json.dumps(call)) for call in tool_calls]
        return body

    envelope = _envelope(
        "chat.completion",
        ident=id,
        model=model,
        created=created,
        tier=service_tier,
        fingerprint=system_fingerprint,
    )
    return {
        **envelope,
        "choices": [
            {"index": i, "message": message(), "logprobs": None, "finish_reason": reason}
            for i in range(choices)
        ],
        "usage": _usage() if usage is None else usage,
    }


def chat_chunks(
    pieces: Sequence[str] | None = None,
    *,
    tool_calls: Sequence[Json] = (),
    finish_reason: str | None = None,
    include_usage: bool = True,
    usage: Json | None = None,
    id: str = "chatcmpl-Str3am",
    model: str = MODEL,
    created: int = CREATED,
    service_tier: str | None = "default",
    system_fingerprint: str | None = FINGERPRINT,
) -> list[Json]:
    """The ``chat.completion.chunk`` events of a streamed reply, in the order OpenAI sends them.

    A role chunk, one chunk per text piece (default: `TEXT`'s words, none with `tool_calls`),
    each tool call's header then its arguments in fragments, the finish chunk, and, with
    `include_usage` (``stream_options.include_usage``), ``"usage": null`` on every chunk and a
    last chunk with no choices carrying the usage (default: prompt 42, one token per piece).
    """
    texts = list(pieces) if pieces is not None else ([] if tool_calls else words(TEXT))
    reason = finish_reason or ("tool_calls" if tool_calls else "stop")
    deltas: list[Json] = [{"role": "assistant", "content": "" if texts else None, "refusal": None}]
    deltas += [{"content": text} for text in texts]
    for index, call in enumerate(tool_calls):
        function = call.get("function", {})
        header = {**call, "index": index, "function": {**function, "arguments": ""}}
        deltas.append({"tool_calls": [header]})
        deltas += [
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            for piece in fragments(str(function.get("arguments", "")))
        ]
    envelope = _envelope(
        "chat.completion.chunk",
        ident=id,
        model=model,
        created=created,
        tier=service_tier,
        fingerprint=system_fingerprint,
    )
    extra: Json = {"usage": None} if include_usage else {}
    chunks = [
        {
            **envelope,
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": reason if number > len(deltas) else None,
                }
            ],
            **extra,
            "obfuscation": obfuscation(number),
        }
        for number, delta in enumerate([*deltas, {}], start=1)
    ]
    if include_usage:
        final = usage or _usage(
            completion_tokens=max(1, len(texts)), cached_tokens=0, reasoning_tokens=0
        )
        chunks.append({**envelope, "choices": [], "usage": final, "obfuscation": obfuscation(0)})
    return chunks


def azure_chat_chunks(
    pieces: Sequence[str] | None = None,
    *,
    tool_calls: Sequence[Json] = (),
    include_usage: bool = True,
    usage: Json | None = None,
    id: str = "chatcmpl-Str3am",
    model: str = AZURE_MODEL,
) -> list[Json]:
    """An Azure OpenAI stream: first a prompt-filter chunk with empty id, model and object.

    Then `chat_chunks` as Azure sends them: no ``service_tier``, and content-filter verdicts
    on every choice (empty on the role and finish chunks).
    """
    prompt_filter: Json = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [
            {"prompt_index": 0, "content_filter_results": content_filter_results()}
        ],
    }
    chunks = chat_chunks(
        pieces,
        tool_calls=tool_calls,
        include_usage=include_usage,
        usage=usage,
        id=id,
        model=model,
        service_tier=None,
    )
    for chunk in chunks:
        for choice in chunk["choices"]:
            content = choice["delta"].get("content")
            choice["content_filter_results"] = content_filter_results() if content else {}
    return [prompt_filter, *chunks]


_VECTOR: Final = (0.011905322, -0.013637613, 0.031408645, -0.03914042, -0.009457374, 0.021697115)


def base64_vector(vector: Sequence[float]) -> str:
    """`vector` as ``encoding_format="base64"`` returns it: little-endian float32, base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings(
    vectors: Sequence[Sequence[float] | str] | None = None,
    *,
    model: str = EMBEDDING_MODEL,
    prompt_tokens: int = 8,
) -> Json:
    """An embeddings ``list`` body, one item per vector (a `base64_vector` string or floats)."""
    items = [list(_VECTOR)] if vectors is None else vectors
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": vector if isinstance(vector, str) else list(vector),
            }
            for index, vector in enumerate(items)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
