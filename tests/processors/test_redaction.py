"""Redaction processors: what reaches an exporter is already scrubbed, and never raw on failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode

import otel_llm._errors
from otel_llm import _telemetry
from otel_llm.processors.redaction import RedactionLogRecordProcessor, RedactionSpanProcessor
from otel_llm.redaction import Redactor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

EMAIL = "bob.smith@example.com"
CARD = 4111111111111111
MESSAGES = json.dumps(
    [
        {
            "role": "user",
            "parts": [{"type": "text", "content": f"I am {EMAIL}, card 4111 1111 1111 1111"}],
        }
    ]
)


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter, Captured]]:
    """A tracer provider whose only exporter sits behind the redaction processor."""
    captured = make_captured()
    _telemetry.set_telemetry(captured.telemetry)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(RedactionSpanProcessor(SimpleSpanProcessor(exporter), Redactor()))
    yield provider, exporter, captured
    _telemetry.set_telemetry(None)


def _exported(exporter: InMemorySpanExporter) -> Any:
    (span,) = exporter.get_finished_spans()
    return span


def test_content_is_redacted_before_export_and_stays_json(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """The exporter sees redacted, still-valid JSON, with the count, kinds and a metric by kind."""
    provider, exporter, captured = spans
    attributes = {"gen_ai.input.messages": MESSAGES, "gen_ai.request.model": "gpt-4o-mini"}
    with provider.get_tracer("t").start_as_current_span("chat gpt-4o-mini", attributes=attributes):
        pass
    span = _exported(exporter)
    text = span.attributes["gen_ai.input.messages"]
    assert EMAIL not in text
    assert "4111" not in text
    content = json.loads(text)[0]["parts"][0]["content"]
    assert "[REDACTED:email]" in content
    assert "[REDACTED:payment_card]" in content
    assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert dict(span.attributes or {})["otel_llm.redaction.count"] == 2
    assert span.attributes["otel_llm.redaction.kinds"] == ("email", "payment_card")
    kinds = {
        p.attributes["otel_llm.redaction.kind"]: p.value
        for p in captured.metric_points("otel_llm.redaction.findings")
    }
    assert kinds == {"email": 1, "payment_card": 1}


def test_exception_events_and_status_are_redacted(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """An exception message and the status description lose the secret they contained."""
    provider, exporter, _ = spans
    secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
    with provider.get_tracer("t").start_as_current_span("chat m") as span:
        error = ValueError(f"auth failed for key {secret}")
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, str(error)))
    exported = _exported(exporter)
    assert secret not in exported.events[0].attributes["exception.message"]
    assert secret not in (exported.status.description or "")
    assert "[REDACTED:secret]" in exported.status.description


def test_clean_spans_are_not_rebuilt(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """A span with nothing to redact carries no redaction attributes."""
    provider, exporter, captured = spans
    with provider.get_tracer("t").start_as_current_span(
        "chat m", attributes={"gen_ai.request.model": "m"}
    ):
        pass
    assert dict(_exported(exporter).attributes) == {"gen_ai.request.model": "m"}
    assert captured.metric_points("otel_llm.redaction.findings") == []


def test_span_names_and_link_attributes_are_redacted(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """A finding in a span's name or a link's attributes is redacted like any attribute's."""
    provider, exporter, _ = spans
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("linked") as target:
        pass
    link = Link(target.get_span_context(), {"note": f"asked by {EMAIL}"})
    with tracer.start_as_current_span(f"GET /users/{EMAIL}", links=[link]):
        pass
    span = exporter.get_finished_spans()[-1]
    assert span.name == "GET /users/[REDACTED:email]"
    assert dict(span.links[0].attributes or {}) == {"note": "asked by [REDACTED:email]"}
    assert span.links[0].context == target.get_span_context()
    assert dict(span.attributes or {})["otel_llm.redaction.count"] == 2


