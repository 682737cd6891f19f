"""What the transport says: stdio is a pipe, HTTP has a server and a session; both carry context."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import mcp_types
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters
from opentelemetry.trace import SpanKind

from otel_llm.instrumentation.mcp._transport import _by_stream
from tests.instrumentation.mcp._servers import build_server, by_name, http_server
from tests.instrumentation.mcp.conftest import Instrumented


def _echoed_traceparent(server: object) -> str:
    async def main() -> str:
        async with Client(server, mode="legacy") as client:  # type: ignore[arg-type]
            result = await client.session.call_tool("trace_context", {})
            (content,) = result.content
            assert isinstance(content, mcp_types.TextContent)
            return content.text

    return anyio.run(main)


def test_stdio_request_is_a_pipe_and_carries_its_span(
    instrumented: Instrumented, repo_root: Path
) -> None:
    """Over stdio the client span says pipe and its traceparent reaches the server subprocess."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "tests.instrumentation.mcp._stdio_server"],
        env={"PYTHONPATH": str(repo_root)},
        cwd=str(repo_root),
    )
    with instrumented() as captured:
        traceparent = _echoed_traceparent(params)
    (span,) = [
        s
        for s in by_name(captured.finished_spans(), "tools/call trace_context")
        if s.kind is SpanKind.CLIENT
    ]
    assert span.attributes["network.transport"] == "pipe"
    assert "mcp.session.id" not in span.attributes
    context = span.get_span_context()
    assert traceparent.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")
    assert _by_stream == {}


def test_http_request_names_server_and_session(instrumented: Instrumented) -> None:
    """Over HTTP the client span names the server and the session the server assigned."""
    with instrumented() as captured, http_server(build_server()) as url:
        traceparent = _echoed_traceparent(url)
    spans = captured.finished_spans()
    (span,) = [s for s in by_name(spans, "tools/call trace_context") if s.kind is SpanKind.CLIENT]
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    assert span.attributes["server.address"] == "127.0.0.1"
    assert span.attributes["server.port"] == port
    assert span.attributes["mcp.session.id"]
    assert span.get_span_context().span_id == int(traceparent.split("-")[2], 16)
    (initialize,) = [s for s in by_name(spans, "initialize") if s.kind is SpanKind.CLIENT]
    # The session id arrives with initialize's response and is noted on its span too.
    assert initialize.attributes["mcp.session.id"] == span.attributes["mcp.session.id"]
    assert _by_stream == {}


def test_in_process_requests_name_no_transport(instrumented: Instrumented) -> None:
    """An in-process server (memory streams) has no network: no transport attributes."""
    with instrumented() as captured:
        _echoed_traceparent(build_server())
    (span,) = [
        s
        for s in by_name(captured.finished_spans(), "tools/call trace_context")
        if s.kind is SpanKind.CLIENT
    ]
    assert "network.transport" not in span.attributes
    assert "server.address" not in span.attributes
