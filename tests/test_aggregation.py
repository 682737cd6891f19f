"""Tests for otel_llm._aggregation: a stream's gaps in one measurement, the same histogram."""

from __future__ import annotations

import random
from typing import Any

import pytest
from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
)

from otel_llm._aggregation import Gaps, metric_views, takes_gaps
from otel_llm._cardinality import Capping
from otel_llm._instruments import SCOPE_NAME
from otel_llm.semconv.metrics import gen_ai as gm

NAME = gm.GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK
ATTRIBUTES = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}


def _points(reader: InMemoryMetricReader) -> list[tuple[Any, ...]]:
    data = reader.get_metrics_data()
    found = []
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    assert isinstance(point, HistogramDataPoint)
                    found.append(
                        (
                            metric.name,
                            dict(point.attributes or {}),
                            point.count,
                            point.sum,
                            tuple(point.bucket_counts),
                            tuple(point.explicit_bounds),
                            point.min,
                            point.max,
                        )
                    )
    return found


def _histogram(views: bool, temporality: AggregationTemporality) -> tuple[Any, Any]:
    reader = InMemoryMetricReader(preferred_temporality={HistogramInstrument: temporality})
    provider = MeterProvider(metric_readers=[reader], views=metric_views() if views else ())
    meter = provider.get_meter(SCOPE_NAME)
    histogram = Capping(meter, 100).histogram(
        NAME, gm.create_gen_ai_client_inference_time_per_output_chunk
    )
    return reader, histogram


@pytest.mark.parametrize(
    "temporality", [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]
)
def test_gaps_in_one_measurement_export_what_one_record_per_gap_did(
    temporality: AggregationTemporality,
) -> None:
    """Buckets (the instrument's advice), count, sum, min and max equal one record per gap."""
    streams = random.Random(7)  # noqa: S311 - test data, not a secret
    batches = [[streams.expovariate(40) for _ in range(streams.randint(1, 60))] for _ in range(20)]
    direct_reader, direct = _histogram(views=False, temporality=temporality)
    bulk_reader, bulk = _histogram(views=True, temporality=temporality)
    for round_ in range(2):  # a second collection: delta resets, cumulative accumulates
        for gaps in batches[round_ * 10 : round_ * 10 + 10]:
            for gap in gaps:
                direct.record(gap, ATTRIBUTES)
            first, *rest = gaps
            bulk.record(first, ATTRIBUTES)  # the SDK builds the aggregation on a first record
            if rest:
                assert takes_gaps(bulk)
                bulk.record(Gaps(rest), ATTRIBUTES)
        assert _points(bulk_reader) == _points(direct_reader)
    assert not takes_gaps(direct)


def test_a_histogram_outside_otel_llms_view_never_takes_gaps() -> None:
    """Without the View (a MeterProvider otel-llm did not build) every gap is its own record."""
    _, histogram = _histogram(views=False, temporality=AggregationTemporality.CUMULATIVE)
    histogram.record(0.1, ATTRIBUTES)
    assert not takes_gaps(histogram)


def test_another_histogram_aggregation_asked_for_keeps_the_sdks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exponential-histogram preference gets no View (it would be overridden)."""
    variable = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"
    monkeypatch.setenv(variable, "base2_exponential_bucket_histogram")
    assert metric_views() == []
    monkeypatch.setenv(variable, "explicit_bucket_histogram")
    assert len(metric_views()) == 1


def test_gaps_value_is_their_sum() -> None:
    """A Gaps measurement passes the SDK's checks as a finite, non-negative float."""
    gaps = Gaps([0.25, 0.5])
    assert float(gaps) == 0.75
    assert gaps.values == (0.25, 0.5)
