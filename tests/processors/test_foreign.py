"""Metrics derived from foreign spans: real pydantic-ai, OpenInference and OpenLLMetry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, Status, StatusCode, TraceFlags

import otel_llm
from otel_llm._telemetry import set_telemetry
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors._ledger import SpanLedger
from otel_llm.processors.foreign import DerivedMetricsSpanProcessor
from otel_llm.processors.pipeline import span_pipeline
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.instrumentation._zero_code import run_under_opentelemetry_instrument
from tests.processors import _frameworks as fw

pytest.importorskip("pydantic_ai")

_agent_turn = fw.agent_turn


@pytest.fixture
def captured() -> Iterator[Captured]:
    """In-memory providers behind our pipeline (retrofitted), active for the processors."""
    result = make_captured()
    set_telemetry(result.telemetry)
    try:
        yield result
    finally:
        if OpenAIInstrumentor().is_instrumented_by_opentelemetry:
            OpenAIInstrumentor().uninstrument()
        set_telemetry(None)


def _run_agent(captured: Captured, handler: Any) -> Any:
    return fw.run_agent(captured, handler)


def _total(captured: Captured, name: str, **where: Any) -> float:
    points = captured.metric_points(name)
    chosen = [p for p in points if all(p.attributes.get(k) == v for k, v in where.items())]
    total = 0.0
    for point in chosen:
        total += point.value if hasattr(point, "value") else point.count
    return total


def test_pydantic_ai_calls_are_counted_priced_and_redacted(captured: Captured) -> None:
    """pydantic-ai's own spans give the request, duration, token, cost and tool metrics once."""
    _run_agent(captured, _agent_turn())
    requests = captured.metric_points("otel_llm.client.requests")
    assert [(p.attributes["otel_llm.request.outcome"], p.value) for p in requests] == [
        ("success", 2)
    ]
    assert requests[0].attributes["gen_ai.provider.name"] == "openai"
    assert requests[0].attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert _total(captured, "gen_ai.client.inference.duration") == 2
    assert _total(captured, "gen_ai.client.inference.usage.input_tokens") == 84
    assert _total(captured, "gen_ai.client.inference.usage.reasoning.output_tokens") == 8
    assert _total(captured, "gen_ai.execute_tool.duration", **{"gen_ai.tool.name": "lookup"}) == 1
    assert _total(captured, "gen_ai.invoke_agent.duration", **{"gen_ai.agent.name": "support"})
    assert _total(captured, "otel_llm.client.cost") > 0
    chats = [s for s in captured.finished_spans() if s.name.startswith("chat")]
    assert all(s.attributes["otel_llm.cost.total"] > 0 for s in chats)


def test_calls_our_instrumentation_recorded_are_not_counted_again(captured: Captured) -> None:
    """With the openai SDK instrumented by us too, each call is counted once, by us."""
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    _run_agent(captured, _agent_turn())
    requests = captured.metric_points("otel_llm.client.requests")
    assert sum(p.value for p in requests) == 2
    assert _total(captured, "gen_ai.client.inference.duration") == 2
    spans = captured.finished_spans()
    ours = [s for s in spans if s.instrumentation_scope.name == "otel_llm"]
    theirs = {s.context.span_id for s in spans if s.instrumentation_scope.name == "pydantic-ai"}
    assert len(ours) == 2
    assert all(s.parent.span_id in theirs for s in ours)
    # The tool and the agent run are only pydantic-ai's: still derived, once.
    assert _total(captured, "gen_ai.execute_tool.duration") == 1
    # The spend too: pydantic-ai's chat spans are priced, but the calls were counted by ours.
    ours_cost = sum(s.attributes["otel_llm.cost.total"] for s in ours)
    assert _total(captured, "otel_llm.client.cost") == pytest.approx(ours_cost)


