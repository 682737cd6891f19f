"""Anthropic's fixtures for the shared provider suite: real clients over httpx2's mock transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2

from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from tests.instrumentation import _fakes as fakes
from tests.instrumentation._suite import Answer, Expected, ProviderFixtures

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]
MODEL = "claude-sonnet-4-6"


def _error(status: int, kind: str, message: str) -> Any:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return fakes.anthropic_respond(body, status)


class _Stalled(httpx2.AsyncByteStream):
    """A body that sends `head` and then nothing more, ever."""

    def __init__(self, head: bytes) -> None:
        self._head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        pass


def _handler(answer: Answer) -> Any:  # noqa: PLR0911 - one answer per case
    events = fakes.anthropic_sse(fakes.anthropic_events())
    if answer is Answer.REPLY:
        return fakes.anthropic_respond(fakes.anthropic_message())
    if answer is Answer.STREAM:
        return fakes.anthropic_respond(events)
    if answer is Answer.BROKEN_STREAM:
        error = httpx2.ReadError("reset")
        return fakes.respond_streamed(events[: len(events) // 2], error=error, module=httpx2)
    if answer is Answer.SERVER_ERROR:
        return _error(500, "api_error", "Internal server error")
    if answer is Answer.RATE_LIMITED:
        return _error(429, "rate_limit_error", "Number of request tokens has exceeded your limit")

    if answer is Answer.TIMEOUT:

        def timeout(request: Any) -> Any:
            raise httpx2.ReadTimeout("timed out", request=request)

        return timeout
    if answer is Answer.STALLED_STREAM:
        head = fakes.anthropic_sse(fakes.anthropic_events()[:3])

        async def stalled_stream(request: Any) -> Any:
            headers = {"content-type": "text/event-stream"}
            return httpx2.Response(200, headers=headers, stream=_Stalled(head))

        return stalled_stream

    async def stalled(request: Any) -> Any:
        await asyncio.Event().wait()

    return stalled


class AnthropicFixtures(ProviderFixtures):
    """Messages, plain and streamed, as recorded from api.anthropic.com (no embeddings API)."""

    instrumentor = AnthropicInstrumentor
    provider = "anthropic"
    server = ("api.anthropic.com", 443)
    plain = Expected(
        operation="chat",
        model=MODEL,
        response_model="claude-sonnet-4-6-20260217",
        input_tokens=1210,
        output_tokens=12,
        finish_reasons=("stop",),
        response_id="msg_01XFDUDYJgAACzvnptvVoYEL",
    )
    streamed = Expected(
        operation="chat",
        model=MODEL,
        response_model="claude-sonnet-4-6-20260217",
        input_tokens=1210,
        output_tokens=7,
        finish_reasons=("stop",),
        response_id="msg_01XFDUDYJgAACzvnptvVoYEL",
    )

    def client(self, answer: Answer) -> anthropic.Anthropic:
        """An Anthropic client over the mock transport."""
        client: anthropic.Anthropic = fakes.anthropic_client(_handler(answer))
        return client

    def async_client(self, answer: Answer) -> anthropic.AsyncAnthropic:
        """An AsyncAnthropic client over the mock transport."""
        client: anthropic.AsyncAnthropic = fakes.async_anthropic_client(_handler(answer))
        return client

    def call(self, client: Any) -> Any:
        """messages.create."""
        return client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES)

    async def acall(self, client: Any) -> Any:
        """messages.create, awaited."""
        return await client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES)

    def stream(self, client: Any) -> Any:
        """messages.create(stream=True)."""
        return client.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES, stream=True)

    async def astream(self, client: Any) -> Any:
        """The streamed call, awaited."""
        return await client.messages.create(
            model=MODEL, max_tokens=256, messages=MESSAGES, stream=True
        )


FIXTURES = AnthropicFixtures()
