"""Anthropic Messages API payloads: messages, their content blocks, stream events and errors."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from otel_llm.payloads._common import Json, deltas, fragments, words

__all__ = [
    "ERROR_TYPES",
    "MODEL",
    "TEXT",
    "error",
    "error_event",
    "message",
    "message_events",
    "ping",
    "text_block",
    "thinking_block",
    "tool_use_block",
    "usage",
]

MODEL: Final = "claude-sonnet-4-6-20260217"
TEXT: Final = "Your order ships today."
"""The canonical reply."""

ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}
"""The ``error.type`` Anthropic sends with each HTTP status."""

_MESSAGES: Final[Mapping[int, str]] = {
    400: "messages: at least one message is required",
    401: "invalid x-api-key",
    402: "Your credit balance is too low to access the Anthropic API.",
    403: "Your API key does not have permission to use the specified resource.",
    404: "model: claude-sonnet-4-6-nope",
    413: "Request exceeds the maximum allowed number of bytes.",
    429: "This request would exceed the rate limit for your organization of 50 requests per "
    "minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
    500: "Internal server error",
    504: "Request timed out",
    529: "Overloaded",
}


def error(
    status: int = 500,
    message: str | None = None,
    *,
    kind: str | None = None,
    request_id: str = "req_011CX88XGWSm82bN96ZkDWcr",
) -> Json:
    """The body Anthropic sends with an error `status`; `kind` is its type (default: recorded)."""
    default_kind = "api_error" if status >= 500 else "invalid_request_error"
    text = message if message is not None else _MESSAGES.get(status, _MESSAGES[500])
    return {
        "type": "error",
        "error": {"type": kind or ERROR_TYPES.get(status, default_kind), "message": text},
        "request_id": request_id,
    }


def error_event(kind: str = "overloaded_error", message: str = "Overloaded") -> Json:
    """The ``error`` event that ends a stream the API could not finish (HTTP status was 200)."""
    return {"type": "error", "error": {"type": kind, "message": message}}


def ping() -> Json:
    """The keep-alive event the API sends after the first content block starts."""
    return {"type": "ping"}


def usage(
    input_tokens: int = 10,
    output_tokens: int = 12,
    *,
    cache_read_input_tokens: int = 1000,
    cache_creation_input_tokens: int = 200,
) -> Json:
    """A message's ``usage``: input tokens exclude the cache reads and writes counted beside."""
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation_input_tokens,
        "cache_read_input_tokens": cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
        "inference_geo": "not_available",
    }


_usage = usage  # for the functions whose `usage` argument hides it


def text_block(text: str = TEXT) -> Json:
    """A ``text`` content block."""
    return {"type": "text", "text": text}


def tool_use_block(
    name: str = "get_order_status",
    input: Mapping[str, Any] | None = None,
    *,
    id: str = "toolu_01KxvRJ8rVKcC69hTfFXvwnU",
) -> Json:
    """A ``tool_use`` block: the model asks the caller to run tool `name` on `input`."""
    arguments = {"order_id": "A-1"} if input is None else input
    return {
        "type": "tool_use",
        "id": id,
        "name": name,
        "input": json.loads(json.dumps(arguments)),
        "caller": {"type": "direct"},
    }


def thinking_block(
    thinking: str = "The customer asks about order A-1. The tracker says it left today.",
    *,
    signature: str = "EqQBCkYIBxgCKkBGVRd8Q1iX0bT9oZ4mJ3kY2nWq7Hc5vP1LrS6eDfA8gU0tMxN4",
) -> Json:
    """A ``thinking`` block (extended thinking), with the signature that vouches for it."""
    return {"type": "thinking", "thinking": thinking, "signature": signature}


def message(
    content: str | Sequence[Json] = TEXT,
    *,
    stop_reason: str | None = None,
    stop_sequence: str | None = None,
    id: str = "msg_01XFDUDYJgAACzvnptvVoYEL",
    model: str = MODEL,
    usage: Json | None = None,
) -> Json:
    """A ``message`` body; text `content` is one text block.

    `stop_reason` defaults to ``tool_use`` when a block is one, else ``end_turn``.
    """
    blocks = [text_block(content)] if isinstance(content, str) else list(content)
    calls_tool = any(block.get("type") == "tool_use" for block in blocks)
    return {
        "model": model,
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": [json.loads(json.dumps(block)) for block in blocks],
        "stop_reason": stop_reason or ("tool_use" if calls_tool else "end_turn"),
        "stop_sequence": stop_sequence,
        "usage": _usage() if usage is None else usage,
    }


_DELTA_USAGE: Final = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
)


def _block_start_and_deltas(block: Json, pieces: Sequence[str] | None) -> tuple[Json, list[Json]]:
    """How a content block opens in a stream (empty) and the deltas that fill it."""
    kind = block.get("type")
    if kind == "text":
        text = str(block.get("text", ""))
        return {**block, "text": ""}, [
            {"type": "text_delta", "text": piece} for piece in deltas(text, pieces)
        ]
    if kind == "tool_use":
        arguments = json.dumps(block.get("input", {}))
        return {**block, "input": {}}, [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in ["", *fragments(arguments)]
        ]
    if kind == "thinking":
        thinking = [
            {"type": "thinking_delta", "thinking": piece}
            for piece in words(str(block.get("thinking", "")))
        ]
        signature = {"type": "signature_delta", "signature": block.get("signature", "")}
        return {**block, "thinking": "", "signature": ""}, [*thinking, signature]
    return block, []  # redacted thinking, server tool results: sent whole


def message_events(final: Json | None = None, pieces: Sequence[str] | None = None) -> list[Json]:
    """The raw stream events of a Messages call that ends in `final` (default: `message()`).

    In the API's order: ``message_start`` (no content, no stop reason, one output token so far),
    per content block ``content_block_start`` (empty) with a ``ping`` after the first, its
    deltas (text words, tool input JSON in fragments after an empty one, thinking words then
    the signature) and ``content_block_stop``; then ``message_delta`` with the stop reason and
    the final usage, and ``message_stop``. `pieces` are the deltas of the first text block
    (default: its words).
    """
    final = message() if final is None else final
    totals = final.get("usage") or {}
    started = {**final, "content": [], "stop_reason": None, "stop_sequence": None}
    started["usage"] = {**totals, "output_tokens": 1}
    events: list[Json] = [{"type": "message_start", "message": started}]
    for index, block in enumerate(final.get("content") or []):
        empty, filling = _block_start_and_deltas(block, pieces)
        if block.get("type") == "text":
            pieces = None  # only the first text block is cut as the caller asked
        events.append({"type": "content_block_start", "index": index, "content_block": empty})
        if index == 0:
            events.append(ping())
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in filling]
        events.append({"type": "content_block_stop", "index": index})
    stop = {"stop_reason": final.get("stop_reason"), "stop_sequence": final.get("stop_sequence")}
    delta_usage = {key: totals[key] for key in _DELTA_USAGE if key in totals}
    events.append({"type": "message_delta", "delta": stop, "usage": delta_usage})
    events.append({"type": "message_stop"})
    return events
