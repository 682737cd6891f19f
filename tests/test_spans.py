"""Tests for otel_llm.spans: workflow, agent, tool and retrieval spans and their metrics."""

import asyncio
import dataclasses
import inspect
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.metrics import NoOpHistogram
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm import _errors
from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.context import session
from otel_llm.semconv.attributes import gen_ai
from otel_llm.semconv.attributes.error import ERROR_TYPE
from otel_llm.semconv.metrics import gen_ai as gen_ai_metrics
from otel_llm.spans import agent, error_type, retrieval, tool, workflow
from tests.conftest import Captured, make_captured
from tests.test_budget import FINDINGS, leaked_fragment, straddling_texts

TOOL_DURATION = gen_ai_metrics.GEN_AI_EXECUTE_TOOL_DURATION
OPERATION_DURATION = gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION

# Defined at import time, before any Telemetry is installed: it must still report to the one
# active when it is entered.
MODULE_LEVEL_TOOL = tool("module_level")


class CustomError(Exception):
    """An application exception outside builtins."""

    class Nested(Exception):
        """An exception class nested in another class."""


def _install(settings: Settings) -> Iterator[Captured]:
    result = make_captured(settings)
    set_telemetry(result.telemetry)
    try:
        yield result
    finally:
        set_telemetry(None)


@pytest.fixture
def no_content() -> Iterator[Captured]:
    """In-memory telemetry with content capture explicitly off (whatever the environment says)."""
    yield from _install(Settings(capture_message_content=ContentCapturingMode.NO_CONTENT))


@pytest.fixture
def span_content() -> Iterator[Captured]:
    """In-memory telemetry with content captured on spans (SPAN_ONLY)."""
    yield from _install(Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY))


def _only_span(captured: Captured) -> ReadableSpan:
    spans: list[ReadableSpan] = captured.finished_spans()
    (span,) = spans
    return span


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _span_named(captured: Captured, name: str) -> ReadableSpan:
    spans: list[ReadableSpan] = captured.finished_spans()
    (span,) = [s for s in spans if s.name == name]
    return span


class _BrokenTracer(trace.NoOpTracer):
    def start_span(self, *args: object, **kwargs: object) -> trace.Span:
        raise RuntimeError("tracer bug")


