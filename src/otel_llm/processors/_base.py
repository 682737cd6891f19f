"""Wrapping processors: an immutable span (or log record) in, a transformed copy to the next one."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, Status

from otel_llm import _reaper
from otel_llm._errors import log_internal_error


@dataclass
class SpanData:
    """The parts of a span a transform may change; everything else is copied unchanged."""

    attributes: dict[str, Any]
    events: list[Event]
    status: Status
    name: str | None = None
    """A new span name (None: the span's own)."""
    links: list[Link] | None = None
    """New links (None: the span's own)."""


def _copy(span: ReadableSpan) -> SpanData:
    return SpanData(dict(span.attributes or {}), list(span.events), span.status)


class WrappingSpanProcessor(SpanProcessor):
    """Passes every span to `next`, after `transform` has rewritten a copy of it on end."""

    def __init__(self, next_processor: SpanProcessor) -> None:
        self.next = next_processor

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Rewrite `data` (a mutable copy); return None to pass the span on unchanged.

        Called only for spans `unchanged` did not rule out.
        """
        raise NotImplementedError

    def unchanged(self, span: ReadableSpan) -> bool:
        """Whether `transform` would certainly pass `span` on unchanged (skips making a copy)."""
        return False

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Hand the starting span to the next processor untouched."""
        self.next.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Transform a copy of the ended span and hand it on (the original is never changed)."""
        self.next.on_end(self.transformed(span))

    def transformed(self, span: ReadableSpan) -> ReadableSpan:
        """`span` itself when unchanged, else a transformed copy (`on_failure`'s if it raised).

        What on_end hands on; an export pipeline (otel_llm.processors._export) calls it on the
        batch processor's thread instead.
        """
        try:
            if self.unchanged(span):
                return span
            result = self.transform(span, _copy(span))
        except Exception:
            log_internal_error(type(self).__name__)
            result = self.on_failure(span, _copy(span))
        if result is None:
            return span
        return ReadableSpan(
            name=span.name if result.name is None else result.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=result.attributes,
            events=result.events,
            links=span.links if result.links is None else result.links,
            kind=span.kind,
            status=result.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    def on_failure(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """What to export when `transform` raised: by default the span unchanged."""
        return None

    def shutdown(self) -> None:
        """End the dropped streams' calls still queued, then shut the next processor down."""
        _reaper.flush()
        self.next.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """End the dropped streams' calls queued so far, then flush the next processor."""
        ended = _reaper.flush(min(timeout_millis / 1000, _reaper.FLUSH_TIMEOUT_S))
        return self.next.force_flush(timeout_millis) and ended


class WrappingLogRecordProcessor(LogRecordProcessor):
    """Passes every log record to `next`, after `transform` has rewritten a copy of it."""

    def __init__(self, next_processor: LogRecordProcessor) -> None:
        self.next = next_processor

    def transform(
        self, attributes: dict[str, Any], body: Any
    ) -> tuple[Mapping[str, Any], Any] | None:
        """Rewrite a record's attributes and body; return None to pass it on unchanged."""
        raise NotImplementedError

    def unchanged(self, attributes: Mapping[str, Any], body: Any) -> bool:
        """Whether `transform` would certainly pass the record on unchanged (skips the copy)."""
        return False

    def on_failure(
        self, attributes: dict[str, Any], body: Any
    ) -> tuple[Mapping[str, Any], Any] | None:
        """What to export when `transform` raised: by default the record unchanged."""
        return None

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Transform a copy of the record (other processors keep the original) and hand it on.

        Not at all when `transformed` dropped it.
        """
        record = log_record.log_record
        new_record = self.transformed(record, log_record.instrumentation_scope)
        if new_record is None:
            return
        if new_record is record:
            self.next.on_emit(log_record)
            return
        new_log_record = copy.copy(log_record)
        new_log_record.log_record = new_record
        self.next.on_emit(new_log_record)

    def transformed(
        self, record: LogRecord, scope: InstrumentationScope | None = None
    ) -> LogRecord | None:
        """`record` itself when unchanged, else a transformed copy (`on_failure`'s if it raised).

        None: the record is not passed on at all (a step that drops whole records overrides
        this; `scope` is the instrumentation scope that emitted it). What on_emit hands on; an
        export pipeline (otel_llm.processors._export) calls it on the batch processor's thread
        instead, and exports nothing for None.
        """
        try:
            if self.unchanged(record.attributes or {}, record.body):
                return record
            result = self.transform(dict(record.attributes or {}), record.body)
        except Exception:
            log_internal_error(type(self).__name__)
            result = self.on_failure(dict(record.attributes or {}), record.body)
        if result is None:
            return record
        new_record = copy.copy(record)
        new_record.attributes, new_record.body = dict(result[0]), result[1]
        return new_record

    def shutdown(self) -> None:
        """Shut the next processor down."""
        self.next.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the next processor."""
        return self.next.force_flush(timeout_millis)
