"""Tests for otel_llm._deferred: metric points made off the calling thread, exactly as if not."""

from __future__ import annotations

import itertools
import os
import threading
import types
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    Histogram,
    HistogramDataPoint,
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, generate_latest

from otel_llm import _deferred, _telemetry
from otel_llm._aggregation import metric_views, takes_gaps
from otel_llm.config import Settings
from otel_llm.instrumentation import _call
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.semconv.metrics import otel_llm as om
from tests.instrumentation import _fakes as fakes

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]


class _Exported(MetricExporter):
    """Keeps every export (cumulative, as OTLP exporters ask by default)."""

    def __init__(self) -> None:
        super().__init__()
        self.exports: list[MetricsData] = []

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.exports.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


class _Clock:
    """A perf_counter that advances by the same steps in every run, so durations match."""

    def __init__(self) -> None:
        self._ticks = itertools.count(1)

    def perf_counter(self) -> float:
        return next(self._ticks) * 0.0137


def _workload() -> None:
    """Calls of every kind, each with its own request model (so its own metric series)."""
    reply = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    words = [f" w{i}" for i in range(12)]
    stream = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks(words))))
    failing = fakes.openai_client(fakes.openai_error(500))
    for index in range(4):
        reply.chat.completions.create(model=f"gpt-4o-mini-{index}", messages=MESSAGES)
        for _ in stream.chat.completions.create(
            model=f"gpt-4o-mini-s{index}", messages=MESSAGES, stream=True
        ):
            pass
        with pytest.raises(openai.InternalServerError):
            failing.chat.completions.create(model=f"gpt-4o-mini-e{index}", messages=MESSAGES)


def _run(
    monkeypatch: pytest.MonkeyPatch, *, direct: bool, views: bool = False
) -> tuple[Any, Any, list[str]]:
    """The workload under a periodic reader and a scraped Prometheus reader at once.

    `direct` records every point on the calling thread, as before points were deferred;
    `views` gives the MeterProvider otel-llm's own aggregation (as configure() does). Returns
    the data points of the periodic reader's last export (after a force_flush), the exemplars
    of all its exports (named by the call whose span they point at) and the last scrape.
    """
    with monkeypatch.context() as patch:
        patch.setattr(_call, "time", types.SimpleNamespace(perf_counter=_Clock().perf_counter))
        if direct:
            patch.setattr(_deferred.Deferred, "add", lambda self, replay, args: replay(*args))
        spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        exported = _Exported()
        registry = CollectorRegistry()
        meter_provider = MeterProvider(
            metric_readers=[
                PeriodicExportingMetricReader(exported, export_interval_millis=5),
                PrometheusMetricReader(registry=registry),
            ],
            views=metric_views() if views else (),
        )
        OpenAIInstrumentor().instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            settings=Settings(),
            skip_dep_check=True,
        )
        try:
            with _Scraper(registry):
                _workload()
            gaps = _telemetry.get_telemetry().instruments.time_per_output_chunk
            assert takes_gaps(gaps) is views  # each stream's gaps in one measurement, or not
        finally:
            OpenAIInstrumentor().uninstrument()
        meter_provider.force_flush()
        # Series come in the order the SDK first saw them, which differs: compare the lines.
        scrape = sorted(generate_latest(registry).decode().splitlines())
        exports = exported.exports
        meter_provider.shutdown()
        calls = list(spans.get_finished_spans())
        return _points(exports[-1]), _exemplars(exports, calls), scrape


class _Scraper:
    """Scrapes the Prometheus registry over and over on another thread while the block runs."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._scrape, daemon=True)

    def _scrape(self) -> None:
        while not self._stop.is_set():
            generate_latest(self._registry)

    def __enter__(self) -> _Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def _metrics(data: MetricsData) -> Iterator[tuple[Any, Any]]:
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    yield metric, point


def _points(data: MetricsData) -> dict[tuple[str, frozenset[Any]], Any]:
    """Every data point by (metric, attributes): its value, or a histogram's whole state."""
    found: dict[tuple[str, frozenset[Any]], Any] = {}
    for metric, point in _metrics(data):
        key = (metric.name, frozenset((point.attributes or {}).items()))
        if isinstance(metric.data, Histogram):
            buckets = tuple(point.bucket_counts)
            found[key] = (point.count, point.sum, buckets, point.min, point.max)
        else:
            found[key] = point.value
    return found


