"""Failures reach telemetry as identifiers; their text only with content capture, redacted and cut.

The end-to-end cases run the real openai and anthropic SDKs over their own HTTP layer, with the
redaction pipeline in front of the in-memory exporters, in both capture modes: each failure
below carries the prompt or the reply in its message, its cause or its stack trace.
"""

from __future__ import annotations

import builtins
import json
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pydantic
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import otel_llm
from otel_llm._failure import (
    failure_attributes,
    frames_only,
    record_failure,
    trace_without_messages,
)
from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline
from tests.conftest import make_captured
from tests.instrumentation import _fakes as fakes

CANARY = "CANARY-7f3a"
"""Stands for the prompt or reply text: it must appear only when content is captured."""
EMAIL = "john.doe@example.com"
"""Personal data inside that text: it must never appear, captured or not."""
CONTENT = f"{CANARY}: please write to {EMAIL} about order 1042"
MESSAGES: Any = [{"role": "user", "content": CONTENT}]
BUDGET = 16 * 1024


@dataclass
class Exported:
    """What the exporters received, behind the real redaction pipeline."""

    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter

    def span(self) -> ReadableSpan:
        """The one span exported."""
        (span,) = self.spans.get_finished_spans()
        return span

    def texts(self) -> list[str]:
        """Every string exported: span attributes, event attributes, status, log records."""
        found: list[str] = []
        for span in self.spans.get_finished_spans():
            found.append(span.status.description or "")
            found += _strings(dict(span.attributes or {}))
            for event in span.events:
                found += _strings(dict(event.attributes or {}))
        for data in self.logs.get_finished_logs():
            found += _strings(dict(data.log_record.attributes or {}))
            found += _strings(data.log_record.body)
        return found


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def _exported(mode: ContentCapturingMode) -> Iterator[Exported]:
    settings = Settings(capture_message_content=mode, max_content_bytes=BUDGET)
    spans = InMemorySpanExporter()
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(build_span_pipeline(SimpleSpanProcessor(spans), settings))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(
        build_log_pipeline(SimpleLogRecordProcessor(logs), settings)
    )
    providers = {
        "tracer_provider": tracer_provider,
        "meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()]),
        "logger_provider": logger_provider,
    }
    kwargs = {**providers, "settings": settings, "skip_dep_check": True}
    OpenAIInstrumentor().instrument(**kwargs)
    AnthropicInstrumentor().instrument(**kwargs)
    try:
        yield Exported(spans, logs)  # manual spans use the instrumentors' Telemetry
    finally:
        OpenAIInstrumentor().uninstrument()
        AnthropicInstrumentor().uninstrument()
        set_telemetry(None)


@pytest.fixture
def capture_off() -> Iterator[Exported]:
    """Both SDKs instrumented with content capture off (the default), redaction on."""
    yield from _exported(ContentCapturingMode.NO_CONTENT)


@pytest.fixture
def capture_on() -> Iterator[Exported]:
    """Both SDKs instrumented with content on spans and events, redaction on."""
    yield from _exported(ContentCapturingMode.SPAN_AND_EVENT)


# --- The failures the review found leaking, each driven through the real SDK ------------------


def _parse_fails_validation() -> None:
    class Order(pydantic.BaseModel):
        status: str

    # The reply is not the JSON the schema asks for; pydantic's error echoes it (whole when it
    # is this short, its start and end when longer).
    body = fakes.chat_completion(content=f"{CANARY} {EMAIL}")
    client = fakes.openai_client(fakes.respond_json(body))
    with pytest.raises(pydantic.ValidationError, match=CANARY):
        client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Order)


