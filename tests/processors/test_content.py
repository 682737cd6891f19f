"""Other libraries' message content: dropped with capture off, redacted with it on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, TraceFlags

from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.processors.content import ContentDropLogRecordProcessor, ContentDropSpanProcessor
from otel_llm.processors.pipeline import build_span_pipeline
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.processors import _frameworks as fw

pytest.importorskip("pydantic_ai")

OPENINFERENCE = "openinference.instrumentation.openai"
OPENLLMETRY = "opentelemetry.instrumentation.openai"


@pytest.fixture(params=[ContentCapturingMode.NO_CONTENT, ContentCapturingMode.SPAN_ONLY])
def captured(request: pytest.FixtureRequest) -> Iterator[Captured]:
    """In-memory providers behind our pipeline, content capture off and then on spans."""
    result = make_captured(Settings(capture_message_content=request.param))
    set_telemetry(result.telemetry)
    try:
        yield result
    finally:
        set_telemetry(None)


def _capture_on(captured: Captured) -> bool:
    return captured.telemetry.settings.capture_message_content.on_spans


def _assert_content_rules(captured: Captured, *keys: str) -> None:
    """Off: none of the conversation is exported; on: it is, personal data redacted."""
    text = fw.exported_text(captured)
    present = {key for span in captured.finished_spans() for key in span.attributes}
    if _capture_on(captured):
        assert "ACME-INTERNAL-7731" in text
        assert "jane.doe@example.com" not in text
        assert "[REDACTED:email]" in text
        assert set(keys) <= present
    else:
        assert not [secret for secret in fw.SECRETS if secret in text]
        assert not set(keys) & present


def test_pydantic_ai_run(captured: Captured) -> None:
    """pydantic-ai's agent, chat and tool spans: messages, instructions, tools, results."""
    fw.run_agent(
        captured,
        fw.agent_turn(arguments=fw.ARGUMENTS),
        instructions=fw.INSTRUCTIONS,
        typed=True,
    )
    _assert_content_rules(
        captured,
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "model_request_parameters",
        "final_result",
        "pydantic_ai.all_messages",
    )
    # What the dashboards need stays: the run is still counted and priced.
    requests = captured.metric_points("otel_llm.client.requests")
    assert sum(p.value for p in requests) == 2
    chats = [s for s in captured.finished_spans() if s.name.startswith("chat")]
    assert all(s.attributes["otel_llm.cost.total"] > 0 for s in chats)
    (run,) = [s for s in captured.finished_spans() if s.name.startswith("invoke_agent")]
    assert run.attributes["logfire.msg"] == "support run"


@pytest.mark.parametrize("module", [OPENINFERENCE, OPENLLMETRY])
def test_peer_openai_instrumentations(captured: Captured, module: str) -> None:
    """OpenInference's and OpenLLMetry's chat spans: every message, tool and result."""
    with fw.instrumented(module, captured):
        fw.conversation()
    _assert_content_rules(captured, "gen_ai.input.messages", "gen_ai.output.messages")
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.usage.input_tokens"] == 42
    assert sum(p.value for p in captured.metric_points("otel_llm.client.requests")) == 1


def test_openinference_embeddings_lose_text_and_vectors(captured: Captured) -> None:
    """An embedding span's input text and vectors are content; its token count is not."""
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.25, 0.5]}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    with fw.instrumented(OPENINFERENCE, captured):
        client = fakes.openai_client(lambda request: fakes.http.Response(200, json=body))
        client.embeddings.create(model="text-embedding-3-small", input=["EMBED-TEXT-9"])
    (span,) = captured.finished_spans()
    keys = set(span.attributes)
    content = {"embedding.embeddings.0.embedding.text", "embedding.embeddings.0.embedding.vector"}
    assert (content <= keys) is _capture_on(captured)
    assert ("EMBED-TEXT-9" in fw.exported_text(captured)) is _capture_on(captured)
    assert span.attributes["gen_ai.usage.input_tokens"] == 3


# --- the processor on its own ---------------------------------------------------------------


def _span(
    attributes: dict[str, Any],
    *,
    scope: str = "openlit.otel.tracing",
    events: list[Event] | None = None,
    name: str = "chat gpt-4o",
) -> ReadableSpan:
    return ReadableSpan(
        name=name,
        context=SpanContext(0x1, 0x2, is_remote=False, trace_flags=TraceFlags(1)),
        attributes=attributes,
        events=events or [],
        instrumentation_scope=InstrumentationScope(scope),
    )


def _through(span: ReadableSpan) -> Any:
    exporter = InMemorySpanExporter()
    ContentDropSpanProcessor(SimpleSpanProcessor(exporter)).on_end(span)
    (exported,) = exporter.get_finished_spans()
    return exported


def test_content_events_are_dropped_and_other_events_lose_content_keys() -> None:
    """OpenLIT's content events go; an inference details event stays without its messages."""
    events = [
        Event("gen_ai.content.prompt", {"gen_ai.prompt": "hello there"}),
        Event("gen_ai.user.message", {"content": "hello there"}),
        Event(
            "gen_ai.client.inference.operation.details",
            {"gen_ai.input.messages": "[]", "gen_ai.response.id": "r1"},
        ),
        Event("exception", {"exception.type": "TimeoutError"}),
    ]
    span = _through(
        _span({"gen_ai.prompt": "hello there", "gen_ai.system": "openai"}, events=events)
    )
    assert dict(span.attributes) == {"gen_ai.system": "openai"}
    assert [(e.name, dict(e.attributes)) for e in span.events] == [
        ("gen_ai.client.inference.operation.details", {"gen_ai.response.id": "r1"}),
        ("exception", {"exception.type": "TimeoutError"}),
    ]


