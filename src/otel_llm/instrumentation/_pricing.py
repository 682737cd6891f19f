"""Pricing as a call hook: each of otel-llm's own calls is priced as it ends."""

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
    """Prices each of otel-llm's own calls as it ends, sampled or not, and records the spend.

    The cost metrics then never depend on trace sampling, and a span that carries its cost is
    passed on by the cost processor without being copied.
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
        """The cost attributes of the call (none for operations not billed by tokens)."""
        attributes = {**call.attributes, **response}
        return price_call(self._prices, self._instruments, attributes, info.usage, call.context)