class _BrokenHistogram(NoOpHistogram):
    def record(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("histogram bug")


# Span names, kinds and attributes.


def test_workflow_span(captured: Captured) -> None:
    """workflow() makes an INTERNAL `invoke_workflow {name}` span with operation and name."""
    with workflow("ingest"):
        pass
    span = _only_span(captured)
    assert span.name == "invoke_workflow ingest"
    assert span.kind is SpanKind.INTERNAL
    assert _attributes(span) == {
        gen_ai.GEN_AI_OPERATION_NAME: "invoke_workflow",
        "gen_ai.workflow.name": "ingest",
    }
    assert span.status.status_code is StatusCode.UNSET
    assert captured.metric_points(OPERATION_DURATION) == []


def test_agent_span(captured: Captured) -> None:
    """agent() makes an INTERNAL `invoke_agent {name}` span with name, id and description."""
    with agent("planner", agent_id="agt_1", description="Plans trips"):
        pass
    span = _only_span(captured)
    assert span.name == "invoke_agent planner"
    assert span.kind is SpanKind.INTERNAL
    assert _attributes(span) == {
        gen_ai.GEN_AI_OPERATION_NAME: "invoke_agent",
        gen_ai.GEN_AI_AGENT_NAME: "planner",
        "gen_ai.agent.id": "agt_1",
        "gen_ai.agent.description": "Plans trips",
    }


def test_unnamed_agent_span_uses_operation_only(captured: Captured) -> None:
    """An agent without a name gets the bare `invoke_agent` span name and no empty attributes."""
    with agent(""):
        pass
    span = _only_span(captured)
    assert span.name == "invoke_agent"
    assert _attributes(span) == {gen_ai.GEN_AI_OPERATION_NAME: "invoke_agent"}


def test_tool_span_and_metric(no_content: Captured) -> None:
    """tool() makes an INTERNAL `execute_tool {name}` span and a low-cardinality duration point."""
    captured = no_content
    with tool("get_weather", call_id="call_123", description="Looks up weather"):
        pass
    span = _only_span(captured)
    assert span.name == "execute_tool get_weather"
    assert span.kind is SpanKind.INTERNAL
    assert _attributes(span) == {  # no description: text written for the model is content
        gen_ai.GEN_AI_OPERATION_NAME: "execute_tool",
        gen_ai.GEN_AI_TOOL_NAME: "get_weather",
        gen_ai.GEN_AI_TOOL_TYPE: "function",
        gen_ai.GEN_AI_TOOL_CALL_ID: "call_123",
    }
    (point,) = captured.metric_points(TOOL_DURATION)
    assert point.count == 1
    assert dict(point.attributes) == {
        gen_ai.GEN_AI_TOOL_NAME: "get_weather",
        gen_ai.GEN_AI_TOOL_TYPE: "function",
    }


def test_tool_description_recorded_with_content_on_spans(span_content: Captured) -> None:
    """A tool's description is recorded only when content is captured on spans."""
    with tool("get_weather", description="Looks up weather"):
        pass
    attributes = _attributes(_only_span(span_content))
    assert attributes[gen_ai.GEN_AI_TOOL_DESCRIPTION] == "Looks up weather"


def test_tool_metric_keeps_to_registered_attributes(captured: Captured) -> None:
    """The tool duration carries no call id or description, only keys the registry allows."""
    for call_id in ("call_1", "call_2", "call_3"):
        with tool("search", call_id=call_id, description="d", tool_type="extension"):
            pass
    (point,) = captured.metric_points(TOOL_DURATION)
    assert point.count == 3
    assert set(point.attributes) <= gen_ai_metrics.GEN_AI_EXECUTE_TOOL_DURATION_ATTRIBUTES
    assert point.attributes[gen_ai.GEN_AI_TOOL_TYPE] == "extension"


def test_tool_inside_agent_records_agent_name(captured: Captured) -> None:
    """A tool run inside agent() carries the agent's name on its span and its metric point."""
    with agent("researcher"), workflow("step"), tool("search"):
        pass
    span = _span_named(captured, "execute_tool search")
    assert _attributes(span)[gen_ai.GEN_AI_AGENT_NAME] == "researcher"
    (point,) = captured.metric_points(TOOL_DURATION)
    assert point.attributes[gen_ai.GEN_AI_AGENT_NAME] == "researcher"


def test_tool_outside_agent_has_no_agent_name(captured: Captured) -> None:
    """After an agent block ends, later tools no longer claim its name."""
    with agent("researcher"):
        pass
    with tool("search"):
        pass
    assert gen_ai.GEN_AI_AGENT_NAME not in _attributes(_span_named(captured, "execute_tool search"))


def test_retrieval_span_and_metric(captured: Captured) -> None:
    """retrieval() makes a CLIENT `retrieval {source}` span and an operation duration point."""
    with retrieval("product_docs", top_k=5) as handle:
        handle.record_documents([("doc_1", 0.91), ("doc_2", 0.5)])
    span = _only_span(captured)
    assert span.name == "retrieval product_docs"
    assert span.kind is SpanKind.CLIENT
    attributes = _attributes(span)
    assert json.loads(attributes.pop("gen_ai.retrieval.documents")) == [
        {"id": "doc_1", "score": 0.91},
        {"id": "doc_2", "score": 0.5},
    ]
    assert attributes == {
        gen_ai.GEN_AI_OPERATION_NAME: "retrieval",
        "gen_ai.data_source.id": "product_docs",
        "gen_ai.retrieval.top_k": 5,
    }
    (point,) = captured.metric_points(OPERATION_DURATION)
    assert dict(point.attributes) == {gen_ai.GEN_AI_OPERATION_NAME: "retrieval"}
    assert set(point.attributes) <= gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION_ATTRIBUTES


def test_retrieval_without_top_k_omits_it(captured: Captured) -> None:
    """An unknown top_k is left out rather than recorded."""
    with retrieval("kb"):
        pass
    assert "gen_ai.retrieval.top_k" not in _attributes(_only_span(captured))


def test_scope_defined_before_telemetry_uses_active_telemetry(captured: Captured) -> None:
    """A scope created at import time reports to the Telemetry active when it is entered."""
    with MODULE_LEVEL_TOOL:
        pass
    assert _only_span(captured).name == "execute_tool module_level"


# Decorator and async forms.


def test_sync_decorator(captured: Captured) -> None:
    """A decorated sync function returns its value and runs inside one span per call."""

    @tool("add")
    def add(a: int, b: int) -> int:
        return a + b

    assert add(1, 2) == 3
    assert add(3, 4) == 7
    assert [s.name for s in captured.finished_spans()] == ["execute_tool add"] * 2
    assert add.__name__ == "add"


def test_async_decorator(captured: Captured) -> None:
    """A decorated coroutine function stays one and its span covers the awaited work."""

    @workflow("pipeline")
    async def pipeline() -> str:
        await asyncio.sleep(0)
        return "done"

    assert inspect.iscoroutinefunction(pipeline)
    assert asyncio.run(pipeline()) == "done"
    assert _only_span(captured).name == "invoke_workflow pipeline"


def test_async_with(captured: Captured) -> None:
    """`async with` opens and ends the span like the sync form."""

    async def main() -> None:
        async with retrieval("kb") as handle:
            handle.record_documents([("d", 1.0)])

    asyncio.run(main())
    assert _only_span(captured).name == "retrieval kb"


def test_decorating_a_generator_is_rejected() -> None:
    """Decorating a generator function raises TypeError, since the span would not cover it."""
    with pytest.raises(TypeError, match="generator"):

        @tool("gen")
        def numbers() -> object:
            yield 1


# Parenting and context.


def test_spans_inside_a_tool_are_its_children(captured: Captured) -> None:
    """The tool span is current in its block, so spans started there are its children."""
    tracer = captured.telemetry.tracer
    with workflow("flow"), tool("search"), tracer.start_as_current_span("llm call"):
        pass
    child = _span_named(captured, "llm call")
    tool_span = _span_named(captured, "execute_tool search")
    flow = _span_named(captured, "invoke_workflow flow")
    assert child.parent is not None
    assert tool_span.context is not None
    assert child.parent.span_id == tool_span.context.span_id
    assert tool_span.parent is not None
    assert flow.context is not None
    assert tool_span.parent.span_id == flow.context.span_id
    assert flow.parent is None


def test_context_restored_after_block(captured: Captured) -> None:
    """After the block no span of ours is current any more."""
    before = trace.get_current_span()
    with agent("a"):
        assert trace.get_current_span() is not before
    assert trace.get_current_span() is before


def test_gathered_tasks_parent_to_their_own_spans(captured: Captured) -> None:
    """Concurrent tool calls under one agent each parent their own children and the agent."""
    shared = tool("lookup")

    async def call(n: int) -> None:
        async with shared:
            await asyncio.sleep(0)
            with captured.telemetry.tracer.start_as_current_span(f"inner {n}"):
                await asyncio.sleep(0)

    async def main() -> None:
        async with agent("fanout"):
            await asyncio.gather(call(1), call(2))

    asyncio.run(main())
    agent_span = _span_named(captured, "invoke_agent fanout")
    tool_spans = {
        s.context.span_id: s
        for s in captured.finished_spans()
        if s.name == "execute_tool lookup" and s.context is not None
    }
    assert len(tool_spans) == 2
    assert agent_span.context is not None
    for tool_span in tool_spans.values():
        assert tool_span.parent is not None
        assert tool_span.parent.span_id == agent_span.context.span_id
    inner_parents = {
        s.parent.span_id
        for s in captured.finished_spans()
        if s.name.startswith("inner") and s.parent is not None
    }
    assert inner_parents == set(tool_spans)


# Errors.


def test_exception_marks_span_and_propagates_unchanged(captured: Captured) -> None:
    """An exception sets ERROR status, error.type and an exception event, and is re-raised as is.

    With content capture off (the default) its message is on none of them.
    """
    error = ValueError("bad input")
    with pytest.raises(ValueError, match="bad input") as caught, tool("parse"):
        raise error
    assert caught.value is error
    span = _only_span(captured)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None
    assert _attributes(span)[ERROR_TYPE] == "ValueError"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "ValueError"
    assert "exception.message" not in event.attributes
    assert "bad input" not in str(event.attributes["exception.stacktrace"])
    (point,) = captured.metric_points(TOOL_DURATION)
    assert point.attributes[ERROR_TYPE] == "ValueError"


def test_decorator_exception_propagates_unchanged(captured: Captured) -> None:
    """A decorated async function's exception is recorded with its qualified type and re-raised."""
    error = CustomError("no results")

    @retrieval("kb")
    async def search() -> None:
        raise error

    with pytest.raises(CustomError) as caught:
        asyncio.run(search())
    assert caught.value is error
    expected = f"{__name__}.CustomError"
    assert _attributes(_only_span(captured))[ERROR_TYPE] == expected
    (point,) = captured.metric_points(OPERATION_DURATION)
    assert dict(point.attributes) == {
        gen_ai.GEN_AI_OPERATION_NAME: "retrieval",
        ERROR_TYPE: expected,
    }


def test_success_has_no_error_type(captured: Captured) -> None:
    """A block that completes leaves the status UNSET and sets no error.type anywhere."""
    with tool("ok"):
        pass
    assert ERROR_TYPE not in _attributes(_only_span(captured))
    (point,) = captured.metric_points(TOOL_DURATION)
    assert ERROR_TYPE not in point.attributes


def test_error_type_names() -> None:
    """error_type gives bare builtin names, and public dotted names for everything else."""
    assert error_type(TimeoutError()) == "TimeoutError"
    assert error_type(KeyError("k")) == "KeyError"
    assert error_type(CustomError()) == f"{__name__}.CustomError"
    assert error_type(CustomError.Nested()) == f"{__name__}.CustomError.Nested"
    # json re-exports JSONDecodeError, so its public name wins over json.decoder's.
    assert error_type(json.JSONDecodeError("m", "d", 0)) == "json.JSONDecodeError"


# Content gating.


def test_tool_content_not_recorded_by_default(no_content: Captured) -> None:
    """With NO_CONTENT, set_arguments and set_result record nothing."""
    with tool("get_weather") as handle:
        handle.set_arguments({"city": "Paris"})
        handle.set_result({"temp": 21})
    attributes = _attributes(_only_span(no_content))
    assert gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS not in attributes
    assert gen_ai.GEN_AI_TOOL_CALL_RESULT not in attributes
    assert handle.capture_content is False


def test_tool_content_recorded_as_json_when_enabled(span_content: Captured) -> None:
    """With SPAN_ONLY, arguments and result are recorded as JSON; strings are kept as given."""
    with tool("get_weather") as handle:
        handle.set_arguments('{"city": "Paris"}')
        handle.set_result({"temp": 21, "sky": "clear"})
    attributes = _attributes(_only_span(span_content))
    assert attributes[gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS] == '{"city": "Paris"}'
    assert json.loads(attributes[gen_ai.GEN_AI_TOOL_CALL_RESULT]) == {"temp": 21, "sky": "clear"}


def test_non_json_content_falls_back_to_str(span_content: Captured) -> None:
    """A result JSON cannot encode is recorded through str() instead of failing."""
    marker = object()
    with tool("t") as handle:
        handle.set_result({"value": marker})
    result = _attributes(_only_span(span_content))[gen_ai.GEN_AI_TOOL_CALL_RESULT]
    assert json.loads(result) == {"value": str(marker)}


def test_decorated_tool_records_arguments_and_result(span_content: Captured) -> None:
    """A decorated tool records its bound arguments (not `self`) and return value when enabled."""

    class Weather:
        @tool("get_weather")
        def get(self, city: str, unit: str = "C") -> dict[str, object]:
            return {"city": city, "temp": 21}

    assert Weather().get("Paris", unit="F") == {"city": "Paris", "temp": 21}
    attributes = _attributes(_only_span(span_content))
    assert json.loads(attributes[gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS]) == {
        "city": "Paris",
        "unit": "F",
    }
    assert json.loads(attributes[gen_ai.GEN_AI_TOOL_CALL_RESULT]) == {"city": "Paris", "temp": 21}


def test_decorated_tool_records_no_content_by_default(no_content: Captured) -> None:
    """With NO_CONTENT a decorated tool records neither arguments nor result."""

    @tool("echo")
    async def echo(text: str) -> str:
        return text

    assert asyncio.run(echo("secret")) == "secret"
    attributes = _attributes(_only_span(no_content))
    assert gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS not in attributes
    assert gen_ai.GEN_AI_TOOL_CALL_RESULT not in attributes


def test_retrieval_documents_recorded_without_content_capture(no_content: Captured) -> None:
    """Document ids and scores are not content, so they are recorded with NO_CONTENT too."""
    with retrieval("kb") as handle:
        handle.record_documents([("a", 1)])
    documents = _attributes(_only_span(no_content))["gen_ai.retrieval.documents"]
    assert json.loads(documents) == [{"id": "a", "score": 1.0}]


# Telemetry failures.


@pytest.fixture
def in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave as outside pytest: internal errors are logged, not raised."""
    monkeypatch.setattr(_errors, "_under_pytest", lambda: False)
    monkeypatch.setattr(_errors, "_reported", set())


def _break_tracer(captured: Captured) -> None:
    set_telemetry(dataclasses.replace(captured.telemetry, tracer=_BrokenTracer()))


def _break_tool_histogram(captured: Captured) -> None:
    instruments = dataclasses.replace(
        captured.telemetry.instruments, execute_tool_duration=_BrokenHistogram("broken")
    )
    set_telemetry(dataclasses.replace(captured.telemetry, instruments=instruments))


@pytest.mark.usefixtures("in_production")
def test_broken_tracer_does_not_affect_the_block(
    captured: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    """If the span cannot start, the block still runs, its handle works, and the bug is logged."""
    _break_tracer(captured)
    with caplog.at_level(logging.ERROR, logger="otel_llm"), tool("t") as handle:
        handle.set_arguments({"a": 1})
        handle.set_result(1)
        result = 42
    assert result == 42
    assert handle.span is trace.INVALID_SPAN
    assert captured.finished_spans() == []
    assert "otel-llm internal error" in caplog.text


@pytest.mark.usefixtures("in_production")
def test_broken_tracer_does_not_affect_decorated_calls(captured: Captured) -> None:
    """When starting the span fails, decorated functions still return and raise as usual."""
    _break_tracer(captured)
    error = KeyError("missing")

    @agent("a")
    def ok() -> str:
        return "fine"

    @agent("a")
    async def fails() -> None:
        raise error

    assert ok() == "fine"
    with pytest.raises(KeyError) as caught:
        asyncio.run(fails())
    assert caught.value is error


@pytest.mark.usefixtures("in_production")
def test_broken_metric_keeps_user_exception_and_restores_context(captured: Captured) -> None:
    """If recording the metric fails, the user's exception still propagates and context is reset."""
    _break_tool_histogram(captured)
    error = ValueError("user error")
    before = trace.get_current_span()
    with pytest.raises(ValueError, match="user error") as caught, tool("t"):
        raise error
    assert caught.value is error
    assert trace.get_current_span() is before
    # The span itself was ended before the metric failed.
    assert _only_span(captured).status.status_code is StatusCode.ERROR


def test_telemetry_bugs_surface_under_pytest(captured: Captured) -> None:
    """Under pytest an internal error is re-raised, so tests see our bugs."""
    _break_tracer(captured)
    with pytest.raises(RuntimeError, match="tracer bug"), tool("t"):
        pass


def test_session_and_tenant_from_baggage_land_on_every_manual_span(captured: Captured) -> None:
    """workflow/agent/tool/retrieval spans carry the session and tenant ids, like LLM spans."""
    with session(session_id="s-9", tenant_id="globex"):
        with workflow("w"), agent("a"), tool("t"):
            pass
        with retrieval("kb"):
            pass
    spans = captured.spans.get_finished_spans()
    assert len(spans) == 4
    for span in spans:
        attributes = dict(span.attributes or {})
        assert attributes["otel_llm.session.id"] == "s-9", span.name
        assert attributes["otel_llm.tenant.id"] == "globex", span.name


# Byte budget.


def _budgeted(budget: int) -> Iterator[Captured]:
    yield from _install(
        Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY, max_content_bytes=budget)
    )


