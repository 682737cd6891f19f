"""Fail closed: captured content reaches only SDK processors behind otel-llm's redaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm
from otel_llm import _guard
from otel_llm._telemetry import Telemetry, set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors.pipeline import build_span_pipeline
from otel_llm.processors.redaction import RedactionLogRecordProcessor, RedactionSpanProcessor
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

EMAIL = "jane.doe@example.com"
API_KEY = "sk-proj-T3stK3y4Redaction9x8y7z6w5v4u3t2s1"
MESSAGES: Any = [{"role": "user", "content": f"I am {EMAIL}, my key is {API_KEY}"}]
SPAN_AND_EVENT = Settings(capture_message_content=ContentCapturingMode.SPAN_AND_EVENT)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees otel-llm's once-per-process warnings as a new process would."""
    monkeypatch.setattr(_guard, "_warned", set())


def _instrument(captured: Captured, settings: Settings) -> None:
    OpenAIInstrumentor().instrument(**captured.providers, settings=settings, skip_dep_check=True)


@pytest.fixture
def uninstrument() -> Iterator[None]:
    """Remove the instrumentation the test installed."""
    yield
    OpenAIInstrumentor().uninstrument()
    set_telemetry(None)


def _chat() -> None:
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def _exported(spans: InMemorySpanExporter) -> str:
    """Everything the exporter received, as text."""
    return "\n".join(str(dict(s.attributes or {})) for s in spans.get_finished_spans())


def _retrofit_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "set up without" in r.getMessage()]


@pytest.mark.usefixtures("uninstrument")
def test_processors_without_the_pipeline_get_it_before_any_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Providers built without otel-llm's pipeline get it when instrumented, with a warning."""
    captured = make_captured()
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        _instrument(captured, SPAN_AND_EVENT)
        _chat()
        _chat()
    (span, _) = captured.finished_spans()
    messages = span.attributes[ga.GEN_AI_INPUT_MESSAGES]
    assert "[REDACTED:email]" in messages
    assert "[REDACTED:secret]" in messages
    (event, _) = captured.events("gen_ai.client.inference.operation.details")
    content = json.dumps(event.attributes[ga.GEN_AI_INPUT_MESSAGES])
    assert "[REDACTED:email]" in content
    assert EMAIL not in _exported(captured.spans) + content
    assert "sk-proj-" not in _exported(captured.spans) + content
    (warning,) = _retrofit_warnings(caplog)
    assert "1 span and 1 log record processor(s)" in warning
    assert "OTEL_PYTHON_CONFIGURATOR=otel_llm" in warning
    assert "build_span_pipeline" in warning


@pytest.mark.usefixtures("uninstrument")
def test_a_processor_added_later_is_guarded_before_the_next_call() -> None:
    """A span processor added after instrument() gets the pipeline on the next call."""
    captured = make_captured()
    _instrument(captured, SPAN_AND_EVENT)
    late = InMemorySpanExporter()
    captured.providers["tracer_provider"].add_span_processor(SimpleSpanProcessor(late))
    _chat()
    (span,) = late.get_finished_spans()
    assert "[REDACTED:email]" in str((span.attributes or {})[ga.GEN_AI_INPUT_MESSAGES])
    assert EMAIL not in _exported(late)


@pytest.mark.usefixtures("uninstrument")
def test_processors_behind_the_pipeline_are_left_as_they_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A provider set up with build_span_pipeline is not wrapped again and nothing is logged."""
    captured = make_captured()
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(build_span_pipeline(SimpleSpanProcessor(exporter)))
    before = provider._active_span_processor._span_processors
    settings = Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY)
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        _instrument(captured, settings)  # the in-memory providers: retrofitted, one warning
        caplog.clear()
        OpenAIInstrumentor().uninstrument()
        OpenAIInstrumentor().instrument(
            **{**captured.providers, "tracer_provider": provider},
            settings=settings,
            skip_dep_check=True,
        )
        _chat()
    assert provider._active_span_processor._span_processors is before
    assert caplog.records == []
    (span,) = exporter.get_finished_spans()
    assert "[REDACTED:email]" in str((span.attributes or {})[ga.GEN_AI_INPUT_MESSAGES])


class _ForeignTracer(trace.Tracer):
    """A tracer that is not the SDK's, handing spans to an SDK tracer nobody can inspect."""

    def __init__(self, inner: trace.Tracer) -> None:
        self._inner = inner

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        """Start the span on the hidden SDK tracer."""
        return self._inner.start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        """Start the span on the hidden SDK tracer, as the current one."""
        return self._inner.start_as_current_span(*args, **kwargs)