def _bad_request_echoes_the_prompt() -> None:
    error = {
        "message": f"Invalid 'messages[0].content': {CONTENT!r} is too long.",
        "type": "invalid_request_error",
        "param": "messages[0].content",
        "code": "string_above_max_length",
    }
    client = fakes.openai_client(fakes.respond_json({"error": error}, 400))
    with pytest.raises(openai.BadRequestError, match=CANARY):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def _transport_error_holds_the_body() -> None:
    def refuse(request: Any) -> Any:
        # A proxy or transport that reports what it could not send.
        raise fakes.http.ConnectError(f"could not send {request.content.decode()}", request=request)

    client = fakes.openai_client(refuse)
    with pytest.raises(openai.APIConnectionError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert CANARY not in str(caught.value)  # the text is in the chained cause only
    assert CANARY in str(caught.value.__cause__)


def _tool_error_quotes_its_argument() -> None:
    @otel_llm.tool("crm_account_lookup")
    def lookup(query: str) -> None:
        raise LookupError(f"no account matches {query!r}")

    with pytest.raises(LookupError, match=CANARY):
        lookup(CONTENT)


class _ToolError(Exception):
    """A tool's own exception whose author named fields as provider SDKs do."""

    code = CANARY.replace("-", "_")
    type = "PROMPTWORDXYZZY"
    error_code = "private_code_42"


def _tool_error_has_code_fields() -> None:
    @otel_llm.tool("crm_account_lookup")
    def lookup(query: str) -> None:
        raise _ToolError(query)

    with pytest.raises(_ToolError):
        lookup(CONTENT)


def _anthropic_stream_error_event() -> None:
    events = fakes.anthropic_events()[:3]
    error = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": f"cannot continue: {CONTENT}"},
    }
    payload = fakes.anthropic_sse(events) + f"event: error\ndata: {json.dumps(error)}\n\n".encode()
    client = fakes.anthropic_client(fakes.anthropic_respond(payload))
    stream = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=True
    )
    with pytest.raises(anthropic.APIStatusError, match=CANARY):
        list(stream)


def _openai_stream_error_event() -> None:
    chunks = fakes.sse(fakes.chat_chunks()[:2], done=False)
    error = {"error": {"message": f"moderation: {CONTENT}", "type": "server_error", "code": None}}
    client = fakes.openai_client(
        fakes.respond_sse(chunks + f"data: {json.dumps(error)}\n\n".encode())
    )
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError, match=CANARY):
        list(stream)


@dataclass(frozen=True)
class Case:
    """One failure and the identifiers it must be recorded by."""

    run: Callable[[], None]
    error_type: str
    status: int | None
    code: str | None


