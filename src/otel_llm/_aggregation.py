"""otel-llm's own aggregation of a stream's chunk gaps: one SDK measurement per stream.

`gen_ai.client.inference.time_per_output_chunk` gets one point per gap between chunks, so a
200-chunk stream made 199 SDK histogram records (each about 4 µs plus 0.8 µs per attribute:
the SDK copies, cleans and hashes the attributes every time, and has no bulk record). Where
otel-llm builds the MeterProvider (configure(), opentelemetry-instrument with otel-llm's
configurator), a View gives that histogram `GapsAggregation`, which takes a stream's gaps as
one measurement (`Gaps`, a float whose value is their sum) and adds each gap to the buckets,
sum, count, min and max exactly as one record per gap would, in the same order. Exported data
is the SDK's explicit-bucket histogram, with the instrument's bucket advice, unchanged.

The engine hands over `Gaps` only to an instrument whose aggregation is this one (it marks the
instrument when the SDK builds it); anywhere else it records each gap, as before. A View is
installed only when the histogram aggregation asked for is the explicit-bucket one (the
default), so an exponential-histogram preference is kept.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.metrics._internal.aggregation import (
    _Aggregation,
    _ExplicitBucketHistogramAggregation,
)
from opentelemetry.sdk.metrics._internal.exemplar import ExemplarReservoirBuilder
from opentelemetry.sdk.metrics._internal.instrument import _Instrument
from opentelemetry.sdk.metrics._internal.measurement import Measurement
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.util.types import Attributes

from otel_llm._instruments import SCOPE_NAME
from otel_llm._settings import standard_variable
from otel_llm.semconv.metrics import gen_ai as gm

__all__ = ["Gaps", "GapsAggregation", "metric_views", "takes_gaps"]

_MARK = "_otel_llm_gaps"
_HISTOGRAM_PREFERENCE = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"


class Gaps(float):
    """A stream's chunk gaps as one measurement: the value is their sum, `values` the gaps."""

    __slots__ = ("values",)

    values: tuple[float, ...]

    def __new__(cls, values: Sequence[float]) -> Gaps:
        """One measurement for `values` (at least one gap)."""
        gaps = super().__new__(cls, sum(values))
        gaps.values = tuple(values)
        return gaps


class _Aggregated(_ExplicitBucketHistogramAggregation):
    """The SDK's explicit-bucket aggregation, taking a `Gaps` measurement as all its gaps."""

    def aggregate(self, measurement: Measurement, should_sample_exemplar: bool = True) -> None:
        """Add one value, or each gap of a `Gaps` (gaps offer no exemplars)."""
        values = getattr(measurement.value, "values", None)
        if values is None:
            super().aggregate(measurement, should_sample_exemplar)
            return
        with self._lock:
            # The SDK declares `_value` as None (it starts so, then holds the bucket counts).
            counts: list[int] | None = self._value
            if counts is None:
                counts = self._get_empty_bucket_counts()
                self._value = counts  # type: ignore[assignment]
            boundaries = self._boundaries
            total, low, high = self._sum, self._min, self._max
            for value in values:  # one at a time, as separate records add them
                total += value
                low = min(low, value)
                high = max(high, value)
                counts[bisect_left(boundaries, value)] += 1
            self._sum = total
            if self._record_min_max:
                self._min, self._max = low, high


class GapsAggregation(ExplicitBucketHistogramAggregation):
    """The explicit-bucket histogram aggregation that also takes a stream's `Gaps` at once."""

    def _create_aggregation(
        self,
        instrument: _Instrument,
        attributes: Attributes,
        reservoir_factory: Callable[[type[_Aggregation[Any]]], ExemplarReservoirBuilder],
        start_time_unix_nano: int,
    ) -> _Aggregation[Any]:
        aggregation = super()._create_aggregation(
            instrument, attributes, reservoir_factory, start_time_unix_nano
        )
        if type(aggregation) is _ExplicitBucketHistogramAggregation:
            aggregation.__class__ = _Aggregated  # same state: only `aggregate` differs
            setattr(instrument, _MARK, True)  # the engine may hand this instrument Gaps
        return aggregation


def takes_gaps(histogram: object) -> bool:
    """Whether `histogram` (the SDK's, or otel-llm's capped wrapper of it) takes `Gaps`."""
    return getattr(getattr(histogram, "_histogram", histogram), _MARK, False) is True


def metric_views() -> list[View]:
    """The Views otel-llm gives a MeterProvider it builds (see the module's docstring).

    None when another histogram aggregation than the explicit-bucket one is asked for.
    """
    preference = (standard_variable(_HISTOGRAM_PREFERENCE) or "").lower()
    if preference not in ("", "explicit_bucket_histogram"):
        return []
    return [
        View(
            instrument_name=gm.GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
            meter_name=SCOPE_NAME,
            aggregation=GapsAggregation(),
        )
    ]