def test_failure_drops_content_instead_of_leaking(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If redaction itself fails, content is replaced by a marker, never exported raw."""
    provider, exporter, _ = spans
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    def broken(self: Redactor, attributes: Any) -> Any:
        raise RuntimeError("redactor bug")

    monkeypatch.setattr(Redactor, "redact_mapping", broken)
    attributes: dict[str, Any] = {"gen_ai.input.messages": MESSAGES, "gen_ai.usage.input_tokens": 5}
    with provider.get_tracer("t").start_as_current_span("chat m", attributes=attributes):
        pass
    span = _exported(exporter)
    assert span.attributes["gen_ai.input.messages"] == "[REDACTED:failed]"
    assert span.name == "[REDACTED:failed]"  # a name may hold a finding too
    assert span.attributes["gen_ai.usage.input_tokens"] == 5
    assert span.attributes["otel_llm.redaction.kinds"] == ("failed",)


def test_log_records_are_redacted() -> None:
    """GenAI events with structured content are redacted before their exporter sees them."""
    captured = make_captured()
    _telemetry.set_telemetry(captured.telemetry)
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(
        RedactionLogRecordProcessor(SimpleLogRecordProcessor(exporter), Redactor())
    )
    messages: Any = [{"role": "user", "parts": [{"type": "text", "content": f"mail {EMAIL}"}]}]
    provider.get_logger("t").emit(
        event_name="gen_ai.client.inference.operation.details",
        attributes={"gen_ai.input.messages": messages},
        body=f"note for {EMAIL}",
    )
    (record,) = [d.log_record for d in exporter.get_finished_logs()]
    assert record.attributes is not None
    assert EMAIL not in json.dumps(record.attributes["gen_ai.input.messages"])
    assert record.body == "note for [REDACTED:email]"
    _telemetry.set_telemetry(None)


def test_official_instrumentation_spans_are_redacted(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Content captured by the official OTel OpenAI instrumentation is redacted too."""
    from opentelemetry.instrumentation.genai.openai import (  # noqa: PLC0415
        OpenAIInstrumentor as OfficialInstrumentor,
    )

    provider, exporter, _ = spans
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    OfficialInstrumentor().instrument(tracer_provider=provider)
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"I am {EMAIL}"}]
        )
    finally:
        OfficialInstrumentor().uninstrument()
    span = _exported(exporter)
    assert "gen_ai.input.messages" in span.attributes
    assert EMAIL not in span.attributes["gen_ai.input.messages"]


class _Collect(LogRecordProcessor):
    """Keeps every log record it is handed, as the object it received."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    def on_emit(self, log_record: Any) -> None:
        self.records.append(log_record)

    def shutdown(self) -> None:
        """Nothing to shut down."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _emit(body: Any, content: str) -> tuple[Any, Any]:
    """One details event through redaction: (the record handed on, the record emitted)."""
    emitted, handed = _Collect(), _Collect()
    provider = LoggerProvider()
    provider.add_log_record_processor(emitted)
    provider.add_log_record_processor(RedactionLogRecordProcessor(handed, Redactor()))
    messages: Any = [{"role": "user", "parts": [{"type": "text", "content": content}]}]
    provider.get_logger("t").emit(
        event_name="gen_ai.client.inference.operation.details",
        attributes={"gen_ai.operation.name": "chat", "gen_ai.input.messages": messages},
        body=body,
    )
    (record,), (original,) = handed.records, emitted.records
    return record, original


