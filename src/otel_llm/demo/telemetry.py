"""The demo's OpenTelemetry pipeline: in memory for the report, OTLP/JSON files, OTLP, /metrics."""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from otel_llm import __version__
from otel_llm.config import Settings, standard_variable
from otel_llm.demo.otlp_json import (
    OtlpJsonFile,
    OtlpJsonLogExporter,
    OtlpJsonSpanExporter,
    write_metrics,
)
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from otel_llm.instrumentation.bedrock import BedrockInstrumentor
from otel_llm.instrumentation.google_genai import GoogleGenAIInstrumentor
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline

__all__ = [
    "DemoTelemetry",
    "RecentLogs",
    "RecentSpans",
    "metric_export_interval_ms",
    "otlp_endpoint",
]

SERVICE_NAME = "support-chatbot"
"""The demo's `service.name` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES name one."""

KEEP = 200_000
"""Spans (and log records) kept in memory for the report; older ones are forgotten."""


DEFAULT_METRIC_EXPORT_INTERVAL_MS = 5_000
"""The demo's OTLP metric export interval unless OTEL_METRIC_EXPORT_INTERVAL sets one (the
SDK's own default, 60 s, is too slow to watch a short demo)."""


def metric_export_interval_ms(env: Mapping[str, str] | None = None) -> int:
    """OTEL_METRIC_EXPORT_INTERVAL (milliseconds) when it is a positive integer, else 5000."""
    value = standard_variable("OTEL_METRIC_EXPORT_INTERVAL", env) or ""
    if value.isdigit() and int(value) > 0:
        return int(value)
    return DEFAULT_METRIC_EXPORT_INTERVAL_MS


def otlp_endpoint(env: Mapping[str, str] | None = None) -> str | None:
    """The OTLP endpoint the standard variables name, if any (then the demo exports there)."""
    return standard_variable("OTEL_EXPORTER_OTLP_ENDPOINT", env) or standard_variable(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", env
    )