def _exemplars(exports: list[MetricsData], calls: list[Any]) -> list[Any]:
    """Every exemplar exported (a collection hands each on once), named by its call's index.

    Each also says whether its trace id is that call's and its value is the point's only one.
    """
    index = {span.context.span_id: number for number, span in enumerate(calls)}
    found = []
    for data in exports:
        for metric, point in _metrics(data):
            model = (point.attributes or {}).get("gen_ai.request.model")
            for exemplar in point.exemplars:
                call = calls[index[exemplar.span_id]]
                found.append(
                    (
                        metric.name,
                        index[exemplar.span_id],
                        exemplar.value,
                        exemplar.trace_id == call.context.trace_id,
                        call.attributes["gen_ai.request.model"] == model,
                    )
                )
    return sorted(found)


def test_deferred_points_export_exactly_what_direct_recording_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deferred points equal direct recording's, under periodic and Prometheus readers at once.

    The same points, sums, buckets and exemplars (each on its call's own span), while a
    periodic reader exports every 5 ms and another thread scrapes Prometheus throughout.
    """
    points, exemplars, scrape = _run(monkeypatch, direct=True)
    assert _run(monkeypatch, direct=False) == (points, exemplars, scrape)
    # otel-llm's own aggregation of the chunk gaps (configure()'s View) changes nothing either.
    assert _run(monkeypatch, direct=False, views=True) == (points, exemplars, scrape)
    assert {
        "gen_ai.client.inference.duration",
        "gen_ai.client.inference.time_to_first_chunk",
        "gen_ai.client.inference.time_per_output_chunk",
        "gen_ai.client.inference.operation.input_tokens",
        "otel_llm.client.request.cost",
        "otel_llm.client.requests",
        "otel_llm.client.cost",
    } <= {name for name, _ in points}
    # Every exemplar points at its own call's span, in its trace (chunk gaps offer none).
    assert exemplars
    assert all(same_trace and same_call for *_, same_trace, same_call in exemplars)
    assert "gen_ai.client.inference.time_per_output_chunk" not in {e[0] for e in exemplars}


def _collected(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    return [
        point
        for resource in (data.resource_metrics if data else ())
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


@pytest.fixture
def meter() -> Iterator[tuple[InMemoryMetricReader, Any]]:
    """A fresh meter behind an in-memory reader."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    yield reader, provider.get_meter("test")
    provider.shutdown()


def test_a_full_buffer_drops_records_and_counts_them(
    meter: tuple[InMemoryMetricReader, Any],
) -> None:
    """Past its capacity the buffer drops, and otel_llm.metric.dropped says how many."""
    reader, on = meter
    buffer = _deferred.deferred(on)
    buffer.capacity = 3
    counter = on.create_counter("made")
    for _ in range(5):
        buffer.add(counter.add, (1,))
    assert len(buffer) <= 3
    (made,) = _collected(reader, "made")
    (dropped,) = _collected(reader, om.OTEL_LLM_METRIC_DROPPED)
    assert made.value + dropped.value == 5
    assert dropped.value == buffer.dropped >= 1


def test_nothing_dropped_reports_no_drop_series(meter: tuple[InMemoryMetricReader, Any]) -> None:
    """The drop counter appears only once something was dropped."""
    reader, on = meter
    _deferred.deferred(on).add(on.create_counter("made").add, (1,))
    assert _collected(reader, "made")[0].value == 1
    assert _collected(reader, om.OTEL_LLM_METRIC_DROPPED) == []


def test_one_buffer_per_meter(meter: tuple[InMemoryMetricReader, Any]) -> None:
    """Instrumenting again on the same meter reuses its buffer (the SDK keeps its callback)."""
    _, on = meter
    assert _deferred.deferred(on) is _deferred.deferred(on)


def test_force_flush_and_shutdown_export_every_record() -> None:
    """A periodic reader's force_flush, then its shutdown, export what was buffered before."""
    exported = _Exported()
    provider = MeterProvider(
        metric_readers=[PeriodicExportingMetricReader(exported, export_interval_millis=60_000)]
    )
    on = provider.get_meter("test")
    buffer, histogram = _deferred.deferred(on), on.create_histogram("latency")
    buffer.add(histogram.record, (1.0,))
    assert provider.force_flush()
    buffer.add(histogram.record, (2.0,))
    provider.shutdown()
    counts = [
        point.count
        for data in exported.exports
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "latency"
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    ]
    assert counts[0] == 1
    assert counts[-1] == 2


def test_the_drainer_replays_without_a_collection(meter: tuple[InMemoryMetricReader, Any]) -> None:
    """A batch wakes the drainer, which replays on its own thread (the buffer stays bounded)."""
    _, on = meter
    buffer = _deferred.deferred(on)
    replayed = threading.Event()
    seen: list[str] = []

    def replay(index: int) -> None:
        seen.append(threading.current_thread().name)
        if index == _deferred.BATCH:
            replayed.set()

    for index in range(_deferred.BATCH + 1):
        buffer.add(replay, (index,))
    assert replayed.wait(60)
    assert set(seen) == {"otel-llm-metrics"}


def test_collections_racing_the_drainer_lose_and_double_nothing(
    meter: tuple[InMemoryMetricReader, Any],
) -> None:
    """Writers, the drainer and collections on other threads at once: every record counted once.

    Collections wait for a replay in progress rather than the other way round, so none of the
    threads blocks for good (each is joined, and must have finished).
    """
    reader, on = meter
    buffer = _deferred.deferred(on)
    histogram = on.create_histogram("latency")
    writers, per_writer = 4, 2_000
    done = threading.Event()

    def write() -> None:
        for index in range(per_writer):
            buffer.add(histogram.record, (float(index % 7),))

    def collect() -> None:
        while not done.is_set():
            reader.collect()

    def drain() -> None:
        while not done.is_set():
            buffer.drain()

    others = [threading.Thread(target=collect), threading.Thread(target=drain)]
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in [*others, *threads]:
        thread.start()
    for thread in threads:
        thread.join(120)
    done.set()
    for thread in others:
        thread.join(120)
    assert not any(thread.is_alive() for thread in [*others, *threads])
    (point,) = _collected(reader, "latency")
    assert point.count + buffer.dropped == writers * per_writer


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_with_an_empty_buffer_of_its_own(
    meter: tuple[InMemoryMetricReader, Any],
) -> None:
    """The child's buffer is empty (the parent reports its own), with working locks and drainer."""
    reader, on = meter
    buffer = _deferred.deferred(on)
    counter = on.create_counter("made")
    buffer.add(counter.add, (1,))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it sees through the pipe, then leave at once
        status = 1
        try:
            empty = len(buffer) == 0
            done = threading.Event()
            for _ in range(_deferred.BATCH + 1):
                buffer.add(done.set, ())
            os.write(write, b"ok" if empty and done.wait(60) else b"no")
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    answer = os.read(read, 2)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert (answer, status) == (b"ok", 0)
    assert _collected(reader, "made")[0].value == 1  # the parent's record is the parent's


def test_a_collection_holds_every_call_made_before_it_with_no_drainer_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the drainer never started, a collection still replays every call made before it.

    Counted both by the SDK's histograms and by the in-process counters the SDK observes.
    """
    monkeypatch.setattr(_deferred.Deferred, "_start", lambda self: None)
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer_provider = TracerProvider()
    OpenAIInstrumentor().instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        settings=Settings(),
        skip_dep_check=True,
    )
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        buffer = _telemetry.get_telemetry().instruments.deferred
        assert len(buffer) > 0  # nothing replayed yet
        (duration,) = _collected(reader, "gen_ai.client.inference.duration")
        (requests,) = _collected(reader, "otel_llm.client.requests")
        (cost,) = _collected(reader, "otel_llm.client.request.cost")
    finally:
        OpenAIInstrumentor().uninstrument()
        meter_provider.shutdown()
    assert (duration.count, requests.value, cost.count) == (3, 3, 3)
    assert len(buffer) == 0


def test_buffered_records_keep_the_calls_span_context_not_its_span(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Records waiting in the buffer hold no span (its attributes, its content) alive.

    Their exemplars need only the span's ids, and a hung exporter must not see the memory of
    the spans it dropped kept by the metrics instead.
    """
    monkeypatch.setattr(_deferred.Deferred, "_start", lambda self: None)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    OpenAIInstrumentor().instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        settings=Settings(),
        skip_dep_check=True,
    )
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        buffer = _telemetry.get_telemetry().instruments.deferred
        contexts = [
            value
            for _, args in list(buffer._records)
            for value in args
            if isinstance(value, Context)
        ]
    finally:
        OpenAIInstrumentor().uninstrument()
        meter_provider.shutdown()
    assert len(contexts) == 2  # the call's metric points, and its pricing
    for context in contexts:
        span = trace.get_current_span(context)
        assert not isinstance(span, SdkSpan)
        assert span.get_span_context().is_valid