def test_a_clean_event_skips_the_full_walk(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean structured content is ruled out in one RE2 pass: no per-value walk, no copy."""
    walked: list[Any] = []
    full_walk = Redactor.redact_mapping

    def counting(self: Redactor, attributes: Any) -> Any:
        walked.append(attributes)
        return full_walk(self, attributes)

    monkeypatch.setattr(Redactor, "redact_mapping", counting)
    record, original = _emit({"note": "fine"}, "where is my order?")
    assert record is original
    assert walked == []
    _emit(None, f"mail {EMAIL}")
    assert walked  # a record with a finding does take it


@pytest.mark.parametrize(
    ("body", "content"),
    [
        (f"note for {EMAIL}", "fine"),
        ({"note": [f"note for {EMAIL}"]}, "fine"),
        (None, f"mail {EMAIL}"),
        (None, '{"password": "hunter2"}'),
    ],
    ids=["text body", "structured body", "nested content", "credential in nested JSON"],
)
def test_an_event_with_a_finding_anywhere_is_redacted(
    captured: Captured, body: Any, content: str
) -> None:
    """A finding in the body, deep in the content, or in JSON inside it is still redacted."""
    record, original = _emit(body, content)
    assert record is not original
    exported = json.dumps([dict(record.log_record.attributes), record.log_record.body])
    assert EMAIL not in exported
    assert "hunter2" not in exported
    assert record.log_record.attributes["gen_ai.operation.name"] == "chat"


def _exported_log(body: Any, attributes: dict[str, Any] | None = None) -> Any:
    """One log record through redaction to an in-memory exporter: the record exported."""
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(
        RedactionLogRecordProcessor(SimpleLogRecordProcessor(exporter), Redactor())
    )
    provider.get_logger("t").emit(body=body, attributes=attributes)
    (record,) = [d.log_record for d in exporter.get_finished_logs()]
    return record


def test_a_json_log_body_is_redacted_as_a_span_attribute_is(captured: Captured) -> None:
    """A credential under api_key in a JSON string body is a secret, as it is on a span."""
    body = json.dumps({"event": "login", "api_key": "k-123", "user": {"password": 1234}})
    record = _exported_log(body)
    assert json.loads(record.body) == {
        "event": "login",
        "api_key": "[REDACTED:secret]",
        "user": {"password": "[REDACTED:secret]"},
    }
    assert record.attributes["otel_llm.redaction.kinds"] == ("secret",)


def test_bytes_bodies_and_attributes_are_redacted_and_stay_bytes(captured: Captured) -> None:
    """Bytes are decoded and scanned like text on the fast path and the full one."""
    record = _exported_log(f"mail {EMAIL}".encode(), {"raw": b"\xff" + EMAIL.encode()})
    assert record.body == b"mail [REDACTED:email]"
    assert record.attributes["raw"] == b"\xff[REDACTED:email]"
    assert record.attributes["otel_llm.redaction.count"] == 2
    clean = _exported_log(b"\x00 nothing to find", {"raw": b"ok"})
    assert clean.body == b"\x00 nothing to find"
    assert "otel_llm.redaction.count" not in clean.attributes


def test_numbers_keys_and_nested_secrets_in_span_attributes_are_redacted(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """A card as a number, an e-mail as a key and a nested password never reach the exporter."""
    provider, exporter, _ = spans
    arguments = json.dumps({EMAIL: {"card": 4111111111111111}, "auth": {"password": {"n": 1}}})
    attributes: dict[str, Any] = {"gen_ai.tool.call.arguments": arguments, "app.card": CARD}
    with provider.get_tracer("t").start_as_current_span("execute_tool t", attributes=attributes):
        pass
    span = _exported(exporter)
    exported = json.dumps(dict(span.attributes))
    assert EMAIL not in exported
    assert "4111111111111111" not in exported
    assert json.loads(span.attributes["gen_ai.tool.call.arguments"])["auth"] == {
        "password": {"n": "[REDACTED:secret]"}
    }
    assert span.attributes["app.card"] == "[REDACTED:payment_card]"


def test_a_failure_drops_numbers_and_bytes_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """When redaction breaks, only safe keys, booleans and None survive; bytes stay bytes."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    def broken(self: Redactor, attributes: Any) -> Any:
        raise RuntimeError("redactor bug")

    monkeypatch.setattr(Redactor, "redact_mapping", broken)
    record = _exported_log(
        f"mail {EMAIL}".encode(),
        {"app.card": 4111111111111111, "ok": True, "gen_ai.usage.input_tokens": 3},
    )
    assert record.body == b"[REDACTED:failed]"
    assert record.attributes == {
        "app.card": "[REDACTED:failed]",
        "ok": True,
        "gen_ai.usage.input_tokens": 3,
    }


def test_a_failure_never_exports_a_key_raw(monkeypatch: pytest.MonkeyPatch) -> None:
    """When redaction breaks, an e-mail used as a key is still redacted (or dropped)."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    def broken(self: Redactor, attributes: Any) -> Any:
        raise RuntimeError("redactor bug")

    monkeypatch.setattr(Redactor, "redact_mapping", broken)
    record = _exported_log("note", {LEAKY_KEY: 1, EMAIL: True, "gen_ai.usage.input_tokens": 3})
    assert record.attributes == {
        "[REDACTED:email]": "[REDACTED:failed]",
        "[REDACTED:email] (2)": True,
        "gen_ai.usage.input_tokens": 3,
    }


# --- attribute keys are content too ----------------------------------------------------------

LEAKY_KEY = "zqx.leak@quorvandix.com"


def test_top_level_attribute_keys_of_log_records_are_redacted(captured: Captured) -> None:
    """An e-mail used as a log record's attribute key is replaced; its value is kept."""
    provider_record = _exported_log(None, {LEAKY_KEY: 1, "app.ok": "fine"})
    assert dict(provider_record.attributes) == {
        "[REDACTED:email]": 1,
        "app.ok": "fine",
        "otel_llm.redaction.count": 1,
        "otel_llm.redaction.kinds": ("email",),
    }


def test_top_level_attribute_keys_of_spans_and_events_are_redacted(
    spans: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """Span and event attribute keys are scanned; two keys redacted alike both keep a value."""
    provider, exporter, _ = spans
    with provider.get_tracer("t").start_as_current_span(
        "work", attributes={LEAKY_KEY: "a", EMAIL: "b", "gen_ai.request.model": "m"}
    ) as span:
        span.add_event("note", {f"seen by {EMAIL}": True})
    exported = _exported(exporter)
    text = json.dumps([dict(exported.attributes), dict(exported.events[0].attributes)])
    assert LEAKY_KEY not in text
    assert EMAIL not in text
    attributes = dict(exported.attributes)
    assert attributes["[REDACTED:email]"] == "a"
    assert attributes["[REDACTED:email] (2)"] == "b"
    assert attributes["gen_ai.request.model"] == "m"
    assert dict(exported.events[0].attributes) == {"seen by [REDACTED:email]": True}


# --- a redacted value stays within its budget --------------------------------------------------

BUDGET = 16 * 1024


def _budgeted(hmac_key: str = "k") -> Redactor:
    return Redactor(hmac_key=hmac_key)


def test_a_value_that_redaction_grew_past_its_budget_is_cut_again(captured: Captured) -> None:
    """16 KiB of IP addresses with an HMAC key grew 4-fold; the exported value fits 16 KiB."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        RedactionSpanProcessor(SimpleSpanProcessor(exporter), _budgeted(), max_bytes=BUDGET)
    )
    text = "1.1.1.1 " * (BUDGET // 8)
    messages = json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": text[: BUDGET - 100]}]}]
    )
    with provider.get_tracer("t").start_as_current_span(
        "work", attributes={"app.text": text, "gen_ai.input.messages": messages}
    ) as span:
        span.set_status(Status(StatusCode.ERROR, text))
    exported = _exported(exporter)
    value = exported.attributes["app.text"]
    assert "[REDACTED:ip_address:" in value
    assert len(value.encode()) <= BUDGET
    assert value.endswith(" bytes]")  # the truncation marker with the redacted size
    content = exported.attributes["gen_ai.input.messages"]
    assert len(content.encode()) <= BUDGET
    assert "[REDACTED:ip_address:" in json.loads(content)[0]["parts"][0]["content"]
    assert len((exported.status.description or "").encode()) <= BUDGET


def test_a_value_already_over_budget_never_grows_past_its_size(captured: Captured) -> None:
    """Another instrumentation's value bigger than the budget is kept at most at its size."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        RedactionSpanProcessor(SimpleSpanProcessor(exporter), _budgeted(), max_bytes=1024)
    )
    text = "1.1.1.1 " * 512  # 4 KiB
    with provider.get_tracer("t").start_as_current_span("work", attributes={"app.text": text}):
        pass
    value = _exported(exporter).attributes["app.text"]
    assert "[REDACTED:ip_address:" in value
    assert 1024 < len(value.encode()) <= len(text)


def test_a_log_body_and_structured_event_content_stay_within_budget(captured: Captured) -> None:
    """A body and structured messages that grew are cut again, the messages still valid parts."""
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(
        RedactionLogRecordProcessor(
            SimpleLogRecordProcessor(exporter), _budgeted(), max_bytes=BUDGET
        )
    )
    text = "1.1.1.1 " * (BUDGET // 8 - 20)
    messages: Any = [{"role": "user", "parts": [{"type": "text", "content": text}]}]
    provider.get_logger("t").emit(
        event_name="gen_ai.client.inference.operation.details",
        attributes={"gen_ai.input.messages": messages},
        body=text,
    )
    record: Any = exporter.get_finished_logs()[0].log_record
    assert len(record.body.encode()) <= BUDGET
    exported = record.attributes["gen_ai.input.messages"]
    size = len(json.dumps(exported, ensure_ascii=False, separators=(",", ":")).encode())
    assert size <= BUDGET
    assert exported[0]["parts"][0]["type"] == "text"


# --- another instrumentation's failure text, with capture off ----------------------------------


def _official_bad_request(provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.genai.openai import (  # noqa: PLC0415
        OpenAIInstrumentor as OfficialInstrumentor,
    )

    error = {"message": f"bad hi {EMAIL} CONTENTMARKERQQ", "type": "invalid_request_error"}
    client = fakes.openai_client(fakes.respond_json({"error": error}, 400))
    OfficialInstrumentor().instrument(tracer_provider=provider)
    try:
        with pytest.raises(Exception, match="CONTENTMARKERQQ"):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    finally:
        OfficialInstrumentor().uninstrument()


@pytest.mark.parametrize("record_exception", [False, True])
def test_other_genai_failures_lose_their_text_with_capture_off(
    captured: Captured, record_exception: bool
) -> None:
    """The official instrumentation's echoed prompt: no description or message; types kept."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    processor = RedactionSpanProcessor(
        SimpleSpanProcessor(exporter), Redactor(), keep_failure_text=False
    )
    provider.add_span_processor(processor)
    if record_exception:  # as an instrumentation that records the exception event does
        with provider.get_tracer("other").start_as_current_span(
            "chat gpt-4o-mini", attributes={"gen_ai.operation.name": "chat"}
        ) as span:
            try:
                raise ValueError(f"bad hi {EMAIL} CONTENTMARKERQQ\nsecond line")
            except ValueError as error:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, str(error)))
    else:
        _official_bad_request(provider)
    exported = _exported(exporter)
    assert exported.status.status_code is StatusCode.ERROR
    assert exported.status.description is None
    text = json.dumps([dict(exported.attributes), [dict(e.attributes) for e in exported.events]])
    assert "CONTENTMARKERQQ" not in text
    assert "second line" not in text
    if not record_exception:
        assert dict(exported.attributes)["error.type"] == "openai.BadRequestError"  # kept
    for event in exported.events:
        assert "exception.message" not in event.attributes
        assert event.attributes["exception.type"] == "ValueError"
        assert event.attributes["exception.stacktrace"].endswith("\nValueError\n")


def test_other_genai_failures_keep_their_text_redacted_with_capture_on(captured: Captured) -> None:
    """With content on spans the description stays, redacted, as otel-llm's own does."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        RedactionSpanProcessor(SimpleSpanProcessor(exporter), Redactor(), keep_failure_text=True)
    )
    _official_bad_request(provider)
    description = _exported(exporter).status.description or ""
    assert "CONTENTMARKERQQ" in description
    assert "[REDACTED:email]" in description
