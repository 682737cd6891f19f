"""`mcp.server` spans: each MCP message a session receives and handles, recorded once.

A server handles every inbound request and notification through its middleware chain, whose
outermost link is the SDK's `OpenTelemetryMiddleware` (removing it from `Server.middleware` is
the SDK's documented way to turn these spans off, and it turns ours off too). otel-llm records
that link's span in its place: with the sender's context from `params._meta` as the parent
(linking the transport's span, such as the HTTP request's), the session and transport, and a
failure recorded by identifiers only. A client's handling of its server's requests (sampling,
elicitation, roots) is recorded the same way, so a model call made in a sampling callback joins
the trace of the tool call that asked for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm._errors import guarded, internal_errors
from otel_llm._telemetry import Telemetry
from otel_llm.instrumentation.mcp import _operation as op_
from otel_llm.instrumentation.mcp._operation import CANCELLED, TOOLS_CALL, Operation
from otel_llm.semconv.attributes import client, jsonrpc, network
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import mcp as ma

__all__ = ["middleware_wrapper", "on_request_wrapper"]

_INVALID_PARAMS = -32602
"""JSON-RPC's code for parameters that fail validation, which the SDK answers them with."""


def middleware_wrapper(telemetry: Telemetry) -> Callable[..., Any]:
    """A wrapt wrapper replacing `OpenTelemetryMiddleware.__call__(ctx, call_next)`."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        ctx = args[0] if args else kwargs["ctx"]
        call_next = args[1] if len(args) > 1 else kwargs["call_next"]
        return _handle(telemetry, _server_facts(ctx), lambda: call_next(ctx))

    return wrapper


def on_request_wrapper(telemetry: Telemetry) -> Callable[..., Any]:
    """A wrapt wrapper for `ClientSession._on_request(dctx, method, params)`."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        facts = _client_facts(instance, args, kwargs)
        return _handle(telemetry, facts, lambda: wrapped(*args, **kwargs))

    return wrapper


class _Inbound:
    """What a received message says about itself."""

    __slots__ = ("attributes", "meta", "method", "params")

    def __init__(
        self,
        method: str,
        params: Mapping[str, Any] | None,
        meta: Any,
        attributes: dict[str, AttributeValue],
    ) -> None:
        self.method = method
        self.params = params
        self.meta = meta
        self.attributes = attributes


async def _handle(telemetry: Telemetry, facts: _Inbound | None, run: Callable[[], Any]) -> Any:
    started = _start(telemetry, facts) if facts is not None else None
    if started is None:
        return await run()
    operation, context = started
    token = otel_context.attach(context)
    try:
        result = await run()
    except BaseException as exc:
        _failed(operation, exc)
        raise
    finally:
        otel_context.detach(token)
    _succeeded(operation, facts, result)
    return result


@guarded(default=None)
def _server_facts(ctx: Any) -> _Inbound | None:
    method = getattr(ctx, "method", None)
    if not isinstance(method, str):
        return None
    params = getattr(ctx, "params", None)
    if not isinstance(params, Mapping):
        params = None  # malformed params: the SDK answers INVALID_PARAMS, the span still starts
    attributes: dict[str, AttributeValue] = {}
    version = getattr(ctx, "protocol_version", None)
    if isinstance(version, str) and version:
        attributes[ma.MCP_PROTOCOL_VERSION] = version
    request_id = getattr(ctx, "request_id", None)
    if request_id is not None:
        attributes[jsonrpc.JSONRPC_REQUEST_ID] = str(request_id)
    connection = getattr(getattr(ctx, "session", None), "_connection", None)
    session_id = getattr(connection, "session_id", None)
    if isinstance(session_id, str) and session_id:
        attributes[ma.MCP_SESSION_ID] = session_id
    attributes.update(_http_attributes(getattr(ctx, "request", None)))
    return _Inbound(method, params, getattr(ctx, "meta", None), attributes)


def _http_attributes(request: Any) -> dict[str, AttributeValue]:
    """The client's address and the HTTP version, when the message came over HTTP (Starlette)."""
    scope = getattr(request, "scope", None)
    if not isinstance(scope, Mapping) or scope.get("type") != "http":
        return {}
    attributes: dict[str, AttributeValue] = {
        network.NETWORK_TRANSPORT: network.NetworkTransportValues.TCP.value,
        network.NETWORK_PROTOCOL_NAME: "http",
    }
    version = scope.get("http_version")
    if isinstance(version, str):
        attributes[network.NETWORK_PROTOCOL_VERSION] = version
    peer = scope.get("client")
    if isinstance(peer, tuple | list) and len(peer) == 2:
        host, port = peer
        if isinstance(host, str):
            attributes[client.CLIENT_ADDRESS] = host
            if type(port) is int:
                attributes[client.CLIENT_PORT] = port
    return attributes


