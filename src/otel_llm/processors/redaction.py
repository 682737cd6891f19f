"""Redact personal data and secrets from spans and log records before any exporter sees them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.trace import Link, Status

from otel_llm._budget import fit_text, utf8_size
from otel_llm._failure import (
    EXCEPTION_EVENT,
    EXCEPTION_MESSAGE,
    EXCEPTION_STACKTRACE,
    trace_without_messages,
)
from otel_llm._instruments import SCOPE_NAME, active_instruments
from otel_llm.config import get_settings
from otel_llm.processors._base import SpanData, WrappingLogRecordProcessor, WrappingSpanProcessor
from otel_llm.redaction import FAILED_TOKEN, Finding, Redactor
from otel_llm.semconv.attributes import otel_llm as ol

_FAILED = "[REDACTED:failed]"
_GENAI_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.request.type",  # OpenLLMetry
    "openinference.span.kind",  # OpenInference
)
"""Attributes that mark a span as a GenAI operation, in any instrumentation's conventions."""


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
    # under safe keys; booleans and None, which hold nothing to find). Other keys are content
    # too: each is redacted on its own (a failure there gives the failed token), numbered
    # so that no two collide.
    kept: dict[str, Any] = {}
    for key, value in attributes.items():
        if key in redactor.safe_keys:
            kept[key] = value
            continue
        base = name = redactor.redact(key).text if isinstance(key, str) else _FAILED
        count = 1
        while name in kept or (name != key and name in attributes):
            count += 1
            name = f"{base} ({count})"
        kept[name] = value if value is None or isinstance(value, bool) else _dropped(value)
    return kept


# --- a redacted value never outgrows its budget ---------------------------------------------


def _size(value: Any) -> int:
    """A value's exported size in UTF-8 bytes: text as is, anything else as compact JSON."""
    if isinstance(value, str):
        return utf8_size(value)
    try:
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):  # bytes, or too deep
        return 0