@pytest.fixture
def small_budget() -> Iterator[Captured]:
    """Content on spans with a 1 KiB content budget."""
    yield from _budgeted(1024)


def test_huge_tool_result_is_cut_to_the_budget_as_valid_json(small_budget: Captured) -> None:
    """A multi-megabyte tool result is recorded within the budget, as JSON, marked as cut."""
    rows = [{"id": i, "body": "lorem ipsum " * 40} for i in range(10_000)]
    with tool("search") as handle:
        handle.set_result({"rows": rows})
    result = _attributes(_only_span(small_budget))[gen_ai.GEN_AI_TOOL_CALL_RESULT]
    assert len(result.encode()) <= 1024
    assert "truncated" in json.dumps(json.loads(result))


def test_tool_arguments_string_over_budget_stays_json(small_budget: Captured) -> None:
    """JSON arguments given as a string are cut inside their strings, so they stay JSON."""
    arguments = json.dumps({"query": "x" * 5000, "limit": 3})
    with tool("search") as handle:
        handle.set_arguments(arguments)
    recorded = json.loads(_attributes(_only_span(small_budget))[gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS])
    assert recorded["limit"] == 3
    assert recorded["query"].endswith("…[truncated 5000 bytes]")


def test_plain_text_tool_result_over_budget_is_cut_and_marked(small_budget: Captured) -> None:
    """A plain-text result (not JSON) is cut to the budget with the truncation marker."""
    with tool("read_file") as handle:
        handle.set_result("line\n" * 1000)
    result = _attributes(_only_span(small_budget))[gen_ai.GEN_AI_TOOL_CALL_RESULT]
    assert len(result.encode()) <= 1024
    assert result.startswith("line\n")
    assert result.endswith("…[truncated 5000 bytes]")