def test_a_framework_tool_span_around_ours_is_one_tool_call(captured: Captured) -> None:
    """pydantic-ai's tool span around an otel_llm.tool() span is one execution and one step."""
    fw.run_agent(captured, _agent_turn(), our_tool=True)
    tools = [s for s in captured.finished_spans() if s.attributes.get("gen_ai.tool.name")]
    assert {s.instrumentation_scope.name for s in tools} == {"pydantic-ai", "otel_llm"}
    assert _total(captured, "gen_ai.execute_tool.duration", **{"gen_ai.tool.name": "lookup"}) == 1
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {"model_call": 2, "tool_call": 1}
    assert _total(captured, "gen_ai.invoke_agent.duration", **{"gen_ai.agent.name": "support"})


def test_a_tool_span_inside_another_counts_once(captured: Captured) -> None:
    """A tool execution directly inside another (ours or not) is one call: the outer counts."""
    tracer = captured.providers["tracer_provider"].get_tracer("some-framework")
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"}
    with (
        tracer.start_as_current_span("execute_tool lookup", attributes=tool),
        tracer.start_as_current_span("tools/call lookup", attributes=tool),
    ):
        pass
    with otel_llm.tool("search"):
        search = {**tool, "gen_ai.tool.name": "search"}
        with tracer.start_as_current_span("execute_tool search", attributes=search):
            pass
    points = captured.metric_points("gen_ai.execute_tool.duration")
    assert sorted((p.attributes["gen_ai.tool.name"], p.count) for p in points) == [
        ("lookup", 1),
        ("search", 1),
    ]


def test_our_tool_inside_a_framework_agent_is_its_step(captured: Captured) -> None:
    """An otel_llm.tool() run directly in another library's agent span is one of its steps."""
    tracer = captured.providers["tracer_provider"].get_tracer("some-framework")
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "triage"}
    with tracer.start_as_current_span("invoke_agent triage", attributes=agent):
        with otel_llm.tool("lookup"):
            pass
        with otel_llm.tool("lookup"), otel_llm.tool("lookup"):
            pass  # one tool call traced twice
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {"model_call": 0, "tool_call": 2}


def test_an_agent_span_around_our_call_is_still_the_agents(captured: Captured) -> None:
    """A framework's agent span directly around our inference span keeps its agent metric."""
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    tracer = captured.providers["tracer_provider"].get_tracer("some-framework")
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "triage"}
    with tracer.start_as_current_span("invoke_agent triage", attributes=agent):
        fw.conversation()
    assert _total(captured, "gen_ai.invoke_agent.duration", **{"gen_ai.agent.name": "triage"}) == 1
    assert sum(p.value for p in captured.metric_points("otel_llm.client.requests")) == 1


def test_opentelemetry_instrument_records_a_pydantic_ai_run_once(repo_root: Path) -> None:
    """Zero-code: pydantic-ai's own spans and our openai call beneath them, one trace, no text."""
    spans = run_under_opentelemetry_instrument(repo_root, "pydantic-ai")
    assert {s["context"]["trace_id"] for s in spans} == {spans[0]["context"]["trace_id"]}
    by_id = {s["context"]["span_id"]: s for s in spans}
    (agent,) = [s for s in spans if s["name"] == "invoke_agent support"]
    chats = [s for s in spans if s["name"] == "chat gpt-4o-mini"]
    theirs = [s for s in chats if s["parent_id"] == agent["context"]["span_id"]]
    ours = [s for s in chats if s not in theirs]
    assert len(theirs) == len(ours) == 2  # one model request each: theirs around ours
    assert sorted(by_id[s["parent_id"]]["context"]["span_id"] for s in ours) == sorted(
        s["context"]["span_id"] for s in theirs
    )
    assert all("gen_ai.agent.name" not in s["attributes"] for s in ours)
    names = [s["name"] for s in spans]
    assert "execute_tool lookup" in names
    assert any(name.startswith("invoke_agent") for name in names)
    text = json.dumps([(s["attributes"], s["events"]) for s in spans])
    assert "where is order 42" not in text  # pydantic-ai records content by default
    assert "Your order ships today" not in text