@pytest.mark.parametrize(
    ("attributes", "expected_message"),
    [
        # Logfire's formatted message: the template says the same without the values.
        (
            {
                "prompt": "call me at 555-0100",
                "logfire.msg_template": "{agent_name} run {prompt=}",
                "logfire.msg": "support run prompt='call me at 555-0100'",
            },
            "{agent_name} run {prompt=}",
        ),
        # No template: a message holding dropped content becomes the span name.
        (
            {"final_result": "ships Tuesday", "logfire.msg": "result: ships Tuesday"},
            "invoke_agent support",
        ),
        # A message of names only stays.
        ({"final_result": "ships Tuesday", "logfire.msg": "support run"}, "support run"),
    ],
)
def test_logfire_messages_lose_the_content_they_were_formatted_with(
    attributes: dict[str, Any], expected_message: str
) -> None:
    """pydantic-ai's and logfire's display message never repeats content that was dropped."""
    span = _through(_span(attributes, scope="pydantic-ai", name="invoke_agent support"))
    assert span.attributes["logfire.msg"] == expected_message
    assert "prompt" not in span.attributes
    assert "final_result" not in span.attributes


def test_generic_keys_are_dropped_only_for_the_library_that_uses_them() -> None:
    """`prompt` is content on pydantic-ai's spans, an application's own attribute elsewhere."""
    assert "prompt" not in _through(_span({"prompt": "x"}, scope="pydantic-ai")).attributes
    assert _through(_span({"prompt": "x"}, scope="my.app")).attributes["prompt"] == "x"
    litellm = {"llm.openai.messages": "[...]", "llm.openai.model": "gpt-4o"}
    kept = _through(_span(litellm, scope="litellm")).attributes
    assert dict(kept) == {"llm.openai.model": "gpt-4o"}


def test_numbers_are_never_content() -> None:
    """A count under a content-shaped key (llm.token_count.prompt on LiteLLM's spans) stays."""
    span = _through(
        _span({"llm.token_count.prompt": 42, "llm.openai.prompt": "hi"}, scope="litellm")
    )
    assert dict(span.attributes) == {"llm.token_count.prompt": 42}


def test_our_spans_and_spans_without_content_pass_as_they_are() -> None:
    """otel-llm's spans follow the capture mode already; a span without content is not copied."""
    ours = _span({"gen_ai.input.messages": "[]"}, scope="otel_llm")
    plain = _span({"http.request.method": "GET"}, scope="opentelemetry.instrumentation.httpx")
    assert _through(ours) is ours
    assert _through(plain) is plain


def test_legacy_indexed_keys_are_not_folded_back_by_the_upgrade() -> None:
    """OpenLLMetry's old gen_ai.prompt.{i}.* keys are dropped before the upgrade could fold them."""
    exporter = InMemorySpanExporter()
    processor = build_span_pipeline(SimpleSpanProcessor(exporter), Settings(cost_enabled=False))
    processor.on_end(
        _span(
            {
                "gen_ai.system": "openai",
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "hello there",
                "gen_ai.completion.0.content": "hi",
                "gen_ai.prompt.name": "support_answer",
                "llm.request.functions.0.name": "lookup",
            },
            scope="opentelemetry.instrumentation.openai.v1",
        )
    )
    (span,) = exporter.get_finished_spans()
    assert dict(span.attributes or {}) == {
        "gen_ai.prompt.name": "support_answer",
        "gen_ai.provider.name": "openai",
    }


# --- log records ----------------------------------------------------------------------------


class _Recorder(LogRecordProcessor):
    def __init__(self) -> None:
        self.records: list[ReadWriteLogRecord] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.records.append(log_record)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def test_log_records_lose_content_events_and_content_attributes() -> None:
    """Content events are not passed on; other records lose content keys; ours pass."""
    recorder = _Recorder()
    provider = LoggerProvider()
    provider.add_log_record_processor(ContentDropLogRecordProcessor(recorder))
    theirs = provider.get_logger("opentelemetry.instrumentation.openai.v1")
    theirs.emit(event_name="gen_ai.user.message", body={"content": "hello there"})
    theirs.emit(attributes={"event.name": "gen_ai.choice"}, body={"message": "hi"})
    theirs.emit(
        event_name="gen_ai.client.inference.operation.details",
        attributes={"gen_ai.output.messages": "[]", "gen_ai.response.id": "r1"},
    )
    provider.get_logger("my.app").emit(body="order shipped", attributes={"order": 7})
    provider.get_logger("otel_llm").emit(
        event_name="gen_ai.user.message", body={"content": "captured by choice"}
    )
    kept = [
        (r.log_record.event_name, dict(r.log_record.attributes or {})) for r in recorder.records
    ]
    assert kept == [
        ("gen_ai.client.inference.operation.details", {"gen_ai.response.id": "r1"}),
        (None, {"order": 7}),
        ("gen_ai.user.message", {}),
    ]


def test_the_log_pipeline_drops_content_before_the_exporter() -> None:
    """Behind the retrofitted pipeline (capture off) a peer's message event never exports."""
    captured = make_captured()
    logger = captured.providers["logger_provider"].get_logger(
        "opentelemetry.instrumentation.openai"
    )
    logger.emit(event_name="gen_ai.choice", body={"message": {"content": "hi"}})
    logger.emit(event_name="gen_ai.evaluation.result", attributes={"gen_ai.evaluation.name": "x"})
    assert [r.event_name for r in captured.events()] == ["gen_ai.evaluation.result"]
