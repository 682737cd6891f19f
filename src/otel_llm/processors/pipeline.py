"""The one place that composes otel-llm's default processor chain around an exporter's processor.

Around an SDK batch processor the chain runs at export, on the batch processor's thread (see
otel_llm.processors._export); around any other processor it runs inline, as each span ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter

from otel_llm.config import Settings, get_settings
from otel_llm.processors._base import WrappingLogRecordProcessor, WrappingSpanProcessor
from otel_llm.processors._export import LogExportPipeline, SpanExportPipeline, at_export


def build_span_pipeline(
    exporter_processor: SpanProcessor, settings: Settings | None = None
) -> SpanProcessor:
    """Upgrade (opt-in) -> redaction -> cost -> `exporter_processor` (e.g. BatchSpanProcessor).

    For the SDK's BatchSpanProcessor the chain is put in front of its exporter, so it runs on
    the batch processor's thread (the same processor is returned); any other processor is
    wrapped, and the chain runs as each span ends.

    Without `settings`, the process's (get_settings(): a bad variable or file there has already
    been logged and replaced by the safe mode). Files named in `settings` given in code are read
    here, so a bad one raises a ConfigError naming it. A step that is turned off is not even
    imported (the price data and the redaction engine take a tenth of a second to load).
    """
    return span_pipeline(settings)(exporter_processor)


def span_pipeline(settings: Settings | None = None) -> Callable[[SpanProcessor], SpanProcessor]:
    """build_span_pipeline as a function of the exporter's processor, its data loaded once.

    For wrapping several processors (one per exporter) with one price book and one redactor.
    """
    steps = _span_steps(settings or get_settings())
    exported = [step(_DISCARD) for step in steps]  # what runs at export, shared by exporters

    def wrap(exporter_processor: SpanProcessor) -> SpanProcessor:
        if exported and at_export(exporter_processor, exported):
            return exporter_processor
        processor = exporter_processor
        for step in reversed(steps):
            processor = step(processor)
        return processor

    return wrap


def span_export_pipeline(
    settings: Settings | None = None,
) -> Callable[[SpanExporter], SpanExporter]:
    """The span pipeline in front of an exporter, for the batch processor otel-llm builds."""
    exported = [step(_DISCARD) for step in _span_steps(settings or get_settings())]
    if not exported:
        return _same
    return lambda exporter: SpanExportPipeline(exporter, exported)


def _span_steps(settings: Settings) -> list[Callable[[SpanProcessor], WrappingSpanProcessor]]:
    steps: list[Callable[[SpanProcessor], WrappingSpanProcessor]] = []
    if settings.semconv_upgrade:
        from otel_llm.processors.upgrade import SemconvUpgradeSpanProcessor  # noqa: PLC0415

        steps.append(SemconvUpgradeSpanProcessor)
    if settings.redaction_enabled:
        from otel_llm.processors.redaction import RedactionSpanProcessor  # noqa: PLC0415
        from otel_llm.redaction import Redactor  # noqa: PLC0415

        redactor = Redactor.from_settings(settings)
        if redactor is not None:
            budget = settings.max_content_bytes
            # Other instrumentations' failure text is content, as our own is.
            keep_failure_text = settings.capture_message_content.on_spans
            steps.append(
                lambda processor: RedactionSpanProcessor(
                    processor, redactor, max_bytes=budget, keep_failure_text=keep_failure_text
                )
            )
    if settings.cost_enabled:
        from otel_llm.cost import PriceBook  # noqa: PLC0415
        from otel_llm.processors.cost import CostSpanProcessor  # noqa: PLC0415

        book = PriceBook.from_settings(settings)
        steps.append(lambda processor: CostSpanProcessor(processor, book))
    return steps


def build_log_pipeline(
    exporter_processor: LogRecordProcessor, settings: Settings | None = None
) -> LogRecordProcessor:
    """Redaction -> `exporter_processor`: GenAI events carry content too."""
    return log_pipeline(settings)(exporter_processor)


def log_pipeline(
    settings: Settings | None = None,
) -> Callable[[LogRecordProcessor], LogRecordProcessor]:
    """build_log_pipeline as a function of the exporter's processor, the redactor built once.

    As for spans: at export behind the SDK's BatchLogRecordProcessor, inline otherwise.
    """
    step = _log_step(settings or get_settings())
    if step is None:
        return _same
    exported = [step(_DISCARD)]

    def wrap(exporter_processor: LogRecordProcessor) -> LogRecordProcessor:
        if at_export(exporter_processor, exported):
            return exporter_processor
        return step(exporter_processor)

    return wrap


def log_export_pipeline(
    settings: Settings | None = None,
) -> Callable[[LogRecordExporter], LogRecordExporter]:
    """The log pipeline in front of an exporter, for the batch processor otel-llm builds."""
    step = _log_step(settings or get_settings())
    if step is None:
        return _same
    exported = [step(_DISCARD)]
    return lambda exporter: LogExportPipeline(exporter, exported)


def _log_step(
    settings: Settings,
) -> Callable[[LogRecordProcessor], WrappingLogRecordProcessor] | None:
    if not settings.redaction_enabled:
        return None
    from otel_llm.processors.redaction import RedactionLogRecordProcessor  # noqa: PLC0415
    from otel_llm.redaction import Redactor  # noqa: PLC0415

    redactor = Redactor.from_settings(settings)
    if redactor is None:
        return None
    budget = settings.max_content_bytes
    return lambda processor: RedactionLogRecordProcessor(processor, redactor, max_bytes=budget)


_T = TypeVar("_T")


def _same(value: _T) -> _T:
    return value


class _Discard(SpanProcessor, LogRecordProcessor):
    """The `next` of the steps that run at export: they hand their output back, not on."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Nothing to do."""

    def on_end(self, span: ReadableSpan) -> None:
        """Nothing to do."""

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Nothing to do."""

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True


_DISCARD = _Discard()