CASES = {
    "parse_validation": Case(_parse_fails_validation, "pydantic_core.ValidationError", None, None),
    "bad_request": Case(
        _bad_request_echoes_the_prompt, "openai.BadRequestError", 400, "string_above_max_length"
    ),
    "transport_error": Case(
        _transport_error_holds_the_body, "openai.APIConnectionError", None, None
    ),
    "tool_error": Case(_tool_error_quotes_its_argument, "LookupError", None, None),
    "tool_error_code_fields": Case(
        _tool_error_has_code_fields, "tests.test_failure._ToolError", None, None
    ),
    "anthropic_stream_error": Case(
        _anthropic_stream_error_event, "anthropic.APIStatusError", None, "invalid_request_error"
    ),
    "openai_stream_error": Case(
        _openai_stream_error_event, "openai.APIError", None, "server_error"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_with_capture_off_a_failure_is_recorded_by_identifiers_only(
    capture_off: Exported, name: str
) -> None:
    """No exported string holds the failure's text; type, HTTP status and provider code do."""
    case = CASES[name]
    case.run()
    for text in capture_off.texts():
        assert CANARY not in text, text
        assert EMAIL not in text, text
    span = capture_off.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None
    attributes = dict(span.attributes or {})
    assert attributes["error.type"] == case.error_type
    assert attributes.get("http.response.status_code") == case.status
    assert attributes.get("otel_llm.error.code") == case.code
    (event,) = [e for e in span.events if e.name == "exception"]
    event_attributes = dict(event.attributes or {})
    assert event_attributes["exception.type"] == case.error_type
    assert "exception.message" not in event_attributes
    trace_text = event_attributes["exception.stacktrace"]
    assert isinstance(trace_text, str)
    assert trace_text.startswith("Traceback (most recent call last):")
    assert trace_text.endswith(f"\n{case.error_type}\n")


@pytest.mark.parametrize("name", list(CASES))
def test_with_capture_on_a_failure_keeps_its_text_redacted(capture_on: Exported, name: str) -> None:
    """With content on spans the text is recorded, redacted and within the content budget."""
    case = CASES[name]
    case.run()
    texts = capture_on.texts()
    for text in texts:
        assert EMAIL not in text, text
        assert len(text.encode()) <= BUDGET, text[:200]
    span = capture_on.span()
    (event,) = [e for e in span.events if e.name == "exception"]
    event_attributes = dict(event.attributes or {})
    assert event_attributes["exception.type"] == case.error_type
    trace_text = str(event_attributes["exception.stacktrace"])
    assert CANARY in trace_text  # the message, or the chained cause's, is in the full trace
    assert "[REDACTED:email]" in trace_text
    if name != "transport_error":  # its own message is the SDK's "Connection error."
        assert CANARY in str(span.status.description)
        assert CANARY in str(event_attributes["exception.message"])
    assert dict(span.attributes or {})["error.type"] == case.error_type


def test_details_event_carries_the_identifiers_not_the_text(capture_on: Exported) -> None:
    """The inference details event of a failed call has status and code, never the message."""
    _bad_request_echoes_the_prompt()
    (record,) = [d.log_record for d in capture_on.logs.get_finished_logs()]
    attributes = dict(record.attributes or {})
    assert attributes["error.type"] == "openai.BadRequestError"
    assert attributes["http.response.status_code"] == 400
    assert attributes["otel_llm.error.code"] == "string_above_max_length"
    assert "Invalid 'messages" not in json.dumps(attributes, default=str)


def test_a_huge_message_is_redacted_before_it_is_cut(capture_on: Exported) -> None:
    """A 400 echoing a huge prompt is cut to the budget, with no finding split by the cut."""
    filler = "~" * (BUDGET - 130)
    prompt = f"{CANARY} {filler} {EMAIL} " + "x" * 50_000
    client = fakes.openai_client(fakes.openai_error(400, f"prompt too long: {prompt}"))
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}]
        )
    span = capture_on.span()
    description = str(span.status.description)
    assert description.endswith(" bytes]")
    assert len(description.encode()) <= BUDGET
    (event,) = span.events
    stacktrace = str(dict(event.attributes or {})["exception.stacktrace"])
    assert stacktrace.startswith("…[truncated ")  # a trace keeps its end: the exception
    assert len(stacktrace.encode()) <= BUDGET
    for text in capture_on.texts():
        assert "john.doe@exa" not in text, text


# --- The pieces ----------------------------------------------------------------------------


class _Quoting(Exception):
    """An application exception whose message quotes content."""


def _raised(make: Callable[[], BaseException]) -> BaseException:
    try:
        raise make()
    except BaseException as exc:
        return exc


def test_frames_only_names_every_chained_exception_by_type() -> None:
    """Causes and contexts appear as Python prints them, by type, with no message or source."""

    def inner() -> None:
        raise _Quoting(f"inner {CONTENT}")

    def outer() -> None:
        try:
            inner()
        except _Quoting as exc:
            raise KeyError(f"outer {CONTENT}") from exc

    try:
        try:
            outer()
        except KeyError:
            raise RuntimeError(f"context {CONTENT}")  # noqa: B904 - an implicit context
    except RuntimeError as exc:
        text = frames_only(exc)
    assert CANARY not in text
    assert "raise" not in text  # no source lines
    types = [line for line in text.splitlines() if line and not line.startswith(("  ", "Tr"))]
    assert types == [
        "tests.test_failure._Quoting",
        "The above exception was the direct cause of the following exception:",
        "KeyError",
        "During handling of the above exception, another exception occurred:",
        "RuntimeError",
    ]
    assert text.count(", in inner") == 1
    assert text.count(", in outer") == 2


def test_frames_only_folds_deep_recursion() -> None:
    """A recursion's repeated frame is printed three times, then counted, as Python does."""

    def down(n: int) -> None:
        if n == 0:
            raise ValueError(CANARY)
        down(n - 1)

    text = frames_only(_raised_by(lambda: down(50)))
    assert text.count(", in down") == 4  # three repeats of the recursive call, then the raise
    assert "[Previous line repeated 47 more times]" in text


