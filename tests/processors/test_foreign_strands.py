"""Strands Agents' own telemetry through our pipeline: real strands-agents, local fakes, no keys.

Strands records `invoke_agent`, `execute_event_loop_cycle`, `chat` and `execute_tool` spans of
its own (content as span events, or as gen_ai.* attributes under OTEL_SEMCONV_STABILITY_OPT_IN)
and names itself the provider. Its agents run here on its own BedrockModel (boto3
converse_stream against the fake Bedrock Runtime) and OpenAIModel (the real openai client over
its mock transport). Its release needs older OpenTelemetry and mcp than .venv holds: these
tests run in .venv-strands (`make pytest-frameworks`).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from tests.conftest import Captured, make_captured
from tests.instrumentation._zero_code import printed_spans, run_app
from tests.instrumentation.bedrock._server import FakeBedrock
from tests.processors import _strands_app as app

pytest.importorskip(
    "strands", reason="strands-agents runs in its own virtualenv: make pytest-frameworks"
)

LATEST = "gen_ai_latest_experimental"
SECRETS = (
    "jane.doe@example.com",
    "order 1042",
    "ACME-INTERNAL-7731",
    "ORDER-ARG-5512",
    "Baker Street",
    "Your order ships today",
    "Find an order by its number",
)
"""The conversation's text: question, instructions, tool arguments, result, answer, tool
description. None of it may leave with content capture off."""
PROVIDERS = {"bedrock": "aws.bedrock", "openai": "openai"}
INPUT_TOKENS = {"bedrock": 50, "openai": 84}
"""Both calls' input tokens: the fake Bedrock reports 25 a call, the OpenAI fake 42."""


def _trace_strands(captured: Captured, monkeypatch: pytest.MonkeyPatch, opt_in: str) -> None:
    """Make Strands' tracer (a process-wide singleton) record into `captured`, with `opt_in`."""
    module = importlib.import_module("strands.telemetry.tracer")
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", opt_in)
    tracer = module.Tracer()  # reads OTEL_SEMCONV_STABILITY_OPT_IN
    provider = captured.providers["tracer_provider"]
    tracer.tracer_provider = provider
    tracer.tracer = provider.get_tracer(module.__name__)
    monkeypatch.setattr(module, "_tracer_instance", tracer)


@contextmanager
def _ours(captured: Captured, model: str, on: bool) -> Iterator[None]:
    """Our instrumentation of the SDK beneath Strands' model, when `on`."""
    if not on:
        yield
        return
    module = "bedrock" if model == "bedrock" else "openai"
    found = importlib.import_module(f"otel_llm.instrumentation.{module}")
    instrumentor = getattr(
        found, "BedrockInstrumentor" if model == "bedrock" else "OpenAIInstrumentor"
    )()
    instrumentor.instrument(**captured.providers, skip_dep_check=True)
    try:
        yield
    finally:
        instrumentor.uninstrument()


def _run(
    captured: Captured,
    monkeypatch: pytest.MonkeyPatch,
    model: str = "bedrock",
    *,
    ours: bool = False,
    opt_in: str = "",
    status: int = 200,
    tools: int = 1,
) -> Any:
    """One agent turn (`tools` tool calls, then the answer) on Strands' own `model` abstraction."""
    _trace_strands(captured, monkeypatch, opt_in)
    with _ours(captured, model, ours):
        if model == "openai":
            return app.agent(app.openai_model(app.OpenAITurn(status)))(app.QUESTION)
        with FakeBedrock() as fake:
            app.bedrock_turn(fake, status, tools)
            return app.agent(app.bedrock_model(fake))(app.QUESTION)


def _total(captured: Captured, name: str, **where: Any) -> float:
    total = 0.0
    for point in captured.metric_points(name):
        if all(point.attributes.get(k) == v for k, v in where.items()):
            total += point.value if hasattr(point, "value") else point.count
    return total


def _strands(captured: Captured, name: str) -> list[Any]:
    return [
        s
        for s in captured.finished_spans()
        if s.instrumentation_scope.name.startswith("strands") and s.name.startswith(name)
    ]


STEPS = {"model_call": (1, 2), "tool_call": (1, 1)}
"""One run of the agent: two model calls and one tool call (count, sum of otel_llm.agent.steps)."""


def _steps(captured: Captured) -> dict[str, tuple[int, float]]:
    return {
        p.attributes["otel_llm.agent.step.kind"]: (p.count, p.sum)
        for p in captured.metric_points("otel_llm.agent.steps")
        if p.attributes.get("gen_ai.agent.name") == "support"
    }


def _exported_text(captured: Captured) -> str:
    parts = []
    for span in captured.finished_spans():
        parts += [span.name, json.dumps(dict(span.attributes), default=str)]
        for event in span.events:
            parts += [event.name, json.dumps(dict(event.attributes or {}), default=str)]
    for record in captured.events():
        parts += [str(record.body), json.dumps(dict(record.attributes or {}), default=str)]
    return "\n".join(parts)


