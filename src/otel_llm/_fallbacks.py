"""Fallbacks: calls given up for another model or provider, counted as a metric."""

from __future__ import annotations

from opentelemetry.util.types import AttributeValue

from otel_llm._errors import guarded
from otel_llm._instruments import active_instruments
from otel_llm._prompt import current_prompt, prompt_metric_attributes
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol

__all__ = ["record_fallback"]

_FALLBACK_REASONS = frozenset(member.value for member in ol.OtelLlmFallbackReasonValues)


def record_fallback(
    provider: str,
    model: str | None = None,
    *,
    reason: str = "error",
    operation: str = "chat",
) -> None:
    """Count one call given up for another model or provider (the one given up is named).

    `reason` is `error`, `timeout`, `rate_limited` or `policy` (the application chose to);
    the prompt name and version of the current `otel_llm.prompt()` are added, so the fallback
    rate can be split by release as the error rate is.
    """
    if reason not in _FALLBACK_REASONS:
        raise ValueError(f"reason must be one of {sorted(_FALLBACK_REASONS)}, not {reason!r}")
    _count_fallback(provider, model, reason, operation)


@guarded(default=None)
def _count_fallback(provider: str, model: str | None, reason: str, operation: str) -> None:
    attributes: dict[str, AttributeValue] = {
        ga.GEN_AI_OPERATION_NAME: operation,
        ga.GEN_AI_PROVIDER_NAME: provider,
        ol.OTEL_LLM_FALLBACK_REASON: reason,
    }
    if model is not None:
        attributes[ga.GEN_AI_REQUEST_MODEL] = model
    info = current_prompt()
    if info is not None:
        attributes.update(prompt_metric_attributes(info))
    active_instruments().fallbacks.add(1, attributes)