@pytest.mark.parametrize(("prefix", "secret"), FINDINGS, ids=["aws_secret", "email", "card"])
def test_tool_result_cut_never_keeps_part_of_a_finding(prefix: str, secret: str) -> None:
    """Whatever the cut position, a finding in a cut tool result is redacted whole."""
    budget, total = 512, 1500
    room = budget - len(f"…[truncated {total} bytes]".encode())
    for start, text in straddling_texts(prefix, secret, room, total):
        for captured in _budgeted(budget):
            with tool("read_file") as handle:
                handle.set_result(text)
            result = _attributes(_only_span(captured))[gen_ai.GEN_AI_TOOL_CALL_RESULT]
            assert leaked_fragment(result, secret) is None, (start, result[-80:])


def test_tool_result_within_budget_is_unchanged(small_budget: Captured) -> None:
    """A result that fits is recorded exactly as before: json.dumps, strings as given."""
    with tool("t") as handle:
        handle.set_result({"a": "é", "b": [1, 2]})
    result = _attributes(_only_span(small_budget))[gen_ai.GEN_AI_TOOL_CALL_RESULT]
    assert result == json.dumps({"a": "é", "b": [1, 2]}, ensure_ascii=False)


def test_failed_tool_with_content_on_records_its_message(span_content: Captured) -> None:
    """With content on spans the exception's message is the status description and event text."""
    with pytest.raises(ValueError, match="bad input"), tool("parse"):
        raise ValueError("bad input")
    span = _only_span(span_content)
    assert span.status.description == "bad input"
    (event,) = span.events
    assert event.attributes is not None
    assert event.attributes["exception.message"] == "bad input"
    assert "ValueError: bad input" in str(event.attributes["exception.stacktrace"])
