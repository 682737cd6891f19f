"""The demo's table per prompt version: user requests, LLM calls, answer quality and feedback."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.util.types import AttributeValue

from otel_llm.demo.records import (
    EVALUATION_EVENT,
    SAFETY_EVALUATIONS,
    attr,
    duration_ms,
    errored,
    is_llm_call,
    log_attr,
    number,
    percentile,
    roots,
    span_key,
)

__all__ = ["DASH", "NOTE", "NO_PROMPT", "version_table"]

DASH = "—"
"""Shown in a cell that has no value (no priced call, no evaluation, no feedback)."""

NO_PROMPT = "(no prompt)"
"""The prompt name of LLM calls made outside any prompt (embeddings, say)."""

NOTE = (
    "A user request makes several LLM calls (a tool call adds one), so calls outnumber requests.\n"
    "Quality pass leaves the safety checks out: they count as safety fails."
)
"""Printed under the table: how its columns relate to each other and to the summary."""

_PROMPT_NAME = "gen_ai.prompt.name"
_PROMPT_VERSION = "gen_ai.prompt.version"
_COST = "otel_llm.cost.total"
_EVAL_NAME = "gen_ai.evaluation.name"
_EVAL_PASSED = "otel_llm.evaluation.passed"
_RESPONSE_ID = "gen_ai.response.id"
_FEEDBACK_SPAN = "user_feedback"
_SENTIMENT = "otel_llm.feedback.sentiment"

_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("prompt", "version")),
    ("user requests", ("requests", "answered")),
    (
        "per LLM call",
        ("calls", "error %", "p50 ms", "p95 ms", "p99 ms", "mean cost", "p95 cost"),
    ),
    ("answers", ("quality pass", "safety fails", "thumbs-down")),
)
"""The columns, under a heading that says what each group counts."""


@dataclass
class _Row:
    """What one (prompt name, prompt version) accumulated."""

    traces: set[int] = field(default_factory=set)
    """Traces in which it was called."""
    span_ids: set[int] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    errors: int = 0
    quality: list[bool] = field(default_factory=list)
    safety: list[bool] = field(default_factory=list)
    feedback: list[bool] = field(default_factory=list)
    """One entry per feedback span: whether it was negative."""


def _label(value: AttributeValue | None, missing: str) -> str:
    return missing if value is None else str(value)


def _rows(
    spans: Sequence[ReadableSpan], logs: Sequence[ReadableLogRecord]
) -> dict[tuple[str, str], _Row]:
    rows: dict[tuple[str, str], _Row] = {}
    by_response: dict[str, _Row] = {}
    for span in spans:
        if not is_llm_call(span):
            continue
        key = (
            _label(attr(span, _PROMPT_NAME), NO_PROMPT),
            _label(attr(span, _PROMPT_VERSION), DASH),
        )
        row = rows.setdefault(key, _Row())
        trace_id, span_id = span_key(span)
        row.traces.add(trace_id)
        row.span_ids.add(span_id)
        response_id = attr(span, _RESPONSE_ID)
        if response_id is not None:
            by_response[str(response_id)] = row
        row.latencies.append(duration_ms(span))
        row.errors += errored(span)
        cost = number(attr(span, _COST))
        if cost is not None:
            row.costs.append(cost)
    _add_evaluations(rows, by_response, logs)
    for span in spans:
        if span.name != _FEEDBACK_SPAN or attr(span, _PROMPT_VERSION) is None:
            continue
        name, version = attr(span, _PROMPT_NAME), str(attr(span, _PROMPT_VERSION))
        for (row_name, row_version), row in rows.items():
            if row_version == version and (name is None or str(name) == row_name):
                row.feedback.append(attr(span, _SENTIMENT) == "negative")
    return rows


def _add_evaluations(
    rows: dict[tuple[str, str], _Row],
    by_response: dict[str, _Row],
    logs: Sequence[ReadableLogRecord],
) -> None:
    """Credit each pass/fail evaluation to the version it names by response id, or its span."""
    for record in logs:
        passed = log_attr(record, _EVAL_PASSED)
        if record.log_record.event_name != EVALUATION_EVENT or not isinstance(passed, bool):
            continue
        response_id = log_attr(record, _RESPONSE_ID)
        evaluated = by_response.get(str(response_id)) if response_id is not None else None
        matching = (
            [evaluated]
            if evaluated is not None
            else [r for r in rows.values() if record.log_record.span_id in r.span_ids]
        )
        safety = SAFETY_EVALUATIONS.fullmatch(str(log_attr(record, _EVAL_NAME))) is not None
        for row in matching:
            (row.safety if safety else row.quality).append(passed)


def _ms(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def _usd(value: float | None) -> str:
    return DASH if value is None else f"${value:.5f}"


def _rate(flags: Sequence[bool]) -> str:
    return DASH if not flags else f"{100 * sum(flags) / len(flags):.1f}%"


def _cells(row: _Row, requests: set[int], failed: set[int]) -> tuple[str, ...]:
    mine = row.traces & requests
    mean_cost = sum(row.costs) / len(row.costs) if row.costs else None
    return (
        str(len(mine)),
        str(len(mine - failed)),
        str(len(row.latencies)),
        f"{100 * row.errors / len(row.latencies):.1f}%",
        _ms(percentile(row.latencies, 50)),
        _ms(percentile(row.latencies, 95)),
        _ms(percentile(row.latencies, 99)),
        _usd(mean_cost),
        _usd(percentile(row.costs, 95)),
        _rate(row.quality),
        str(row.safety.count(False)) if row.safety else DASH,
        _rate(row.feedback),
    )


def _table(rows: Sequence[Sequence[str]], left: int) -> str:
    """`rows` under the grouped header, the first `left` columns left-aligned."""
    header = [column for _, columns in _GROUPS for column in columns]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    groups, at = [], 0
    for title, columns in _GROUPS:
        span = sum(widths[at : at + len(columns)]) + 2 * (len(columns) - 1)
        groups.append(f"{title} ".ljust(span, "-") if title else " " * span)
        at += len(columns)

    def line(row: Sequence[str]) -> str:
        cells = [
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join(
        ["  ".join(groups).rstrip(), line(header), "  ".join("-" * w for w in widths)]
        + [line(row) for row in rows]
    )


def version_table(spans: Iterable[ReadableSpan], logs: Iterable[ReadableLogRecord]) -> str:
    """One row per (prompt name, prompt version) of the LLM calls, under a grouped header.

    User requests: the traces (whose root is not itself an LLM call) that called the version,
    and how many of them were answered (their root span did not fail). Per LLM call: calls,
    error %, nearest-rank p50/p95/p99 latency (ms), mean and p95 cost (USD, from
    ``otel_llm.cost.total``). Answers: pass rate of the quality evaluations and number of
    failed safety evaluations (names matching SAFETY_EVALUATIONS) naming one of the version's
    responses by ``gen_ai.response.id`` or parented to one of its spans, and the thumbs-down
    rate (negative ``user_feedback`` spans over all feedback for it). Calls made outside any
    prompt get a row of their own, so the calls add up to every LLM call.
    """
    span_list = list(spans)
    rows = _rows(span_list, list(logs))
    if not rows:
        return "(no LLM calls)"
    tops = roots(span_list)
    requests = {span_key(s)[0] for s in tops if not is_llm_call(s)}
    failed = {span_key(s)[0] for s in tops if errored(s)}
    # Calls outside any prompt last: they are the odd ones out.
    ordered = sorted(rows.items(), key=lambda item: (item[0][0] == NO_PROMPT, item[0]))
    table = [(name, version, *_cells(row, requests, failed)) for (name, version), row in ordered]
    return _table(table, left=2) + "\n" + NOTE
