"""Zero-code setup: the distro and configurator `opentelemetry-instrument` loads for otel-llm."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _OTelSDKConfigurator
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from otel_llm._duplicates import disable_duplicates
from otel_llm.config import apply_exporter_defaults, get_settings
from otel_llm.processors.pipeline import log_pipeline, span_pipeline


class OtelLlmConfigurator(_OTelSDKConfigurator):
    """Sets up the SDK from OTEL_* variables, with otel-llm's processors around each exporter."""

    def _configure(self, **kwargs: Any) -> None:
        # A bad variable or file was logged by get_settings(), which then gave the safe mode.
        settings = get_settings()
        span_chain = span_pipeline(settings)  # price data and redactor loaded once, shared
        log_chain = log_pipeline(settings)

        def spans(exporter: SpanExporter, *args: Any, **options: Any) -> SpanProcessor:
            return span_chain(BatchSpanProcessor(exporter))

        def logs(exporter: LogRecordExporter, *args: Any, **options: Any) -> LogRecordProcessor:
            return log_chain(BatchLogRecordProcessor(exporter))

        kwargs.setdefault("export_span_processor", spans)
        kwargs.setdefault("export_log_record_processor", logs)
        super()._configure(**kwargs)  # type: ignore[no-untyped-call]


class OtelLlmDistro(BaseDistro):  # type: ignore[misc]  # untyped base class
    """Defaults every signal's exporter to OTLP, as the OpenTelemetry distro does.

    It also keeps other instrumentations of the SDKs otel-llm instruments from loading, so
    each call is recorded once (otel_llm._duplicates).
    """

    def _configure(self, **kwargs: object) -> None:
        apply_exporter_defaults()
        disable_duplicates()  # before opentelemetry-instrument reads the disabled list
