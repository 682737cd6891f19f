"""Realistic provider payloads served through the SDKs' own HTTP mock transports."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import openai

# openai 3.x talks through httpx2, 2.x through httpx: the mock transport must match the SDK.
http = importlib.import_module("httpx2" if openai.__version__.startswith("3.") else "httpx")

Handler = Callable[[Any], Any]


def openai_client(handler: Handler, *, base_url: str | None = None) -> openai.OpenAI:
    """A real OpenAI client whose HTTP requests go to `handler` (no retries, so errors are fast)."""
    return openai.OpenAI(
        api_key="sk-test",
        base_url=base_url,
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(handler)),
    )


def async_openai_client(handler: Handler) -> openai.AsyncOpenAI:
    """An async OpenAI client over a mock transport."""
    return openai.AsyncOpenAI(
        api_key="sk-test",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(handler)),
    )


def azure_client(handler: Handler) -> openai.AzureOpenAI:
    """An Azure OpenAI client over a mock transport."""
    return openai.AzureOpenAI(
        api_key="azure-key",
        api_version="2024-10-21",
        azure_endpoint="https://my-resource.openai.azure.com",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(handler)),
    )


def chat_completion(
    *,
    content: str | None = "Your order ships today.",
    finish_reason: str = "stop",
    tool_calls: list[dict[str, Any]] | None = None,
    choices: int = 1,
) -> dict[str, Any]:
    """A chat.completion body as OpenAI returns it."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1731000000,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [
            {"index": i, "message": message, "logprobs": None, "finish_reason": finish_reason}
            for i in range(choices)
        ],
        "usage": {
            "prompt_tokens": 42,
            "completion_tokens": 9,
            "total_tokens": 51,
            "prompt_tokens_details": {"cached_tokens": 32, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 4, "audio_tokens": 0},
        },
    }


def chat_chunks(
    words: Iterable[str] = ("Your", " order", " ships", " today."), *, usage: bool = True
) -> list[dict[str, Any]]:
    """The chat.completion.chunk events of a streamed reply (usage last, as include_usage does)."""
    base = {
        "id": "chatcmpl-Str3am",
        "object": "chat.completion.chunk",
        "created": 1731000000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_44709d6fcb",
        "service_tier": "default",
    }
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    chunks += [
        {**base, "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
        for word in words
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage:
        chunks.append(
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 42, "completion_tokens": 4, "total_tokens": 46},
            }
        )
    return chunks


def sse(events: Iterable[dict[str, Any]], *, done: bool = True) -> bytes:
    """Server-sent-event bytes for OpenAI streams."""
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return (body + ("data: [DONE]\n\n" if done else "")).encode()


def respond_json(body: dict[str, Any], status: int = 200) -> Handler:
    """A handler answering every request with a JSON body."""

    def handler(request: Any) -> Any:
        return http.Response(status, json=body)

    return handler


def respond_sse(payload: bytes) -> Handler:
    """A handler answering every request with an event stream."""

    def handler(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=payload)

    return handler


def openai_error(status: int, message: str = "boom") -> Handler:
    """A handler answering with an OpenAI-style error body."""
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    return respond_json(body, status)


def anthropic_client(handler: Handler) -> Any:
    """A real Anthropic client over a mock transport (anthropic 2.x uses httpx2)."""
    import anthropic  # noqa: PLC0415 - only the Anthropic tests need it
    import httpx2  # noqa: PLC0415

    return anthropic.Anthropic(
        api_key="sk-ant-test",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )


def async_anthropic_client(handler: Handler) -> Any:
    """An async Anthropic client over a mock transport."""
    import anthropic  # noqa: PLC0415
    import httpx2  # noqa: PLC0415

    return anthropic.AsyncAnthropic(
        api_key="sk-ant-test",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )


def anthropic_message(
    *, stop_reason: str = "end_turn", tool_use: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A Messages API response body, with prompt-cache usage."""
    blocks: list[dict[str, Any]] = [{"type": "text", "text": "Your order ships today."}]
    if tool_use:
        blocks.append({"type": "tool_use", **tool_use})
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6-20260217",
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 12,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 200,
        },
    }


def anthropic_events(words: Iterable[str] = ("Your", " order", " ships.")) -> list[dict[str, Any]]:
    """The raw events of a streamed Messages reply."""
    message = anthropic_message()
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 1,
            "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 200,
        },
    }
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}
        for w in words
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 7},
        },
        {"type": "message_stop"},
    ]
    return events


def anthropic_sse(events: Iterable[dict[str, Any]]) -> bytes:
    """Server-sent-event bytes in Anthropic's format (event name + data)."""
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def anthropic_respond(body: dict[str, Any] | bytes, status: int = 200) -> Handler:
    """A handler answering every request with a Messages body or an event stream (httpx2)."""
    import httpx2  # noqa: PLC0415

    def handler(request: Any) -> Any:
        if isinstance(body, bytes):
            return httpx2.Response(
                status, headers={"content-type": "text/event-stream"}, content=body
            )
        return httpx2.Response(status, json=body)

    return handler


def responses_body(status: str = "completed") -> dict[str, Any]:
    """A Responses API body with one text output and usage (cached and reasoning tokens)."""
    return {
        "id": "resp_67ccd2bed1ec8190",
        "object": "response",
        "created_at": 1741476542,
        "status": status,
        "model": "gpt-4o-2024-08-06",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "It ships today.", "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "incomplete_details": None,
        "service_tier": "default",
        "usage": {
            "input_tokens": 30,
            "input_tokens_details": {"cached_tokens": 10},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 2},
            "total_tokens": 35,
        },
    }