def _raised_by(call: Callable[[], None]) -> BaseException:
    try:
        call()
    except BaseException as exc:
        return exc
    raise AssertionError("did not raise")


def test_frames_only_lists_group_members_and_drops_notes() -> None:
    """An exception group lists its members' types; notes (free text) are left out."""
    group = getattr(builtins, "ExceptionGroup", None)
    if group is None:
        pytest.skip("exception groups are Python 3.11+")
    error = _raised(lambda: group(CANARY, [ValueError(CANARY), _Quoting(CANARY)]))
    if hasattr(error, "add_note"):
        error.add_note(CANARY)
    text = frames_only(error)
    assert CANARY not in text
    assert "  | ValueError\n  | tests.test_failure._Quoting\n" in text


def test_frames_only_survives_a_cycle_of_causes() -> None:
    """Exceptions that are each other's cause are printed once each."""
    first, second = ValueError(CANARY), KeyError(CANARY)
    first.__cause__, second.__cause__ = second, first
    assert frames_only(first) == (
        "KeyError\n\nThe above exception was the direct cause of the following exception:\n\n"
        "ValueError\n"
    )


class _Coded(openai.APIError):
    """An OpenAI SDK error with the code fields set as a provider (or a proxy) sent them."""

    def __init__(self, **fields: object) -> None:
        request = fakes.http.Request("POST", "https://api.openai.com/v1/chat/completions")
        super().__init__(CONTENT, request, body=None)
        for key, value in fields.items():
            setattr(self, key, value)


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        (
            {"status_code": 429, "code": "rate_limit_exceeded", "type": "tokens"},
            429,
            "rate_limit_exceeded",
        ),
        (
            {"status_code": 400, "code": None, "type": "invalid_request_error"},
            400,
            "invalid_request_error",
        ),
        (
            {"error_code": "prompt_too_long", "type": "invalid_request_error"},
            None,
            "prompt_too_long",
        ),
        ({"code": 1042}, None, "1042"),
        ({"code": f"bad input {CONTENT}", "type": CONTENT}, None, None),
        ({"code": "x" * 65}, None, None),
        ({"code": True}, None, None),
        ({"status_code": 200, "type": "overloaded_error"}, None, "overloaded_error"),
        ({"status_code": "500"}, None, None),
        ({"response": type("R", (), {"status_code": 503})()}, 503, None),
    ],
)
def test_failure_attributes_keep_only_status_and_identifier_codes(
    fields: dict[str, object], status: int | None, code: str | None
) -> None:
    """HTTP status is an error status or nothing; a provider code is an identifier or nothing."""
    attributes = failure_attributes(_Coded(**fields))
    assert attributes["error.type"] == "tests.test_failure._Coded"
    assert attributes.get("http.response.status_code") == status
    assert attributes.get("otel_llm.error.code") == code


def test_only_provider_sdk_errors_give_a_code() -> None:
    """`code`, `type` or `error_code` on any other exception (a tool's, the app's) is no code."""

    class AppError(Exception):
        code = "rate_limit_exceeded"
        type = "PROMPTWORDXYZZY"
        error_code = "secret_project_name"

    (only,) = failure_attributes(AppError(CONTENT))
    assert only == "error.type"
    anthropic_error = anthropic.APIStatusError(
        CONTENT,
        response=fakes.http.Response(
            529, request=fakes.http.Request("POST", "https://api.anthropic.com/v1/messages")
        ),
        body={"type": "error", "error": {"type": "overloaded_error", "message": CONTENT}},
    )
    assert failure_attributes(anthropic_error)["otel_llm.error.code"] == "overloaded_error"


class _Odd(Exception):
    """An exception whose status and code properties raise."""

    @property
    def status_code(self) -> int:
        raise RuntimeError("no")

    @property
    def code(self) -> str:
        raise RuntimeError("no")


