"""Zero-code setup: the distro and configurator `opentelemetry-instrument` loads for otel-llm."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _OTelSDKConfigurator
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from otel_llm.config import apply_exporter_defaults, get_settings
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline


class OtelLlmConfigurator(_OTelSDKConfigurator):
    """Sets up the SDK from OTEL_* variables, with otel-llm's processors around each exporter."""

    def _configure(self, **kwargs: Any) -> None:
        settings = get_settings()

        def spans(exporter: SpanExporter, *args: Any, **options: Any) -> SpanProcessor:
            return build_span_pipeline(BatchSpanProcessor(exporter), settings)

        def logs(exporter: LogRecordExporter, *args: Any, **options: Any) -> LogRecordProcessor:
            return build_log_pipeline(BatchLogRecordProcessor(exporter), settings)

        kwargs.setdefault("export_span_processor", spans)
        kwargs.setdefault("export_log_record_processor", logs)
        super()._configure(**kwargs)  # type: ignore[no-untyped-call]


class OtelLlmDistro(BaseDistro):  # type: ignore[misc]  # untyped base class
    """Defaults every signal's exporter to OTLP, as the OpenTelemetry distro does."""

    def _configure(self, **kwargs: object) -> None:
        apply_exporter_defaults()
