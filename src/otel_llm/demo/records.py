"""Reading finished spans and log records for the demo's report: ids, timing, errors, LLM calls."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from opentelemetry.util.types import AttributeValue

__all__ = [
    "EVALUATION_EVENT",
    "LLM_OPERATIONS",
    "SAFETY_EVALUATIONS",
    "SpanKey",
    "attr",
    "duration_ms",
    "end_ns",
    "error_type",
    "errored",
    "is_llm_call",
    "log_attr",
    "number",
    "parent_key",
    "percentile",
    "roots",
    "span_key",
    "start_ns",
    "trace_hex",
]

LLM_OPERATIONS = frozenset({"chat", "embeddings", "text_completion", "generate_content"})
"""`gen_ai.operation.name` values of a call to a model (what the summary counts as LLM calls)."""

SAFETY_EVALUATIONS = re.compile(r"pii_in_output|safety_.*|policy_.*")
"""Evaluation names that are safety/policy checks (the rest are quality checks), as in alerts."""

EVALUATION_EVENT = "gen_ai.evaluation.result"
NS_PER_MS = 1_000_000

SpanKey = tuple[int, int]
"""A span's (trace id, span id)."""


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank `pct` percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(pct / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def attr(span: ReadableSpan, key: str) -> AttributeValue | None:
    """The span's attribute `key`, or None."""
    return (span.attributes or {}).get(key)


def log_attr(record: ReadableLogRecord, key: str) -> AttributeValue | None:
    """The log record's attribute `key`, or None."""
    return (record.log_record.attributes or {}).get(key)


def number(value: AttributeValue | None) -> float | None:
    """`value` as a float when it is a number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def span_key(span: ReadableSpan) -> SpanKey:
    """The span's (trace id, span id)."""
    ctx = span.get_span_context()
    return (ctx.trace_id, ctx.span_id) if ctx is not None else (0, 0)


def parent_key(span: ReadableSpan) -> SpanKey | None:
    """The parent's (trace id, span id), None for a root."""
    parent = span.parent
    return (parent.trace_id, parent.span_id) if parent is not None else None


def start_ns(span: ReadableSpan) -> int:
    """Start time (ns since the epoch)."""
    return span.start_time or 0


def end_ns(span: ReadableSpan) -> int:
    """End time (ns since the epoch); the start for a span that has not ended."""
    return span.end_time if span.end_time is not None else start_ns(span)


def duration_ms(span: ReadableSpan) -> float:
    """How long the span lasted, in ms."""
    return (end_ns(span) - start_ns(span)) / NS_PER_MS


def error_type(span: ReadableSpan) -> str:
    """`error.type`, "error" for an ERROR status without one, "" for a span that succeeded."""
    value = attr(span, "error.type")
    if value is not None:
        return str(value)
    return "error" if span.status.status_code is StatusCode.ERROR else ""


def errored(span: ReadableSpan) -> bool:
    """Whether the span records a failure."""
    return bool(error_type(span))


def is_llm_call(span: ReadableSpan) -> bool:
    """Whether the span is a call to a model (chat, embeddings, ...)."""
    return attr(span, "gen_ai.operation.name") in LLM_OPERATIONS


def trace_hex(trace_id: int) -> str:
    """A trace id as trace backends show it: 32 hex digits."""
    return f"{trace_id:032x}"


def roots(spans: Iterable[ReadableSpan]) -> list[ReadableSpan]:
    """Spans without a parent among `spans` (a trace's root, or the top of what is left of it)."""
    members = list(spans)
    keys = {span_key(s) for s in members}
    return [s for s in members if parent_key(s) not in keys]