class _ForeignTracerProvider(trace.TracerProvider):
    """A tracer provider that is not the SDK's (a vendor's, say)."""

    def __init__(self, inner: TracerProvider) -> None:
        self._inner = inner

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        """A foreign tracer over the hidden SDK provider's."""
        return _ForeignTracer(self._inner.get_tracer(*args, **kwargs))


class _OwnFanout(SpanProcessor):
    """A fan-out of span processors the SDK accepts but otel-llm does not know."""

    def __init__(self, *processors: SpanProcessor) -> None:
        self.processors = processors

    def on_end(self, span: ReadableSpan) -> None:
        """Hand the span to each processor."""
        for processor in self.processors:
            processor.on_end(span)


def _unguardable(kind: str, exporter: InMemorySpanExporter) -> Any:
    """A tracer provider whose processors otel-llm cannot reach, exporting to `exporter`."""
    if kind == "foreign provider":
        inner = TracerProvider()
        inner.add_span_processor(SimpleSpanProcessor(exporter))
        return _ForeignTracerProvider(inner)
    fanout: Any = _OwnFanout(SimpleSpanProcessor(exporter))
    return TracerProvider(active_span_processor=fanout)


@pytest.mark.usefixtures("uninstrument")
@pytest.mark.parametrize("kind", ["foreign provider", "unknown fan-out"])
def test_spans_get_no_content_where_no_redaction_can_be_put_in_front(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No content goes on spans whose processors otel-llm cannot reach; one warning says why.

    Events, which go to the SDK's LoggerProvider, keep their (redacted) content.
    """
    captured = make_captured()
    exporter = InMemorySpanExporter()
    providers = {**captured.providers, "tracer_provider": _unguardable(kind, exporter)}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        OpenAIInstrumentor().instrument(**providers, settings=SPAN_AND_EVENT, skip_dep_check=True)
        _chat()
        _chat()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["chat gpt-4o-mini"] * 2
    assert all(ga.GEN_AI_INPUT_MESSAGES not in (s.attributes or {}) for s in spans)
    assert EMAIL not in _exported(exporter)
    events = captured.events("gen_ai.client.inference.operation.details")
    assert "[REDACTED:email]" in json.dumps(events[0].attributes[ga.GEN_AI_INPUT_MESSAGES])
    (warning,) = [r.getMessage() for r in caplog.records if "NOT captured" in r.getMessage()]
    assert "NOT captured on spans although" in warning
    assert "OTEL_LLM_REDACTION_ENABLED=false" in warning


def test_manual_spans_and_feedback_follow_the_guard() -> None:
    """A feedback comment (content) is left off a span no redaction can be put in front of."""
    exporter = InMemorySpanExporter()
    telemetry = Telemetry.create(
        tracer_provider=_unguardable("foreign provider", exporter),
        settings=Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY),
    )
    set_telemetry(telemetry)
    try:
        otel_llm.record_feedback(score=-1, comment=f"write to {EMAIL}")
    finally:
        set_telemetry(None)
    (span,) = exporter.get_finished_spans()
    assert ol.OTEL_LLM_FEEDBACK_COMMENT not in (span.attributes or {})
    assert telemetry.content_mode() is ContentCapturingMode.NO_CONTENT


def test_a_proxy_is_guarded_once_its_provider_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before a global provider exists nothing is exported; once set, it is retrofitted."""
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    telemetry = Telemetry.create(
        settings=Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY)
    )
    assert isinstance(telemetry.tracer, trace.ProxyTracer)
    assert telemetry.content_mode() is ContentCapturingMode.SPAN_ONLY  # spans go nowhere yet
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    assert telemetry.content_mode() is ContentCapturingMode.SPAN_ONLY
    telemetry.tracer.start_span("probe", attributes={ga.GEN_AI_INPUT_MESSAGES: EMAIL}).end()
    (span,) = exporter.get_finished_spans()
    assert span.attributes == {
        ga.GEN_AI_INPUT_MESSAGES: "[REDACTED:email]",
        ol.OTEL_LLM_REDACTION_COUNT: 1,
        ol.OTEL_LLM_REDACTION_KINDS: ("email",),
    }


