"""The one place that composes otel-llm's default processor chain around an exporter's processor."""

from __future__ import annotations

from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor

from otel_llm.config import Settings, get_settings


def build_span_pipeline(
    exporter_processor: SpanProcessor, settings: Settings | None = None
) -> SpanProcessor:
    """Upgrade (opt-in) -> redaction -> cost -> `exporter_processor` (e.g. BatchSpanProcessor).

    Configuration files (redaction config, price overrides) are read here, so a bad file stops
    start-up with a ConfigError naming it. A step that is turned off is not even imported (the
    price data and the redaction engine take a tenth of a second to load).
    """
    settings = settings or get_settings()
    processor = exporter_processor
    if settings.cost_enabled:
        from otel_llm.cost import PriceBook  # noqa: PLC0415
        from otel_llm.processors.cost import CostSpanProcessor  # noqa: PLC0415

        processor = CostSpanProcessor(processor, PriceBook.from_settings(settings))
    if settings.redaction_enabled:
        from otel_llm.processors.redaction import RedactionSpanProcessor  # noqa: PLC0415
        from otel_llm.redaction import Redactor  # noqa: PLC0415

        redactor = Redactor.from_settings(settings)
        if redactor is not None:
            processor = RedactionSpanProcessor(processor, redactor)
    if settings.semconv_upgrade:
        from otel_llm.processors.upgrade import SemconvUpgradeSpanProcessor  # noqa: PLC0415

        processor = SemconvUpgradeSpanProcessor(processor)
    return processor


def build_log_pipeline(
    exporter_processor: LogRecordProcessor, settings: Settings | None = None
) -> LogRecordProcessor:
    """Redaction -> `exporter_processor`: GenAI events carry message content too."""
    settings = settings or get_settings()
    if not settings.redaction_enabled:
        return exporter_processor
    from otel_llm.processors.redaction import RedactionLogRecordProcessor  # noqa: PLC0415
    from otel_llm.redaction import Redactor  # noqa: PLC0415

    redactor = Redactor.from_settings(settings)
    if redactor is None:
        return exporter_processor
    return RedactionLogRecordProcessor(exporter_processor, redactor)
