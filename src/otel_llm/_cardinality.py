"""Bounded metric dimensions: per metric, the first N values of each open attribute, then `_OTHER`.

Request and response models, server addresses, prompt names and versions, evaluation, tool,
agent and workflow names are chosen by the application, its users or a provider, so nothing
bounds how many distinct values one process sees. Each becomes a series on every metric that
carries it; past the SDK's 2,000 series per metric, the SDK folds whole measurements into one
`otel.metric.overflow` series without any attribute, and every dashboard split goes wrong at
once. Here each such attribute is capped on its own, per metric: the first `limit` values are
admitted, later ones are recorded as `_OTHER` (the rest of the measurement is kept), and
`otel_llm.metric.attribute.folded` counts the measurements folded, by metric and attribute.

The hot path is one dict lookup per attribute and one set lookup per capped attribute, with no
allocation when nothing is folded; admission takes a lock and swaps in a new immutable table.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Final

from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Histogram, Meter
from opentelemetry.util.types import Attributes, AttributeValue

from otel_llm._sums import Observe, Sums, sums
from otel_llm.semconv.attributes import error, gen_ai, mcp, network, openai, rpc, server
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.metrics import otel_llm as om

__all__ = ["CAPPED", "OTHER", "CappedCounter", "CappedHistogram", "Capping", "Limiter"]

OTHER: Final = "_OTHER"
"""The value a capped attribute is recorded with once its metric has `limit` other values."""

CAPPED: Final[frozenset[str]] = frozenset(
    {
        gen_ai.GEN_AI_PROVIDER_NAME,
        gen_ai.GEN_AI_REQUEST_MODEL,
        gen_ai.GEN_AI_RESPONSE_MODEL,
        server.SERVER_ADDRESS,
        server.SERVER_PORT,
        gen_ai.GEN_AI_PROMPT_NAME,
        gen_ai.GEN_AI_PROMPT_VERSION,
        gen_ai.GEN_AI_EVALUATION_NAME,
        gen_ai.GEN_AI_TOOL_NAME,
        gen_ai.GEN_AI_TOOL_TYPE,
        gen_ai.GEN_AI_AGENT_NAME,
        gen_ai.GEN_AI_WORKFLOW_NAME,
        openai.OPENAI_RESPONSE_SERVICE_TIER,
        error.ERROR_TYPE,
        mcp.MCP_METHOD_NAME,
        mcp.MCP_PROTOCOL_VERSION,
        rpc.RPC_RESPONSE_STATUS_CODE,
        network.NETWORK_PROTOCOL_NAME,
    }
)
"""Metric attributes with open values (any string the application, a user or a server sends).
MCP method names, protocol versions, JSON-RPC error codes and the protocol under MCP (an open
set upstream) are whatever a peer or transport says. The
provider name is closed for otel-llm's own calls, but `record_evaluation(provider=...)` and
spans priced by the cost processor bring any string. Every other metric attribute has a closed
set of values otel-llm itself chooses."""


class Limiter:
    """The admitted values of each capped attribute of one metric; the rest become `_OTHER`."""

    __slots__ = ("_fold_attributes", "_folded", "_lock", "_table", "limit", "metric")

    def __init__(self, metric: str, limit: int, folded: Sums | None = None) -> None:
        self.metric = metric
        self.limit = limit
        """Values admitted per attribute; changed when instrumenting again with other settings."""
        self._folded = folded
        self._fold_attributes: dict[str, dict[str, AttributeValue]] = {
            key: {ol.OTEL_LLM_METRIC_NAME: metric, ol.OTEL_LLM_METRIC_ATTRIBUTE: key}
            for key in CAPPED
        }
        self._lock = threading.Lock()
        # Replaced whole (never mutated) when a value is admitted, so readers need no lock.
        self._table: dict[str, frozenset[AttributeValue]] = dict.fromkeys(CAPPED, frozenset())

    def cap(self, attributes: Mapping[str, AttributeValue]) -> Mapping[str, AttributeValue]:
        """`attributes` itself when every capped value is admitted, else a copy with `_OTHER`."""
        table = self._table
        try:
            for key, value in attributes.items():
                admitted = table.get(key)
                if admitted is not None and value not in admitted:
                    return self._fold(attributes)
        except TypeError:  # an unhashable value (a list) is never admitted
            return self._fold(attributes)
        return attributes

    def _fold(self, attributes: Mapping[str, AttributeValue]) -> Mapping[str, AttributeValue]:
        folded = [
            key
            for key, value in attributes.items()
            if key in self._table and not self._admit(key, value)
        ]
        if not folded:
            return attributes
        capped = dict(attributes)
        for key in folded:
            capped[key] = OTHER
            if self._folded is not None:
                self._folded.add(1, self._fold_attributes[key])
        return capped

    def _admit(self, key: str, value: AttributeValue) -> bool:
        try:
            admitted = self._table[key]
            if value in admitted:
                return True
        except TypeError:
            return False
        if len(admitted) >= self.limit:
            return False  # full: the common case under a flood of new values, without the lock
        with self._lock:
            table = self._table
            admitted = table[key]
            if value in admitted:
                return True
            if len(admitted) >= self.limit:
                return False
            self._table = {**table, key: admitted | {value}}
            return True


class CappedHistogram(Histogram):
    """A histogram whose records pass through its metric's Limiter."""

    def __init__(self, histogram: Histogram, limiter: Limiter) -> None:
        self._histogram = histogram
        self._cap = limiter.cap

    def record(
        self, amount: float, attributes: Attributes = None, context: Context | None = None
    ) -> None:
        """Record `amount`, with capped attributes past their limit recorded as `_OTHER`."""
        self._histogram.record(amount, self._cap(attributes) if attributes else attributes, context)


