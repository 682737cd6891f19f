"""mcp.client spans: one per request a real MCP client sends, in-process, never the SDK's too."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError
from opentelemetry.trace import SpanKind, StatusCode

import otel_llm
from otel_llm.config import ContentCapturingMode
from tests.instrumentation.mcp._servers import SECRET, build_server, by_name, everything, sdk_spans
from tests.instrumentation.mcp.conftest import Instrumented

MODES = ["legacy", "auto"]
"""legacy: JSON-RPC over in-memory streams (initialize handshake); auto: the 2026-07-28
revision's in-process dispatcher (no JSON-RPC framing)."""


def _run(mode: str, body: Any) -> None:
    async def main() -> None:
        async with Client(build_server(), mode=mode) as client:
            with otel_llm.agent("support"):
                await body(client)

    anyio.run(main)


@pytest.mark.parametrize("mode", MODES)
def test_tool_call_is_one_client_span_under_the_caller(
    instrumented: Instrumented, mode: str
) -> None:
    """A tools/call is one CLIENT span under the caller, the server's span and work beneath it."""

    async def body(client: Client) -> None:
        result = await client.session.call_tool("lookup", {"account": SECRET})
        assert result.is_error is False

    with instrumented() as captured:
        _run(mode, body)
    spans = captured.finished_spans()
    assert sdk_spans(spans) == []
    (agent,) = by_name(spans, "invoke_agent support")
    (client_span,) = [s for s in by_name(spans, "tools/call lookup") if s.kind is SpanKind.CLIENT]
    (server_span,) = [s for s in by_name(spans, "tools/call lookup") if s.kind is SpanKind.SERVER]
    (work,) = by_name(spans, "retrieval crm")
    assert client_span.parent.span_id == agent.context.span_id
    assert server_span.parent.span_id == client_span.context.span_id
    assert work.parent.span_id == server_span.context.span_id
    assert len({s.context.trace_id for s in (agent, client_span, server_span, work)}) == 1
    attributes = client_span.attributes
    assert attributes["mcp.method.name"] == "tools/call"
    assert attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["gen_ai.tool.name"] == "lookup"
    assert attributes["mcp.protocol.version"]
    assert "error.type" not in attributes
    assert client_span.status.status_code is StatusCode.UNSET
    if mode == "legacy":
        # The JSON-RPC id the SDK's dispatcher assigned, on both sides.
        assert attributes["jsonrpc.request.id"] == server_span.attributes["jsonrpc.request.id"]


@pytest.mark.parametrize("mode", MODES)
def test_every_request_is_recorded_once_with_its_metrics(
    instrumented: Instrumented, mode: str
) -> None:
    """Each request is one client and one server span and point; the tool metric counts once."""

    async def body(client: Client) -> None:
        await client.session.call_tool("lookup", {"account": "a-1"})
        await client.session.read_resource("kb://articles/7")
        await client.session.get_prompt("greet", {"name": "Ann"})

    with instrumented() as captured:
        _run(mode, body)
    spans = captured.finished_spans()
    for name in ("tools/call lookup", "resources/read", "prompts/get greet"):
        kinds = sorted(s.kind.name for s in by_name(spans, name))
        assert kinds == ["CLIENT", "SERVER"], name
    client_points = captured.metric_points("mcp.client.operation.duration")
    server_points = captured.metric_points("mcp.server.operation.duration")
    for points in (client_points, server_points):
        methods = {p.attributes["mcp.method.name"]: p.count for p in points}
        assert methods["tools/call"] == methods["resources/read"] == methods["prompts/get"] == 1
    (tool,) = captured.metric_points("gen_ai.execute_tool.duration")
    assert tool.count == 1
    assert dict(tool.attributes) == {"gen_ai.tool.name": "lookup"}
    (read,) = by_name(spans, "resources/read")[:1]
    assert read.attributes["mcp.resource.uri"] == "kb://articles/7"
    # The URI is unbounded: on spans only, never a metric dimension.
    assert all("mcp.resource.uri" not in p.attributes for p in client_points + server_points)
    (prompt,) = [s for s in by_name(spans, "prompts/get greet") if s.kind is SpanKind.CLIENT]
    assert prompt.attributes["gen_ai.prompt.name"] == "greet"
    assert not any(k.startswith("gen_ai.prompt.variable") for k in prompt.attributes)


def test_failed_tool_is_a_tool_error_without_its_text(instrumented: Instrumented) -> None:
    """A failed tool is a tool_error on both spans and the tool metric, its message nowhere."""

    async def body(client: Client) -> None:
        result = await client.session.call_tool("explode", {"account": SECRET})
        assert result.is_error is True

    with instrumented() as captured:
        _run("legacy", body)
    spans = by_name(captured.finished_spans(), "tools/call explode")
    assert len(spans) == 2
    for span in spans:
        assert span.attributes["error.type"] == "tool_error"
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description is None
    (tool,) = captured.metric_points("gen_ai.execute_tool.duration")
    assert tool.attributes["error.type"] == "tool_error"
    assert SECRET not in everything(captured.finished_spans(), captured.events())


