"""LiteLLM: `completion`, `acompletion`, `embedding`, `aembedding` and its Router.

Each call is one inference (or embeddings) span with the provider LiteLLM routed the model to
as `gen_ai.provider.name` (`openai/gpt-4o-mini` -> openai, `bedrock/...` -> aws.bedrock,
`vertex_ai/...` -> gcp.vertex_ai), its usage and stream, recorded by the shared engine. When
LiteLLM calls an SDK otel-llm also instruments (openai's embeddings), the SDK's call is inside
this one and is not recorded again; LiteLLM's chat calls go through the SDK's raw `post()`, which
no instrumentation sees, so this span is the only one either way. A Router call is a `route`
span over its attempts (see `_router`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from otel_llm.instrumentation.endpoint import Endpoint
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor, Target
from otel_llm.instrumentation.litellm import _calls
from otel_llm.instrumentation.litellm._router import route_async, route_sync
from otel_llm.instrumentation.openai import _chat as openai_chat
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = ["SUPPORTED", "LiteLLMInstrumentor"]

SUPPORTED = "litellm >= 1.110, < 2"

_CHAT = ga.GenAiOperationNameValues.CHAT.value
_EMBEDDINGS = ga.GenAiOperationNameValues.EMBEDDINGS.value
_ROUTER = "litellm.router_rust.core"
"""Where LiteLLM 1.110's Router endpoints live (`litellm.Router(...)` returns a RustCore)."""


def _functions(name: str, key: str, wrap: Any) -> tuple[Target, ...]:
    # `litellm.completion` is bound at import; LiteLLM's own code calls `litellm.main`'s.
    return (Target("litellm", None, name, key, wrap), Target("litellm.main", None, name, key, wrap))


class LiteLLMInstrumentor(ProviderInstrumentor):
    """Records LiteLLM's calls and routes; found by `opentelemetry-instrument`."""

    requirements: ClassVar[tuple[str, ...]] = (SUPPORTED,)
    targets: ClassVar[tuple[Target, ...]] = (
        *_functions("completion", "chat", "sync"),
        *_functions("acompletion", "achat", "async"),
        *_functions("embedding", "embeddings", "sync"),
        *_functions("aembedding", "aembeddings", "async"),
        Target(_ROUTER, "RustCore", "completion", None, route_sync),
        Target(_ROUTER, "RustCore", "embedding", None, route_sync),
        Target(_ROUTER, "RustCore", "acompletion", None, route_async),
        Target(_ROUTER, "RustCore", "aembedding", None, route_async),
    )

    def endpoints(self) -> Mapping[str, Endpoint]:
        """One endpoint per kind of call; each call is recorded by its provider's."""
        # Only when instrumenting: importing this module imports no SDK.
        from litellm.exceptions import RateLimitError, Timeout  # noqa: PLC0415
        from litellm.litellm_core_utils.streaming_handler import (  # noqa: PLC0415
            CustomStreamWrapper,
        )

        classify = _calls.classify(RateLimitError, (Timeout,))

        def per_provider(operation: str, asynchronous: bool) -> Callable[[str], Endpoint]:
            @functools.lru_cache(maxsize=64)
            def endpoint(provider: str) -> Endpoint:
                if operation == _EMBEDDINGS:
                    return Endpoint(
                        operation=operation,
                        provider=provider,
                        request=request,
                        response=_calls.embedding_response,
                        classify=classify,
                    )
                return Endpoint(
                    operation=operation,
                    provider=provider,
                    request=request,
                    response=_calls.chat_response,
                    streams=_calls.streams(CustomStreamWrapper, asynchronous),
                    stream_state=_calls.ChatStreamState,
                    content=openai_chat.chat_content,
                    classify=classify,
                    # OTEL_LLM_STREAM_USAGE: LiteLLM takes OpenAI's stream_options for every
                    # provider, and ends such a stream with a usage-only chunk, as OpenAI does.
                    stream_usage=openai_chat.stream_usage(()),
                    strip_usage=openai_chat.strip_stream_usage,
                )

            request = (
                _calls.embeddings_request(endpoint)
                if operation == _EMBEDDINGS
                else _calls.chat_request(endpoint)
            )
            return endpoint

        kinds = {
            "chat": (_CHAT, False),
            "achat": (_CHAT, True),
            "embeddings": (_EMBEDDINGS, False),
            "aembeddings": (_EMBEDDINGS, True),
        }
        found: dict[str, Endpoint] = {}
        for key, (operation, asynchronous) in kinds.items():
            endpoint = per_provider(operation, asynchronous)
            # The wrapped function's own endpoint: its request routes each call to a provider's.
            found[key] = endpoint("litellm")
        return found
