"""Agent steps per run and tool argument validation failures, as recorded."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

import otel_llm
from otel_llm._steps import invalid_arguments_error, invalid_arguments_error_name, note_model_call
from tests.conftest import Captured


def _points(captured: Captured, name: str) -> list[Any]:
    return captured.metric_points(name)


def test_agent_runs_record_their_model_and_tool_steps(captured: Captured) -> None:
    """At run end, otel_llm.agent.steps gets the run's model calls and tool calls, by kind."""
    lookup = otel_llm.tool("lookup")(lambda order: "shipped")
    with otel_llm.agent("support"):
        note_model_call()
        lookup(1)
        lookup(2)
        note_model_call()
        with otel_llm.agent("nested"):
            lookup(3)  # counted in the inner run only
    steps = {
        (p.attributes["gen_ai.agent.name"], p.attributes["otel_llm.agent.step.kind"]): p.sum
        for p in _points(captured, "otel_llm.agent.steps")
    }
    assert steps == {
        ("support", "model_call"): 2,
        ("support", "tool_call"): 2,
        ("nested", "model_call"): 0,
        ("nested", "tool_call"): 1,
    }


def test_a_failed_run_records_its_steps_with_the_error(captured: Captured) -> None:
    """A run that raises still records its steps, with error.type."""
    with pytest.raises(RuntimeError), otel_llm.agent("support"):
        raise RuntimeError("boom")
    (point, _) = _points(captured, "otel_llm.agent.steps")
    assert point.attributes["error.type"] == "RuntimeError"


def test_arguments_that_do_not_bind_count_as_invalid(captured: Captured) -> None:
    """A decorated tool called with arguments its signature rejects is an invalid-arguments call."""

    @otel_llm.tool("lookup")
    def lookup(order: int) -> str:
        return "shipped"

    with otel_llm.agent("support"):
        with pytest.raises(TypeError):
            lookup(unknown=1)  # type: ignore[call-arg]
        lookup(1)
    (point,) = _points(captured, "otel_llm.tool.invalid_arguments")
    assert point.value == 1
    assert dict(point.attributes) == {"gen_ai.tool.name": "lookup", "gen_ai.agent.name": "support"}


def test_validation_errors_and_rejections_count_as_invalid(captured: Captured) -> None:
    """Pydantic and JSON errors from the tool body, and reject_arguments(), are counted."""

    class Order(pydantic.BaseModel):
        order: int

    @otel_llm.tool("parse")
    def parse(raw: str) -> Order:
        return Order.model_validate(json.loads(raw))

    for raw in ("{", '{"order": "x"}'):
        with pytest.raises(ValueError, match=r"Expecting|validation error"):
            parse(raw)
    with otel_llm.tool("manual") as handle:
        handle.reject_arguments()
    counts = {
        p.attributes["gen_ai.tool.name"]: p.value
        for p in _points(captured, "otel_llm.tool.invalid_arguments")
    }
    assert counts == {"parse": 2, "manual": 1}


def test_tool_failures_of_its_own_are_not_argument_failures(captured: Captured) -> None:
    """A tool that fails for its own reasons is not counted as an argument failure."""
    with pytest.raises(ConnectionError), otel_llm.tool("crm"):
        raise ConnectionError("down")
    assert _points(captured, "otel_llm.tool.invalid_arguments") == []
    assert not invalid_arguments_error(ConnectionError())
    assert invalid_arguments_error_name("jsonschema.exceptions.ValidationError")
    assert not invalid_arguments_error_name("TimeoutError")


def test_model_calls_inside_a_run_are_counted_from_their_spans(captured: Captured) -> None:
    """An instrumented LLM call inside an agent run counts as one model_call step."""
    from otel_llm.instrumentation.openai import OpenAIInstrumentor  # noqa: PLC0415
    from tests.instrumentation import _fakes as fakes  # noqa: PLC0415

    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        client = fakes.openai_client(
            lambda request: fakes.http.Response(200, json=fakes.chat_completion())
        )
        with otel_llm.agent("support"):
            client.chat.completions.create(model="gpt-4o-mini", messages=[])
        client.chat.completions.create(model="gpt-4o-mini", messages=[])  # outside any run
    finally:
        OpenAIInstrumentor().uninstrument()
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: p.sum
        for p in _points(captured, "otel_llm.agent.steps")
    }
    assert steps == {"model_call": 1, "tool_call": 0}
