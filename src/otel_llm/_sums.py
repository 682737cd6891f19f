"""Per-call counters summed in process and read by the SDK at collection, as observable counters.

A synchronous `Counter.add` costs every call about as much as a span: the SDK copies, cleans and
sorts the attributes and offers an exemplar on each one. A GenAI call adds to several counters
(requests, input and output tokens, cost), so these are summed here, in a dict keyed by the
attributes, and the SDK reads the running totals through an observable counter's callback when
a reader collects. The exported data is the same monotonic cumulative sum; counters lose only
their exemplars (the duration and cost histograms keep theirs).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.metrics import CallbackOptions, CallbackT, Meter, Observation
from opentelemetry.util.types import AttributeValue

from otel_llm._deferred import deferred

MAX_SERIES = 2000
"""Distinct attribute sets kept per counter (the SDK's default cardinality limit); later ones
are summed into one series with `otel.metric.overflow=true`, as the SDK does."""
_OVERFLOW: tuple[tuple[str, AttributeValue], ...] = (("otel.metric.overflow", True),)

Observe = Callable[[Meter, Sequence[CallbackT]], Any]
"""A generated `observe_<counter>(meter, callbacks)` factory."""

Cap = Callable[[Mapping[str, AttributeValue]], Mapping[str, AttributeValue]]
"""Folds attribute values past their limit (otel_llm._cardinality.Limiter.cap)."""

_Key = tuple[tuple[str, AttributeValue], ...]


class Sums:
    """Running totals per attribute set for one counter; `add` is what the hot path calls."""

    __slots__ = ("_lock", "_totals", "before", "cap")

    def __init__(self, before: Callable[[], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._totals: dict[_Key, float] = {}
        self.before = before
        """Called first when the SDK observes the totals: replays the adds still deferred
        (otel_llm._deferred), so a collection includes every add made before it."""
        self.cap: Cap | None = None
        """Applied only to attribute sets that are not a series yet: an existing series has
        passed it already, so the hot path pays nothing for it."""

    def add(self, amount: float, attributes: Mapping[str, AttributeValue]) -> None:
        """Add `amount` to the series `attributes` names (a negative amount is dropped)."""
        if amount < 0:
            return  # as the SDK drops it: a counter only goes up
        key = tuple(attributes.items())
        try:
            if self._add_existing(key, amount):
                return
        except TypeError:  # a list value is not hashable: key it as a tuple
            key = _hashable_key(key)
            if self._add_existing(key, amount):
                return
        cap = self.cap
        if cap is not None:
            capped = cap(attributes)
            if capped is not attributes:
                key = _hashable_key(tuple(capped.items()))
        self._add(key, amount)

    def _add_existing(self, key: _Key, amount: float) -> bool:
        totals = self._totals
        with self._lock:
            total = totals.get(key)
            if total is None:
                return False
            totals[key] = total + amount
            return True

    def _add(self, key: _Key, amount: float) -> None:
        totals = self._totals
        with self._lock:
            total = totals.get(key)
            if total is not None:
                totals[key] = total + amount
            elif len(totals) < MAX_SERIES:
                totals[key] = amount
            else:
                totals[_OVERFLOW] = totals.get(_OVERFLOW, 0) + amount

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        """The callback: one observation per attribute set, with its running total."""
        del options
        if self.before is not None:
            self.before()
        with self._lock:
            items = list(self._totals.items())
        # The same attributes added in another order are one series to the SDK: merge them here
        # (at collection, not per add), or one observation would overwrite the other.
        merged: dict[
            frozenset[tuple[str, AttributeValue]], tuple[dict[str, AttributeValue], float]
        ] = {}
        for key, total in items:
            identity = frozenset(key)
            earlier = merged.get(identity)
            merged[identity] = (dict(key), total + earlier[1] if earlier else total)
        return [Observation(total, attributes) for attributes, total in merged.values()]


def _hashable(value: AttributeValue) -> AttributeValue:
    return tuple(value) if isinstance(value, list) else value


def _hashable_key(key: _Key) -> _Key:
    return tuple((k, _hashable(v)) for k, v in key)


_registry: weakref.WeakKeyDictionary[Meter, dict[str, Sums]] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def sums(meter: Meter, name: str, observe: Observe) -> Sums:
    """The Sums behind counter `name` on `meter`, registered with the SDK on first use.

    The SDK keeps the first observable counter of a name (and its callback) for the meter's
    life, so instrumenting again on the same meter must reuse its Sums, not make new ones.
    """
    with _registry_lock:
        by_name = _registry.setdefault(meter, {})
        found = by_name.get(name)
        if found is None:
            found = by_name[name] = Sums(deferred(meter).drain)
            observe(meter, [found.observe])
        return found
