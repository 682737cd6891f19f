"""OpenAI Agents SDK runs recorded through the real SDK and the real openai client."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("agents")  # needs openai 3.x: absent from the openai 2.x virtualenv

from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    Runner,
    function_tool,
    input_guardrail,
    trace,
)
from agents.models.openai_responses import OpenAIResponsesModel
from opentelemetry import trace as otel_trace
from opentelemetry.trace import StatusCode

from otel_llm.config import ContentCapturingMode
from otel_llm.instrumentation.openai_agents import OpenAIAgentsInstrumentor
from otel_llm.payloads import openai_responses as responses
from semconvgen.model import Registry
from tests.conftest import Captured
from tests.instrumentation._frameworks_app import (
    CONTENT_KEYS,
    Scripted,
    by_name,
    check_declared,
    instrumented,
    one_trace,
    parent_name,
    point_counts,
    response_reply,
    texts,
)

SECRET = "refund order 42 for jane@example.com"


@pytest.fixture(autouse=True)
def _no_export_to_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's own exporter needs a key to send traces; without one it sends nothing."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert "OPENAI_API_KEY" not in os.environ


@pytest.fixture
def captured() -> Iterator[Captured]:
    """The openai SDK and the Agents SDK instrumented on in-memory providers."""
    with instrumented(OpenAIAgentsInstrumentor()) as found:
        yield found


@function_tool
def lookup(order: str) -> str:
    """Look up an order."""
    return f"{order} shipped"


@function_tool(failure_error_function=None)
def broken(order: str) -> str:
    """A lookup that fails."""
    raise RuntimeError(f"no such order: {order}")


def _handoff_script() -> Scripted:
    return Scripted(
        [
            response_reply([responses.function_call("transfer_to_refunds", "{}", call_id="h1")]),
            response_reply([responses.function_call("lookup", '{"order": "42"}', call_id="t1")]),
            response_reply(),
        ]
    )


def _agents(script: Scripted, *tools: Any, **triage: Any) -> Agent[Any]:
    model = OpenAIResponsesModel(model="gpt-4o-mini", openai_client=script.async_openai())
    refunds = Agent(name="Refunds", instructions="Refund.", model=model, tools=list(tools))
    return Agent(name="Triage", instructions="Triage.", model=model, handoffs=[refunds], **triage)


def _run(agent: Agent[Any], text: str = SECRET) -> Any:
    async def run() -> Any:
        with trace("support", group_id="conv-7"):
            return await Runner.run(agent, text)

    return asyncio.run(run())


def test_a_handoff_keeps_one_trace_and_each_call_is_recorded_once(captured: Captured) -> None:
    """Workflow root; both agents under it; the openai spans under their agents, once each."""
    script = _handoff_script()
    result = _run(_agents(script, lookup))
    assert result.final_output
    root = one_trace(captured)
    assert root.name == "invoke_workflow support"
    spans = by_name(captured)
    assert spans["invoke_agent Triage"][0].attributes["gen_ai.conversation.id"] == "conv-7"
    assert parent_name(captured, spans["invoke_agent Triage"][0]) == "invoke_workflow support"
    assert parent_name(captured, spans["invoke_agent Refunds"][0]) == "invoke_workflow support"
    chats = spans["chat gpt-4o-mini"]
    assert len(chats) == len(script.requests) == 3
    assert sorted(str(parent_name(captured, s)) for s in chats) == [
        "invoke_agent Refunds",
        "invoke_agent Refunds",
        "invoke_agent Triage",
    ]
    assert all(s.attributes["gen_ai.conversation.id"] == "conv-7" for s in chats)
    (handoff,) = spans["execute_tool transfer_to_refunds"]
    assert handoff.attributes["gen_ai.tool.type"] == "handoff"
    assert parent_name(captured, handoff) == "invoke_agent Triage"
    (tool,) = spans["execute_tool lookup"]
    assert parent_name(captured, tool) == "invoke_agent Refunds"
    assert tool.attributes["gen_ai.agent.name"] == "Refunds"
    assert sum(n for _, n in point_counts(captured, "gen_ai.client.inference.duration")) == 3
    assert sorted(
        (a["gen_ai.agent.name"], n)
        for a, n in point_counts(captured, "gen_ai.invoke_agent.duration")
    ) == [("Refunds", 1), ("Triage", 1)]
    assert sorted(
        (a["gen_ai.tool.name"], n)
        for a, n in point_counts(captured, "gen_ai.execute_tool.duration")
    ) == [("lookup", 1), ("transfer_to_refunds", 1)]
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN


def test_every_span_attribute_and_metric_is_declared(
    captured: Captured, registry: Registry
) -> None:
    """Workflow, agent, tool and inference spans carry only what semconv/ declares."""
    _run(_agents(_handoff_script(), lookup))
    check_declared(captured, registry)


def test_with_capture_off_no_content_is_recorded(captured: Captured) -> None:
    """Neither the input, the tool's arguments and result, nor the answer reach a span."""
    _run(_agents(_handoff_script(), lookup))
    recorded = texts(captured)
    assert SECRET not in recorded
    assert not any(key in recorded for key in CONTENT_KEYS)


