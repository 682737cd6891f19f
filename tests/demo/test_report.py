"""The demo's terminal report, over spans and log records from a real in-memory SDK pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span
from opentelemetry.util.types import Attributes

from otel_llm.demo.report import (
    outliers,
    percentile,
    render,
    slowest_trace,
    version_table,
    waterfall,
)

MS = 1_000_000
T0 = 1_700_000_000_000 * MS


@dataclass
class Pipeline:
    """A tracer and logger whose output lands in in-memory exporters."""

    tracer: trace.Tracer
    span_exporter: InMemorySpanExporter
    logger_provider: LoggerProvider
    log_exporter: InMemoryLogRecordExporter

    def span(
        self,
        name: str,
        start_ms: float,
        end_ms: float,
        parent: Span | None = None,
        attributes: Attributes = None,
    ) -> Span:
        """Start and end a span at fixed offsets (ms) from T0, under `parent` when given."""
        context = trace.set_span_in_context(parent) if parent is not None else None
        span = self.tracer.start_span(
            name, context=context, attributes=attributes, start_time=T0 + int(start_ms * MS)
        )
        span.end(end_time=T0 + int(end_ms * MS))
        return span

    def chat(
        self,
        start_ms: float,
        end_ms: float,
        parent: Span | None = None,
        extra: dict[str, str | float] | None = None,
    ) -> Span:
        """An LLM span (`gen_ai.operation.name` chat) with extra attributes."""
        attributes: dict[str, str | float] = {"gen_ai.operation.name": "chat", **(extra or {})}
        return self.span("chat gpt-4o-mini", start_ms, end_ms, parent, attributes)

    def evaluation(self, span: Span, name: str, *, passed: bool, score: float) -> None:
        """Emit an evaluation result record tied to `span`."""
        self.logger_provider.get_logger("test").emit(
            event_name="gen_ai.evaluation.result",
            attributes={
                "gen_ai.evaluation.name": name,
                "otel_llm.evaluation.passed": passed,
                "gen_ai.evaluation.score.value": score,
            },
            context=trace.set_span_in_context(span),
        )

    def spans(self) -> list[ReadableSpan]:
        """Finished spans so far."""
        return list(self.span_exporter.get_finished_spans())

    def logs(self) -> list[ReadableLogRecord]:
        """Emitted log records so far."""
        return list(self.log_exporter.get_finished_logs())


@pytest.fixture
def pipe() -> Iterator[Pipeline]:
    """A fresh in-memory tracing and logging pipeline."""
    span_exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    log_exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    yield Pipeline(tracer_provider.get_tracer("test"), span_exporter, logger_provider, log_exporter)
    tracer_provider.shutdown()
    logger_provider.shutdown()


def _trace_id(span: Span) -> int:
    return span.get_span_context().trace_id


def _row(table: str, name: str, version: str) -> list[str]:
    for line in table.splitlines():
        cells = line.split()
        if cells[:2] == [name, version]:
            return cells
    raise AssertionError(f"no row for {name} {version} in\n{table}")


def test_waterfall_orders_indents_and_marks_errors(pipe: Pipeline) -> None:
    """The waterfall lists spans depth-first in start order, indented, with durations and `!`."""
    root = pipe.tracer.start_span("invoke_workflow support_request", start_time=T0)
    chat = pipe.chat(100, 700, root, {"error.type": "timeout"})
    pipe.span("execute_tool crm_account_lookup", 200, 300, chat)
    pipe.span("retrieval kb", 0, 100, root)
    root.end(end_time=T0 + 1000 * MS)
    pipe.span("other trace", 0, 5)

    lines = waterfall(pipe.spans(), _trace_id(root)).splitlines()

    assert lines[0] == f"trace {_trace_id(root):032x}  total 1000.0 ms"
    body = lines[1:]
    assert [line.split("  +")[0].rstrip() for line in body] == [
        "invoke_workflow support_request",
        "  retrieval kb",
        "  ! chat gpt-4o-mini",
        "    execute_tool crm_account_lookup",
    ]
    assert "+     0.0 ms    1000.0 ms" in body[0]
    assert "+   100.0 ms     600.0 ms" in body[2]
    assert "+   200.0 ms     100.0 ms" in body[3]
    bars = [line.split("|")[1] for line in body]
    assert bars[0] == "█" * 40
    assert bars[2] == "░" * 4 + "█" * 24 + "░" * 12
    assert all(len(bar) == 40 for bar in bars)
    assert "!" not in "".join(body[:2]) + body[3]


def test_waterfall_ascii_fallback_and_unknown_trace(pipe: Pipeline) -> None:
    """The ASCII bar uses `#` and `.`, and an unknown trace id yields a note, not an error."""
    root = pipe.span("invoke_workflow support_request", 0, 10)
    text = waterfall(pipe.spans(), _trace_id(root), width=10, ascii_only=True)
    assert text.splitlines()[1].endswith("|##########|")
    assert waterfall(pipe.spans(), 1) == f"(no spans for trace {1:032x})"


def test_slowest_trace_compares_root_spans(pipe: Pipeline) -> None:
    """The trace with the longest root wins; a span whose parent is absent counts as a root."""
    short = pipe.tracer.start_span("invoke_workflow support_request", start_time=T0)
    pipe.span("retrieval kb", 0, 400, short)
    short.end(end_time=T0 + 500 * MS)
    long = pipe.span("invoke_workflow support_request", 0, 900)
    spans = pipe.spans()
    assert slowest_trace(spans) == _trace_id(long)
    orphan_only = [s for s in spans if s.name == "retrieval kb"]
    assert slowest_trace(orphan_only) == _trace_id(short)
    assert slowest_trace([]) is None


def test_percentile_is_nearest_rank() -> None:
    """Nearest-rank percentiles pick an observed value, and None for no data."""
    values = [400.0, 100.0, 300.0, 200.0]
    assert percentile(values, 50) == 200.0
    assert percentile(values, 95) == 400.0
    assert percentile(values, 1) == 100.0
    assert percentile([], 50) is None


def _two_versions(pipe: Pipeline) -> dict[str, Span]:
    v1: dict[str, str | float] = {"gen_ai.prompt.name": "support", "gen_ai.prompt.version": "v1"}
    v2: dict[str, str | float] = {"gen_ai.prompt.name": "support", "gen_ai.prompt.version": "v2"}
    a = pipe.chat(0, 100, None, {**v1, "otel_llm.cost.total": 0.001})
    b = pipe.chat(0, 200, None, {**v1, "otel_llm.cost.total": 0.003})
    c = pipe.chat(0, 300, None, {**v1, "error.type": "rate_limit_error"})
    d = pipe.chat(0, 400, None, v1)
    e = pipe.chat(0, 50, None, v2)
    pipe.span("retrieval kb", 0, 5000)
    pipe.evaluation(a, "faithfulness", passed=True, score=0.9)
    pipe.evaluation(b, "faithfulness", passed=False, score=0.2)
    pipe.evaluation(d, "faithfulness", passed=True, score=0.7)
    pipe.span("user_feedback", 0, 1, attributes={"otel_llm.feedback.sentiment": "negative", **v1})
    pipe.span("user_feedback", 0, 1, attributes={"otel_llm.feedback.sentiment": "positive", **v1})
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_version_table_numbers(pipe: Pipeline) -> None:
    """Each prompt version's row has the expected counts, rates, percentiles and costs."""
    _two_versions(pipe)
    table = version_table(pipe.spans(), pipe.logs())
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["prompt", "version", "requests"]
    assert len(lines) == 4
    assert len({len(line) for line in lines[:2]}) == 1
    assert _row(table, "support", "v1") == [
        "support",
        "v1",
        "4",
        "25.0%",
        "200.0",
        "400.0",
        "400.0",
        "$0.00200",
        "$0.00300",
        "66.7%",
        "50.0%",
    ]
    assert _row(table, "support", "v2") == [
        "support",
        "v2",
        "1",
        "0.0%",
        "50.0",
        "50.0",
        "50.0",
        "—",
        "—",
        "—",
        "—",
    ]


