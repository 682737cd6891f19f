"""otel-llm's processors run at export: on the batch processor's thread, before its exporter.

Behind an SDK batch processor (BatchSpanProcessor, BatchLogRecordProcessor) the spans and log
records wait in its queue anyway, so the pipeline (upgrade, redaction, cost) need not run on
the application's thread when a span ends: it runs on each batch as the batch processor hands
it to its exporter. The guarantees are those of the inline chain: the exporter sees only what
the pipeline returned (redacted; with content dropped when redaction failed, see each step's
`on_failure`), and a span or record that the pipeline could not process at all is not exported.

For an exporter's own batch processor otel-llm builds `BatchSpanProcessor(SpanExportPipeline(
exporter, steps))` (otel_llm.distro). Given a batch processor that is already built (the public
`build_span_pipeline`, and processors the content guard retrofits), `at_export` swaps the
pipeline in front of its exporter; any other processor gets the inline chain.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence
from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otel_llm._errors import log_internal_error
from otel_llm.processors._base import WrappingLogRecordProcessor, WrappingSpanProcessor

__all__ = ["LogExportPipeline", "SpanExportPipeline", "at_export", "export_steps"]


class SpanExportPipeline(SpanExporter):
    """Runs otel-llm's span processors (`steps`, in order) on each batch, then exports it."""

    def __init__(self, exporter: SpanExporter, steps: Sequence[WrappingSpanProcessor]) -> None:
        self.exporter = exporter
        self.steps = tuple(steps)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Transform each span as the inline chain would, and export what came out."""
        batch: list[ReadableSpan] = []
        for ended in spans:
            span = ended
            try:
                for step in self.steps:
                    span = step.transformed(span)
            except Exception:  # fail closed: a span the pipeline could not process is dropped
                log_internal_error("otel-llm's span pipeline at export")
                continue
            batch.append(span)
        if not batch:
            return SpanExportResult.SUCCESS
        return self.exporter.export(batch)

    def shutdown(self, timeout_millis: float = 30_000) -> None:
        """Shut the exporter down (with the time left, when it takes one)."""
        _shutdown(self.exporter, timeout_millis)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the exporter."""
        return self.exporter.force_flush(timeout_millis)


class LogExportPipeline(LogRecordExporter):
    """Runs otel-llm's log record processors (`steps`) on each batch, then exports it."""

    def __init__(
        self, exporter: LogRecordExporter, steps: Sequence[WrappingLogRecordProcessor]
    ) -> None:
        self.exporter = exporter
        self.steps = tuple(steps)

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Transform each record as the inline chain would, and export what came out.

        A record a step drops (returns None for) is not exported, as inline it is not passed on.
        """
        records: list[ReadableLogRecord] = []
        for emitted in batch:
            try:
                record: LogRecord | None = emitted.log_record
                for step in self.steps:
                    if record is None:
                        break  # a step dropped it (content with capture off): not exported
                    record = step.transformed(record, emitted.instrumentation_scope)
                if record is None:
                    continue
                readable = emitted
                if record is not emitted.log_record:
                    readable = dataclasses.replace(emitted, log_record=record)
            except Exception:  # fail closed, as for spans
                log_internal_error("otel-llm's log pipeline at export")
                continue
            records.append(readable)
        if not records:
            return LogRecordExportResult.SUCCESS
        return self.exporter.export(records)

    def shutdown(self, timeout_millis: float = 30_000) -> None:
        """Shut the exporter down (with the time left, when it takes one)."""
        _shutdown(self.exporter, timeout_millis)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the exporter."""
        return self.exporter.force_flush(timeout_millis)


def _shutdown(exporter: Any, timeout_millis: float) -> None:
    # The SDK's batch processor passes the time left only to exporters that take it.
    if "timeout_millis" in inspect.signature(exporter.shutdown).parameters:
        exporter.shutdown(timeout_millis=timeout_millis)
    else:
        exporter.shutdown()


def _batch(processor: object) -> Any:
    """The SDK batch processor's inner BatchProcessor, when `processor` is exactly the SDK's."""
    # Exactly: a subclass may do more on end than queue. The inner object and its `_exporter`
    # are private to the SDK (1.34 and later), so both are checked before being relied on.
    if type(processor) not in (BatchSpanProcessor, BatchLogRecordProcessor):
        return None
    inner = getattr(processor, "_batch_processor", None)
    exporter = getattr(inner, "_exporter", None)
    return inner if isinstance(exporter, SpanExporter | LogRecordExporter) else None


def export_steps(processor: object) -> tuple[Any, ...] | None:
    """The steps an SDK batch processor runs at export (None: it runs no pipeline of ours)."""
    exporter = getattr(_batch(processor), "_exporter", None)
    if isinstance(exporter, SpanExportPipeline | LogExportPipeline):
        return exporter.steps
    return None


def at_export(processor: object, steps: Sequence[Any]) -> bool:
    """Put `steps` in front of the exporter of SDK batch `processor`; False when it is not one.

    A batch processor that already runs a pipeline of ours with these steps is left as it is.
    """
    inner = _batch(processor)
    if inner is None:
        return False
    exporter = inner._exporter
    if isinstance(exporter, SpanExportPipeline | LogExportPipeline):
        # Already ours: enough if it runs every step asked for, else the chain goes in front.
        return {type(step) for step in steps} <= {type(step) for step in exporter.steps}
    if isinstance(processor, BatchSpanProcessor):
        inner._exporter = SpanExportPipeline(exporter, steps)
    else:
        inner._exporter = LogExportPipeline(exporter, steps)
    return True