class RecentSpans(SpanExporter):
    """Keeps the last `limit` finished spans in memory."""

    def __init__(self, limit: int = KEEP) -> None:
        self._spans: collections.deque[ReadableSpan] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Remember the spans."""
        with self._lock:
            self._spans.extend(spans)
        return SpanExportResult.SUCCESS

    def get(self) -> list[ReadableSpan]:
        """The remembered spans, oldest first."""
        with self._lock:
            return list(self._spans)


class RecentLogs(LogRecordExporter):
    """Keeps the last `limit` log records (GenAI events) in memory."""

    def __init__(self, limit: int = KEEP) -> None:
        self._records: collections.deque[ReadableLogRecord] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Remember the records."""
        with self._lock:
            self._records.extend(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Nothing is buffered."""
        return True

    def get(self) -> list[ReadableLogRecord]:
        """The remembered records, oldest first."""
        with self._lock:
            return list(self._records)


class _FanOutLogs(LogRecordProcessor):
    """Hands every log record to each of several processors."""

    def __init__(self, processors: Sequence[LogRecordProcessor]) -> None:
        self._processors = tuple(processors)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Pass the record on."""
        for processor in self._processors:
            processor.on_emit(log_record)

    def shutdown(self) -> None:
        """Shut every processor down."""
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush every processor."""
        return all(p.force_flush(timeout_millis) for p in self._processors)


def _otlp_exporters() -> tuple[SpanExporter, LogRecordExporter, Any]:
    """OTLP exporters for the protocol OTEL_EXPORTER_OTLP_PROTOCOL names (gRPC by default)."""
    # Imported only when exporting: the gRPC stack is slow to import.
    if (standard_variable("OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc").startswith("http"):
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (  # noqa: PLC0415
            OTLPLogExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415
            OTLPMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )

        return OTLPSpanExporter(), OTLPLogExporter(), OTLPMetricExporter()
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (  # noqa: PLC0415
        OTLPLogExporter as GrpcLogExporter,
    )
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (  # noqa: PLC0415
        OTLPMetricExporter as GrpcMetricExporter,
    )
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter as GrpcSpanExporter,
    )

    return GrpcSpanExporter(), GrpcLogExporter(), GrpcMetricExporter()


class DemoTelemetry:
    """Tracer, meter and logger providers for one demo run, with otel-llm instrumenting both SDKs.

    Every span and event goes through otel-llm's processors (redaction, cost) once, then to
    memory (for the report), to OTLP/JSON files in `output_dir` (unless None), and to OTLP when an
    endpoint is configured. Metrics go to a /metrics endpoint when `prometheus_port` is given
    and to OTLP likewise; a final snapshot is written to `metrics.jsonl`. Nothing is installed
    globally: `close()` uninstruments the SDKs and shuts the providers down.
    """

    def __init__(
        self,
        settings: Settings,
        output_dir: Path | None,
        *,
        prometheus_port: int | None = None,
        prometheus_host: str = "127.0.0.1",
        export_otlp: bool = False,
    ) -> None:
        # Our defaults yield to OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
        from_environment = OTELResourceDetector().detect().attributes
        defaults = {
            "service.name": SERVICE_NAME,
            "service.version": __version__,
            "deployment.environment.name": "demo",
        }
        if standard_variable("OTEL_SERVICE_NAME"):
            del defaults["service.name"]
        resource = Resource.create(
            {key: value for key, value in defaults.items() if key not in from_environment}
        )
        self.spans = RecentSpans()
        self.logs = RecentLogs()
        span_processors: list[Any] = [SimpleSpanProcessor(self.spans)]
        log_processors: list[LogRecordProcessor] = [SimpleLogRecordProcessor(self.logs)]
        self.traces_path = self.logs_path = self.metrics_path = None
        self._files: list[OtlpJsonFile] = []
        if output_dir is not None:
            self.traces_path = output_dir / "traces.jsonl"
            self.logs_path = output_dir / "logs.jsonl"
            self.metrics_path = output_dir / "metrics.jsonl"
            self._files = [
                OtlpJsonFile(p) for p in (self.traces_path, self.logs_path, self.metrics_path)
            ]
            span_processors.append(BatchSpanProcessor(OtlpJsonSpanExporter(self._files[0])))
            log_processors.append(BatchLogRecordProcessor(OtlpJsonLogExporter(self._files[1])))
        self._snapshot = InMemoryMetricReader()
        readers: list[MetricReader] = [self._snapshot]
        if export_otlp:
            span_exporter, log_exporter, metric_exporter = _otlp_exporters()
            span_processors.append(BatchSpanProcessor(span_exporter))
            log_processors.append(BatchLogRecordProcessor(log_exporter))
            readers.append(
                PeriodicExportingMetricReader(metric_exporter, metric_export_interval_ms())
            )
        self._http: Any = None
        if prometheus_port is not None:
            from opentelemetry.exporter.prometheus import (  # noqa: PLC0415 - optional extra
                PrometheusMetricReader,
            )
            from prometheus_client import start_http_server  # noqa: PLC0415

            readers.append(PrometheusMetricReader())
            self._http = start_http_server(prometheus_port, addr=prometheus_host)
            self.prometheus_url = f"http://{prometheus_host}:{self._http[0].server_port}/metrics"
        multi = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
        for processor in span_processors:
            multi.add_span_processor(processor)
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(build_span_pipeline(multi, settings))
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(
            build_log_pipeline(_FanOutLogs(log_processors), settings)
        )
        self.meter_provider = MeterProvider(metric_readers=readers, resource=resource)
        providers = {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
            "settings": settings,
        }
        self._instrumentors: list[Any] = [
            OpenAIInstrumentor(),
            AnthropicInstrumentor(),
            BedrockInstrumentor(),
            GoogleGenAIInstrumentor(),
        ]
        for instrumentor in self._instrumentors:
            instrumentor.instrument(**providers, skip_dep_check=True)

    def flush(self) -> None:
        """Export everything buffered so far (spans, events) to every destination."""
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()

    def close(self) -> None:
        """Uninstrument, write the final metrics snapshot, shut down and free the port."""
        from otel_llm._telemetry import set_telemetry  # noqa: PLC0415

        for instrumentor in self._instrumentors:
            instrumentor.uninstrument()
        set_telemetry(None)
        self.flush()
        data = self._snapshot.get_metrics_data()
        if data is not None and self._files:
            write_metrics(self._files[2], data)
            self._files[2].close()
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()
        if self._http is not None:
            server, thread = self._http
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