def test_outliers_name_trace_ids(pipe: Pipeline) -> None:
    """Outliers list the slowest, costliest and lowest-scoring calls with 32-hex trace ids."""
    made = _two_versions(pipe)
    lines = outliers(pipe.spans(), pipe.logs(), n=1).splitlines()
    d, b = (f"trace {_trace_id(made[key]):032x}" for key in ("d", "b"))
    assert lines == [
        "Slowest LLM calls:",
        f"  400.0 ms  chat gpt-4o-mini  support@v1  {d}",
        "Most expensive LLM calls:",
        f"  $0.00300  chat gpt-4o-mini  support@v1  {b}",
        "Lowest evaluation scores:",
        f"  0.20  faithfulness  {b}",
    ]


def test_render_includes_every_section(pipe: Pipeline) -> None:
    """The report has all sections, the slowest trace's waterfall and the OTLP output path."""
    _two_versions(pipe)
    text = render(pipe.spans(), pipe.logs(), "out/traces.jsonl")
    for title in ("== Slowest request ==", "== Prompt versions ==", "== Outliers =="):
        assert title in text
    assert "retrieval kb" in text.split("== Prompt versions ==")[0]
    assert text.endswith("traces written to out/traces.jsonl\n")


def test_render_empty_input() -> None:
    """With no telemetry at all the report still renders, with placeholders."""
    text = render([], [], None)
    assert "(no traces)" in text
    assert "(no LLM calls)" in text
    assert text.count("(none)") == 3
    assert "traces written" not in text


def test_evaluations_are_matched_to_versions_by_response_id(pipe: Pipeline) -> None:
    """An evaluation parented elsewhere (a workflow span) counts for the version it names."""
    workflow = pipe.span("invoke_workflow support", 0, 500)
    for version, response in (("v1", "chatcmpl-1"), ("v2", "chatcmpl-2")):
        pipe.chat(
            0,
            100,
            workflow,
            {
                "gen_ai.prompt.name": "support",
                "gen_ai.prompt.version": version,
                "gen_ai.response.id": response,
            },
        )
    logger = pipe.logger_provider.get_logger("test")
    for response, passed in (("chatcmpl-2", False), ("chatcmpl-2", True), ("chatcmpl-1", True)):
        logger.emit(
            event_name="gen_ai.evaluation.result",
            attributes={
                "gen_ai.evaluation.name": "citation",
                "otel_llm.evaluation.passed": passed,
                "gen_ai.response.id": response,
            },
            context=trace.set_span_in_context(workflow),
        )
    table = version_table(pipe.spans(), pipe.logs())
    assert _row(table, "support", "v1")[9] == "100.0%"
    assert _row(table, "support", "v2")[9] == "50.0%"
