"""With content capture off, other libraries' message content is dropped before any export.

otel-llm records no message content unless OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
opts in, and that holds for everything leaving the process through its pipeline: the spans
and log records of pydantic-ai, OpenInference, OpenLLMetry, OpenLIT, Google ADK, LiteLLM...
lose the attributes and events that hold content (otel_llm.processors._content_keys names
them per library), whatever those libraries were configured to capture. Dropped, not
redacted: a redacted prompt is still the prompt. With capture on they pass, and the
redaction step after this one scrubs them as it scrubs ours. otel-llm's own telemetry
follows the capture mode where it is recorded, so it passes without a look.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_llm._errors import log_internal_error
from otel_llm._instruments import SCOPE_NAME
from otel_llm.processors._base import SpanData, WrappingLogRecordProcessor, WrappingSpanProcessor
from otel_llm.processors._content_keys import ContentKeys

__all__ = ["ContentDropLogRecordProcessor", "ContentDropSpanProcessor"]

_LOGFIRE_MESSAGE = "logfire.msg"
_LOGFIRE_TEMPLATE = "logfire.msg_template"
_EVENT_NAME = "event.name"
"""Where log records named their event before LogRecord.event_name existed."""

_KEYS = ContentKeys()


def _scope_name(scope: InstrumentationScope | None) -> str:
    return "" if scope is None else scope.name


def _without_content(
    keys: ContentKeys, attributes: Mapping[str, Any], scope: str
) -> tuple[dict[str, Any], list[Any]] | None:
    """`attributes` less the content keys, and the values dropped; None when there were none.

    A number or a boolean is never content, whatever its key (a token count under a key of
    the same shape as a library's raw request parameters).
    """
    if not keys.any_attribute(attributes, scope):
        return None
    kept: dict[str, Any] = {}
    dropped: list[Any] = []
    for key, value in attributes.items():
        if isinstance(value, int | float) or not keys.attribute(key, scope):
            kept[key] = value
        else:
            dropped.append(value)
    return (kept, dropped) if dropped else None


def _texts(values: list[Any]) -> list[str]:
    texts: list[str] = []
    for value in values:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, tuple | list):
            texts.extend(item for item in value if isinstance(item, str))
    return [text for text in texts if text.strip()]


def _plain_message(attributes: dict[str, Any], dropped: list[Any], span_name: str) -> None:
    """logfire.msg without the content it was formatted with (in place).

    Logfire (and pydantic-ai before 1.0) format the displayed message from a template and the
    span's arguments, so a prompt dropped from the attributes can still be in the message: the
    template replaces it, or the span name when there is no template.
    """
    message = attributes.get(_LOGFIRE_MESSAGE)
    if not isinstance(message, str):
        return
    template = attributes.get(_LOGFIRE_TEMPLATE)
    if isinstance(template, str) and template != message:
        attributes[_LOGFIRE_MESSAGE] = template
    elif any(text in message for text in _texts(dropped)):
        attributes[_LOGFIRE_MESSAGE] = span_name


class ContentDropSpanProcessor(WrappingSpanProcessor):
    """Drops message content from other instrumentations' spans: attributes and events."""

    def __init__(self, next_processor: SpanProcessor, keys: ContentKeys = _KEYS) -> None:
        super().__init__(next_processor)
        self._keys = keys

    def unchanged(self, span: ReadableSpan) -> bool:
        """Ours (they hold content only when the capture mode lets them), or without content.

        Most spans hold none: they are passed on without being copied.
        """
        scope = _scope_name(span.instrumentation_scope)
        if scope == SCOPE_NAME:
            return True
        keys = self._keys
        if keys.any_attribute(span.attributes or {}, scope):
            return False
        return not any(
            keys.event(event.name, scope) or keys.any_attribute(event.attributes or {}, scope)
            for event in span.events
        )

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """The span without its content; None when it held none."""
        keys, scope = self._keys, _scope_name(span.instrumentation_scope)
        result = _without_content(keys, data.attributes, scope)
        changed = result is not None
        if result is not None:
            data.attributes, dropped = result
            _plain_message(data.attributes, dropped, span.name)
        events: list[Event] = []
        for event in data.events:
            if keys.event(event.name, scope):
                changed = True
                continue
            stripped = _without_content(keys, event.attributes or {}, scope)
            if stripped is None:
                events.append(event)
            else:
                changed = True
                events.append(Event(event.name, stripped[0], event.timestamp))
        if not changed:
            return None
        data.events = events
        return data

    def on_failure(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Should the check itself fail, the span goes on without attributes or events."""
        return SpanData({}, [], data.status)


class ContentDropLogRecordProcessor(WrappingLogRecordProcessor):
    """Drops other instrumentations' content events, and content attributes from other records.

    An event that is content as a whole (gen_ai.user.message, gen_ai.choice...) is not passed
    on at all; application log records hold no such keys and pass unchanged.
    """

    def __init__(self, next_processor: LogRecordProcessor, keys: ContentKeys = _KEYS) -> None:
        super().__init__(next_processor)
        self._keys = keys

    def transformed(
        self, record: LogRecord, scope: InstrumentationScope | None = None
    ) -> LogRecord | None:
        """The record without its content, None when it is content (not passed on at all).

        Inline (on_emit) or at export (otel_llm.processors._export) alike.
        """
        scope_name = _scope_name(scope)
        if scope_name == SCOPE_NAME:
            return record
        try:
            attributes = record.attributes or {}
            name = record.event_name or attributes.get(_EVENT_NAME)
            if isinstance(name, str) and self._keys.event(name, scope_name):
                return None
            result = _without_content(self._keys, attributes, scope_name)
        except Exception:
            log_internal_error(type(self).__name__)
            return None  # unknown: not passed on, as content would not be
        if result is None:
            return record
        new_record = copy.copy(record)
        new_record.attributes = result[0]
        return new_record
