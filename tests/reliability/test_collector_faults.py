"""A collector that is down, hangs, is slow or fails never slows the app or grows its memory.

Each test runs real OpenAI SDK calls (mock HTTP transport) through otel-llm's default span
pipeline (redaction -> cost -> BatchSpanProcessor) to a real OTLP exporter, gRPC or HTTP,
pointed at a misbehaving local collector. Calls alternate with calls whose spans go to the same
pipeline ending in an exporter that does nothing, so machine load affects both sides equally.

Drops are visible through the OpenTelemetry SDK's own metrics (opt-in with
OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED=true): `otel.sdk.processor.span.processed` counts spans
the batch processor handed on or dropped (`error.type=queue_full`), and
`otel.sdk.exporter.operation.duration` has one point per export attempt, marked failed with
`error.type` or (HTTP exporter) `http.response.status_code`. `otel.sdk.exporter.span.exported`
is not used for failures: the HTTP exporter counts spans rejected with a 5xx as exported.
"""

from __future__ import annotations

import gc
import logging
import statistics
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otel_llm._telemetry import get_telemetry, set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors.pipeline import build_span_pipeline
from tests.instrumentation import _fakes as fakes
from tests.reliability import _echo
from tests.reliability._collectors import FAULTS, collector

CALLS = 200
"""Calls per run; half go to the faulty collector (every fourth of those streams)."""
QUEUE = 32
BATCH = 8
EXPORT_TIMEOUT_S = 0.75
"""The exporter's own timeout: an app thread that waited for an export would wait this long.

Below both exporters' shortest retry backoff (0.8 s), so each export is one attempt and its
outcome is recorded at once (the SDK records a retry abandoned at shutdown as a success)."""
INTERNAL_METRICS = "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED"
QUEUE_FULL = {"error.type": "queue_full"}


class _NoExport(SpanExporter):
    """The healthy side: an exporter that accepts everything and does nothing."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class _Switch(SpanProcessor):
    """Routes every span to one of two pipelines; the test flips `use_faulty` between calls."""

    def __init__(self, healthy: SpanProcessor, faulty: SpanProcessor) -> None:
        self.healthy = healthy
        self.faulty = faulty
        self.use_faulty = False
        self.faulty_spans = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        target = self.faulty if self.use_faulty else self.healthy
        target.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if self.use_faulty:
            self.faulty_spans += 1
            self.faulty.on_end(span)
        else:
            self.healthy.on_end(span)


Point = tuple[str, dict[str, Any], int]
"""(metric name, attributes, value): a counter's value or a histogram's count."""


@dataclass
class _Run:
    """What one run measured on the app thread and in the SDK's own metrics."""

    healthy: list[float] = field(default_factory=list)
    faulty: list[float] = field(default_factory=list)
    max_queue: int = 0
    faulty_spans: int = 0
    leftover: int = 0
    export_threads: set[int] = field(default_factory=set)
    points: list[Point] = field(default_factory=list)


@pytest.fixture(autouse=True)
def _quiet_sdk_logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enable the SDK's self-metrics; its export-failure logs are expected here, so mute them."""
    monkeypatch.setenv(INTERNAL_METRICS, "true")
    caplog.set_level(logging.CRITICAL, logger="opentelemetry")


def _exporter(
    protocol: str, endpoint: str, meter_provider: MeterProvider, timeout: float
) -> SpanExporter:
    if protocol == "grpc":
        return GrpcSpanExporter(
            endpoint=endpoint, insecure=True, timeout=timeout, meter_provider=meter_provider
        )
    return HttpSpanExporter(endpoint=endpoint, timeout=timeout, meter_provider=meter_provider)


def _record_export_threads(exporter: SpanExporter, threads: set[int]) -> None:
    """Note the thread of every export() call (the app thread must never be one of them)."""
    original = exporter.export

    def export(spans: Sequence[ReadableSpan]) -> SpanExportResult:
        threads.add(threading.get_ident())
        return original(spans)

    setattr(exporter, "export", export)  # noqa: B010 - instance attribute shadows the method


