"""A small real MCP server for the tests, and helpers to run clients against it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import mcp_types
import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

import otel_llm

SECRET = "hunter2-account-4417"
"""Text that must never be recorded unless content capture is on."""


def build_server() -> MCPServer:
    """Tools that succeed, fail and sample; a resource; a prompt; one that raises an MCP error."""
    server = MCPServer("support-tools")

    @server.tool()
    def lookup(account: str) -> dict[str, str]:
        """Look an account up."""
        with otel_llm.retrieval("crm"):  # the tool's own work, nested under its handler
            return {"account": account, "tier": "gold"}

    @server.tool()
    def explode(account: str) -> str:
        """Fail with the argument in the message."""
        raise ValueError(f"no account {account}")

    @server.tool()
    def refuse(account: str) -> str:
        """Fail with a JSON-RPC error whose message quotes the argument."""
        raise MCPError(code=-32099, message=f"refused for {account}")

    @server.tool()
    def trace_context(ctx: Context) -> str:
        """Return the traceparent the request carried in its `_meta`."""
        meta = ctx.request_context.meta or {}
        return str(meta.get("traceparent", ""))

    @server.tool()
    async def summarize(account: str, ctx: Context) -> str:
        """Ask the client's model for a summary (a sampling request back to the client)."""
        message = mcp_types.SamplingMessage(
            role="user", content=mcp_types.TextContent(type="text", text=f"summarize {account}")
        )
        with warnings.catch_warnings():
            # Deprecated by the 2026-07-28 revision, still served on handshake-era sessions.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            result = await ctx.session.create_message([message], max_tokens=20)
        content = result.content
        return content.text if isinstance(content, mcp_types.TextContent) else ""

    @server.resource("kb://articles/{article_id}")
    def article(article_id: str) -> str:
        """A help-center article."""
        return f"article {article_id}"

    @server.prompt()
    def greet(name: str) -> str:
        """A greeting prompt."""
        return f"Hello {name}"

    return server


@contextlib.contextmanager
def http_server(server: MCPServer, **options: Any) -> Iterator[str]:
    """`server` over Streamable HTTP on 127.0.0.1 (uvicorn in a thread); yields its URL."""
    app = server.streamable_http_app(**options)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the MCP HTTP server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        running.should_exit = True
        thread.join(10)
        sock.close()


def sdk_spans(spans: list[Any]) -> list[Any]:
    """Spans the MCP SDK's own tracer made (there must be none while otel-llm records)."""
    return [s for s in spans if s.instrumentation_scope.name == "mcp-python-sdk"]


def by_name(spans: list[Any], name: str) -> list[Any]:
    """The spans called `name`."""
    return [s for s in spans if s.name == name]


def everything(spans: list[Any], events: list[Any] = ()) -> str:  # type: ignore[assignment]
    """All text a span exporter and a log exporter would see, for content assertions."""
    parts: list[str] = []
    for span in spans:
        parts.append(span.name)
        parts.append(str(span.status.description))
        parts.extend(f"{k}={v}" for k, v in (span.attributes or {}).items())
        for event in span.events:
            parts.extend(f"{k}={v}" for k, v in (event.attributes or {}).items())
    for record in events:
        parts.append(str(record.body))
        parts.extend(f"{k}={v}" for k, v in (record.attributes or {}).items())
    return "\n".join(parts)
