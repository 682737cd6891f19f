"""Shared fixtures: the repository root, the semconv registry, and in-memory telemetry."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm import _reaper
from otel_llm._errors import raise_internal_errors
from otel_llm._telemetry import Telemetry, set_telemetry
from otel_llm.config import Settings
from semconvgen.model import Registry, load_registry

REPO_ROOT = Path(__file__).resolve().parents[1]

# Our tests must fail on otel-llm's own bugs, which production only logs. Asked for explicitly:
# an application's test suite keeps production's behaviour.
raise_internal_errors()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The semconv/ registry, loaded and validated once per session."""
    return load_registry(REPO_ROOT / "semconv")


@dataclass
class Captured:
    """In-memory exporters behind the active Telemetry, for asserting on what was emitted."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    logs: InMemoryLogRecordExporter
    telemetry: Telemetry
    providers: dict[str, Any]
    """tracer_provider, meter_provider and logger_provider, as instrument() takes them."""

    def finished_spans(self) -> list[Any]:
        """Spans ended so far, in end order (typed Any: tests index their attributes freely).

        Dropped streams' calls are ended on a worker: those dropped so far are waited for.
        """
        _reaper.flush()
        spans: list[ReadableSpan] = list(self.spans.get_finished_spans())
        return spans

    def metric_points(self, name: str) -> list[Any]:
        """Data points recorded so far for metric `name` (empty when none)."""
        _reaper.flush()
        data = self.metrics.get_metrics_data()
        points: list[Any] = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def events(self, name: str | None = None) -> list[Any]:
        """Log records emitted so far (optionally only those with event_name `name`)."""
        _reaper.flush()
        records = [d.log_record for d in self.logs.get_finished_logs()]
        return [r for r in records if name is None or r.event_name == name]


def make_captured(settings: Settings | None = None) -> Captured:
    """Build in-memory providers and a Telemetry on them (not installed)."""
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    telemetry = Telemetry.create(tracer_provider, meter_provider, logger_provider, settings)
    providers = {
        "tracer_provider": tracer_provider,
        "meter_provider": meter_provider,
        "logger_provider": logger_provider,
    }
    return Captured(
        spans=spans, metrics=reader, logs=logs, telemetry=telemetry, providers=providers
    )


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Install an in-memory Telemetry as the active one for the test, and remove it after."""
    result = make_captured()
    set_telemetry(result.telemetry)
    try:
        yield result
    finally:
        set_telemetry(None)