MODELS = pytest.mark.parametrize("model", ["bedrock", "openai"])


@MODELS
def test_one_trace_per_request_agent_over_model_calls_and_tool(
    captured: Captured, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    """The agent span is the root of one trace; model calls and the tool sit in its cycles."""
    assert str(_run(captured, monkeypatch, model)).startswith(app.ANSWER)
    spans = captured.finished_spans()
    (agent,) = _strands(captured, "invoke_agent")
    assert agent.parent is None
    assert {s.context.trace_id for s in spans} == {agent.context.trace_id}
    cycles = {s.context.span_id: s for s in _strands(captured, "execute_event_loop_cycle")}
    assert len(cycles) == 2
    assert all(c.parent.span_id == agent.context.span_id for c in cycles.values())
    chats = _strands(captured, "chat")
    assert len(chats) == 2
    assert all(chat.parent.span_id in cycles for chat in chats)
    (tool,) = _strands(captured, "execute_tool")
    assert tool.parent.span_id in cycles


def test_concurrent_tool_calls_keep_their_parents_and_count_as_steps(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three tools Strands runs concurrently (its threads and tasks) sit in the model's cycle."""
    _run(captured, monkeypatch, tools=3, ours=True)
    tools = _strands(captured, "execute_tool")
    assert sorted(t.attributes["gen_ai.tool.call.id"] for t in tools) == [
        "tooluse_0",
        "tooluse_1",
        "tooluse_2",
    ]
    (first, _) = sorted(_strands(captured, "execute_event_loop_cycle"), key=lambda s: s.start_time)
    assert {t.parent.span_id for t in tools} == {first.context.span_id}
    assert {s.context.trace_id for s in captured.finished_spans()} == {first.context.trace_id}
    assert _total(captured, "gen_ai.execute_tool.duration") == 3
    assert _steps(captured) == {"model_call": (1, 2), "tool_call": (1, 3)}


@MODELS
def test_our_sdk_span_is_the_only_inference_span_under_strands(
    captured: Captured, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    """With our SDK instrumentation on too, each call is ours once; Strands' chat span covers it."""
    _run(captured, monkeypatch, model, ours=True)
    ours = [s for s in captured.finished_spans() if s.instrumentation_scope.name == "otel_llm"]
    chats = {s.context.span_id for s in _strands(captured, "chat")}
    assert len(ours) == 2
    assert all(s.parent.span_id in chats for s in ours)
    assert _total(captured, "otel_llm.client.requests") == 2
    assert _total(captured, "gen_ai.client.inference.duration") == 2
    assert _total(captured, "gen_ai.client.inference.usage.input_tokens") == INPUT_TOKENS[model]
    # Strands' chat spans are priced too, but the spend is counted once, by our calls.
    spend = sum(s.attributes["otel_llm.cost.total"] for s in ours)
    assert _total(captured, "otel_llm.client.cost") == pytest.approx(spend)
    assert captured.metric_points("otel_llm.client.unpriced") == []
    # The tool and the agent run are only Strands': derived, once.
    assert _total(captured, "gen_ai.execute_tool.duration", **{"gen_ai.tool.name": "lookup"}) == 1
    assert _total(captured, "gen_ai.invoke_agent.duration", **{"gen_ai.agent.name": "support"}) == 1
    assert _steps(captured) == STEPS


@MODELS
def test_metrics_are_derived_once_from_strands_spans_alone(
    captured: Captured, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    """Without ours, Strands' spans give duration, tokens, cost, outcome, tool and agent once."""
    _run(captured, monkeypatch, model)
    provider = {"gen_ai.provider.name": PROVIDERS[model]}
    requests = captured.metric_points("otel_llm.client.requests")
    assert [(p.attributes["otel_llm.request.outcome"], p.value) for p in requests] == [
        ("success", 2)
    ]
    assert _total(captured, "otel_llm.client.requests", **provider) == 2
    assert _total(captured, "gen_ai.client.inference.duration", **provider) == 2
    assert _total(captured, "gen_ai.client.inference.usage.input_tokens") == INPUT_TOKENS[model]
    spend = sum(s.attributes["otel_llm.cost.total"] for s in _strands(captured, "chat"))
    assert spend > 0
    assert _total(captured, "otel_llm.client.cost", **provider) == pytest.approx(spend)
    assert _total(captured, "gen_ai.execute_tool.duration", **{"gen_ai.tool.name": "lookup"}) == 1
    assert _total(captured, "gen_ai.invoke_agent.duration", **{"gen_ai.agent.name": "support"}) == 1
    assert _steps(captured) == STEPS
    # The agent span's usage is its calls' sum: neither priced nor counted again.
    (agent,) = _strands(captured, "invoke_agent")
    assert "otel_llm.cost.total" not in agent.attributes


@pytest.mark.parametrize("opt_in", ["", LATEST], ids=["legacy", "latest"])
def test_strands_names_are_upgraded_and_its_provider_is_the_models(
    captured: Captured, monkeypatch: pytest.MonkeyPatch, opt_in: str
) -> None:
    """Strands' older names are upgraded, and "strands-agents" gives way to the model's provider."""
    _run(captured, monkeypatch, opt_in=opt_in)
    for span in _strands(captured, "chat"):
        assert span.attributes["gen_ai.provider.name"] == "aws.bedrock"
        assert not {"gen_ai.system", "gen_ai.usage.prompt_tokens"} & set(span.attributes)
        assert span.attributes["gen_ai.usage.input_tokens"] == 25
    (agent,) = _strands(captured, "invoke_agent")
    assert "gen_ai.usage.cache_write_input_tokens" not in agent.attributes
    assert agent.attributes["gen_ai.usage.cache_write.input_tokens"] == 0
    # No provider to infer for a tool run: the framework's name stays.
    (tool,) = _strands(captured, "execute_tool")
    assert tool.attributes["gen_ai.provider.name"] == "strands-agents"


@pytest.mark.parametrize(
    "opt_in",
    ["", LATEST, f"{LATEST},gen_ai_tool_definitions,gen_ai_span_attributes_only"],
    ids=["legacy-events", "latest-events", "latest-attributes"],
)
@MODELS
def test_no_conversation_text_leaves_with_capture_off(
    captured: Captured, monkeypatch: pytest.MonkeyPatch, opt_in: str, model: str
) -> None:
    """Capture off: none of the conversation's text leaves, in any form Strands records it."""
    _run(captured, monkeypatch, model, opt_in=opt_in)
    text = _exported_text(captured)
    assert [secret for secret in SECRETS if secret in text] == []
    assert len(_strands(captured, "chat")) == 2  # the spans themselves still leave


@pytest.mark.parametrize("opt_in", ["", LATEST, f"{LATEST},gen_ai_span_attributes_only"])
def test_content_is_redacted_with_capture_on(monkeypatch: pytest.MonkeyPatch, opt_in: str) -> None:
    """Capture on: Strands' content leaves, the e-mail address in the question redacted."""
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY))
    set_telemetry(captured.telemetry)
    try:
        _run(captured, monkeypatch, opt_in=opt_in)
    finally:
        set_telemetry(None)
    text = _exported_text(captured)
    assert "Where is order 1042" in text
    assert "ACME-INTERNAL-7731" in text
    assert "jane.doe@example.com" not in text


@pytest.mark.parametrize(
    ("model", "status", "outcome"),
    [("bedrock", 429, "rate_limited"), ("bedrock", 500, "error"), ("openai", 429, "rate_limited")],
)
def test_a_provider_error_is_recorded_with_its_type_and_counted_once(
    captured: Captured, monkeypatch: pytest.MonkeyPatch, model: str, status: int, outcome: str
) -> None:
    """A refused call: Strands' chat span gets error.type, the request counted by outcome once."""
    with pytest.raises(Exception, match=r"(?i)throttl|too many|rate|500|internal|error"):
        _run(captured, monkeypatch, model, status=status)
    (chat,) = _strands(captured, "chat")
    error = chat.attributes["error.type"]
    assert (
        error == next(e for e in chat.events if e.name == "exception").attributes["exception.type"]
    )
    requests = captured.metric_points("otel_llm.client.requests")
    assert [(p.attributes["otel_llm.request.outcome"], p.value) for p in requests] == [(outcome, 1)]
    assert requests[0].attributes["error.type"] == error


def _run_zero_code(repo_root: Path) -> tuple[list[dict[str, Any]], str]:
    """Run the Strands app under `opentelemetry-instrument`; the spans it printed, and stdout."""
    env = {
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "zero-code-strands",
        "OTEL_SEMCONV_STABILITY_OPT_IN": LATEST,
    }
    result = run_app(repo_root, "tests.processors._strands_app", env=env)
    return printed_spans(result.stdout), result.stdout


def test_zero_code_one_inference_span_per_call_and_no_content(repo_root: Path) -> None:
    """Under opentelemetry-instrument: ours is the inference span, under Strands' chat, no text."""
    spans, stdout = _run_zero_code(repo_root)
    by_id = {s["context"]["span_id"]: s for s in spans}
    agents = [s for s in spans if s["name"] == "invoke_agent support"]
    assert len(agents) == 2
    assert len({s["context"]["trace_id"] for s in spans}) == 2
    ours = [s for s in spans if s["name"] in (f"chat {app.MODEL_ID}", f"chat {app.OPENAI_MODEL}")]
    assert len(ours) == 4
    for span in ours:
        assert by_id[span["parent_id"]]["name"] == "chat"
        assert span["attributes"]["otel_llm.cost.total"] > 0
    assert [secret for secret in SECRETS if secret in stdout] == []