class CappedCounter(Counter):
    """A counter whose adds pass through its metric's Limiter."""

    def __init__(self, counter: Counter, limiter: Limiter) -> None:
        self._counter = counter
        self._cap = limiter.cap

    def add(
        self, amount: float, attributes: Attributes = None, context: Context | None = None
    ) -> None:
        """Add `amount`, with capped attributes past their limit recorded as `_OTHER`."""
        self._counter.add(amount, self._cap(attributes) if attributes else attributes, context)


_limiters: weakref.WeakKeyDictionary[Meter, dict[str, Limiter]] = weakref.WeakKeyDictionary()
_limiters_lock = threading.Lock()


class Capping:
    """Wraps the instruments made on one meter so each caps its attributes at `limit` values."""

    def __init__(self, meter: Meter, limit: int) -> None:
        self._meter = meter
        self._limit = limit
        self.folded = sums(
            meter, om.OTEL_LLM_METRIC_ATTRIBUTE_FOLDED, om.observe_otel_llm_metric_attribute_folded
        )
        """The `otel_llm.metric.attribute.folded` counter (its own attributes are bounded)."""

    def limiter(self, metric: str) -> Limiter:
        """The Limiter of `metric` on this meter, shared by every instrumentation of it.

        The SDK keeps one stream per metric name and meter for the meter's life, so its
        admitted values must outlive one instrument() call as well.
        """
        with _limiters_lock:
            by_name = _limiters.setdefault(self._meter, {})
            found = by_name.get(metric)
            if found is None:
                found = by_name[metric] = Limiter(metric, self._limit, self.folded)
            found.limit = self._limit
            return found

    def histogram(self, metric: str, create: Callable[[Meter], Histogram]) -> CappedHistogram:
        """The histogram `create` makes, capped."""
        return CappedHistogram(create(self._meter), self.limiter(metric))

    def counter(self, metric: str, create: Callable[[Meter], Counter]) -> CappedCounter:
        """The counter `create` makes, capped."""
        return CappedCounter(create(self._meter), self.limiter(metric))

    def sums(self, metric: str, observe: Observe) -> Sums:
        """The in-process Sums behind counter `metric`, capped."""
        found = sums(self._meter, metric, observe)
        found.cap = self.limiter(metric).cap
        return found
