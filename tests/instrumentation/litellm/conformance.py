"""LiteLLM's fixtures for the shared provider suite: LiteLLM driving real OpenAI clients.

LiteLLM sends OpenAI-routed calls through the `openai` client it is given (`client=`), here one
over the SDK's mock transport answering as api.openai.com does (the OpenAI fixtures' handler).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

# LiteLLM fetches its model price map from the network at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm

from otel_llm.instrumentation.litellm import LiteLLMInstrumentor
from tests.instrumentation import _fakes as fakes
from tests.instrumentation._suite import Answer, ProviderFixtures
from tests.instrumentation.openai import conformance as openai_fixtures

MODEL = "openai/gpt-4o-mini"
MESSAGES = openai_fixtures.MESSAGES


@dataclass(frozen=True)
class Client:
    """What LiteLLM is called with: the OpenAI client its OpenAI route sends through."""

    openai: Any


class LiteLLMFixtures(ProviderFixtures):
    """completion / acompletion / embedding routed to OpenAI, plain and streamed."""

    instrumentor = LiteLLMInstrumentor
    provider = "openai"
    server = ("api.openai.com", 443)
    plain = openai_fixtures.OpenAIFixtures.plain
    # LiteLLM stamps its stream chunks with the model as requested, not as the provider named it.
    streamed = replace(openai_fixtures.OpenAIFixtures.streamed, response_model="gpt-4o-mini")
    embedded = openai_fixtures.OpenAIFixtures.embedded

    def client(self, answer: Answer) -> Client:
        """LiteLLM's OpenAI route over the mock transport."""
        return Client(fakes.openai_client(openai_fixtures._handler(answer)))

    def async_client(self, answer: Answer) -> Client:
        """The async OpenAI client for acompletion."""
        return Client(fakes.async_openai_client(openai_fixtures._handler(answer)))

    def call(self, client: Any) -> Any:
        """litellm.completion."""
        return litellm.completion(model=MODEL, messages=MESSAGES, client=client.openai)

    async def acall(self, client: Any) -> Any:
        """litellm.acompletion."""
        return await litellm.acompletion(model=MODEL, messages=MESSAGES, client=client.openai)

    def stream(self, client: Any) -> Any:
        """litellm.completion(stream=True, include_usage)."""
        return litellm.completion(
            model=MODEL,
            messages=MESSAGES,
            client=client.openai,
            stream=True,
            stream_options={"include_usage": True},
        )

    async def astream(self, client: Any) -> Any:
        """litellm.acompletion(stream=True, include_usage)."""
        return await litellm.acompletion(
            model=MODEL,
            messages=MESSAGES,
            client=client.openai,
            stream=True,
            stream_options={"include_usage": True},
        )

    def embed(self, client: Any) -> Any:
        """litellm.embedding."""
        return litellm.embedding(
            model="openai/text-embedding-3-small", input=["order 1042"], client=client.openai
        )

    def comparable(self, result: Any) -> Any:
        """A response without the fields LiteLLM fills per call (its timing and ids)."""
        dump = getattr(result, "model_dump", None)
        if not callable(dump):
            return result
        data = dump()
        for volatile in ("created", "_response_ms"):
            data.pop(volatile, None)
        return data

    def chunks(self, result: Any) -> Iterator[Any]:
        """The stream itself."""
        return iter(result)

    def achunks(self, result: Any) -> AsyncIterator[Any]:
        """The async stream itself."""
        stream: AsyncIterator[Any] = result.__aiter__()
        return stream


FIXTURES = LiteLLMFixtures()