def _points(reader: InMemoryMetricReader) -> list[Point]:
    points: list[Point] = []
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    value = getattr(point, "value", None)
                    count = getattr(point, "count", 0) if value is None else value
                    points.append((metric.name, dict(point.attributes or {}), int(count)))
    return points


def _total(points: list[Point], name: str, **attributes: Any) -> int:
    """The sum over points of metric `name` whose attributes include `attributes`."""
    return sum(
        value
        for metric, point_attributes, value in points
        if metric == name and all(point_attributes.get(k) == v for k, v in attributes.items())
    )


def _failed(attributes: dict[str, Any]) -> bool:
    # The HTTP exporter reports a non-2xx answer only as a status code, without error.type.
    status = attributes.get("http.response.status_code")
    return "error.type" in attributes or (isinstance(status, int) and status >= 400)


def _operations(points: list[Point], *, failed: bool) -> int:
    """Export operations (attempts to send one batch) that failed, or that succeeded."""
    return sum(
        count
        for name, attributes, count in points
        if name == "otel.sdk.exporter.operation.duration" and _failed(attributes) == failed
    )


def _wait_until_export_is_recorded(reader: InMemoryMetricReader, *, failed: bool) -> None:
    """Give a pending export a few export timeouts to end (a fast run may outpace the first)."""
    deadline = time.monotonic() + 4 * EXPORT_TIMEOUT_S
    while not _operations(_points(reader), failed=failed) and time.monotonic() < deadline:
        time.sleep(0.05)


def _call(client: Any, index: int, padding: str) -> None:
    """One app call: chat completions, streamed for every fourth pair of calls."""
    tag = _echo.messages(f"call-{index}")
    if padding:
        tag = [{"role": "system", "content": padding}, *tag]
    if (index // 2) % 4 == 3:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=tag, stream=True)
        assert len(list(stream)) == 6
    else:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=tag)
        assert reply.id == f"chatcmpl-call-{index}"


