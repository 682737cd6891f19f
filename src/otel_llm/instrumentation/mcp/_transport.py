"""What the transport under an MCP client session says about it: pipe or TCP, server, session id.

A `ClientSession` only holds the stream pair its transport gave it, so each transport is noted
when it starts, keyed by the stream the session writes to, and looked up from the session's
dispatcher when a request is recorded. The Streamable HTTP session id arrives with the first
response, so it is read from the live transport each time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation.types import server_attributes
from otel_llm.semconv.attributes import mcp as ma
from otel_llm.semconv.attributes import network

__all__ = ["TransportFacts", "facts_for", "post_writer_wrapper", "stdio_client_wrapper"]

_PIPE = network.NetworkTransportValues.PIPE.value
_TCP = network.NetworkTransportValues.TCP.value


@dataclass
class TransportFacts:
    """The transport of one client connection."""

    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    http: Any = None
    """The SDK's StreamableHTTPTransport, whose `session_id` the server assigns."""

    def session_attributes(self) -> dict[str, AttributeValue]:
        """`mcp.session.id`, once the server has assigned one."""
        session_id = getattr(self.http, "session_id", None)
        if isinstance(session_id, str) and session_id:
            return {ma.MCP_SESSION_ID: session_id}
        return {}


_by_stream: dict[int, TransportFacts] = {}
"""Live transports by the id of the stream their session writes to (removed when they stop:
the SDK's memory streams take no weak references)."""


def facts_for(session: Any) -> TransportFacts | None:
    """The transport facts of a session (None: in-process, or a transport we do not know)."""
    dispatcher = getattr(session, "_dispatcher", None)
    stream = getattr(dispatcher, "_write_stream", None)
    if stream is None:
        return None
    return _by_stream.get(id(stream))


@contextlib.contextmanager
def _noted(stream: Any, facts: TransportFacts) -> Any:
    key = id(stream)
    _by_stream[key] = facts
    try:
        yield
    finally:
        if _by_stream.get(key) is facts:
            del _by_stream[key]


def post_writer_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """StreamableHTTPTransport.post_writer, noting the transport for the session's stream."""
    # post_writer(client, write_stream_reader, read_stream_writer, write_stream, ...)
    write_stream = args[3] if len(args) > 3 else kwargs.get("write_stream")
    url = getattr(instance, "url", None)
    attributes: dict[str, AttributeValue] = {
        network.NETWORK_TRANSPORT: _TCP,
        network.NETWORK_PROTOCOL_NAME: "http",
    }
    if isinstance(url, str):
        attributes.update(server_attributes(url))
    facts = TransportFacts(attributes, http=instance)

    async def run() -> Any:
        with _noted(write_stream, facts):
            return await wrapped(*args, **kwargs)

    return run()


def stdio_client_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """stdio_client(...), noting its streams as a pipe transport while it is open."""
    return _stdio(wrapped(*args, **kwargs))


@contextlib.asynccontextmanager
async def _stdio(opened: Any) -> AsyncIterator[Any]:
    async with opened as streams:
        write_stream = streams[1] if isinstance(streams, tuple) and len(streams) > 1 else None
        if write_stream is None:
            yield streams
            return
        with _noted(write_stream, TransportFacts({network.NETWORK_TRANSPORT: _PIPE})):
            yield streams
