"""OpenAI's fixtures for the shared provider suite: real clients over the SDK's mock transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai

from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.instrumentation import _fakes as fakes
from tests.instrumentation._suite import Answer, Expected, ProviderFixtures

http = fakes.http
MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]
EMBEDDINGS = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 5, "total_tokens": 5},
}


class _Stalled(http.AsyncByteStream):  # type: ignore[misc, name-defined]
    """A body that sends `head` and then nothing more, ever."""

    def __init__(self, head: bytes) -> None:
        self._head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        pass


def _stream_bytes() -> bytes:
    return fakes.sse(fakes.chat_chunks())


def _handler(answer: Answer) -> Any:  # noqa: PLR0911 - one answer per case
    if answer is Answer.REPLY:
        return fakes.respond_json(fakes.chat_completion())
    if answer is Answer.STREAM:
        return fakes.respond_sse(_stream_bytes())
    if answer is Answer.EMBEDDINGS:
        return fakes.respond_json(EMBEDDINGS)
    if answer is Answer.BROKEN_STREAM:
        body = _stream_bytes()
        return fakes.respond_streamed(body[: len(body) // 2], error=http.ReadError("reset"))
    if answer is Answer.SERVER_ERROR:
        return fakes.openai_error(500, "The server had an error")
    if answer is Answer.RATE_LIMITED:
        return fakes.openai_error(429, "Rate limit reached for gpt-4o-mini")

    if answer is Answer.TIMEOUT:

        def timeout(request: Any) -> Any:
            raise http.ReadTimeout("timed out", request=request)

        return timeout
    if answer is Answer.STALLED_STREAM:
        head = fakes.sse(fakes.chat_chunks()[:2], done=False)

        async def stalled_stream(request: Any) -> Any:
            headers = {"content-type": "text/event-stream"}
            return http.Response(200, headers=headers, stream=_Stalled(head))

        return stalled_stream

    async def stalled(request: Any) -> Any:
        await asyncio.Event().wait()

    return stalled


class OpenAIFixtures(ProviderFixtures):
    """Chat Completions (plain and streamed) and Embeddings, as recorded from api.openai.com."""

    instrumentor = OpenAIInstrumentor
    provider = "openai"
    server = ("api.openai.com", 443)
    plain = Expected(
        operation="chat",
        model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18",
        input_tokens=42,
        output_tokens=9,
        finish_reasons=("stop",),
        response_id="chatcmpl-AbC123",
    )
    streamed = Expected(
        operation="chat",
        model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18",
        input_tokens=42,
        output_tokens=4,
        finish_reasons=("stop",),
        response_id="chatcmpl-Str3am",
    )
    embedded = Expected(
        operation="embeddings",
        model="text-embedding-3-small",
        response_model="text-embedding-3-small",
        input_tokens=5,
    )

    def client(self, answer: Answer) -> openai.OpenAI:
        """An OpenAI client over the mock transport."""
        return fakes.openai_client(_handler(answer))

    def async_client(self, answer: Answer) -> openai.AsyncOpenAI:
        """An AsyncOpenAI client over the mock transport."""
        return fakes.async_openai_client(_handler(answer))

    def call(self, client: Any) -> Any:
        """chat.completions.create."""
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    async def acall(self, client: Any) -> Any:
        """chat.completions.create, awaited."""
        return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    def stream(self, client: Any) -> Any:
        """chat.completions.create(stream=True, include_usage)."""
        return client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )

    async def astream(self, client: Any) -> Any:
        """The streamed call, awaited."""
        return await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )

    def embed(self, client: Any) -> Any:
        """embeddings.create."""
        return client.embeddings.create(model="text-embedding-3-small", input="order 1042")

    def chunks(self, result: Any) -> Iterator[Any]:
        """The stream itself."""
        return iter(result)


FIXTURES = OpenAIFixtures()
