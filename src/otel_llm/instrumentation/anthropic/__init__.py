"""Anthropic SDK (2.x): Messages, sync and async, streamed, and the `messages.stream` helper.

`opentelemetry-instrument` finds `AnthropicInstrumentor` as the `otel_llm_anthropic` entry
point. The SDK is imported only when instrumenting, never by importing this package.
"""

from __future__ import annotations

from collections.abc import Mapping

from otel_llm.instrumentation import _stainless as stainless
from otel_llm.instrumentation._stainless_raw import RawResponses
from otel_llm.instrumentation.anthropic._helper import stream_helper, suppress_sdk_span
from otel_llm.instrumentation.anthropic._messages import (
    MessageStreamState,
    messages_content,
    messages_request,
    messages_response,
    provider_name,
    stream_error,
)
from otel_llm.instrumentation.endpoint import Endpoint
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor, Target
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = ["SUPPORTED", "AnthropicInstrumentor"]

SUPPORTED = "anthropic >= 2.0.0, < 3"
"""The anthropic SDK versions this module supports."""

_MESSAGES = "anthropic.resources.messages"


class AnthropicInstrumentor(ProviderInstrumentor):
    """Instruments anthropic; `opentelemetry-instrument` finds it as `otel_llm_anthropic`."""

    requirements = (SUPPORTED,)
    targets = (
        Target(_MESSAGES, "Messages", "create", "messages", "sync"),
        Target(_MESSAGES, "AsyncMessages", "create", "messages", "async"),
        Target(_MESSAGES, "Messages", "stream", "messages", stream_helper),
        Target(_MESSAGES, "AsyncMessages", "stream", "messages", stream_helper),
        Target("anthropic._base_client", None, "start_api_call_span", None, suppress_sdk_span),
    )

    def endpoints(self) -> Mapping[str, Endpoint]:
        """Messages, read with the installed SDK's classes."""
        import anthropic  # noqa: PLC0415 - only when instrumenting

        sdk = stainless.Sdk.of(anthropic)
        raw = RawResponses(
            (anthropic.APIResponse, anthropic.AsyncAPIResponse),
            final_events=frozenset({"message_stop"}),
            stream_error=stream_error,
        )
        return {
            "messages": Endpoint(
                operation=ga.GenAiOperationNameValues.CHAT.value,
                provider=provider_name,
                request=messages_request,
                response=messages_response,
                streams=sdk.stream_finder(raw),
                stream_state=MessageStreamState,
                content=messages_content,
                server=stainless.server,
                classify=sdk.classify,
            )
        }
