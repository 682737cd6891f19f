"""Google Gen AI SDK (google-genai): Gemini API and Vertex AI `models` calls, sync and async.

`generate_content`, `generate_content_stream` and `embed_content` on `client.models` and
`client.aio.models`; the provider is `gcp.vertex_ai` or `gcp.gemini` by how the client was
built. `opentelemetry-instrument` finds `GoogleGenAIInstrumentor` as the
`otel_llm_google_genai` entry point; the SDK is imported only when instrumenting.

The public methods are wrapped, so a call that runs several requests inside the SDK
(automatic function calling, automatic continuation) is one span with the usage the SDK
reports for it. The streams are lazy: their request is sent on the first `next()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping

from otel_llm.instrumentation.endpoint import Endpoint, stream_types
from otel_llm.instrumentation.google_genai._models import (
    classify,
    embed_content_request,
    embed_content_response,
    generate_content_content,
    generate_content_request,
    generate_content_response,
    generate_content_stream_request,
    provider_name,
    server,
)
from otel_llm.instrumentation.google_genai._stream import GenerateContentStreamState
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor, Target
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = ["SUPPORTED", "GoogleGenAIInstrumentor"]

SUPPORTED = "google-genai >= 1.20.0, < 4"
"""The google-genai versions this module supports."""

_MODELS = "google.genai.models"
_GENERATE = ga.GenAiOperationNameValues.GENERATE_CONTENT.value
_EMBEDDINGS = ga.GenAiOperationNameValues.EMBEDDINGS.value


class GoogleGenAIInstrumentor(ProviderInstrumentor):
    """Instruments google-genai; `opentelemetry-instrument` finds it as `otel_llm_google_genai`."""

    requirements = (SUPPORTED,)
    targets = (
        Target(_MODELS, "Models", "generate_content", "generate", "sync"),
        Target(_MODELS, "AsyncModels", "generate_content", "generate", "async"),
        # A generator: its request is sent on the first next(), so HTTP errors surface there.
        Target(_MODELS, "Models", "generate_content_stream", "stream", "sync"),
        # A coroutine resolving to an async generator (aclose(), no close()).
        Target(_MODELS, "AsyncModels", "generate_content_stream", "stream", "async"),
        Target(_MODELS, "Models", "embed_content", "embed", "sync"),
        Target(_MODELS, "AsyncModels", "embed_content", "embed", "async"),
    )

    def endpoints(self) -> Mapping[str, Endpoint]:
        """generate_content (plain and streamed) and embed_content."""
        return {
            "generate": Endpoint(
                operation=_GENERATE,
                request=generate_content_request,
                response=generate_content_response,
                content=generate_content_content,
                provider=provider_name,
                server=server,
                classify=classify,
            ),
            "stream": Endpoint(
                operation=_GENERATE,
                request=generate_content_stream_request,
                streams=stream_types(Iterator, AsyncIterator),
                stream_state=GenerateContentStreamState,
                content=generate_content_content,
                provider=provider_name,
                server=server,
                classify=classify,
            ),
            "embed": Endpoint(
                operation=_EMBEDDINGS,
                request=embed_content_request,
                response=embed_content_response,
                provider=provider_name,
                server=server,
                classify=classify,
            ),
        }
