"""Redact personal data and secrets from spans and log records before any exporter sees them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.trace import Link, Status

from otel_llm._instruments import active_instruments
from otel_llm.processors._base import SpanData, WrappingLogRecordProcessor, WrappingSpanProcessor
from otel_llm.redaction import FAILED_TOKEN, Finding, Redactor
from otel_llm.semconv.attributes import otel_llm as ol

_FAILED = "[REDACTED:failed]"


def _record(findings: Iterable[Finding], attributes: dict[str, Any]) -> None:
    kinds = Counter(f.kind for f in findings)
    if not kinds:
        return
    attributes[ol.OTEL_LLM_REDACTION_COUNT] = sum(kinds.values())
    attributes[ol.OTEL_LLM_REDACTION_KINDS] = tuple(sorted(kinds))
    counter = active_instruments().redaction_findings
    for kind, count in kinds.items():
        counter.add(count, {ol.OTEL_LLM_REDACTION_KIND: kind})


def _dropped(value: Any) -> Any:
    # Bytes stay bytes, so a consumer expecting them still gets the type it expects.
    return _FAILED.encode() if isinstance(value, bytes) else _FAILED


def _fail_closed(redactor: Redactor, attributes: Mapping[str, Any]) -> dict[str, Any]:
    # Redaction itself broke: keep only values that are never scanned (ids, counts, names
    # under safe keys; booleans and None, which hold nothing to find).
    return {
        key: value
        if key in redactor.safe_keys or value is None or isinstance(value, bool)
        else _dropped(value)
        for key, value in attributes.items()
    }


class RedactionSpanProcessor(WrappingSpanProcessor):
    """Scrubs span attributes, event attributes (exception messages too) and status descriptions."""

    def __init__(self, next_processor: SpanProcessor, redactor: Redactor) -> None:
        super().__init__(next_processor)
        self.redactor = redactor

    def unchanged(self, span: ReadableSpan) -> bool:
        """Nothing in the span could be a finding (one RE2 pass over all its strings)."""
        description = span.status.description
        return self.redactor.is_clean(
            [
                span.attributes or {},
                *(event.attributes or {} for event in span.events),
                *(link.attributes or {} for link in span.links),
            ],
            (span.name, description) if description else (span.name,),
        )

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Redact a copy of the span; None when there was nothing to redact."""
        redactor = self.redactor
        attributes, findings = redactor.redact_mapping(data.attributes)
        all_findings = list(findings)
        events = []
        for event in data.events:
            event_attributes, event_findings = redactor.redact_mapping(dict(event.attributes or {}))
            all_findings += event_findings
            events.append(
                Event(event.name, event_attributes, event.timestamp) if event_findings else event
            )
        links = []
        for link in span.links:
            link_attributes, link_findings = redactor.redact_mapping(dict(link.attributes or {}))
            all_findings += link_findings
            links.append(Link(link.context, link_attributes) if link_findings else link)
        status = data.status
        if status.description:
            result = redactor.redact(status.description)
            if result.findings:
                all_findings += result.findings
                status = Status(status.status_code, result.text)
        name = redactor.redact(span.name)
        all_findings += name.findings
        if not all_findings:
            return None
        _record(all_findings, attributes)
        return SpanData(attributes, events, status, name.text, links)

    def on_failure(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Never export raw content when redaction fails: drop it instead."""
        attributes = _fail_closed(self.redactor, data.attributes)
        attributes[ol.OTEL_LLM_REDACTION_KINDS] = ("failed",)
        active_instruments().redaction_findings.add(1, {ol.OTEL_LLM_REDACTION_KIND: "failed"})
        status = Status(data.status.status_code, None)
        events = [Event(e.name, None, e.timestamp) for e in data.events]
        links = [Link(link.context) for link in span.links]
        return SpanData(attributes, events, status, name=FAILED_TOKEN, links=links)


class RedactionLogRecordProcessor(WrappingLogRecordProcessor):
    """Scrubs log record attributes and bodies exactly as span attributes are scrubbed.

    A body is walked as a span attribute value is: a JSON string body as JSON (a credential
    under `api_key` is redacted in a log as on a span), a structured body at every depth,
    bytes decoded and kept bytes, numbers and mapping keys scanned too.
    """

    def __init__(self, next_processor: LogRecordProcessor, redactor: Redactor) -> None:
        super().__init__(next_processor)
        self.redactor = redactor

    def unchanged(self, attributes: Mapping[str, Any], body: Any) -> bool:
        """Nothing in the record could be a finding (one RE2 pass over all its strings)."""
        return self.redactor.is_clean([attributes], bodies=() if body is None else (body,))

    def transform(
        self, attributes: dict[str, Any], body: Any
    ) -> tuple[Mapping[str, Any], Any] | None:
        """Redact attributes and body; None when there was nothing to redact."""
        redacted, findings = self.redactor.redact_mapping(attributes)
        all_findings = list(findings)
        if body is not None:
            body, body_findings = self.redactor.redact_body(body)
            all_findings += body_findings
        if not all_findings:
            return None
        _record(all_findings, redacted)
        return redacted, body

    def on_failure(
        self, attributes: dict[str, Any], body: Any
    ) -> tuple[Mapping[str, Any], Any] | None:
        """Never export raw content when redaction fails: drop it instead."""
        return _fail_closed(self.redactor, attributes), None if body is None else _dropped(body)