def test_with_content_off_a_provider_set_later_is_guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Capture off, no provider yet: the one a library sets later (openlit.init()) is retrofitted.

    Such a provider comes with its own exporters, and other instrumentations' content in spans
    (OpenLIT captures it by default): it must not reach them raw.
    """
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    telemetry = Telemetry.create(settings=Settings())
    assert telemetry.content_mode() is ContentCapturingMode.NO_CONTENT
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    assert telemetry.content_mode() is ContentCapturingMode.NO_CONTENT  # our next call checks
    other = provider.get_tracer("openlit.instrumentation.openai")
    other.start_span("chat m", attributes={ga.GEN_AI_INPUT_MESSAGES: EMAIL, "user": EMAIL}).end()
    (span,) = exporter.get_finished_spans()
    attributes = dict(span.attributes or {})
    assert ga.GEN_AI_INPUT_MESSAGES not in attributes  # another library's content: dropped
    assert attributes["user"] == "[REDACTED:email]"


@pytest.mark.usefixtures("uninstrument")
def test_redaction_switched_off_is_accepting_raw_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With OTEL_LLM_REDACTION_ENABLED=false content is exported as captured, processors as set."""
    settings = Settings(
        capture_message_content=ContentCapturingMode.SPAN_ONLY, redaction_enabled=False
    )
    captured = make_captured(settings)
    before = captured.providers["tracer_provider"]._active_span_processor._span_processors
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        _instrument(captured, settings)
        _chat()
    assert captured.providers["tracer_provider"]._active_span_processor._span_processors is before
    assert EMAIL in _exported(captured.spans)
    assert caplog.records == []


def _guarded(processors: tuple[Any, ...], redaction: type) -> bool:
    """Whether every processor is otel-llm's redaction or leads to it (through cost, say)."""
    for first in processors:
        processor = first
        while not isinstance(processor, redaction):
            processor = getattr(processor, "next", None)
            if processor is None:
                return False
    return True


@pytest.mark.parametrize("mode", list(ContentCapturingMode))
def test_both_signals_get_the_pipeline_whatever_the_capture_mode(
    mode: ContentCapturingMode, caplog: pytest.LogCaptureFixture
) -> None:
    """Logs and spans go behind redaction when instrumenting, content captured or not, said once.

    Application logs, exception messages and other instrumentations' spans reach the same
    processors as otel-llm's telemetry.
    """
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        captured = make_captured(Settings(capture_message_content=mode))
    tracer_provider = captured.providers["tracer_provider"]
    logger_provider = captured.providers["logger_provider"]
    assert _guarded(tracer_provider._active_span_processor._span_processors, RedactionSpanProcessor)
    assert _guarded(
        logger_provider._multi_log_record_processor._log_record_processors,
        RedactionLogRecordProcessor,
    )
    (warning,) = _retrofit_warnings(caplog)
    assert "1 span and 1 log record processor(s)" in warning
    logger_provider.get_logger("app").emit(body=f"user wrote {EMAIL}")
    tracer_provider.get_tracer("other").start_span("GET", attributes={"user": EMAIL}).end()
    (record,) = captured.events()
    assert record.body == "user wrote [REDACTED:email]"
    (span,) = captured.finished_spans()
    assert span.attributes["user"] == "[REDACTED:email]"


def test_with_content_off_providers_are_not_checked_on_each_call() -> None:
    """Capture off: retrofitted once at start-up, no guard (no per-call work) after that."""
    captured = make_captured()
    assert captured.telemetry.content_mode() is ContentCapturingMode.NO_CONTENT
    assert captured.telemetry._guard is None
    late = InMemorySpanExporter()
    captured.providers["tracer_provider"].add_span_processor(SimpleSpanProcessor(late))
    captured.telemetry.tracer.start_span("x", attributes={"user": EMAIL}).end()
    (span,) = late.get_finished_spans()
    assert (span.attributes or {})["user"] == EMAIL  # added later: left as the user set it


def test_a_pipeline_that_cannot_be_built_leaves_content_off(tmp_path: Any) -> None:
    """A bad prices file in Settings given in code: the processors stay raw, so content is off."""
    captured = make_captured(Settings(redaction_enabled=False))  # providers left raw
    prices = tmp_path / "prices.yaml"
    prices.write_text("models: [not, a, mapping]\n", encoding="utf-8")
    settings = Settings(
        capture_message_content=ContentCapturingMode.SPAN_ONLY, prices_file=str(prices)
    )
    telemetry = Telemetry.create(**captured.providers, settings=settings)
    assert telemetry.content_mode() is ContentCapturingMode.NO_CONTENT
