"""Zero-code setup: the distro and configurator `opentelemetry-instrument` loads for otel-llm."""

from __future__ import annotations

import atexit
import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk import _configuration as sdk_configuration
from opentelemetry.sdk._configuration import _OTelSDKConfigurator
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from otel_llm._aggregation import metric_views
from otel_llm._duplicates import disable_duplicates
from otel_llm.config import apply_exporter_defaults, get_settings
from otel_llm.processors.pipeline import (
    derived_metrics,
    log_export_pipeline,
    span_export_pipeline,
)


class OtelLlmConfigurator(_OTelSDKConfigurator):
    """Sets up the SDK from OTEL_* variables, with otel-llm's pipeline in front of each exporter."""

    def _configure(self, **kwargs: Any) -> None:
        # A bad variable or file was logged by get_settings(), which then gave the safe mode.
        settings = get_settings()
        # Price data and redactor loaded once, shared; the chain runs on each batch processor's
        # thread, in front of its exporter (otel_llm.processors._export), all but the derived
        # metrics, which need each span's start and so run inline, in front of the processor.
        span_chain = span_export_pipeline(settings)
        log_chain = log_export_pipeline(settings)

        def spans(exporter: SpanExporter, *args: Any, **options: Any) -> SpanProcessor:
            return derived_metrics(BatchSpanProcessor(span_chain(exporter)))

        def logs(exporter: LogRecordExporter, *args: Any, **options: Any) -> LogRecordProcessor:
            return BatchLogRecordProcessor(log_chain(exporter))

        kwargs.setdefault("export_span_processor", spans)
        kwargs.setdefault("export_log_record_processor", logs)
        views = metric_views() if settings.own_aggregation else []
        with _meter_provider_views(views):
            super()._configure(**kwargs)  # type: ignore[no-untyped-call]
        # atexit runs the last registered first: this goes before the providers' shutdowns.
        atexit.register(_export_spans_before_metrics)


def _export_spans_before_metrics() -> None:
    """At exit, export the spans still batched before the MeterProvider's last export.

    The SDK's providers shut down in the reverse order of their creation, the tracer provider
    last; but the cost of other libraries' calls is recorded as their spans are exported, so
    a short-lived process would lose its last batch's spend.
    """
    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if callable(flush):
        flush()


@contextlib.contextmanager
def _meter_provider_views(views: list[View]) -> Iterator[None]:
    """The MeterProvider the SDK's configurator builds gets `views` (otel_llm._aggregation).

    Its configurator takes no Views, so the class its module builds the provider with is
    given them for the duration: the provider is the SDK's own, built as it would be.
    """
    built = getattr(sdk_configuration, "MeterProvider", None)
    if not views or built is not MeterProvider:  # not the SDK layout this was written for
        yield
        return
    setattr(sdk_configuration, "MeterProvider", functools.partial(MeterProvider, views=views))  # noqa: B010 - a name the module does not export
    try:
        yield
    finally:
        setattr(sdk_configuration, "MeterProvider", built)  # noqa: B010 - see above


class OtelLlmDistro(BaseDistro):  # type: ignore[misc]  # untyped base class
    """Defaults every signal's exporter to OTLP, as the OpenTelemetry distro does.

    It also keeps other instrumentations of the SDKs otel-llm instruments from loading, so
    each call is recorded once (otel_llm._duplicates).
    """

    def _configure(self, **kwargs: object) -> None:
        apply_exporter_defaults()
        disable_duplicates()  # before opentelemetry-instrument reads the disabled list