@guarded(default=None)
def _client_facts(session: Any, args: Any, kwargs: Any) -> _Inbound | None:
    dctx = args[0] if args else kwargs.get("dctx")
    method = args[1] if len(args) > 1 else kwargs.get("method")
    params = args[2] if len(args) > 2 else kwargs.get("params")
    if not isinstance(method, str):
        return None
    attributes: dict[str, AttributeValue] = {}
    version = getattr(session, "_negotiated_version", None)
    if isinstance(version, str) and version:
        attributes[ma.MCP_PROTOCOL_VERSION] = version
    request_id = getattr(dctx, "request_id", None)
    if request_id is not None:
        attributes[jsonrpc.JSONRPC_REQUEST_ID] = str(request_id)
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    return _Inbound(method, params if isinstance(params, Mapping) else None, meta, attributes)


def _remote_parent(meta: Any) -> Context | None:
    """The sender's context from `params._meta` (W3C keys, unprefixed, per SEP-414), if valid."""
    if not isinstance(meta, Mapping) or "traceparent" not in meta:
        return None
    try:
        context = propagate.extract(meta)
    except (TypeError, ValueError):
        return None
    if not trace.get_current_span(context).get_span_context().is_valid:
        return None
    return context


@guarded(default=None)
def _start(telemetry: Telemetry, facts: _Inbound) -> tuple[Operation, Context] | None:
    attributes = op_.request_attributes(facts.method, facts.params)
    attributes.update(facts.attributes)
    operation = Operation(telemetry, attributes, telemetry.instruments.mcp_server_duration)
    parent = _remote_parent(facts.meta)
    links: list[Link] = []
    if parent is not None:
        # Upstream: the sender's span is the parent; the transport's (an HTTP server span)
        # that was current is linked.
        ambient = trace.get_current_span().get_span_context()
        remote = trace.get_current_span(parent).get_span_context()
        if ambient.is_valid and ambient.span_id != remote.span_id:
            links.append(Link(ambient))
    span = telemetry.tracer.start_span(
        op_.span_name(facts.method, facts.params),
        context=parent,
        kind=SpanKind.SERVER,
        attributes=attributes,
        links=links,
    )
    operation.span = span
    params = facts.params or {}
    if facts.method == TOOLS_CALL:
        operation.record_content(ga.GEN_AI_TOOL_CALL_ARGUMENTS, params.get("arguments"))
    elif facts.method == op_.PROMPTS_GET:
        operation.record_prompt_variables(params.get("arguments"))
    # The sender's baggage (session, tenant) comes along with its trace context.
    return operation, trace.set_span_in_context(span, parent)


def _failed(operation: Operation, exc: BaseException) -> None:
    with internal_errors("ending a failed MCP handler span"):
        if isinstance(exc, CANCELLED):
            operation.cancel()
            return
        code = op_.error_code(exc)
        if code is None and _is_validation_error(exc):
            code = _INVALID_PARAMS  # what the SDK answers; pydantic's text echoes the input
        operation.fail(exc, code)


def _is_validation_error(exc: BaseException) -> bool:
    from pydantic import ValidationError  # noqa: PLC0415 - the SDK's own dependency, loaded

    return isinstance(exc, ValidationError)


def _succeeded(operation: Operation, facts: _Inbound | None, result: Any) -> None:
    with internal_errors("ending an MCP handler span"):
        tool_error = False
        if facts is not None and facts.method == TOOLS_CALL:
            tool_error = op_.is_tool_error(result)
            if not tool_error:
                operation.record_content(ga.GEN_AI_TOOL_CALL_RESULT, _tool_output(result))
        operation.succeed(tool_error)


def _tool_output(result: Any) -> Any:
    if isinstance(result, Mapping):
        structured = result.get("structuredContent")
        return structured if structured is not None else result.get("content")
    structured = getattr(result, "structured_content", None)
    return structured if structured is not None else getattr(result, "content", None)
