"""Tests for otel_llm._sums: counters summed in process export exactly what Counter.add would."""

import threading
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider, ObservableCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader, Sum

from otel_llm import _sums
from otel_llm.semconv.metrics import otel_llm as om

NAME = om.OTEL_LLM_CLIENT_REQUESTS


def points(reader: InMemoryMetricReader, name: str = NAME) -> dict[frozenset[Any], float]:
    """The metric's data points as {attribute set: value}."""
    data = reader.get_metrics_data()
    found: dict[frozenset[Any], float] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    assert isinstance(metric.data, Sum)
                    assert metric.data.is_monotonic
                    for point in metric.data.data_points:
                        found[frozenset((point.attributes or {}).items())] = point.value
    return found


def setup() -> tuple[InMemoryMetricReader, _sums.Sums]:
    """A fresh provider and the requests counter's Sums on it."""
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    return reader, _sums.sums(meter, NAME, om.observe_otel_llm_client_requests)


def test_totals_per_attribute_set_are_exported_as_a_monotonic_sum() -> None:
    """Adds to the same attributes accumulate; other attributes are another series."""
    reader, counter = setup()
    for _ in range(3):
        counter.add(1, {"outcome": "success", "model": "m"})
    counter.add(2, {"outcome": "error", "model": "m"})
    assert points(reader) == {
        frozenset({("outcome", "success"), ("model", "m")}): 3,
        frozenset({("outcome", "error"), ("model", "m")}): 2,
    }
    counter.add(1, {"outcome": "error", "model": "m"})
    assert points(reader)[frozenset({("outcome", "error"), ("model", "m")})] == 3  # cumulative


def test_same_attributes_in_another_order_are_one_series() -> None:
    """Key order differs between call sites; the SDK sees one series with the summed value."""
    reader, counter = setup()
    counter.add(1, {"a": "x", "b": "y"})
    counter.add(4, {"b": "y", "a": "x"})
    assert points(reader) == {frozenset({("a", "x"), ("b", "y")}): 5}


def test_list_values_and_negative_amounts() -> None:
    """A list value still counts (as a sequence); a negative amount is dropped like the SDK's."""
    reader, counter = setup()
    counter.add(1, {"kinds": ["a", "b"]})
    counter.add(1, {"kinds": ("a", "b")})
    counter.add(-5, {"kinds": ("a", "b")})
    assert points(reader) == {frozenset({("kinds", ("a", "b"))}): 2}


def test_series_beyond_the_limit_go_to_the_overflow_series(monkeypatch: Any) -> None:
    """Unbounded attribute values cannot grow memory without bound."""
    monkeypatch.setattr(_sums, "MAX_SERIES", 3)
    reader, counter = setup()
    for index in range(10):
        counter.add(1, {"id": str(index)})
    found = points(reader)
    assert len(found) == 4
    assert found[frozenset({("otel.metric.overflow", True)})] == 7


def test_instrumenting_again_on_the_same_meter_reuses_the_sums() -> None:
    """The SDK keeps the first callback of a name, so a second Sums would never be read."""
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    first = _sums.sums(meter, NAME, om.observe_otel_llm_client_requests)
    second = _sums.sums(meter, NAME, om.observe_otel_llm_client_requests)
    assert first is second
    second.add(1, {})
    assert points(reader) == {frozenset(): 1}


def test_concurrent_adds_are_not_lost() -> None:
    """Eight threads adding 5,000 times each: the total is exact."""
    reader, counter = setup()

    def work() -> None:
        for _ in range(5000):
            counter.add(1, {"outcome": "success"})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert points(reader) == {frozenset({("outcome", "success")}): 40_000}


def test_delta_readers_get_the_increase_since_the_last_collection() -> None:
    """Observed cumulative totals still export as deltas to a delta-temporality reader."""
    reader = InMemoryMetricReader(
        preferred_temporality={ObservableCounter: AggregationTemporality.DELTA}
    )
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    counter = _sums.sums(meter, NAME, om.observe_otel_llm_client_requests)
    counter.add(3, {})
    assert points(reader) == {frozenset(): 3}
    counter.add(2, {})
    assert points(reader) == {frozenset(): 2}