def _run(
    protocol: str,
    fault: str,
    *,
    calls: int = CALLS,
    settings: Settings | None = None,
    padding: str = "",
    after_call: Callable[[int], None] | None = None,
    export_timeout: float = EXPORT_TIMEOUT_S,
    queue_size: int = QUEUE,
) -> _Run:
    """Alternate healthy and faulty calls; shut the faulty pipeline down; read its metrics."""
    settings = settings or Settings()
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    run = _Run()
    with collector(protocol, fault) as endpoint:
        exporter = _exporter(protocol, endpoint, meter_provider, export_timeout)
        _record_export_threads(exporter, run.export_threads)
        faulty = BatchSpanProcessor(
            exporter,
            max_queue_size=queue_size,
            schedule_delay_millis=20,
            max_export_batch_size=min(BATCH, queue_size),
            meter_provider=meter_provider,
        )
        healthy = BatchSpanProcessor(
            _NoExport(),
            max_queue_size=QUEUE,
            schedule_delay_millis=20,
            max_export_batch_size=BATCH,
            meter_provider=MeterProvider(),
        )
        switch = _Switch(
            build_span_pipeline(healthy, settings), build_span_pipeline(faulty, settings)
        )
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(switch)
        OpenAIInstrumentor().instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            settings=settings,
            skip_dep_check=True,
        )
        queue = faulty._batch_processor._queue
        try:
            client = fakes.openai_client(_echo.echo_handler)
            for index in range(calls):
                switch.use_faulty = index % 2 == 1
                start = time.perf_counter()
                _call(client, index, padding)
                elapsed = time.perf_counter() - start
                (run.faulty if switch.use_faulty else run.healthy).append(elapsed)
                run.max_queue = max(run.max_queue, len(queue))
                if after_call is not None:
                    after_call(index)
            if export_timeout == EXPORT_TIMEOUT_S:
                _wait_until_export_is_recorded(reader, failed=fault != "slow")
        finally:
            OpenAIInstrumentor().uninstrument()
            set_telemetry(None)
            exporter.shutdown()  # abandons a pending export before the collector goes away
    faulty._batch_processor.shutdown(timeout_millis=5_000)
    healthy.shutdown()  # type: ignore[no-untyped-call]
    run.leftover = len(queue)
    run.faulty_spans = switch.faulty_spans
    run.points = _points(reader)
    return run


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_faulty_collector_never_blocks_calls_and_drops_are_counted(
    protocol: str, fault: str
) -> None:
    """Calls never wait for export, the queue stays bounded, and every span is accounted for.

    The app thread never runs an export; no call takes as long as one export timeout; the median
    call is no slower than thrice the healthy median (plus 2 ms); and the SDK's processor metric
    accounts for every span exactly: handed to the exporter, dropped (queue_full) or left over.
    """
    # A hung collector exports at most one batch per timeout (~11 spans/s here); with a queue of
    # one batch, spans arriving faster than one per ~90 ms must overflow it, whatever the load.
    run = _run(protocol, fault, queue_size=BATCH if fault == "unresponsive" else QUEUE)

    assert run.export_threads, "the exporter was never called"
    assert threading.get_ident() not in run.export_threads
    assert max(run.faulty) < EXPORT_TIMEOUT_S
    healthy_median = statistics.median(run.healthy)
    assert statistics.median(run.faulty) <= 3 * healthy_median + 0.002
    assert run.max_queue <= QUEUE

    processed = "otel.sdk.processor.span.processed"
    handed_on = _total(run.points, processed) - _total(run.points, processed, **QUEUE_FULL)
    dropped = _total(run.points, processed, **QUEUE_FULL)
    assert run.faulty_spans == CALLS // 2
    assert handed_on + dropped + run.leftover == run.faulty_spans
    assert _total(run.points, "otel.sdk.exporter.span.exported") <= handed_on
    succeeded = _operations(run.points, failed=False)
    if fault == "slow":
        assert succeeded >= 1  # slow, but spans still arrive
    else:
        assert succeeded == 0
        assert _operations(run.points, failed=True) >= 1  # each failed export is visible
    if fault == "unresponsive":
        assert dropped > 0  # the hung export let the queue overflow, and that is counted


def test_memory_stays_bounded_while_the_collector_hangs() -> None:
    """With the export hung, 60 more spans of ~12 KB content grow traced memory < 500 KB.

    Keeping those spans takes ~890 KB (measured with an unbounded queue); with the bounded
    queue the growth is a constant ~250 KB of caches, the spans are dropped, and the SDK counts
    each drop.
    """
    settings = Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY)
    queue_size, warmup, traced = 16, 60, 120  # the warm-up fills the queue
    growth: list[int] = []

    def measure(index: int) -> None:
        if index in (warmup - 1, warmup + traced - 1):
            # Metric records waiting for the drainer are bounded elsewhere (tests/test_deferred.py);
            # replayed here, how far a drainer starved by the machine's load got does not count.
            get_telemetry().instruments.deferred.drain()
        if index == warmup - 1:
            gc.collect()
            tracemalloc.start()
            growth.append(-tracemalloc.get_traced_memory()[0])
        elif index == warmup + traced - 1:
            gc.collect()
            growth.append(tracemalloc.get_traced_memory()[0])
            tracemalloc.stop()

    padding = "Answer politely and cite the order history. " * 280  # ~12 KB
    run = _run(
        "grpc",
        "unresponsive",
        calls=warmup + traced,
        settings=settings,
        padding=padding,
        after_call=measure,
        export_timeout=30.0,  # hangs for the whole test; shutdown abandons it
        queue_size=queue_size,
    )
    assert run.max_queue <= queue_size
    dropped = _total(run.points, "otel.sdk.processor.span.processed", **QUEUE_FULL)
    assert dropped >= traced // 2
    assert sum(growth) < 500_000
