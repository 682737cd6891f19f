"""The MCP Python SDK (`mcp` 2.x): client and server spans per the upstream MCP conventions.

Each request a session sends is one `mcp.client` span (`tools/call get_weather`,
`resources/read`, `prompts/get greet`, ...), and each message a server (or a client, for its
server's sampling requests) handles is one `mcp.server` span, parented to the sender's span
through `params._meta`, so a tool server's spans join the calling agent's trace. The SDK's own
spans are recorded in their place, never beside them. `tools/call` also counts in
`gen_ai.execute_tool.duration` (on the calling side) with `error.type`; both sides record the
upstream `mcp.*.operation.duration`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from otel_llm._telemetry import Telemetry, set_telemetry
from otel_llm.instrumentation.mcp._inbound import middleware_wrapper, on_request_wrapper
from otel_llm.instrumentation.mcp._outbound import otel_span_wrapper, send_request_wrapper
from otel_llm.instrumentation.mcp._transport import post_writer_wrapper, stdio_client_wrapper

__all__ = ["SUPPORTED", "MCPInstrumentor"]

SUPPORTED = "mcp >= 2.3, < 3"

_Factory = Callable[[Telemetry], Callable[..., Any]]


def _fixed(wrapper: Callable[..., Any]) -> _Factory:
    return lambda telemetry: wrapper


_TARGETS: tuple[tuple[str, str, _Factory], ...] = (
    ("mcp.client.session", "ClientSession.send_request", send_request_wrapper),
    ("mcp.server.session", "ServerSession.send_request", send_request_wrapper),
    ("mcp.client.session", "ClientSession._on_request", on_request_wrapper),
    ("mcp.server._otel", "OpenTelemetryMiddleware.__call__", middleware_wrapper),
    ("mcp.shared.jsonrpc_dispatcher", "otel_span", otel_span_wrapper),
    (
        "mcp.client.streamable_http",
        "StreamableHTTPTransport.post_writer",
        _fixed(post_writer_wrapper),
    ),
    # stdio_client is imported by name into these modules, so each name is wrapped.
    ("mcp.client.stdio", "stdio_client", _fixed(stdio_client_wrapper)),
    ("mcp.client.client", "stdio_client", _fixed(stdio_client_wrapper)),
    ("mcp", "stdio_client", _fixed(stdio_client_wrapper)),
)
"""(module, attribute path, wrapper factory): what is wrapped. The private names are the SDK's
seams for this (its own OpenTelemetry code); a release without one is skipped, not broken."""


class MCPInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # untyped base class
    """Records MCP requests and their handling; found by `opentelemetry-instrument`."""

    requirements: ClassVar[tuple[str, ...]] = (SUPPORTED,)

    def instrumentation_dependencies(self) -> Collection[str]:
        """The MCP SDK versions supported."""
        return self.requirements

    def _instrument(self, **kwargs: Any) -> None:
        # No call hooks: MCP operations are not priced or attributed to prompts.
        telemetry = Telemetry.create(
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
            settings=kwargs.get("settings"),
        )
        set_telemetry(telemetry)
        self._wrapped: list[tuple[Any, str]] = []
        for module, path, factory in _TARGETS:
            owner, name = _resolve(module, path)
            if owner is None:
                continue
            wrap_function_wrapper(owner, name, factory(telemetry))
            self._wrapped.append((owner, name))

    def _uninstrument(self, **kwargs: Any) -> None:
        for owner, name in getattr(self, "_wrapped", ()):
            unwrap(owner, name)
        self._wrapped = []


def _resolve(module: str, path: str) -> tuple[Any, str]:
    import importlib  # noqa: PLC0415 - the SDK is imported only when instrumenting

    try:
        owner: Any = importlib.import_module(module)
    except ImportError:
        return None, path
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent, None)
    if owner is None or not hasattr(owner, name):
        return None, name
    return owner, name
