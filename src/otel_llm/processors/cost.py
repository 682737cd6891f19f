"""Price GenAI spans before export: cost attributes, the spend counter and per-request histogram."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.util.types import AttributeValue

from otel_llm._telemetry import get_telemetry
from otel_llm.cost import CostBreakdown, PriceBook
from otel_llm.instrumentation._model import Usage
from otel_llm.processors._base import SpanData, WrappingSpanProcessor
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.metrics import otel_llm as om

_PRICED_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
_COST_DIMENSIONS = tuple(sorted(om.OTEL_LLM_CLIENT_COST_ATTRIBUTES))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from_attributes(attributes: dict[str, Any]) -> Usage:
    """The token usage a span recorded, in current attribute names."""
    return Usage(
        input_tokens=_int(attributes.get(ga.GEN_AI_USAGE_INPUT_TOKENS)),
        output_tokens=_int(attributes.get(ga.GEN_AI_USAGE_OUTPUT_TOKENS)),
        cache_read_tokens=_int(attributes.get(ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)),
        cache_write_tokens=_int(attributes.get(ga.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS)),
        reasoning_tokens=_int(attributes.get(ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS)),
    )


class CostSpanProcessor(WrappingSpanProcessor):
    """Adds `otel_llm.cost.*` to GenAI spans from any instrumentation, and records cost metrics."""

    def __init__(self, next_processor: SpanProcessor, price_book: PriceBook) -> None:
        super().__init__(next_processor)
        self._prices = price_book

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Price the span if it is a GenAI call that has not been priced yet."""
        attributes = data.attributes
        if attributes.get(ga.GEN_AI_OPERATION_NAME) not in _PRICED_OPERATIONS:
            return None
        if ol.OTEL_LLM_COST_TOTAL in attributes or ol.OTEL_LLM_COST_UNPRICED in attributes:
            return None
        provider = str(attributes.get(ga.GEN_AI_PROVIDER_NAME, ""))
        model = attributes.get(ga.GEN_AI_RESPONSE_MODEL) or attributes.get(ga.GEN_AI_REQUEST_MODEL)
        result = self._prices.price(provider, str(model or ""), usage_from_attributes(attributes))
        attributes.update(result.attributes())
        dimensions: dict[str, AttributeValue] = {
            key: attributes[key] for key in _COST_DIMENSIONS if key in attributes
        }
        instruments = get_telemetry().instruments
        if isinstance(result, CostBreakdown):
            instruments.cost.add(result.total, dimensions)
            instruments.request_cost.record(result.total, dimensions)
        else:
            dimensions[ol.OTEL_LLM_COST_UNPRICED_REASON] = result.reason
            instruments.unpriced.add(1, dimensions)
        return data
