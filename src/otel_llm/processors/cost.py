"""Price GenAI spans before export: cost attributes, the spend counter and per-request histogram."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import NonRecordingSpan
from opentelemetry.util.types import AttributeValue

from otel_llm._instruments import SCOPE_NAME, Instruments, active_instruments
from otel_llm._usage_metrics import usage_from_attributes
from otel_llm.cost import CostBreakdown, PriceBook, Unpriced
from otel_llm.instrumentation.types import Usage
from otel_llm.processors._base import SpanData, WrappingSpanProcessor
from otel_llm.processors._ledger import LEDGER
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.metrics import otel_llm as om

PRICED_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
BILLED_BY_REQUEST_MODEL = frozenset({ga.GenAiProviderNameValues.AWS_BEDROCK.value})
"""Providers whose request names the model that is billed, so it is priced before the model a
reply names: a Bedrock model id or inference profile (`global.anthropic.claude-…`, `us.amazon.
nova-lite-v1:0`) says the route and region the price depends on, which Claude's reply body
(`claude-sonnet-4-5-20250929`) does not. Elsewhere the response model comes first: an Azure
deployment name is no model name."""
_UNKNOWN_MODEL = ol.OtelLlmCostUnpricedReasonValues.UNKNOWN_MODEL.value
_COST_DIMENSIONS = tuple(sorted(om.OTEL_LLM_CLIENT_COST_ATTRIBUTES))


def price_call(
    price_book: PriceBook,
    instruments: Instruments | None,
    attributes: Mapping[str, Any],
    usage: Usage | None,
    context: Context | None,
) -> dict[str, AttributeValue] | None:
    """Price one GenAI call from its span attributes, record the cost metrics; the cost attributes.

    `context` holds the call's span, which the cost histogram's exemplars then point to; no
    metrics are recorded when `instruments` is None.

    None when the operation is not one that is billed by tokens (tools, agents, workflows). The
    one pricing step both the engine (our own calls, sampled or not: the metrics) and the
    processor (the span's attributes; the metrics too for spans of other instrumentations) run.
    """
    if attributes.get(ga.GEN_AI_OPERATION_NAME) not in PRICED_OPERATIONS:
        return None
    provider = str(attributes.get(ga.GEN_AI_PROVIDER_NAME, ""))
    first, second = ga.GEN_AI_RESPONSE_MODEL, ga.GEN_AI_REQUEST_MODEL
    if provider in BILLED_BY_REQUEST_MODEL:
        first, second = second, first
    model = attributes.get(first) or attributes.get(second)
    result = price_book.price(provider, str(model or ""), usage)
    # A model the price data does not list: the other name may be the one it lists.
    unknown = isinstance(result, Unpriced) and result.reason == _UNKNOWN_MODEL
    other = attributes.get(second)
    if unknown and other and other != model:
        result = price_book.price(provider, str(other), usage)
    if instruments is None:
        return result.attributes()
    dimensions: dict[str, AttributeValue] = {
        key: attributes[key] for key in _COST_DIMENSIONS if key in attributes
    }
    if isinstance(result, CostBreakdown):
        instruments.cost.add(result.total, dimensions)
        instruments.request_cost.record(result.total, dimensions, context)
    else:
        dimensions[ol.OTEL_LLM_COST_UNPRICED_REASON] = result.reason
        instruments.unpriced.add(1, dimensions, context)
    return result.attributes()


class CostSpanProcessor(WrappingSpanProcessor):
    """Adds `otel_llm.cost.*` to GenAI spans from any instrumentation, and records cost metrics.

    The cost metrics of otel-llm's own calls are recorded by its instrumentation (for every
    call, sampled or not: otel_llm.instrumentation._pricing), so for its spans this processor
    adds the attributes only.
    """

    def __init__(self, next_processor: SpanProcessor, price_book: PriceBook) -> None:
        super().__init__(next_processor)
        self._prices = price_book

    def unchanged(self, span: ReadableSpan) -> bool:
        """Not a call billed by tokens, or already priced."""
        attributes = span.attributes or {}
        return (
            attributes.get(ga.GEN_AI_OPERATION_NAME) not in PRICED_OPERATIONS
            or ol.OTEL_LLM_COST_TOTAL in attributes
            or ol.OTEL_LLM_COST_UNPRICED in attributes
        )

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Price the span (a GenAI call not priced yet: `unchanged` passes on the rest)."""
        attributes = data.attributes
        usage = usage_from_attributes(attributes)
        # The histogram's exemplars point at the span being priced, not whatever is current.
        span_context = span.get_span_context()
        context = None
        if span_context is not None:
            context = trace.set_span_in_context(NonRecordingSpan(span_context))
        scope = span.instrumentation_scope
        ours = scope is not None and scope.name == SCOPE_NAME
        # A call one of ours recorded (a framework's span around or inside our inference span)
        # had its cost counted then; another exporter's chain may have counted this span's.
        # Either way it is priced, and counted once.
        counted = (
            ours or LEDGER.covered_by_ours(span, "inference") or not LEDGER.claim(span, "cost")
        )
        instruments = None if counted else active_instruments()
        priced = price_call(self._prices, instruments, attributes, usage, context)
        attributes.update(priced or {})
        return data
