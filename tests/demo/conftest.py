"""Fixtures for the report tests: a real in-memory SDK pipeline with spans at fixed times."""

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


def trace_id(span: Span) -> int:
    """The span's trace id."""
    return span.get_span_context().trace_id


def two_versions(pipe: Pipeline) -> dict[str, Span]:
    """Five calls of prompt `support`: four of v1 (priced, failed, evaluated, rated), one of v2."""
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