def _refit_text(text: str, limit: int) -> str:
    if len(text) <= limit // 4 or utf8_size(text) <= limit:
        return text
    if text.lstrip()[:1] in ("[", "{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict | list):
            # Imported here: only a value that grew past its budget gets this far.
            from otel_llm.instrumentation._fit import fit_json  # noqa: PLC0415

            return fit_json(parsed, limit)  # JSON stays valid JSON
    return fit_text(text, limit)


def _refit(before: Any, after: Any, budget: int) -> Any:
    """`after` (redacted `before`) cut again if redaction made it larger than it may be.

    Replacement tokens can be longer than what they replace (`1.1.1.1` becomes a 30-byte
    token with an HMAC key), so a value that fit its budget could outgrow it. It is cut to
    the larger of the budget and its size before redaction: never larger than either.
    """
    if after is before or isinstance(after, bytes | bool | int | float) or after is None:
        return after
    if isinstance(after, str):
        return _refit_text(after, max(budget, _size(before)))
    if (
        isinstance(after, tuple | list)
        and isinstance(before, tuple | list)
        and len(after) == len(before)
        and all(isinstance(item, str) for item in after)
    ):  # an array attribute: each string has its own budget
        items = [_refit(old, new, budget) for old, new in zip(before, after, strict=True)]
        changed = any(a is not b for a, b in zip(items, after, strict=True))
        return type(after)(items) if changed else after
    limit = max(budget, _size(before))
    if _size(after) <= limit:
        return after
    from otel_llm.instrumentation._fit import fit_json_structured  # noqa: PLC0415

    return fit_json_structured(after, limit)


def _refit_all(before: Mapping[str, Any], after: dict[str, Any], budget: int) -> dict[str, Any]:
    """`_refit` each value of redacted attributes (keys may have been renamed, not reordered)."""
    for (_, old), (key, new) in zip(before.items(), list(after.items()), strict=True):
        if new is not old:
            after[key] = _refit(old, new, budget)
    return after


# --- with capture off, other instrumentations' failures lose their text --------------------


def _other_genai(span: ReadableSpan) -> bool:
    """A GenAI span another instrumentation made (ours record failures by identifiers)."""
    scope = span.instrumentation_scope
    if scope is not None and scope.name == SCOPE_NAME:
        return False
    attributes = span.attributes or {}
    return any(key in attributes for key in _GENAI_KEYS)


def _has_failure_text(span: ReadableSpan) -> bool:
    if not span.status.description and not any(e.name == EXCEPTION_EVENT for e in span.events):
        return False
    return _other_genai(span)


def _strip_failure_text(data: SpanData) -> bool:
    """Drop the status description and exception messages, keep types and frames (in place)."""
    changed = False
    if data.status.description:
        data.status = Status(data.status.status_code, None)
        changed = True
    events = []
    for event in data.events:
        attributes = event.attributes or {}
        trace = attributes.get(EXCEPTION_STACKTRACE)
        if event.name != EXCEPTION_EVENT or (
            EXCEPTION_MESSAGE not in attributes and not isinstance(trace, str)
        ):
            events.append(event)
            continue
        kept = {k: v for k, v in attributes.items() if k != EXCEPTION_MESSAGE}
        if isinstance(trace, str):
            kept[EXCEPTION_STACKTRACE] = trace_without_messages(trace)
        events.append(Event(event.name, kept, event.timestamp))
        changed = True
    data.events = events
    return changed


class RedactionSpanProcessor(WrappingSpanProcessor):
    """Scrubs span attributes, event attributes (exception messages too) and status descriptions.

    A value that redaction made larger than `max_bytes` (and than it was) is cut again, JSON
    kept valid. Unless `keep_failure_text`, a GenAI span of another instrumentation loses
    the free text of its failures: status description and `exception.message` dropped, the
    stack trace's messages and source lines dropped (types and frames kept), as otel-llm's own
    spans record failures with capture off. Both default to the process's settings
    (OTEL_LLM_MAX_CONTENT_BYTES; text kept only when content capture on spans is on).
    """

    def __init__(
        self,
        next_processor: SpanProcessor,
        redactor: Redactor,
        *,
        max_bytes: int | None = None,
        keep_failure_text: bool | None = None,
    ) -> None:
        super().__init__(next_processor)
        self.redactor = redactor
        if max_bytes is None or keep_failure_text is None:  # read only when not given
            settings = get_settings()
            if max_bytes is None:
                max_bytes = settings.max_content_bytes
            if keep_failure_text is None:
                keep_failure_text = settings.capture_message_content.on_spans
        self.max_bytes = max_bytes
        self.keep_failure_text = keep_failure_text

    def unchanged(self, span: ReadableSpan) -> bool:
        """Nothing in the span could be a finding (one RE2 pass over all its strings)."""
        if not self.keep_failure_text and _has_failure_text(span):
            return False
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
        stripped = (
            not self.keep_failure_text and _has_failure_text(span) and _strip_failure_text(data)
        )
        redactor, budget = self.redactor, self.max_bytes
        attributes, findings = redactor.redact_mapping(data.attributes)
        _refit_all(data.attributes, attributes, budget)
        all_findings = list(findings)
        events = []
        for event in data.events:
            before = dict(event.attributes or {})
            event_attributes, event_findings = redactor.redact_mapping(before)
            all_findings += event_findings
            if event_findings:
                _refit_all(before, event_attributes, budget)
            events.append(
                Event(event.name, event_attributes, event.timestamp) if event_findings else event
            )
        links = []
        for link in span.links:
            before = dict(link.attributes or {})
            link_attributes, link_findings = redactor.redact_mapping(before)
            all_findings += link_findings
            if link_findings:
                _refit_all(before, link_attributes, budget)
            links.append(Link(link.context, link_attributes) if link_findings else link)
        status = data.status
        if status.description:
            result = redactor.redact(status.description)
            if result.findings:
                all_findings += result.findings
                text = _refit(status.description, result.text, budget)
                status = Status(status.status_code, text)
        name = redactor.redact(span.name)
        all_findings += name.findings
        if not all_findings:
            return data if stripped else None
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

    def __init__(
        self,
        next_processor: LogRecordProcessor,
        redactor: Redactor,
        *,
        max_bytes: int | None = None,
    ) -> None:
        super().__init__(next_processor)
        self.redactor = redactor
        self.max_bytes = get_settings().max_content_bytes if max_bytes is None else max_bytes

    def unchanged(self, attributes: Mapping[str, Any], body: Any) -> bool:
        """Nothing in the record could be a finding (one RE2 pass over all its strings)."""
        return self.redactor.is_clean([attributes], bodies=() if body is None else (body,))

    def transform(
        self, attributes: dict[str, Any], body: Any
    ) -> tuple[Mapping[str, Any], Any] | None:
        """Redact attributes and body; None when there was nothing to redact."""
        redacted, findings = self.redactor.redact_mapping(attributes)
        all_findings = list(findings)
        if findings:
            _refit_all(attributes, redacted, self.max_bytes)
        if body is not None:
            new_body, body_findings = self.redactor.redact_body(body)
            if body_findings:
                all_findings += body_findings
                body = _refit(body, new_body, self.max_bytes)
        if not all_findings:
            return None
        _record(all_findings, redacted)
        return redacted, body

    def on_failure(
        self, attributes: dict[str, Any], body: Any
    ) -> tuple[Mapping[str, Any], Any] | None:
        """Never export raw content when redaction fails: drop it instead."""
        return _fail_closed(self.redactor, attributes), None if body is None else _dropped(body)
