"""mcp.server spans: a real server's handling over Streamable HTTP joins the caller's trace."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types
import pytest
from mcp.client.client import Client
from mcp.client.session import ClientRequestContext
from mcp.server._otel import OpenTelemetryMiddleware
from mcp.shared.exceptions import MCPError
from opentelemetry.trace import SpanKind, StatusCode

import otel_llm
from tests.instrumentation.mcp._servers import (
    SECRET,
    build_server,
    by_name,
    everything,
    http_server,
    sdk_spans,
)
from tests.instrumentation.mcp.conftest import Instrumented


def _over_http(body: Any, server: Any = None, **options: Any) -> None:
    with http_server(server or build_server(), **options) as url:

        async def main() -> None:
            async with Client(url, mode="legacy", sampling_callback=_sample) as client:
                with otel_llm.agent("support"):
                    await body(client)

        anyio.run(main)


async def _sample(
    context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
) -> mcp_types.CreateMessageResult:
    # The client's model call for the server would be made here; a span stands in for it.
    with otel_llm.retrieval("client-model"):
        return mcp_types.CreateMessageResult(
            role="assistant",
            content=mcp_types.TextContent(type="text", text="a gold customer"),
            model="test-model",
        )


def test_server_span_is_a_child_of_the_client_span_over_http(instrumented: Instrumented) -> None:
    """Over HTTP the server span is the client span's child (via _meta), sharing its session id."""

    async def body(client: Client) -> None:
        await client.session.call_tool("lookup", {"account": "a-1"})

    with instrumented() as captured:
        _over_http(body)
    spans = captured.finished_spans()
    assert sdk_spans(spans) == []
    (client_span,) = [s for s in by_name(spans, "tools/call lookup") if s.kind is SpanKind.CLIENT]
    (server_span,) = [s for s in by_name(spans, "tools/call lookup") if s.kind is SpanKind.SERVER]
    (agent,) = by_name(spans, "invoke_agent support")
    assert client_span.parent.span_id == agent.context.span_id
    assert server_span.parent.span_id == client_span.context.span_id
    assert server_span.parent.is_remote
    assert server_span.context.trace_id == agent.context.trace_id
    session = client_span.attributes["mcp.session.id"]
    assert session
    assert server_span.attributes["mcp.session.id"] == session
    assert client_span.attributes["network.transport"] == "tcp"
    assert client_span.attributes["network.protocol.name"] == "http"
    assert client_span.attributes["server.address"] == "127.0.0.1"
    # The caller's address is personal data for a public server: the redaction processor
    # replaces it by default (recorded by the instrumentation; `safe_keys` keeps it).
    assert server_span.attributes["client.address"] == "[REDACTED:ip_address]"
    assert isinstance(server_span.attributes["client.port"], int)
    assert (
        server_span.attributes["jsonrpc.request.id"] == client_span.attributes["jsonrpc.request.id"]
    )
    # The session id is unbounded: never a metric dimension.
    for name in ("mcp.client.operation.duration", "mcp.server.operation.duration"):
        assert all("mcp.session.id" not in p.attributes for p in captured.metric_points(name))


def test_sampling_request_back_to_the_client_joins_the_trace(instrumented: Instrumented) -> None:
    """A server's sampling request and the client's handling of it join the tool call's trace."""

    async def body(client: Client) -> None:
        result = await client.session.call_tool("summarize", {"account": "a-1"})
        assert result.is_error is False

    with instrumented() as captured:
        _over_http(body)
    spans = captured.finished_spans()
    (tool_server,) = [
        s for s in by_name(spans, "tools/call summarize") if s.kind is SpanKind.SERVER
    ]
    (asked,) = [s for s in by_name(spans, "sampling/createMessage") if s.kind is SpanKind.CLIENT]
    (answered,) = [s for s in by_name(spans, "sampling/createMessage") if s.kind is SpanKind.SERVER]
    (model_work,) = by_name(spans, "retrieval client-model")
    assert asked.parent.span_id == tool_server.context.span_id
    assert answered.parent.span_id == asked.context.span_id
    assert model_work.parent.span_id == answered.context.span_id
    assert len({s.context.trace_id for s in (tool_server, asked, answered, model_work)}) == 1


def test_handler_exception_is_recorded_by_type_only(instrumented: Instrumented) -> None:
    """A handler's exception is recorded by its class on the server span, its message nowhere."""

    async def body(client: Client) -> None:
        with pytest.raises(MCPError, match=SECRET):
            await client.session.get_prompt(SECRET, {"name": "Ann"})

    with instrumented() as captured:
        _over_http(body)
    spans = captured.finished_spans()
    (server_span,) = [
        s
        for s in spans
        if s.kind is SpanKind.SERVER and s.attributes["mcp.method.name"] == "prompts/get"
    ]
    assert server_span.attributes["error.type"] == "ValueError"
    assert server_span.status.status_code is StatusCode.ERROR
    assert server_span.status.description is None
    (event,) = [e for e in server_span.events if e.name == "exception"]
    assert event.attributes["exception.type"] == "ValueError"
    assert "exception.message" not in event.attributes
    # The prompt name is the span's target, so it is in the name; the message is not anywhere.
    assert f"Unknown prompt: {SECRET}" not in everything(spans, captured.events())


def test_removing_the_sdk_middleware_turns_server_spans_off(instrumented: Instrumented) -> None:
    """Dropping the SDK's OpenTelemetryMiddleware (its opt-out) records no server span."""
    server = build_server()
    server.middleware[:] = [
        m for m in server.middleware if not isinstance(m, OpenTelemetryMiddleware)
    ]

    async def body(client: Client) -> None:
        await client.session.call_tool("lookup", {"account": "a-1"})

    with instrumented() as captured:
        _over_http(body, server)
    kinds = [s.kind for s in by_name(captured.finished_spans(), "tools/call lookup")]
    assert kinds == [SpanKind.CLIENT]
    assert captured.metric_points("mcp.server.operation.duration") == []


def test_stateless_server_records_each_request(instrumented: Instrumented) -> None:
    """A stateless HTTP server parents its spans to the client's, without a session id."""

    async def body(client: Client) -> None:
        await client.session.call_tool("lookup", {"account": "a-1"})

    with instrumented() as captured:
        _over_http(body, stateless_http=True, json_response=True)
    spans = by_name(captured.finished_spans(), "tools/call lookup")
    (client_span,) = [s for s in spans if s.kind is SpanKind.CLIENT]
    (server_span,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server_span.parent.span_id == client_span.context.span_id
    assert "mcp.session.id" not in server_span.attributes
