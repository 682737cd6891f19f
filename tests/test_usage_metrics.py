"""Tests for otel_llm._usage_metrics: the one rule for token usage metrics."""

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)

from otel_llm._instruments import Instruments
from otel_llm._usage_metrics import record_token_usage, usage_from_attributes
from otel_llm.instrumentation.types import Usage
from otel_llm.semconv.attributes import gen_ai as ga


def _points(usage: Usage) -> dict[str, float]:
    reader = InMemoryMetricReader()
    instruments = Instruments.create(MeterProvider(metric_readers=[reader]).get_meter("t"))
    record_token_usage(instruments, usage, {"c": "1"}, {"h": "1"}, None)
    instruments.deferred.drain()
    data = reader.get_metrics_data()
    found: dict[str, float] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if isinstance(point, NumberDataPoint):
                        found[metric.name] = point.value
                    elif isinstance(point, HistogramDataPoint):
                        found[metric.name] = point.sum
    return found


def test_missing_usage_counts_zero_input_and_output_and_records_no_histogram() -> None:
    """No usage: the input/output counters get 0, the per-call histograms nothing."""
    found = _points(Usage())
    assert not any("operation" in name for name in found)
    assert all(value == 0 for value in found.values())


def test_cache_and_reasoning_tokens_are_counted_only_when_non_zero() -> None:
    """Zero cache or reasoning tokens open no series; non-zero ones are counted."""
    zero = _points(Usage(input_tokens=3, output_tokens=2, cache_read_tokens=0))
    some = _points(Usage(input_tokens=3, output_tokens=2, cache_read_tokens=5))
    assert len(some) > len(zero)
    assert 5 in some.values()


_USAGE_KEYS = (
    ga.GEN_AI_USAGE_INPUT_TOKENS,
    ga.GEN_AI_USAGE_OUTPUT_TOKENS,
    ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    ga.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)


def test_usage_from_attributes_reads_every_count_in_current_names() -> None:
    """Each of the five usage attributes lands in its own Usage field."""
    usage = usage_from_attributes(dict(zip(_USAGE_KEYS, (10, 20, 30, 40, 50), strict=True)))
    assert usage == Usage(10, 20, 30, 40, 50)


def test_usage_from_attributes_reads_only_whole_non_negative_counts() -> None:
    """Floats, strings, booleans and negative numbers (others' spans carry them) are no count."""
    odd = (3.0, "4", True, -5, None)
    usage = usage_from_attributes(dict(zip(_USAGE_KEYS, odd, strict=True)))
    assert usage == Usage()
