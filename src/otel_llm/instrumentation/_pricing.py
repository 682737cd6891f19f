"""Pricing as a call hook: each of otel-llm's own calls is priced off its thread once it ends."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.util.types import AttributeValue

from otel_llm._instruments import Instruments
from otel_llm.cost import PriceBook
from otel_llm.instrumentation.hooks import CallHook, CallRecord
from otel_llm.instrumentation.types import ResponseInfo
from otel_llm.processors.cost import price_call

__all__ = ["PricingHook"]


class PricingHook(CallHook):
    """Prices each of otel-llm's own calls, sampled or not, and records the spend.

    The cost metrics then never depend on trace sampling. The pricing and the metric points are
    a record in the meter's deferred buffer (otel_llm._deferred), made off the application's
    thread; the span's cost attributes are added by the cost processor on the exporter's side
    (otel_llm.processors.cost), which leaves the metrics of otel-llm's own calls to this hook.
    """

    __slots__ = ("_instruments", "_prices")

    def __init__(self, price_book: PriceBook, instruments: Instruments) -> None:
        self._prices = price_book
        self._instruments = instruments

    def start(self, call: CallRecord) -> bool:
        """Every call is priced at its end."""
        return True

    def end(
        self, call: CallRecord, info: ResponseInfo, response: Mapping[str, AttributeValue]
    ) -> Mapping[str, AttributeValue] | None:
        """Price the call and record its cost metrics off this thread; no span attributes."""
        attributes = {**call.attributes, **response}  # as they are now: the span's change on
        instruments = self._instruments
        instruments.deferred.add(
            price_call, (self._prices, instruments, attributes, info.usage, call.context)
        )
        return None
