"""Provider payloads (from otel_llm.payloads) served through the SDKs' own HTTP mock transports.

The payload builders here keep the names and defaults many tests rely on; the shapes come from
`otel_llm.payloads`, the one source the demo, the fuzzers and the benchmarks use as well.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable
from typing import Any

import openai

from otel_llm.payloads import anthropic as anthropic_payloads
from otel_llm.payloads import openai as openai_payloads
from otel_llm.payloads import openai_responses
from otel_llm.payloads import sse as framing

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
    return openai_payloads.chat_completion(
        content, finish_reason=finish_reason, tool_calls=tool_calls, choices=choices
    )


def chat_chunks(
    words: Iterable[str] = ("Your", " order", " ships", " today."), *, usage: bool = True
) -> list[dict[str, Any]]:
    """The chat.completion.chunk events of a streamed reply (usage last, as include_usage does)."""
    return openai_payloads.chat_chunks(list(words), include_usage=usage)


def sse(events: Iterable[dict[str, Any]], *, done: bool = True) -> bytes:
    """Server-sent-event bytes for OpenAI streams."""
    return framing.encode(events, done=done)


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
    return respond_json(openai_payloads.error(status, message, kind="server_error"), status)


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
    blocks = [anthropic_payloads.text_block("Your order ships today.")]
    if tool_use:
        blocks.append(anthropic_payloads.tool_use_block(**tool_use))
    return anthropic_payloads.message(blocks, stop_reason=stop_reason)


def anthropic_events(words: Iterable[str] = ("Your", " order", " ships.")) -> list[dict[str, Any]]:
    """The raw events of a streamed Messages reply."""
    pieces = list(words)
    final = anthropic_payloads.message(
        "".join(pieces), usage=anthropic_payloads.usage(output_tokens=7)
    )
    return anthropic_payloads.message_events(final, pieces)


def anthropic_sse(events: Iterable[dict[str, Any]]) -> bytes:
    """Server-sent-event bytes in Anthropic's format (event name + data)."""
    return framing.encode(events, named=True)


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
    return openai_responses.response(status=status)


_RESPONSE_EVENTS = ("response.created", "response.output_text.delta", "response.completed")


def responses_events() -> bytes:
    """The server-sent events of a streamed Responses call (created, deltas, completed)."""
    events = openai_responses.response_events(pieces=["It ships today."])
    return framing.encode([e for e in events if e["type"] in _RESPONSE_EVENTS], named=True)


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
    return openai_payloads.azure_chat_chunks()


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
            chunks += chunks[-1:] * (self.usage_chunks - 1)
        return http.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse(chunks)
        )


def openai_like_stream(usage_chunks: int = 1) -> OpenAILikeStream:
    """A new OpenAILikeStream handler (sending `usage_chunks` usage-only chunks when asked)."""
    return OpenAILikeStream(usage_chunks)