def responses_events() -> bytes:
    """The server-sent events of a streamed Responses call (created, deltas, completed)."""
    created = {**responses_body(status="in_progress"), "output": [], "usage": None}
    events = [
        {"type": "response.created", "sequence_number": 0, "response": created},
        {
            "type": "response.output_text.delta",
            "sequence_number": 1,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "It ships today.",
            "logprobs": [],
        },
        {"type": "response.completed", "sequence_number": 2, "response": responses_body()},
    ]
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return body.encode()


class Chunked:
    """A body that arrives in pieces, as a real transport delivers it (sync and async)."""

    def __init__(self, pieces: Iterable[bytes], error: Exception | None = None) -> None:
        self._pieces = list(pieces)
        self._error = error
        self.closed = 0

    def __iter__(self) -> Any:
        yield from self._pieces
        if self._error is not None:
            raise self._error

    async def __aiter__(self) -> Any:
        for piece in self._pieces:
            yield piece
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self.closed += 1

    async def aclose(self) -> None:
        self.closed += 1


def chunked(module: Any, pieces: Iterable[bytes], error: Exception | None = None) -> Any:
    """A Chunked body that `module` (httpx or httpx2) accepts as a sync and an async stream."""
    kind = type("Chunked", (Chunked, module.SyncByteStream, module.AsyncByteStream), {})
    return kind(pieces, error)


def pieces(payload: bytes, size: int = 7) -> list[bytes]:
    """`payload` cut every `size` bytes (so events and lines straddle the cuts)."""
    return [payload[i : i + size] for i in range(0, len(payload), size)]


def respond_streamed(
    payload: bytes,
    *,
    content_type: str = "text/event-stream",
    error: Exception | None = None,
    module: Any = None,
    size: int = 7,
) -> Handler:
    """A handler whose body arrives in small pieces (optionally failing after the last one).

    `module` is the HTTP library of the SDK (default: openai's; anthropic's is httpx2).
    """
    library = module or http

    def handler(request: Any) -> Any:
        body = chunked(library, pieces(payload, size), error)
        return library.Response(200, headers={"content-type": content_type}, stream=body)

    return handler


def azure_chat_chunks() -> list[dict[str, Any]]:
    """An Azure OpenAI stream: a prompt content-filter chunk with empty id and model first."""
    prompt_filter = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [
            {
                "prompt_index": 0,
                "content_filter_results": {
                    "hate": {"filtered": False, "severity": "safe"},
                    "self_harm": {"filtered": False, "severity": "safe"},
                    "sexual": {"filtered": False, "severity": "safe"},
                    "violence": {"filtered": False, "severity": "safe"},
                },
            }
        ],
    }
    chunks = chat_chunks()
    for chunk in chunks:
        chunk["model"] = "gpt-4o-2024-11-20"
        chunk.pop("service_tier")
    return [prompt_filter, *chunks]


class OpenAILikeStream:
    """A handler answering chat streams as OpenAI does, honouring stream_options.include_usage.

    With include_usage every chunk carries `"usage": null` and a usage-only chunk comes last;
    without it no chunk has a usage field. The request bodies are kept in `requests`.
    """

    def __init__(self, usage_chunks: int = 1) -> None:
        self.requests: list[dict[str, Any]] = []
        self.usage_chunks = usage_chunks

    def __call__(self, request: Any) -> Any:
        body = json.loads(request.content)
        self.requests.append(body)
        options = body.get("stream_options")
        include = isinstance(options, dict) and options.get("include_usage") is True
        chunks = chat_chunks(usage=include)
        if include:
            for chunk in chunks[:-1]:
                chunk["usage"] = None
            chunks += chunks[-1:] * (self.usage_chunks - 1)
        return http.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse(chunks)
        )


def openai_like_stream(usage_chunks: int = 1) -> OpenAILikeStream:
    """A new OpenAILikeStream handler (sending `usage_chunks` usage-only chunks when asked)."""
    return OpenAILikeStream(usage_chunks)
