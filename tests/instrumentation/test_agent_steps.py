"""Agent steps from otel-llm's own model calls: counted by a call hook, once per model call."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import otel_llm
from otel_llm._telemetry import set_telemetry
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.processors import _frameworks as fw

OPERATION = "gen_ai.operation.name"


def _steps(captured: Captured) -> dict[tuple[str, str], int]:
    return {
        (p.attributes["gen_ai.agent.name"], p.attributes["otel_llm.agent.step.kind"]): p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }


@pytest.fixture
def sampled_out(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    """In-memory providers whose tracer samples nothing, with openai instrumented on them."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    captured = make_captured()
    set_telemetry(captured.telemetry)
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()
        set_telemetry(None)


@pytest.fixture
def openai_on(captured: Captured) -> Iterator[Captured]:
    """The openai SDK instrumented on the test's providers."""
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()


def test_model_calls_count_when_head_sampling_drops_their_spans(sampled_out: Captured) -> None:
    """A call whose span is sampled out is still a step of its run (no processor sees it)."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    with otel_llm.agent("support"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert sampled_out.finished_spans() == []
    assert _steps(sampled_out) == {("support", "model_call"): 2, ("support", "tool_call"): 0}


def test_a_run_mixing_a_frameworks_spans_and_ours_counts_each_call_once(
    openai_on: Captured,
) -> None:
    """pydantic-ai's chat spans around our openai calls and a call of ours alone: 3 steps."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    with otel_llm.agent("support"):
        fw.run_agent(openai_on, fw.agent_turn())  # two model calls, each with two spans
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    spans = openai_on.finished_spans()
    theirs = [s for s in spans if s.instrumentation_scope.name == "pydantic-ai"]
    ours = [s for s in spans if s.instrumentation_scope.name == "otel_llm" and "chat" in s.name]
    assert len(ours) == 3
    assert sum(1 for s in theirs if s.name.startswith("chat")) == 2
    # pydantic-ai's execute_tool span is the run's one tool call.
    assert _steps(openai_on) == {("support", "model_call"): 3, ("support", "tool_call"): 1}


def test_a_frameworks_model_spans_alone_are_counted_as_they_start(captured: Captured) -> None:
    """Without our openai instrumentation, pydantic-ai's two chat spans are the two steps."""
    with otel_llm.agent("support"):
        fw.run_agent(captured, fw.agent_turn())
    assert _steps(captured)[("support", "model_call")] == 2


def test_calls_outside_any_run_are_no_steps(openai_on: Captured) -> None:
    """A call made with no agent run open records no step metric."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert openai_on.metric_points("otel_llm.agent.steps") == []


def test_our_call_deeper_under_a_frameworks_model_span_is_the_same_step(
    openai_on: Captured,
) -> None:
    """A foreign chat span, a transport span under it, our call under that: one step."""
    tracer = openai_on.providers["tracer_provider"].get_tracer("some-framework")
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    with otel_llm.agent("support"):
        with (
            tracer.start_as_current_span("chat gpt-4o-mini", attributes={OPERATION: "chat"}),
            tracer.start_as_current_span("POST"),
        ):
            client.chat.completions.create(model="gpt-4o-mini", messages=[])
        with tracer.start_as_current_span(
            "execute_tool lookup", attributes={OPERATION: "execute_tool"}
        ):
            client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert _steps(openai_on)[("support", "model_call")] == 2


def test_a_frameworks_own_agent_span_is_a_run_of_its_own(captured: Captured) -> None:
    """pydantic-ai's invoke_agent span, no otel_llm.agent(): its two model calls and tool."""
    fw.run_agent(captured, fw.agent_turn())
    assert _steps(captured) == {("support", "model_call"): 2, ("support", "tool_call"): 1}
    (point,) = [
        p
        for p in captured.metric_points("otel_llm.agent.steps")
        if p.attributes["otel_llm.agent.step.kind"] == "model_call"
    ]
    assert point.count == 1  # one run


def test_our_calls_under_a_frameworks_agent_span_count_in_its_run(openai_on: Captured) -> None:
    """With our openai instrumentation under pydantic-ai's spans, still two model calls."""
    fw.run_agent(openai_on, fw.agent_turn())
    assert _steps(openai_on) == {("support", "model_call"): 2, ("support", "tool_call"): 1}
