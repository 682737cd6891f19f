"""A plain-text terminal report over spans and log records: waterfall, versions, outliers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.demo.records import (
    EVALUATION_EVENT,
    NS_PER_MS,
    SpanKey,
    attr,
    duration_ms,
    end_ns,
    error_type,
    errored,
    is_llm_call,
    log_attr,
    number,
    parent_key,
    roots,
    span_key,
    start_ns,
    trace_hex,
)
from otel_llm.demo.versions import DASH, version_table

__all__ = ["failed_requests", "outliers", "render", "slowest_trace", "waterfall"]

BAR_WIDTH = 40
"""Columns of the waterfall's bar, which spans the trace's whole duration."""

_PROMPT_NAME = "gen_ai.prompt.name"
_PROMPT_VERSION = "gen_ai.prompt.version"
_COST = "otel_llm.cost.total"
_EVAL_NAME = "gen_ai.evaluation.name"
_EVAL_SCORE = "gen_ai.evaluation.score.value"


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
    members = [s for s in spans if span_key(s)[0] == trace_id]
    if not members:
        return f"(no spans for trace {trace_hex(trace_id)})"
    keys = {span_key(s) for s in members}
    children: dict[SpanKey | None, list[ReadableSpan]] = {}
    for span in members:
        parent = parent_key(span)
        children.setdefault(parent if parent in keys else None, []).append(span)
    ordered: list[tuple[int, ReadableSpan]] = []

    def walk(parent: SpanKey | None, depth: int) -> None:
        for child in sorted(children.get(parent, []), key=start_ns):
            ordered.append((depth, child))
            walk(span_key(child), depth + 1)

    walk(None, 0)
    trace_start = min(start_ns(s) for s in members)
    total = max(end_ns(s) for s in members) - trace_start
    labels = ["  " * depth + ("! " if errored(span) else "") + span.name for depth, span in ordered]
    label_width = max(len(label) for label in labels)
    lines = [f"trace {trace_hex(trace_id)}  total {total / NS_PER_MS:.1f} ms"]
    for label, (_, span) in zip(labels, ordered, strict=True):
        offset = start_ns(span) - trace_start
        duration = end_ns(span) - start_ns(span)
        bar = _bar(offset, duration, total, width, ascii_only)
        lines.append(
            f"{label:<{label_width}}  +{offset / NS_PER_MS:>8.1f} ms  "
            f"{duration / NS_PER_MS:>8.1f} ms  |{bar}|"
        )
    return "\n".join(lines)


def slowest_trace(spans: Iterable[ReadableSpan]) -> int | None:
    """The trace id whose root span (no parent, or parent not among `spans`) lasted longest."""
    tops = roots(spans)
    if not tops:
        return None
    return span_key(max(tops, key=duration_ms))[0]


def _prompt_label(span: ReadableSpan) -> str:
    name, version = attr(span, _PROMPT_NAME), attr(span, _PROMPT_VERSION)
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


def _usd(value: float) -> str:
    return f"${value:.5f}"


def failed_requests(spans: Iterable[ReadableSpan], n: int) -> tuple[int, list[tuple[str, ...]]]:
    """How many user requests failed, and the first `n` of them (in start order).

    A user request is a trace whose root is not itself an LLM call; it failed when that root
    did. Each line names the error, the LLM call that failed in it (if one did) and the trace.
    """
    span_list = list(spans)
    failed = sorted(
        (s for s in roots(span_list) if errored(s) and not is_llm_call(s)), key=start_ns
    )
    wanted = {span_key(s)[0] for s in failed[:n]}
    culprit: dict[int, ReadableSpan] = {}
    for span in sorted(span_list, key=start_ns):
        trace_id = span_key(span)[0]
        if trace_id in wanted and trace_id not in culprit and is_llm_call(span) and errored(span):
            culprit[trace_id] = span
    lines: list[tuple[str, ...]] = []
    for root in failed[:n]:
        trace_id = span_key(root)[0]
        call = culprit.get(trace_id)
        where = (call.name, _prompt_label(call)) if call is not None else (root.name, DASH)
        kind = error_type(call) if call is not None else error_type(root)
        lines.append((kind, *where, f"trace {trace_hex(trace_id)}"))
    return len(failed), lines


def _top_spans(
    spans: Sequence[ReadableSpan], value: Callable[[ReadableSpan], float | None], n: int
) -> list[tuple[float, ReadableSpan]]:
    scored = [(v, s) for s in spans if (v := value(s)) is not None]
    return sorted(scored, key=lambda pair: -pair[0])[:n]


def outliers(spans: Iterable[ReadableSpan], logs: Iterable[ReadableLogRecord], n: int = 3) -> str:
    """Failed user requests (when any), the slowest, costliest and lowest-scoring `n` of each.

    Failed requests come first: with faults on, they are what to look at. Each line carries the
    trace id (32 hex digits) to look the call up in a trace backend.
    """
    span_list = list(spans)
    failures, failed = failed_requests(span_list, n)
    llm = [s for s in span_list if is_llm_call(s)]
    slow = [
        (f"{ms:.1f} ms", s.name, _prompt_label(s), f"trace {trace_hex(span_key(s)[0])}")
        for ms, s in _top_spans(llm, duration_ms, n)
    ]
    costly = [
        (_usd(cost), s.name, _prompt_label(s), f"trace {trace_hex(span_key(s)[0])}")
        for cost, s in _top_spans(llm, lambda s: number(attr(s, _COST)), n)
    ]
    trace_of = {span_key(s)[1]: span_key(s)[0] for s in span_list}
    scored: list[tuple[float, ReadableLogRecord]] = []
    for record in logs:
        score = number(log_attr(record, _EVAL_SCORE))
        if record.log_record.event_name == EVALUATION_EVENT and score is not None:
            scored.append((score, record))
    scored.sort(key=lambda pair: pair[0])
    low = []
    for score, record in scored[:n]:
        trace_id = record.log_record.trace_id or trace_of.get(record.log_record.span_id or 0, 0)
        low.append(
            (f"{score:.2f}", str(log_attr(record, _EVAL_NAME)), f"trace {trace_hex(trace_id)}")
        )
    first = f"first {len(failed)} of " if failures > len(failed) else ""
    return "\n".join(
        [
            *(_ranked(f"Failed requests ({first}{failures}):", failed) if failures else []),
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