def test_with_capture_on_tool_arguments_and_results_are_recorded() -> None:
    """SPAN_ONLY records the function tool's arguments and result."""
    mode = ContentCapturingMode.SPAN_ONLY
    with instrumented(OpenAIAgentsInstrumentor(), mode=mode) as found:
        _run(_agents(_handoff_script(), lookup))
    (tool,) = by_name(found)["execute_tool lookup"]
    assert '"42"' in tool.attributes["gen_ai.tool.call.arguments"]
    assert "42 shipped" in tool.attributes["gen_ai.tool.call.result"]


def test_without_the_sdk_instrumented_the_response_spans_are_the_inference_spans() -> None:
    """Openai not instrumented by otel-llm: each model call from the SDK's span, with usage."""
    with instrumented(OpenAIAgentsInstrumentor(), openai_sdk=False) as found:
        _run(_agents(_handoff_script(), lookup))
    one_trace(found)
    chats = [s for s in found.finished_spans() if s.name.startswith("chat ")]
    assert len(chats) == 3
    for chat in chats:
        assert chat.attributes["gen_ai.provider.name"] == "openai"
        assert chat.attributes["gen_ai.usage.input_tokens"] == 30
        assert chat.attributes["gen_ai.response.id"] == "resp_67ccd2bed1ec8190"
        assert parent_name(found, chat).startswith("invoke_agent ")  # type: ignore[union-attr]
    assert sum(n for _, n in point_counts(found, "gen_ai.client.inference.duration")) == 3


def test_without_the_sdk_instrumented_content_comes_from_the_sdks_spans() -> None:
    """SPAN_ONLY: the input and output the SDK kept become the inference span's messages."""
    mode = ContentCapturingMode.SPAN_ONLY
    with instrumented(OpenAIAgentsInstrumentor(), openai_sdk=False, mode=mode) as found:
        _run(_agents(_handoff_script(), lookup), "Where is my parcel?")
    chats = [s for s in found.finished_spans() if s.name.startswith("chat ")]
    assert "Where is my parcel?" in chats[0].attributes["gen_ai.input.messages"]
    assert "transfer_to_refunds" in chats[0].attributes["gen_ai.output.messages"]


def test_a_failing_tool_is_recorded_by_its_type_only(captured: Captured) -> None:
    """The tool's exception fails its span by type; the message quoting the argument is not kept."""
    script = Scripted(
        [
            response_reply([responses.function_call("transfer_to_refunds", "{}", call_id="h1")]),
            response_reply(
                [responses.function_call("broken", '{"order": "' + SECRET + '"}', call_id="t1")]
            ),
        ]
    )
    with pytest.raises(Exception, match="no such order"):
        _run(_agents(script, broken))
    (tool,) = by_name(captured)["execute_tool broken"]
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.attributes["error.type"]
    assert SECRET not in texts(captured)
    points = point_counts(captured, "gen_ai.execute_tool.duration")
    failed = [a for a, _ in points if a.get("gen_ai.tool.name") == "broken"]
    assert failed == [{**failed[0], "error.type": tool.attributes["error.type"]}]