@pytest.mark.parametrize("mode", [ContentCapturingMode.NO_CONTENT, ContentCapturingMode.EVENT_ONLY])
def test_json_rpc_error_is_recorded_by_its_code_only(
    instrumented: Instrumented, mode: ContentCapturingMode
) -> None:
    """A JSON-RPC error is recorded by its code (error.type, status code), its message nowhere."""

    async def body(client: Client) -> None:
        with pytest.raises(MCPError):
            await client.session.call_tool("refuse", {"account": SECRET})

    with instrumented(mode) as captured:
        _run("legacy", body)
    spans = by_name(captured.finished_spans(), "tools/call refuse")
    assert sorted(s.kind.name for s in spans) == ["CLIENT", "SERVER"]
    for span in spans:
        assert span.attributes["error.type"] == "-32099"
        assert span.attributes["rpc.response.status_code"] == "-32099"
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description is None
        assert all("exception.message" not in e.attributes for e in span.events)
    assert SECRET not in everything(captured.finished_spans(), captured.events())
    (point,) = [
        p
        for p in captured.metric_points("mcp.client.operation.duration")
        if p.attributes.get("gen_ai.tool.name") == "refuse"
    ]
    assert point.attributes["error.type"] == "-32099"
    (tool,) = captured.metric_points("gen_ai.execute_tool.duration")
    assert tool.attributes["error.type"] == "-32099"


def test_content_on_spans_records_arguments_results_and_messages(
    instrumented: Instrumented,
) -> None:
    """With SPAN_ONLY, tool arguments and results, prompt variables and error messages are kept."""

    async def body(client: Client) -> None:
        await client.session.call_tool("lookup", {"account": "a-1"})
        await client.session.get_prompt("greet", {"name": "Ann"})
        with pytest.raises(MCPError):
            await client.session.call_tool("refuse", {"account": SECRET})

    with instrumented(ContentCapturingMode.SPAN_ONLY) as captured:
        _run("legacy", body)
    spans = captured.finished_spans()
    for span in by_name(spans, "tools/call lookup"):
        assert json.loads(span.attributes["gen_ai.tool.call.arguments"]) == {"account": "a-1"}
        assert "gold" in span.attributes["gen_ai.tool.call.result"]
    for span in by_name(spans, "prompts/get greet"):
        assert span.attributes["gen_ai.prompt.variable.name"] == "Ann"
    for failed in by_name(spans, "tools/call refuse"):
        assert SECRET in str(failed.status.description)


def test_outer_tool_span_is_enriched_not_duplicated(instrumented: Instrumented) -> None:
    """Inside an execute_tool span of the same tool, MCP enriches it: one tool span, one point."""

    async def body(client: Client) -> None:
        with otel_llm.tool("lookup"):
            await client.session.call_tool("lookup", {"account": "a-1"})

    with instrumented() as captured:
        _run("legacy", body)
    spans = captured.finished_spans()
    assert [s.kind for s in by_name(spans, "tools/call lookup")] == [SpanKind.SERVER]
    (outer,) = by_name(spans, "execute_tool lookup")
    assert outer.attributes["mcp.method.name"] == "tools/call"
    assert outer.attributes["jsonrpc.request.id"]
    (server_span,) = by_name(spans, "tools/call lookup")
    assert server_span.parent.span_id == outer.context.span_id
    (tool,) = captured.metric_points("gen_ai.execute_tool.duration")
    assert tool.count == 1
    calls = [
        p
        for p in captured.metric_points("mcp.client.operation.duration")
        if p.attributes["mcp.method.name"] == "tools/call"
    ]
    assert [p.count for p in calls] == [1]


def test_uninstrumented_sdk_spans_come_back(instrumented: Instrumented) -> None:
    """After uninstrument() the SDK's own spans are what remains (its methods restored)."""
    with instrumented() as captured:
        pass

    async def body(client: Client) -> None:
        await client.session.call_tool("lookup", {"account": "a-1"})

    _run("legacy", body)
    spans = captured.finished_spans()
    # The SDK's client span, renamed to the conventions' name by the pipeline's upgrade step.
    client = [s for s in sdk_spans(spans) if s.kind.name == "CLIENT"]
    assert "tools/call lookup" in [s.name for s in client]
    assert not [s.name for s in client if s.name.startswith("MCP send")]
    assert [s for s in spans if s.instrumentation_scope.name == "otel_llm"] == []


def test_tool_calls_are_steps_of_the_agent_run_making_them(instrumented: Instrumented) -> None:
    """Each tools/call a client sends inside an agent run is one tool_call step of it."""

    async def body(client: Client) -> None:
        await client.session.call_tool("lookup", {"account": "a-1"})
        await client.session.call_tool("explode", {"account": "a-1"})
        await client.session.list_tools()

    with instrumented() as captured:
        _run("legacy", body)
    steps = {
        p.attributes["otel_llm.agent.step.kind"]: p.sum
        for p in captured.metric_points("otel_llm.agent.steps")
    }
    assert steps == {"model_call": 0, "tool_call": 2}
