"""The pipeline at export: what the exporter gets equals what the inline chain hands on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

import otel_llm._errors
from otel_llm import _telemetry
from otel_llm._guard import _EVENTS, _SPANS
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.processors._content_keys import ContentKeys
from otel_llm.processors._export import (
    LogExportPipeline,
    SpanExportPipeline,
    at_export,
    export_steps,
)
from otel_llm.processors.content import ContentDropSpanProcessor
from otel_llm.processors.foreign import DerivedMetricsSpanProcessor
from otel_llm.processors.pipeline import (
    build_log_pipeline,
    build_span_pipeline,
    log_export_pipeline,
    span_export_pipeline,
)
from otel_llm.processors.redaction import RedactionSpanProcessor
from otel_llm.redaction import Redactor
from tests.conftest import Captured, make_captured

EMAIL = "bob.smith@example.com"
MESSAGES = json.dumps([{"role": "user", "parts": [{"type": "text", "content": f"I am {EMAIL}"}]}])
CHAT: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 100,
}


@pytest.fixture
def captured() -> Iterator[Captured]:
    """An active in-memory Telemetry: the processors count findings and spend on it."""
    result = make_captured()
    _telemetry.set_telemetry(result.telemetry)
    yield result
    _telemetry.set_telemetry(None)


def _spans(provider: TracerProvider) -> None:
    """Spans of every kind the pipeline treats apart, from otel-llm's scope and another."""
    ours, theirs = provider.get_tracer("otel_llm"), provider.get_tracer("someone.else")
    with ours.start_as_current_span("chat gpt-4o-mini", attributes=CHAT):
        pass
    with theirs.start_as_current_span("chat gpt-4o-mini", attributes=CHAT) as span:
        span.set_attribute("gen_ai.input.messages", MESSAGES)
        span.set_status(Status(StatusCode.ERROR, f"rejected {EMAIL}"))
    with theirs.start_as_current_span(f"lookup {EMAIL}"):
        pass
    with theirs.start_as_current_span("clean", attributes={"app.count": 3}):
        pass


def _summary(spans: Any) -> list[Any]:
    return sorted(
        (
            span.name,
            sorted(dict(span.attributes or {}).items()),
            span.status.status_code.name,
            span.status.description,
            [(e.name, dict(e.attributes or {})) for e in span.events],
        )
        for span in spans
    )


