"""The one place that composes otel-llm's default processor chain around an exporter's processor."""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor

from otel_llm.config import Settings, get_settings


def build_span_pipeline(
    exporter_processor: SpanProcessor, settings: Settings | None = None
) -> SpanProcessor:
    """Upgrade (opt-in) -> redaction -> cost -> `exporter_processor` (e.g. BatchSpanProcessor).

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
    steps: list[Callable[[SpanProcessor], SpanProcessor]] = []
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

    def wrap(exporter_processor: SpanProcessor) -> SpanProcessor:
        processor = exporter_processor
        for step in reversed(steps):
            processor = step(processor)
        return processor

    return wrap


def build_log_pipeline(
    exporter_processor: LogRecordProcessor, settings: Settings | None = None
) -> LogRecordProcessor:
    """Redaction -> `exporter_processor`: GenAI events carry content too."""
    return log_pipeline(settings)(exporter_processor)


def log_pipeline(
    settings: Settings | None = None,
) -> Callable[[LogRecordProcessor], LogRecordProcessor]:
    """build_log_pipeline as a function of the exporter's processor, the redactor built once."""
    settings = settings or get_settings()
    if not settings.redaction_enabled:
        return _unchanged
    from otel_llm.processors.redaction import RedactionLogRecordProcessor  # noqa: PLC0415
    from otel_llm.redaction import Redactor  # noqa: PLC0415

    redactor = Redactor.from_settings(settings)
    if redactor is None:
        return _unchanged
    budget = settings.max_content_bytes
    return lambda processor: RedactionLogRecordProcessor(processor, redactor, max_bytes=budget)


def _unchanged(processor: LogRecordProcessor) -> LogRecordProcessor:
    return processor