def test_a_refused_call_is_counted_by_its_outcome(captured: Captured) -> None:
    """A 429 seen only through pydantic-ai's span counts as rate_limited."""
    with pytest.raises(Exception, match=r"429|slow down"):
        _run_agent(captured, _agent_turn(status=429))
    requests = captured.metric_points("otel_llm.client.requests")
    assert {p.attributes["otel_llm.request.outcome"] for p in requests} == {"rate_limited"}


def test_several_exporters_count_each_span_once() -> None:
    """Two exporters' chains see every span; the metrics and the cost are recorded once."""
    captured = make_captured()
    set_telemetry(captured.telemetry)
    try:
        wrap = span_pipeline()
        second = InMemorySpanExporter()
        captured.providers["tracer_provider"].add_span_processor(wrap(SimpleSpanProcessor(second)))
        _run_agent(captured, _agent_turn())
        single = make_captured()
        set_telemetry(single.telemetry)
        _run_agent(single, _agent_turn())
    finally:
        set_telemetry(None)
    assert len(second.get_finished_spans()) == len(captured.finished_spans())
    assert sum(p.value for p in captured.metric_points("otel_llm.client.requests")) == 2
    assert _total(captured, "otel_llm.client.cost") == pytest.approx(
        _total(single, "otel_llm.client.cost")
    )


def _span(
    attributes: dict[str, Any],
    *,
    scope: str = "some.framework",
    error: bool = False,
    version: str | None = None,
) -> ReadableSpan:
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope  # noqa: PLC0415

    context = SpanContext(0x1, 0x2, is_remote=False, trace_flags=TraceFlags(1))
    return ReadableSpan(
        name="span",
        context=context,
        attributes=attributes,
        start_time=1_000_000_000,
        end_time=1_500_000_000,
        status=Status(StatusCode.ERROR if error else StatusCode.UNSET),
        instrumentation_scope=InstrumentationScope(scope, version),
    )


def test_a_tool_span_failing_validation_counts_as_invalid_arguments(captured: Captured) -> None:
    """A foreign execute_tool span whose error.type is a ValidationError feeds that counter."""
    processor = DerivedMetricsSpanProcessor(
        SimpleSpanProcessor(InMemorySpanExporter()), SpanLedger()
    )
    processor.on_end(
        _span(
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "lookup",
                "error.type": "pydantic_core._pydantic_core.ValidationError",
            },
            error=True,
        )
    )
    assert (
        _total(captured, "otel_llm.tool.invalid_arguments", **{"gen_ai.tool.name": "lookup"}) == 1
    )
    points = captured.metric_points("gen_ai.execute_tool.duration")
    assert points[0].attributes["error.type"].endswith("ValidationError")


def test_official_genai_instrumentation_spans_add_only_the_request_counter(
    captured: Captured,
) -> None:
    """The official GenAI instrumentations record the upstream metrics: not derived again."""
    processor = DerivedMetricsSpanProcessor(
        SimpleSpanProcessor(InMemorySpanExporter()), SpanLedger()
    )
    attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai"}
    processor.on_end(_span(attributes, scope="opentelemetry.instrumentation.genai.openai"))
    assert sum(p.value for p in captured.metric_points("otel_llm.client.requests")) == 1
    assert captured.metric_points("gen_ai.client.inference.duration") == []


def test_openinference_spans_are_classified_and_counted(captured: Captured) -> None:
    """OpenInference's LLM span gets gen_ai.operation.name (its kind kept) and its metrics."""
    client = fakes.openai_client(
        lambda request: fakes.http.Response(200, json=fakes.chat_completion())
    )
    with fw.instrumented("openinference.instrumentation.openai", captured):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": fw.QUESTION}]
        )
        OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    theirs = [s for s in captured.finished_spans() if s.instrumentation_scope.name != "otel_llm"]
    assert theirs[0].attributes["openinference.span.kind"] == "LLM"
    assert theirs[0].attributes["gen_ai.operation.name"] == "chat"
    # First call: OpenInference only (derived); second: ours too, counted once.
    assert sum(p.value for p in captured.metric_points("otel_llm.client.requests")) == 2