def test_failure_attributes_survive_properties_that_raise() -> None:
    """An exception whose status or code property raises is still recorded by its type."""
    assert failure_attributes(_Odd()) == {"error.type": "tests.test_failure._Odd"}


def test_record_failure_with_an_unprintable_exception_still_marks_the_span() -> None:
    """A __str__ that raises costs the message, never the failure, when content is on."""

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY))
    span = captured.telemetry.tracer.start_span("work")
    record_failure(span, _raised(Unprintable), captured.telemetry)
    span.end()
    (exported,) = captured.finished_spans()
    assert exported.status.status_code is StatusCode.ERROR
    assert exported.status.description == "<unprintable Unprintable>"


def test_record_failure_with_capture_on_keeps_message_and_full_trace() -> None:
    """With content on spans, the message and Python's own trace are recorded, within budget."""
    captured = make_captured(
        Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY, max_content_bytes=512)
    )
    error = _raised(lambda: _Quoting(CONTENT + " " + "y" * 2000))
    span = captured.telemetry.tracer.start_span("work")
    record_failure(span, error, captured.telemetry)
    span.end()
    (exported,) = captured.finished_spans()
    (event,) = exported.events
    attributes = dict(event.attributes or {})
    full = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    stacktrace = str(attributes["exception.stacktrace"])
    assert stacktrace.startswith(f"…[truncated {len(full.encode())} bytes]\n")
    assert stacktrace.endswith(full[-100:])  # the end names the exception: it is kept
    assert len(stacktrace.encode()) <= 512
    assert str(attributes["exception.message"]).startswith(f"{CANARY}: please write to ")
    assert EMAIL not in str(attributes["exception.message"])  # redacted before the cut
    assert exported.status.description == attributes["exception.message"]


def test_event_only_capture_keeps_exception_text_off_spans() -> None:
    """EVENT_ONLY allows content on the details event only: spans get identifiers."""
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY))
    span = captured.telemetry.tracer.start_span("work")
    record_failure(span, _raised(lambda: _Quoting(CONTENT)), captured.telemetry)
    span.end()
    (exported,) = captured.finished_spans()
    assert exported.status.description is None
    assert CANARY not in json.dumps(dict(exported.events[0].attributes or {}))


def test_trace_without_messages_keeps_frames_and_types_only() -> None:
    """A formatted trace (chained, grouped, multi-line messages, notes) loses every message."""

    def inner() -> None:
        try:
            raise KeyError(f"{CANARY}\nSecondLine: {EMAIL}")
        except KeyError as error:
            raise _Quoting(CONTENT) from error

    try:
        inner()
    except _Quoting as error:
        if hasattr(error, "add_note"):
            error.add_note(f"note {CANARY}")
        caught: BaseException = error
    full = "".join(traceback.format_exception(type(caught), caught, caught.__traceback__))
    assert CANARY in full
    stripped = trace_without_messages(full)
    assert CANARY not in stripped
    assert EMAIL not in stripped
    assert "SecondLine" not in stripped
    assert "raise KeyError" not in stripped  # source lines are dropped, as frames_only does
    assert stripped == frames_only(caught)


@pytest.mark.skipif(not hasattr(builtins, "ExceptionGroup"), reason="exception groups: 3.11+")
def test_trace_without_messages_keeps_group_borders() -> None:
    """An exception group's members keep their frames and types inside the group's borders."""
    group = getattr(builtins, "ExceptionGroup")  # noqa: B009 - absent before Python 3.11
    try:
        raise group(CANARY, [_raised(lambda: _Quoting(CONTENT)), KeyError(EMAIL)])
    except Exception as error:
        caught: BaseException = error
    full = "".join(traceback.format_exception(type(caught), caught, caught.__traceback__))
    stripped = trace_without_messages(full)
    assert CANARY not in stripped
    assert EMAIL not in stripped
    lines = stripped.splitlines()
    assert lines[0] == "  + Exception Group Traceback (most recent call last):"
    assert "  | ExceptionGroup" in lines
    assert "    | tests.test_failure._Quoting" in lines
    assert "    | KeyError" in lines
    assert lines[-1] == "    +------------------------------------"
