"""google-genai's fixtures for the shared provider suite: real clients over httpx2's mock transport.

The Gemini API (`gcp.gemini`) answers every call but embeddings: it reports no token count for
them, so the embeddings call goes to Vertex AI's `:embedContent`, which does.
`VertexFixtures` runs the same suite against Vertex AI (tests/instrumentation/google_genai/
test_vertex.py).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx2
from google import genai

from otel_llm.instrumentation.google_genai import GoogleGenAIInstrumentor
from otel_llm.payloads import gemini as g
from tests.instrumentation import _fakes as fakes
from tests.instrumentation._suite import Answer, Expected, ProviderFixtures
from tests.instrumentation.google_genai._fakes import CONTENTS, client, serve

PIECES = ["Your order ", "ships ", "today."]


class _Stalled(httpx2.AsyncByteStream):
    """A body that sends `head` and then nothing more, ever."""

    def __init__(self, head: bytes) -> None:
        self._head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        pass


def handler(answer: Answer, *, vertex: bool = False) -> Any:  # noqa: PLR0911 - one per answer
    """What the fake HTTP layer answers every request with."""
    stream = g.encode(g.chunks(pieces=PIECES, vertex=vertex))
    headers = {"content-type": g.CONTENT_TYPE}
    if answer is Answer.REPLY:
        return serve(g.text_response(vertex=vertex))
    if answer is Answer.STREAM:
        return serve(g.chunks(pieces=PIECES, vertex=vertex))
    if answer is Answer.EMBEDDINGS:
        return serve(g.embedding(g.vector(), prompt_tokens=8))
    if answer is Answer.BROKEN_STREAM:
        head = stream[: len(stream) // 2]
        body = fakes.chunked(httpx2, fakes.pieces(head), httpx2.ReadError("Connection reset"))
        return lambda request: httpx2.Response(200, headers=headers, stream=body)
    if answer is Answer.SERVER_ERROR:
        return serve(g.error(500, vertex=vertex), 500)
    if answer is Answer.RATE_LIMITED:
        return serve(g.error(429, vertex=vertex), 429)
    if answer is Answer.TIMEOUT:

        def timeout(request: httpx2.Request) -> Any:
            raise httpx2.ReadTimeout("The read operation timed out", request=request)

        return timeout
    if answer is Answer.STALLED_STREAM:
        first = g.encode(g.chunks(pieces=PIECES, vertex=vertex)[:1])

        async def stalled_stream(request: httpx2.Request) -> Any:
            return httpx2.Response(200, headers=headers, stream=_Stalled(first))

        return stalled_stream

    async def stalled(request: httpx2.Request) -> Any:
        await asyncio.Event().wait()

    return stalled


class GeminiFixtures(ProviderFixtures):
    """generate_content, plain and streamed, on the Gemini API; embeddings on Vertex AI."""

    instrumentor = GoogleGenAIInstrumentor
    provider = "gcp.gemini"
    server: ClassVar[tuple[str, int]] = ("generativelanguage.googleapis.com", 443)
    vertex: ClassVar[bool] = False
    plain = Expected(
        operation="generate_content",
        model=g.MODEL,
        response_model=g.MODEL,
        input_tokens=12,
        output_tokens=5,
        finish_reasons=("stop",),
        response_id=g.RESPONSE_ID,
    )
    streamed = plain
    embedded = Expected(
        operation="embeddings",
        model=g.EMBEDDING_MODEL,
        response_model=g.EMBEDDING_MODEL,
        input_tokens=8,
    )
    stream_is_context_manager = False  # a generator: iterated, closed, never `with`

    def __init__(self) -> None:
        # A collected genai.Client closes its HTTP client, and the suite keeps only the lazy
        # stream (its request is sent on the first next()): the last clients stay referenced.
        self._clients: collections.deque[genai.Client] = collections.deque(maxlen=8)

    def client(self, answer: Answer) -> genai.Client:
        """A genai.Client over the mock transport (Vertex AI's for embeddings)."""
        vertex = self.vertex or answer is Answer.EMBEDDINGS
        made = client(handler(answer, vertex=vertex), vertex=vertex)
        self._clients.append(made)
        return made

    def async_client(self, answer: Answer) -> genai.Client:
        """The same client: its `aio` side is the async one."""
        return self.client(answer)

    def call(self, client: Any) -> Any:
        """models.generate_content."""
        return client.models.generate_content(model=g.MODEL, contents=CONTENTS)

    async def acall(self, client: Any) -> Any:
        """aio.models.generate_content."""
        return await client.aio.models.generate_content(model=g.MODEL, contents=CONTENTS)

    def stream(self, client: Any) -> Any:
        """models.generate_content_stream: a generator."""
        return client.models.generate_content_stream(model=g.MODEL, contents=CONTENTS)

    async def astream(self, client: Any) -> Any:
        """aio.models.generate_content_stream, awaited: an async generator."""
        return await client.aio.models.generate_content_stream(model=g.MODEL, contents=CONTENTS)

    def embed(self, client: Any) -> Any:
        """models.embed_content."""
        return client.models.embed_content(model=g.EMBEDDING_MODEL, contents="Where is A-1042?")

    def comparable(self, result: Any) -> Any:
        """The SDK's response as plain data (its HTTP response object is not compared)."""
        return result.model_dump(exclude={"sdk_http_response"})


class VertexFixtures(GeminiFixtures):
    """The same calls on Vertex AI (`vertexai=True`): another provider name and host."""

    provider = "gcp.vertex_ai"
    server = ("us-central1-aiplatform.googleapis.com", 443)
    vertex = True


FIXTURES = GeminiFixtures()
