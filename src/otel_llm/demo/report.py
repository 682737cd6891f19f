"""A plain-text terminal report over spans and log records: waterfall, versions, outliers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from opentelemetry.util.types import AttributeValue

__all__ = [
    "outliers",
    "percentile",
    "render",
    "slowest_trace",
    "version_table",
    "waterfall",
]

BAR_WIDTH = 40
"""Columns of the waterfall's bar, which spans the trace's whole duration."""

DASH = "—"
"""Shown in a table cell that has no value (no priced call, no evaluation, no feedback)."""

_EVALUATION_EVENT = "gen_ai.evaluation.result"
_FEEDBACK_SPAN = "user_feedback"
_PROMPT_NAME = "gen_ai.prompt.name"
_PROMPT_VERSION = "gen_ai.prompt.version"
_COST = "otel_llm.cost.total"
_EVAL_NAME = "gen_ai.evaluation.name"
_EVAL_PASSED = "otel_llm.evaluation.passed"
_EVAL_SCORE = "gen_ai.evaluation.score.value"
_RESPONSE_ID = "gen_ai.response.id"
_SENTIMENT = "otel_llm.feedback.sentiment"
_NS_PER_MS = 1_000_000

_SpanKey = tuple[int, int]
"""A span's (trace id, span id)."""


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank `pct` percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(pct / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def _attr(span: ReadableSpan, key: str) -> AttributeValue | None:
    return (span.attributes or {}).get(key)


def _log_attr(record: ReadableLogRecord, key: str) -> AttributeValue | None:
    return (record.log_record.attributes or {}).get(key)


def _number(value: AttributeValue | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _key(span: ReadableSpan) -> _SpanKey:
    ctx = span.get_span_context()
    return (ctx.trace_id, ctx.span_id) if ctx is not None else (0, 0)


def _parent_key(span: ReadableSpan) -> _SpanKey | None:
    parent = span.parent
    return (parent.trace_id, parent.span_id) if parent is not None else None


def _start(span: ReadableSpan) -> int:
    return span.start_time or 0


def _end(span: ReadableSpan) -> int:
    return span.end_time if span.end_time is not None else _start(span)


def _duration_ms(span: ReadableSpan) -> float:
    return (_end(span) - _start(span)) / _NS_PER_MS


def _errored(span: ReadableSpan) -> bool:
    return span.status.status_code is StatusCode.ERROR or _attr(span, "error.type") is not None


def _is_llm(span: ReadableSpan) -> bool:
    return _attr(span, "gen_ai.operation.name") == "chat"


def _trace_hex(trace_id: int) -> str:
    return f"{trace_id:032x}"


def _bar(offset: int, duration: int, total: int, width: int, ascii_only: bool) -> str:
    full, empty = ("#", ".") if ascii_only else ("█", "░")
    if total <= 0:
        begin, length = 0, 1
    else:
        begin = min(width - 1, max(0, round(offset / total * width)))
        length = max(1, round(duration / total * width))
    length = min(length, width - begin)
    return empty * begin + full * length + empty * (width - begin - length)


def waterfall(
    spans: Iterable[ReadableSpan],
    trace_id: int,
    *,
    width: int = BAR_WIDTH,
    ascii_only: bool = False,
) -> str:
    """An indented text waterfall of trace `trace_id`, one line per span.

    Spans are walked depth-first from the root(s), siblings in start order, each indented by
    its depth. A line shows the name (prefixed with ``!`` when the span errored), its offset
    from the trace's start and its duration in ms, and a bar scaled to the trace's duration.
    """
    members = [s for s in spans if _key(s)[0] == trace_id]
    if not members:
        return f"(no spans for trace {_trace_hex(trace_id)})"
    keys = {_key(s) for s in members}
    children: dict[_SpanKey | None, list[ReadableSpan]] = {}
    for span in members:
        parent = _parent_key(span)
        children.setdefault(parent if parent in keys else None, []).append(span)
    ordered: list[tuple[int, ReadableSpan]] = []

    def walk(parent: _SpanKey | None, depth: int) -> None:
        for child in sorted(children.get(parent, []), key=_start):
            ordered.append((depth, child))
            walk(_key(child), depth + 1)

    walk(None, 0)
    trace_start = min(_start(s) for s in members)
    total = max(_end(s) for s in members) - trace_start
    labels = [
        "  " * depth + ("! " if _errored(span) else "") + span.name for depth, span in ordered
    ]
    label_width = max(len(label) for label in labels)
    lines = [f"trace {_trace_hex(trace_id)}  total {total / _NS_PER_MS:.1f} ms"]
    for label, (_, span) in zip(labels, ordered, strict=True):
        offset = _start(span) - trace_start
        duration = _end(span) - _start(span)
        bar = _bar(offset, duration, total, width, ascii_only)
        lines.append(
            f"{label:<{label_width}}  +{offset / _NS_PER_MS:>8.1f} ms  "
            f"{duration / _NS_PER_MS:>8.1f} ms  |{bar}|"
        )
    return "\n".join(lines)


def slowest_trace(spans: Iterable[ReadableSpan]) -> int | None:
    """The trace id whose root span (no parent, or parent not among `spans`) lasted longest."""
    members = list(spans)
    keys = {_key(s) for s in members}
    roots = [s for s in members if _parent_key(s) not in keys]
    if not roots:
        return None
    return _key(max(roots, key=_duration_ms))[0]


@dataclass
class _Version:
    """What one (prompt name, prompt version) accumulated."""

    span_ids: set[int] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    errors: int = 0
    evals: list[bool] = field(default_factory=list)
    feedback: list[bool] = field(default_factory=list)
    """One entry per feedback span: whether it was negative."""


def _label(value: AttributeValue | None) -> str:
    return DASH if value is None else str(value)


def _versions(
    spans: Sequence[ReadableSpan], logs: Sequence[ReadableLogRecord]
) -> dict[tuple[str, str], _Version]:
    versions: dict[tuple[str, str], _Version] = {}
    by_response: dict[str, _Version] = {}
    for span in spans:
        if not _is_llm(span):
            continue
        key = (_label(_attr(span, _PROMPT_NAME)), _label(_attr(span, _PROMPT_VERSION)))
        version = versions.setdefault(key, _Version())
        version.span_ids.add(_key(span)[1])
        response_id = _attr(span, _RESPONSE_ID)
        if response_id is not None:
            by_response[str(response_id)] = version
        version.latencies.append(_duration_ms(span))
        version.errors += _errored(span)
        cost = _number(_attr(span, _COST))
        if cost is not None:
            version.costs.append(cost)
    _add_evaluations(versions, by_response, logs)
    for span in spans:
        if span.name != _FEEDBACK_SPAN or _attr(span, _PROMPT_VERSION) is None:
            continue
        name, number = _attr(span, _PROMPT_NAME), str(_attr(span, _PROMPT_VERSION))
        for (row_name, row_version), version in versions.items():
            if row_version == number and (name is None or str(name) == row_name):
                version.feedback.append(_attr(span, _SENTIMENT) == "negative")
    return versions


def _add_evaluations(
    versions: dict[tuple[str, str], _Version],
    by_response: dict[str, _Version],
    logs: Sequence[ReadableLogRecord],
) -> None:
    """Credit each pass/fail evaluation to the version it names by response id, or its span."""
    for record in logs:
        passed = _log_attr(record, _EVAL_PASSED)
        if record.log_record.event_name != _EVALUATION_EVENT or not isinstance(passed, bool):
            continue
        response_id = _log_attr(record, _RESPONSE_ID)
        evaluated = by_response.get(str(response_id)) if response_id is not None else None
        if evaluated is not None:
            evaluated.evals.append(passed)
            continue
        for version in versions.values():
            if record.log_record.span_id in version.span_ids:
                version.evals.append(passed)


def _ms(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def _usd(value: float | None) -> str:
    return DASH if value is None else f"${value:.5f}"


def _rate(flags: Sequence[bool]) -> str:
    return DASH if not flags else f"{100 * sum(flags) / len(flags):.1f}%"


_HEADER = (
    "prompt",
    "version",
    "requests",
    "error %",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "mean cost",
    "p95 cost",
    "eval pass",
    "thumbs-down",
)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> str:
    """`rows` under `header`, the first `left` columns left-aligned and the rest right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def version_table(spans: Iterable[ReadableSpan], logs: Iterable[ReadableLogRecord]) -> str:
    """One row per (prompt name, prompt version) over LLM (``chat``) spans, with a header.

    Columns: requests, error %, nearest-rank p50/p95/p99 latency (ms), mean and p95 cost (USD,
    from ``otel_llm.cost.total``), evaluation pass rate (evaluation records naming one of that
    version's responses by ``gen_ai.response.id``, or parented to one of its spans) and
    thumbs-down rate (negative ``user_feedback`` spans over all feedback for it).
    """
    versions = _versions(list(spans), list(logs))
    if not versions:
        return "(no LLM calls)"
    rows = []
    for (name, number), v in sorted(versions.items()):
        mean_cost = sum(v.costs) / len(v.costs) if v.costs else None
        rows.append(
            (
                name,
                number,
                str(len(v.latencies)),
                f"{100 * v.errors / len(v.latencies):.1f}%",
                _ms(percentile(v.latencies, 50)),
                _ms(percentile(v.latencies, 95)),
                _ms(percentile(v.latencies, 99)),
                _usd(mean_cost),
                _usd(percentile(v.costs, 95)),
                _rate(v.evals),
                _rate(v.feedback),
            )
        )
    return _table(_HEADER, rows, left=2)


def _prompt_label(span: ReadableSpan) -> str:
    name, version = _attr(span, _PROMPT_NAME), _attr(span, _PROMPT_VERSION)
    if name is None:
        return DASH
    return f"{name}@{version}" if version is not None else str(name)


def _ranked(title: str, items: Sequence[tuple[str, ...]], empty: str = "  (none)") -> list[str]:
    if not items:
        return [title, empty]
    widths = [max(len(item[i]) for item in items) for i in range(len(items[0]))]
    lines = [title]
    for item in items:
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(item, widths, strict=True)).rstrip()
        )
    return lines


def _top_spans(
    spans: Sequence[ReadableSpan], value: Callable[[ReadableSpan], float | None], n: int
) -> list[tuple[float, ReadableSpan]]:
    scored = [(v, s) for s in spans if (v := value(s)) is not None]
    return sorted(scored, key=lambda pair: -pair[0])[:n]


def outliers(spans: Iterable[ReadableSpan], logs: Iterable[ReadableLogRecord], n: int = 3) -> str:
    """The `n` slowest LLM calls, the `n` most expensive and the `n` lowest evaluation scores.

    Each line carries the trace id (32 hex digits) to look the call up in a trace backend.
    """
    span_list = list(spans)
    llm = [s for s in span_list if _is_llm(s)]
    slow = [
        (f"{ms:.1f} ms", s.name, _prompt_label(s), f"trace {_trace_hex(_key(s)[0])}")
        for ms, s in _top_spans(llm, _duration_ms, n)
    ]
    costly = [
        (_usd(cost), s.name, _prompt_label(s), f"trace {_trace_hex(_key(s)[0])}")
        for cost, s in _top_spans(llm, lambda s: _number(_attr(s, _COST)), n)
    ]
    trace_of = {_key(s)[1]: _key(s)[0] for s in span_list}
    scored: list[tuple[float, ReadableLogRecord]] = []
    for record in logs:
        score = _number(_log_attr(record, _EVAL_SCORE))
        if record.log_record.event_name == _EVALUATION_EVENT and score is not None:
            scored.append((score, record))
    scored.sort(key=lambda pair: pair[0])
    low = []
    for score, record in scored[:n]:
        trace_id = record.log_record.trace_id or trace_of.get(record.log_record.span_id or 0, 0)
        low.append(
            (f"{score:.2f}", _label(_log_attr(record, _EVAL_NAME)), f"trace {_trace_hex(trace_id)}")
        )
    return "\n".join(
        [
            *_ranked("Slowest LLM calls:", slow),
            *_ranked("Most expensive LLM calls:", costly),
            *_ranked("Lowest evaluation scores:", low),
        ]
    )


def _section(title: str, body: str) -> str:
    return f"== {title} ==\n{body}"


def render(
    spans: Iterable[ReadableSpan],
    logs: Iterable[ReadableLogRecord],
    otlp_path: str | None,
    *,
    ascii_only: bool = False,
) -> str:
    """The whole report: slowest request's waterfall, prompt versions, outliers and output path."""
    span_list, log_list = list(spans), list(logs)
    slowest = slowest_trace(span_list)
    sections = [
        _section(
            "Slowest request",
            "(no traces)"
            if slowest is None
            else waterfall(span_list, slowest, ascii_only=ascii_only),
        ),
        _section("Prompt versions", version_table(span_list, log_list)),
        _section("Outliers", outliers(span_list, log_list)),
    ]
    if otlp_path is not None:
        sections.append(f"traces written to {otlp_path}")
    return "\n\n".join(sections) + "\n"