def test_a_tripped_guardrail_is_a_failed_evaluation_of_the_agent(captured: Captured) -> None:
    """The guardrail's span, and a failed `gen_ai.evaluation.result` on the agent's span."""

    @input_guardrail
    def no_refunds(ctx: Any, agent: Any, data: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=True)

    agent = _agents(_handoff_script(), lookup, input_guardrails=[no_refunds])
    with pytest.raises(InputGuardrailTripwireTriggered):
        _run(agent)
    spans = by_name(captured)
    (guardrail,) = spans["guardrail no_refunds"]
    (triage,) = spans["invoke_agent Triage"]
    assert parent_name(captured, guardrail) == "invoke_agent Triage"
    (event,) = captured.events("gen_ai.evaluation.result")
    assert event.attributes["gen_ai.evaluation.name"] == "no_refunds"
    assert event.attributes["gen_ai.evaluation.score.label"] == "fail"
    assert event.span_id == triage.context.span_id
    ((attributes, _),) = [
        (dict(p.attributes), p.value) for p in captured.metric_points("otel_llm.evaluation.results")
    ]
    assert attributes["otel_llm.evaluation.passed"] is False


def test_a_streamed_run_cancelled_early_ends_every_span_once(captured: Captured) -> None:
    """run_streamed, the consumer stops after the first event: every span ends exactly once."""

    async def run() -> None:
        with trace("support"):
            result = Runner.run_streamed(_agents(_handoff_script(), lookup), SECRET)
            async for _event in result.stream_events():
                result.cancel()
                break
            await asyncio.sleep(0)

    asyncio.run(run())
    one_trace(captured)
    assert all(s.end_time is not None for s in captured.finished_spans())


def test_a_streamed_run_read_to_the_end_records_like_a_plain_run(captured: Captured) -> None:
    """run_streamed read to the end: the same spans as Runner.run."""

    async def run() -> None:
        with trace("support"):
            result = Runner.run_streamed(_agents(_handoff_script(), lookup), SECRET)
            async for _event in result.stream_events():
                pass

    asyncio.run(run())
    one_trace(captured)
    assert len(by_name(captured)["chat gpt-4o-mini"]) == 3


def test_uninstrument_removes_the_processor() -> None:
    """After uninstrument() the SDK no longer calls otel-llm's processor: nothing is recorded."""
    with instrumented(OpenAIAgentsInstrumentor(), openai_sdk=False) as found:
        pass
    _run(_agents(_handoff_script(), lookup))
    assert found.finished_spans() == []


def test_each_agent_counts_its_model_and_tool_calls_as_steps(captured: Captured) -> None:
    """otel_llm.agent.steps per agent run: Triage one model call; Refunds two and its tool."""
    _run(_agents(_handoff_script(), lookup))
    steps = {
        (p.attributes["gen_ai.agent.name"], p.attributes["otel_llm.agent.step.kind"]): p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {
        ("Triage", "model_call"): 1,
        ("Triage", "tool_call"): 0,
        ("Refunds", "model_call"): 2,
        ("Refunds", "tool_call"): 1,
    }


def test_an_agent_on_litellm_is_one_inference_span_from_litellms_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LitellmModel with LiteLLM instrumented: its call is the one chat span, under the agent."""
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price map fetched at import
    from agents.extensions.models.litellm_model import LitellmModel  # noqa: PLC0415

    from otel_llm.demo.provider import Behaviour, SimulatedProvider  # noqa: PLC0415
    from otel_llm.instrumentation.litellm import LiteLLMInstrumentor  # noqa: PLC0415
    from tests.instrumentation.litellm.conftest import FAST  # noqa: PLC0415

    with (
        SimulatedProvider(Behaviour(**FAST)) as provider,  # type: ignore[arg-type]
        instrumented(OpenAIAgentsInstrumentor(), LiteLLMInstrumentor()) as found,
    ):
        model = LitellmModel(
            model="openai/gpt-4o-mini", base_url=provider.base_url_openai, api_key="sk-test"
        )
        _run(Agent(name="Support", instructions="Help.", model=model), "where is order 7?")
    spans = by_name(found)
    (chat,) = spans["chat gpt-4o-mini"]
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert parent_name(found, chat) == "invoke_agent Support"
    assert sum(p.value for p in found.metric_points("otel_llm.client.requests")) == 1
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: p.sum
        for p in found.metric_points("otel_llm.agent.steps")
    }
    assert steps == {"model_call": 1, "tool_call": 0}
