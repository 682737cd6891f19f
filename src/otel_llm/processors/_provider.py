"""The model provider a foreign GenAI span means when its gen_ai.provider.name names none.

Agent frameworks that wrap many providers behind one model abstraction may put their own name
where the provider goes (Strands: `gen_ai.provider.name` / `gen_ai.system` = "strands-agents"
on every span). Such a call would be priced as an unknown provider's and counted under the
framework's name on the dashboards. Where the model name says the provider, it is used:

- a Bedrock model id or ARN (`us.amazon.nova-lite-v1:0`, `anthropic.claude-…-v1:0`,
  `arn:aws:bedrock:…`) is Bedrock's, when the span names no provider we know;
- a span whose provider is a framework's own name (FRAMEWORK_NAMES) takes the provider
  genai-prices lists the model under (`gpt-4o-mini`: openai), when only one of ours maps to it.

Anything else is left as the span says: a self-hosted provider's custom name ("ollama") running
a model a cloud provider also lists is not that cloud provider.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from otel_llm.semconv.attributes import gen_ai as ga

__all__ = ["FRAMEWORK_NAMES", "implied_provider", "needs_provider"]

_PROVIDERS = ga.GenAiProviderNameValues
KNOWN = frozenset(value.value for value in _PROVIDERS)
FRAMEWORK_NAMES = frozenset({"strands-agents"})
"""Provider names that are an agent framework's own (strands-agents 1.x
strands/telemetry/tracer.py `_get_common_attributes`), never a model provider's."""

_BEDROCK_VENDORS = (
    "amazon|anthropic|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer|stability"
    "|twelvelabs|luma|minimax|moonshot|moonshotai|nvidia|google"
)
_BEDROCK_MODEL = re.compile(
    r"arn:aws[a-z-]*:bedrock:"
    rf"|(?:(?:us|eu|apac|jp|au|ca|us-gov|global)\.)?(?:{_BEDROCK_VENDORS})\.[a-z0-9][a-z0-9.-]*"
    r"(?::\d+)?\Z",
    re.IGNORECASE,
)
"""Bedrock's model ids (`vendor.model-vN:M`, optionally behind a cross-region inference
profile's `us.` / `global.` prefix) and ARNs: no other provider names models this way."""


def needs_provider(attributes: Mapping[str, Any]) -> bool:
    """Whether the span's provider name is not one we know, and a model name could tell it."""
    provider = attributes.get(ga.GEN_AI_PROVIDER_NAME)
    if provider in KNOWN:
        return False
    return (ga.GEN_AI_REQUEST_MODEL in attributes or ga.GEN_AI_RESPONSE_MODEL in attributes) and (
        provider is None or isinstance(provider, str)
    )


def implied_provider(attributes: Mapping[str, Any]) -> str | None:
    """The provider the span's model names, for a span `needs_provider` accepts; else None."""
    provider = attributes.get(ga.GEN_AI_PROVIDER_NAME)
    for key in (ga.GEN_AI_REQUEST_MODEL, ga.GEN_AI_RESPONSE_MODEL):
        model = attributes.get(key)
        if not isinstance(model, str) or not model:
            continue
        if _BEDROCK_MODEL.match(model):
            return _PROVIDERS.AWS_BEDROCK.value
        if provider in FRAMEWORK_NAMES:
            found = _listed_provider(model.lower())
            if found is not None:
                return found
    return None


@functools.lru_cache(maxsize=512)
def _listed_provider(model: str) -> str | None:
    """Our provider name for the one provider genai-prices lists `model` under, if any."""
    from genai_prices.data_snapshot import get_snapshot  # noqa: PLC0415

    from otel_llm.cost import GENAI_PRICES_PROVIDERS  # noqa: PLC0415

    try:
        listed = get_snapshot().find_provider(model, None, None)
    except LookupError:
        return None
    ours = [name for name, found in GENAI_PRICES_PROVIDERS.items() if found == listed.id]
    return ours[0] if len(ours) == 1 else None