def _exported(captured: Captured, wrap: Callable[[InMemorySpanExporter], SpanProcessor]) -> Any:
    """What the exporter gets from `_spans`, and the findings and spend counted meanwhile."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    processor = wrap(exporter)
    provider.add_span_processor(processor)
    _spans(provider)
    processor.force_flush()
    metrics = {
        name: sorted((sorted((p.attributes or {}).items()), p.value) for p in points)
        for name in ("otel_llm.redaction.findings", "otel_llm.client.cost")
        if (points := captured.metric_points(name))
    }
    return _summary(exporter.get_finished_spans()), metrics


def test_at_export_the_exporter_gets_what_the_inline_chain_hands_on(
    captured: Captured,
) -> None:
    """Behind a batch processor the exporter gets the spans (and counts) the inline chain gives.

    Redaction of attributes, status and names, and pricing, with spend counted only for the
    spans of other instrumentations (otel-llm counts its own calls' spend as they end).
    """
    inline = _exported(
        captured, lambda exporter: build_span_pipeline(SimpleSpanProcessor(exporter), Settings())
    )
    inline_metrics = {
        name: [(attributes, value) for attributes, value in points]
        for name, points in inline[1].items()
    }
    at_export_ = _exported(
        captured, lambda exporter: build_span_pipeline(BatchSpanProcessor(exporter), Settings())
    )
    assert at_export_[0] == inline[0]
    # The second run counts on the same instruments: each count doubled, none added.
    assert at_export_[1] == {
        name: [(attributes, value * 2) for attributes, value in points]
        for name, points in inline_metrics.items()
    }
    names = [name for name, *_ in inline[0]]
    assert "[REDACTED:email]" in json.dumps(inline[0], default=str)
    assert EMAIL not in json.dumps(inline[0], default=str)
    assert len(names) == 4
    priced = [
        dict(attributes)
        for _, attributes, *_ in inline[0]
        if ("gen_ai.usage.input_tokens", 1000) in attributes
    ]
    assert all("otel_llm.cost.total" in attributes for attributes in priced)
    (spent,) = inline_metrics["otel_llm.client.cost"]  # only the other instrumentation's span
    assert spent[1] == pytest.approx(priced[0]["otel_llm.cost.total"])


def test_a_failing_redaction_fails_closed_at_export_as_inline(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redaction that raises drops the content at export exactly as it does inline."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(Redactor, "redact_mapping", broken)
    inline = _exported(
        captured, lambda exporter: build_span_pipeline(SimpleSpanProcessor(exporter), Settings())
    )
    at_export_ = _exported(
        captured, lambda exporter: build_span_pipeline(BatchSpanProcessor(exporter), Settings())
    )
    assert at_export_[0] == inline[0]
    assert EMAIL not in json.dumps(at_export_[0], default=str)
    assert "[REDACTED:failed]" in json.dumps(at_export_[0], default=str)


def test_a_failing_content_drop_empties_their_spans_at_export_as_inline(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Capture off and the content check raising: their spans leave with no attributes at all.

    At export as inline; otel-llm's own span is not checked, so it keeps its attributes.
    """
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(ContentKeys, "any_attribute", broken)
    inline = _exported(
        captured, lambda exporter: build_span_pipeline(SimpleSpanProcessor(exporter), Settings())
    )
    at_export_ = _exported(
        captured, lambda exporter: build_span_pipeline(BatchSpanProcessor(exporter), Settings())
    )
    assert at_export_[0] == inline[0]
    assert MESSAGES not in json.dumps(at_export_[0], default=str)
    # Only otel-llm's own call keeps its GenAI attributes (theirs keep at most the redaction's
    # note of what it found in their names and statuses).
    kept = [a for _, a, *_ in at_export_[0] if any(k.startswith("gen_ai.") for k, _ in a)]
    assert len(kept) == 1
    assert ("gen_ai.provider.name", "openai") in kept[0]


class _Raising(RedactionSpanProcessor):
    """A step whose every way out raises: the span cannot be processed at all."""

    def transform(self, span: Any, data: Any) -> Any:
        raise RuntimeError("boom")

    def on_failure(self, span: Any, data: Any) -> Any:
        raise RuntimeError("boom again")


def test_a_span_the_pipeline_cannot_process_is_not_exported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fail closed: when even the failure path raises, the span is dropped, the rest exported."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    pipeline = SpanExportPipeline(exporter, [_Raising(SimpleSpanProcessor(exporter), Redactor())])
    provider.add_span_processor(SimpleSpanProcessor(pipeline))
    with provider.get_tracer("t").start_as_current_span("chat", attributes={"a": MESSAGES}):
        pass
    assert exporter.get_finished_spans() == ()


def _log(provider: LoggerProvider) -> None:
    logger = provider.get_logger("otel_llm")
    logger.emit(
        event_name="gen_ai.client.inference.operation.details",
        severity_number=SeverityNumber.INFO,
        attributes={"gen_ai.input.messages": MESSAGES, "gen_ai.request.model": "m"},
        body={"note": f"mail {EMAIL}"},
    )
    logger.emit(severity_number=SeverityNumber.INFO, attributes={"clean": 1}, body="fine")


def _records(
    processor: Callable[[InMemoryLogRecordExporter], Any],
    emit: Callable[[LoggerProvider], None] = _log,
) -> list[Any]:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    built = processor(exporter)
    provider.add_log_record_processor(built)
    emit(provider)
    built.force_flush()
    return sorted(
        (json.dumps(dict(d.log_record.attributes or {}), sort_keys=True), repr(d.log_record.body))
        for d in exporter.get_finished_logs()
    )


def test_log_records_at_export_equal_the_inline_chain(captured: Captured) -> None:
    """Log record attributes and bodies are redacted at export exactly as inline."""
    inline = _records(lambda e: build_log_pipeline(SimpleLogRecordProcessor(e), Settings()))
    at_export_ = _records(lambda e: build_log_pipeline(BatchLogRecordProcessor(e), Settings()))
    assert at_export_ == inline
    assert EMAIL not in json.dumps(inline)
    assert len(inline) == 2


def _their_log(provider: LoggerProvider) -> None:
    """Another library's records: a content event, one with content attributes, a clean one."""
    theirs = provider.get_logger("someone.else")
    theirs.emit(
        event_name="gen_ai.user.message",
        attributes={"gen_ai.system": "openai"},
        body={"content": f"I am {EMAIL}"},
    )
    theirs.emit(
        severity_number=SeverityNumber.INFO,
        attributes={"gen_ai.input.messages": MESSAGES, "app.count": 3},
        body="call done",
    )
    theirs.emit(severity_number=SeverityNumber.INFO, attributes={"clean": 1}, body="fine")


def test_with_capture_off_their_content_events_are_not_exported_at_export(
    captured: Captured,
) -> None:
    """Capture off: behind a batch processor another library's content event is not exported.

    As inline: the event is dropped whole, the other records lose their content attributes.
    """
    inline = _records(
        lambda e: build_log_pipeline(SimpleLogRecordProcessor(e), Settings()), _their_log
    )
    at_export_ = _records(
        lambda e: build_log_pipeline(BatchLogRecordProcessor(e), Settings()), _their_log
    )
    assert at_export_ == inline
    assert inline == [('{"app.count": 3}', "'call done'"), ('{"clean": 1}', "'fine'")]


def test_their_spans_metrics_are_derived_when_the_pipeline_runs_at_export(
    captured: Captured,
) -> None:
    """Behind a batch processor, a foreign call in older names still gives its metrics, once.

    The derived metrics run inline in front of the batch processor (reading the names
    upgraded); the exported span is upgraded and priced at export.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    processor = build_span_pipeline(BatchSpanProcessor(exporter), Settings())
    provider.add_span_processor(processor)
    old_names: dict[str, Any] = {
        "gen_ai.system": "openai",
        "llm.request.type": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.prompt_tokens": 1000,
        "gen_ai.usage.completion_tokens": 100,
    }
    with provider.get_tracer("someone.else").start_as_current_span("openai.chat") as span:
        span.set_attributes(old_names)
    processor.force_flush()
    (request,) = captured.metric_points("otel_llm.client.requests")
    assert request.value == 1
    assert request.attributes["gen_ai.provider.name"] == "openai"
    assert request.attributes["gen_ai.operation.name"] == "chat"
    (tokens,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == 1000
    (duration,) = captured.metric_points("gen_ai.client.inference.duration")
    assert duration.count == 1
    (exported,) = exporter.get_finished_spans()
    assert exported.attributes is not None
    assert exported.attributes["gen_ai.provider.name"] == "openai"
    cost: Any = exported.attributes["otel_llm.cost.total"]
    assert cost > 0
    spent = sum(p.value for p in captured.metric_points("otel_llm.client.cost"))
    assert spent == pytest.approx(cost)
    processor.shutdown()


def test_batch_processors_run_the_pipeline_at_export_and_others_inline() -> None:
    """The SDK's batch processors run the steps before their exporter; others are wrapped.

    The derived metrics stay inline, in front of the batch processor (they need each span's
    start). The content guard sees redaction in front of either.
    """
    batch = BatchSpanProcessor(InMemorySpanExporter())
    derived: Any = build_span_pipeline(batch, Settings())
    assert isinstance(derived, DerivedMetricsSpanProcessor)
    assert derived.next is batch
    assert derived._normalise is not None  # the upgrade runs at export, after it
    steps = export_steps(batch)
    assert steps is not None
    assert [type(step).__name__ for step in steps] == [
        "ContentDropSpanProcessor",
        "SemconvUpgradeSpanProcessor",
        "RedactionSpanProcessor",
        "CostSpanProcessor",
    ]
    assert _SPANS.guarded(batch)
    assert _SPANS.guarded(derived)
    simple = SimpleSpanProcessor(InMemorySpanExporter())
    assert export_steps(simple) is None
    assert _SPANS.guarded(build_span_pipeline(simple, Settings()))
    assert not _SPANS.guarded(simple)
    logs = BatchLogRecordProcessor(InMemoryLogRecordExporter())  # type: ignore[no-untyped-call]
    assert build_log_pipeline(logs, Settings()) is logs
    assert _EVENTS.guarded(logs)
    for processor in (batch, logs):
        processor.shutdown()  # type: ignore[no-untyped-call]


def test_a_batch_processor_is_given_the_pipeline_once() -> None:
    """Wrapping a batch processor again keeps its one pipeline.

    One whose pipeline has no redaction gets the inline chain in front instead.
    """
    batch = BatchSpanProcessor(InMemorySpanExporter())
    build_span_pipeline(batch, Settings())
    pipeline = batch._batch_processor._exporter
    again: Any = build_span_pipeline(batch, Settings())
    assert again.next is batch
    assert batch._batch_processor._exporter is pipeline
    costed = BatchSpanProcessor(InMemorySpanExporter())
    build_span_pipeline(costed, Settings(redaction_enabled=False))
    assert not _SPANS.guarded(costed)
    wrapped = build_span_pipeline(costed, Settings())
    assert isinstance(wrapped, ContentDropSpanProcessor)
    assert _SPANS.guarded(wrapped)
    for processor in (batch, costed):
        processor.shutdown()


def test_a_subclass_of_the_batch_processor_gets_the_inline_chain() -> None:
    """Only the SDK's own batch processors are changed: a subclass may do more than queue."""

    class Mine(BatchSpanProcessor):
        pass

    mine = Mine(InMemorySpanExporter())
    assert not at_export(mine, [])
    assert isinstance(build_span_pipeline(mine, Settings()), ContentDropSpanProcessor)
    mine.shutdown()  # type: ignore[no-untyped-call]


class _Exporter(SpanExporter):
    """Records how it was flushed and shut down."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        self.calls.append(("flush", timeout_millis))
        return True

    def shutdown(self, timeout_millis: float = 30_000) -> None:
        self.calls.append(("shutdown", timeout_millis))


def test_flush_and_shutdown_reach_the_exporter_with_their_timeouts() -> None:
    """The pipeline passes force_flush and shutdown (with the time left) to its exporter."""
    inner = _Exporter()
    pipeline = span_export_pipeline(Settings())(inner)
    assert isinstance(pipeline, SpanExportPipeline)
    assert pipeline.force_flush(5)
    pipeline.shutdown(timeout_millis=7)
    assert inner.calls == [("flush", 5), ("shutdown", 7)]
    logs = log_export_pipeline(Settings())(InMemoryLogRecordExporter())  # type: ignore[no-untyped-call]
    assert isinstance(logs, LogExportPipeline)
    logs.shutdown()


def test_nothing_turned_on_leaves_the_exporter_as_it_is() -> None:
    """With content captured and every step off there is no pipeline in front of the exporter."""
    exporter = InMemorySpanExporter()
    off = Settings(
        redaction_enabled=False,
        cost_enabled=False,
        semconv_upgrade=False,
        capture_message_content=ContentCapturingMode.SPAN_AND_EVENT,
    )
    assert span_export_pipeline(off)(exporter) is exporter
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    assert log_export_pipeline(off)(logs) is logs
