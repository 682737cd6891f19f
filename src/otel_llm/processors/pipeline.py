"""The one place that composes otel-llm's default processor chain around an exporter's processor.

Around an SDK batch processor the chain runs at export, on the batch processor's thread (see
otel_llm.processors._export); around any other processor it runs inline, as each span ends.
The derived metrics of other instrumentations' spans (otel_llm.processors.foreign) always run
inline, in front of the exporter's processor: they need each span's start (its parent context),
which no exporter sees.
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
    """Content drop -> upgrade -> derived metrics -> redaction -> cost -> `exporter_processor`.

    `exporter_processor` is e.g. a BatchSpanProcessor. The content drop is there while content
    capture on spans is off (other libraries' message content never leaves the process then).

    For the SDK's BatchSpanProcessor every step but the derived metrics is put in front of its
    exporter, so it runs on the batch processor's thread; the derived metrics wrap the batch
    processor (they read the names upgraded, the upgrade step not having run yet). Any other
    processor is wrapped by the whole chain, which runs as each span ends.

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
    settings = settings or get_settings()
    steps = _span_steps(settings)
    exported = [step(_DISCARD) for step in steps]  # what runs at export, shared by exporters
    # Inline, the derived metrics go after the content drop and the upgrade (reading names
    # upgraded themselves when no upgrade step runs).
    inline: list[Callable[[SpanProcessor], SpanProcessor]] = [*steps]
    before = (not settings.capture_message_content.on_spans) + settings.semconv_upgrade
    inline.insert(before, _derived_metrics if settings.semconv_upgrade else derived_metrics)

    def wrap(exporter_processor: SpanProcessor) -> SpanProcessor:
        if exported and at_export(exporter_processor, exported):
            return derived_metrics(exporter_processor)
        processor = exporter_processor
        for step in reversed(inline):
            processor = step(processor)
        return processor

    return wrap


def derived_metrics(processor: SpanProcessor) -> SpanProcessor:
    """The derived metrics in front of `processor`, reading other libraries' names upgraded.

    For a batch processor whose chain runs at export (the upgrade step has not run yet on
    the spans it is handed), and wherever no upgrade step runs before it. One per exporter's
    processor, as the rest of the chain: the ledger counts each span once.
    """
    from otel_llm.processors.foreign import DerivedMetricsSpanProcessor  # noqa: PLC0415
    from otel_llm.processors.upgrade import upgraded_attributes  # noqa: PLC0415

    return DerivedMetricsSpanProcessor(processor, normalise=upgraded_attributes)


def _derived_metrics(processor: SpanProcessor) -> SpanProcessor:
    """The derived metrics in front of `processor`, behind the upgrade step (names current)."""
    from otel_llm.processors.foreign import DerivedMetricsSpanProcessor  # noqa: PLC0415

    return DerivedMetricsSpanProcessor(processor)


def span_export_pipeline(
    settings: Settings | None = None,
) -> Callable[[SpanExporter], SpanExporter]:
    """The span pipeline in front of an exporter, for the batch processor otel-llm builds.

    The batch processor goes behind `derived_metrics`, which runs inline.
    """
    exported = [step(_DISCARD) for step in _span_steps(settings or get_settings())]
    if not exported:
        return _same
    return lambda exporter: SpanExportPipeline(exporter, exported)


def _span_steps(settings: Settings) -> list[Callable[[SpanProcessor], WrappingSpanProcessor]]:
    steps: list[Callable[[SpanProcessor], WrappingSpanProcessor]] = []
    if not settings.capture_message_content.on_spans:
        # First: no later step (nor the redaction's counters) sees content that must not leave.
        from otel_llm.processors.content import ContentDropSpanProcessor  # noqa: PLC0415

        steps.append(ContentDropSpanProcessor)
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
    """Content drop -> redaction -> `exporter_processor`: GenAI events carry content too.

    The content drop is there while content capture on events is off: it drops other
    libraries' content events whole, and content attributes from other records.
    """
    return log_pipeline(settings)(exporter_processor)


def log_pipeline(
    settings: Settings | None = None,
) -> Callable[[LogRecordProcessor], LogRecordProcessor]:
    """build_log_pipeline as a function of the exporter's processor, the redactor built once.

    As for spans: at export behind the SDK's BatchLogRecordProcessor, inline otherwise.
    """
    steps = _log_steps(settings or get_settings())
    if not steps:
        return _same
    exported = [step(_DISCARD) for step in steps]

    def wrap(exporter_processor: LogRecordProcessor) -> LogRecordProcessor:
        if at_export(exporter_processor, exported):
            return exporter_processor
        processor = exporter_processor
        for step in reversed(steps):
            processor = step(processor)
        return processor

    return wrap


def log_export_pipeline(
    settings: Settings | None = None,
) -> Callable[[LogRecordExporter], LogRecordExporter]:
    """The log pipeline in front of an exporter, for the batch processor otel-llm builds."""
    steps = _log_steps(settings or get_settings())
    if not steps:
        return _same
    exported = [step(_DISCARD) for step in steps]
    return lambda exporter: LogExportPipeline(exporter, exported)


def _log_steps(
    settings: Settings,
) -> list[Callable[[LogRecordProcessor], WrappingLogRecordProcessor]]:
    steps: list[Callable[[LogRecordProcessor], WrappingLogRecordProcessor]] = []
    if not settings.capture_message_content.on_events:
        # First, as for spans; it drops whole records (content events), at export too.
        from otel_llm.processors.content import ContentDropLogRecordProcessor  # noqa: PLC0415

        steps.append(ContentDropLogRecordProcessor)
    if settings.redaction_enabled:
        from otel_llm.processors.redaction import RedactionLogRecordProcessor  # noqa: PLC0415
        from otel_llm.redaction import Redactor  # noqa: PLC0415

        redactor = Redactor.from_settings(settings)
        if redactor is not None:
            budget = settings.max_content_bytes
            steps.append(
                lambda processor: RedactionLogRecordProcessor(processor, redactor, max_bytes=budget)
            )
    return steps


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