def test_openllmetry_spans_are_upgraded_and_counted(captured: Captured) -> None:
    """OpenLLMetry's older names are upgraded (gen_ai.is_streaming); the call counted, priced."""
    with fw.instrumented("opentelemetry.instrumentation.openai", captured):
        fw.conversation()
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.request.stream"] is False
    assert "gen_ai.is_streaming" not in span.attributes
    requests = captured.metric_points("otel_llm.client.requests")
    assert [(p.attributes["gen_ai.operation.name"], p.value) for p in requests] == [("chat", 1)]
    assert span.attributes["otel_llm.cost.total"] > 0


def test_the_mcp_sdks_own_spans_give_the_tool_metric_once(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without our MCP instrumentation the MCP SDK's server spans are the tool metric.

    Its client spans get the conventions' names (`tools/call lookup`, not `MCP send ...`).
    """
    import anyio  # noqa: PLC0415
    import mcp.shared._otel  # noqa: PLC0415
    from mcp.client.client import Client  # noqa: PLC0415

    from tests.instrumentation.mcp._servers import build_server  # noqa: PLC0415

    tracer = captured.providers["tracer_provider"].get_tracer("mcp-python-sdk")
    monkeypatch.setattr(mcp.shared._otel, "_tracer", tracer)

    async def main() -> None:
        async with Client(build_server(), mode="legacy") as client:
            await client.session.call_tool("lookup", {"account": "a-1"})
            await client.session.call_tool("explode", {"account": "a-1"})

    anyio.run(main)
    spans = captured.finished_spans()
    sdk = [s for s in spans if s.instrumentation_scope.name == "mcp-python-sdk"]
    kinds = {(s.name, s.kind.name) for s in sdk}
    assert kinds >= {("tools/call lookup", "SERVER"), ("tools/call lookup", "CLIENT")}
    assert not [s.name for s in sdk if s.name.startswith("MCP send")]
    tools = {
        (p.attributes["gen_ai.tool.name"], p.attributes.get("error.type")): p.count
        for p in captured.metric_points("gen_ai.execute_tool.duration")
    }
    assert tools == {("lookup", None): 1, ("explode", "tool_error"): 1}


_LITELLM_CALLBACK_LISTS = (
    "success_callback",
    "_async_success_callback",
    "failure_callback",
    "_async_failure_callback",
    "input_callback",
    "_async_input_callback",
)


@pytest.mark.parametrize("mode", ["acompletion", "stream"])
@pytest.mark.parametrize("ours", [False, True], ids=["litellm-only", "with-our-litellm"])
def test_litellms_otel_v2_spans_are_counted_once(
    captured: Captured, monkeypatch: pytest.MonkeyPatch, ours: bool, mode: str
) -> None:
    """Real LiteLLM OTel v2 spans, whole or streamed: derived alone; nested in ours, not again.

    (Its logger records async calls only: it has no synchronous success hook.)
    """
    import asyncio  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # noqa: PLC0415
    from litellm.integrations.otel.logger import OpenTelemetryV2  # noqa: PLC0415

    from otel_llm.demo.provider import Behaviour, SimulatedProvider  # noqa: PLC0415
    from otel_llm.instrumentation.litellm import LiteLLMInstrumentor  # noqa: PLC0415
    from tests.instrumentation.litellm.conftest import FAST, MESSAGES  # noqa: PLC0415

    logger = OpenTelemetryV2(tracer_provider=captured.providers["tracer_provider"])
    for name in _LITELLM_CALLBACK_LISTS:  # LiteLLM copies `callbacks` into these: start clean
        monkeypatch.setattr(litellm, name, [])
    monkeypatch.setattr(litellm, "callbacks", [logger])
    instrumentor = LiteLLMInstrumentor()
    if ours:
        instrumentor.instrument(**captured.providers, skip_dep_check=True)

    def this_call(span: Any) -> bool:
        # A LiteLLM callback of an earlier test's call may still fire: only this call counts.
        return (span.attributes or {}).get("server.port") == port

    async def main(base_url: str) -> None:
        call = {"model": "openai/gpt-4o-mini", "messages": MESSAGES, "api_base": base_url}
        if mode == "stream":
            stream = await litellm.acompletion(**call, api_key="sk-test", stream=True)
            async for _chunk in stream:
                pass
        else:
            await litellm.acompletion(**call, api_key="sk-test")
        for _ in range(200):  # LiteLLM ends its span in a success callback of its own
            if any(s.instrumentation_scope.name == "litellm" and this_call(s) for s in spans()):
                return
            await asyncio.sleep(0.01)

    def spans() -> list[Any]:
        return list(captured.finished_spans())

    try:
        with SimulatedProvider(Behaviour(**FAST)) as provider:  # type: ignore[arg-type]
            port = urlsplit(provider.base_url_openai).port
            asyncio.run(main(provider.base_url_openai))
    finally:
        if ours:
            instrumentor.uninstrument()
    (theirs,) = [s for s in spans() if s.instrumentation_scope.name == "litellm" and this_call(s)]
    assert theirs.attributes["gen_ai.operation.name"] == "chat"
    assert theirs.attributes["otel_llm.cost.total"] > 0
    mine = [s for s in spans() if s.instrumentation_scope.name == "otel_llm" and this_call(s)]
    if ours:
        (span,) = mine
        assert theirs.parent.span_id == span.context.span_id
    else:
        assert mine == []
    here = {"server.port": port}
    assert _total(captured, "otel_llm.client.requests", **here) == 1
    assert _total(captured, "gen_ai.client.inference.duration", **here) == 1


@pytest.mark.parametrize(
    ("version", "derived"), [("2.13.0", 0), ("2.4.0", 0), ("2.3.0", 1), (None, 1)]
)
def test_adk_since_2_4_records_its_own_tool_and_agent_durations(
    captured: Captured, version: str | None, derived: int
) -> None:
    """Google ADK >= 2.4 records the duration histograms itself: derived only from older ADK."""
    for operation, name in (("execute_tool", "gen_ai.tool.name"), ("invoke_agent", "x")):
        # A ledger each: the two spans made by _span share their ids.
        processor = DerivedMetricsSpanProcessor(
            SimpleSpanProcessor(InMemorySpanExporter()), SpanLedger()
        )
        attributes = {"gen_ai.operation.name": operation, name: "lookup"}
        processor.on_end(_span(attributes, scope="gcp.vertex.agent", version=version))
    assert _total(captured, "gen_ai.execute_tool.duration") == derived
    assert _total(captured, "gen_ai.invoke_agent.duration") == derived


def test_spans_named_before_their_attributes_are_set_count_as_agent_steps(
    captured: Captured,
) -> None:
    """An agent run whose spans get gen_ai.* only after they start (ADK) still counts its steps.

    Upstream names the spans `{operation} {target}`: that is read while the attributes are not
    there yet.
    """
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415

    provider = TracerProvider()
    provider.add_span_processor(
        DerivedMetricsSpanProcessor(SimpleSpanProcessor(InMemorySpanExporter()), SpanLedger())
    )
    tracer = provider.get_tracer("gcp.vertex.agent", "2.13.0")
    with tracer.start_as_current_span("invoke_agent support") as agent:
        agent.set_attributes(
            {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"}
        )
        for name, operation in [
            ("generate_content gemini-2.5-flash", "generate_content"),
            ("execute_tool lookup", "execute_tool"),
            ("generate_content gemini-2.5-flash", "generate_content"),
        ]:
            with tracer.start_as_current_span(name) as step:
                step.set_attribute("gen_ai.operation.name", operation)
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: (p.attributes["gen_ai.agent.name"], p.sum)
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {"model_call": ("support", 2), "tool_call": ("support", 1)}
