"""`mcp.client` spans: each typed request a session sends, recorded once.

`ClientSession.send_request` (and `ServerSession.send_request`, for a server's requests to its
client) is where every typed request passes with its method, parameters and typed result. The
span is current while the request is written, so the SDK's `_meta` injection carries it to the
peer. The SDK's own client span (`MCP send ...`, opened deeper, in the JSON-RPC dispatcher) is
not started inside a recorded request: the dispatcher is handed a non-recording view of ours,
and the JSON-RPC id it knows is copied onto our span.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import NonRecordingSpan, SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm._errors import guarded, internal_errors
from otel_llm._steps import note_tool_call
from otel_llm._telemetry import Telemetry
from otel_llm.context import context_span_attributes
from otel_llm.instrumentation.mcp import _operation as op_
from otel_llm.instrumentation.mcp._operation import CANCELLED, TOOLS_CALL, Operation
from otel_llm.instrumentation.mcp._transport import facts_for
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import jsonrpc
from otel_llm.semconv.attributes import mcp as ma

__all__ = ["otel_span_wrapper", "send_request_wrapper"]

_EXECUTE_TOOL = ga.GenAiOperationNameValues.EXECUTE_TOOL.value


class _Borrow:
    """The recorded request whose span the SDK's dispatcher may use instead of its own, once."""

    __slots__ = ("claimed", "operation")

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.claimed = False


_borrowable: contextvars.ContextVar[_Borrow | None] = contextvars.ContextVar(
    "otel_llm_mcp_request", default=None
)


def send_request_wrapper(telemetry: Telemetry) -> Callable[..., Any]:
    """A wrapt wrapper for `ClientSession.send_request` / `ServerSession.send_request`."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        return _send(telemetry, wrapped, instance, args, kwargs)

    return wrapper


async def _send(
    telemetry: Telemetry, wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any
) -> Any:
    request = args[0] if args else kwargs.get("request")
    operation = _start(telemetry, instance, request)
    if operation is None:
        return await wrapped(*args, **kwargs)
    context_token = None
    if operation.owns_span:
        context_token = otel_context.attach(trace.set_span_in_context(operation.span))
    borrow_token = _borrowable.set(_Borrow(operation))
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _failed(operation, instance, exc)
        raise
    finally:
        _borrowable.reset(borrow_token)
        if context_token is not None:
            otel_context.detach(context_token)
    _succeeded(operation, instance, request, result)
    return result


def _params_of(request: Any) -> dict[str, Any]:
    params = getattr(request, "params", None)
    found: dict[str, Any] = {}
    for name in ("name", "uri", "arguments"):
        value = getattr(params, name, None)
        if value is not None:
            found[name] = value if name == "arguments" else str(value)
    return found


def _outer_tool_span(tool: str | None) -> trace.Span | None:
    """The current span when it is another instrumentation's execute_tool span for this tool.

    Upstream: when outer GenAI instrumentation already traces the tool execution, the MCP
    instrumentation adds its attributes to that span instead of starting a second one.
    """
    span = trace.get_current_span()
    if not span.is_recording():
        return None
    attributes = getattr(span, "attributes", None)
    if not isinstance(attributes, Mapping):
        return None
    if attributes.get(ga.GEN_AI_OPERATION_NAME) != _EXECUTE_TOOL:
        return None
    if ma.MCP_METHOD_NAME in attributes:
        return None  # an MCP span (a server handling a call that calls a tool elsewhere)
    name = attributes.get(ga.GEN_AI_TOOL_NAME)
    return span if name in (None, tool) else None


@guarded(default=None)
def _start(telemetry: Telemetry, session: Any, request: Any) -> Operation | None:
    method = getattr(request, "method", None)
    if not isinstance(method, str):
        return None
    params = _params_of(request)
    attributes = op_.request_attributes(method, params)
    version = _protocol_version(session)
    if version:
        attributes[ma.MCP_PROTOCOL_VERSION] = version
    facts = facts_for(session)
    if facts is not None:
        attributes.update(facts.attributes)
        attributes.update(facts.session_attributes())
    instruments = telemetry.instruments
    operation = Operation(telemetry, attributes, instruments.mcp_client_duration)
    outer = _outer_tool_span(params.get("name")) if method == TOOLS_CALL else None
    if outer is not None:
        operation.span = outer
        operation.owns_span = False
        # The outer span keeps its own operation and tool name; the tool metric is its own.
        outer.set_attributes(
            {k: v for k, v in attributes.items() if k not in (ga.GEN_AI_OPERATION_NAME,)}
        )
    else:
        if method == TOOLS_CALL:
            # The caller's view of the tool call is the one counted as a tool execution: it
            # exists whether or not the server is instrumented, and counting the server's
            # handler too would count one call twice.
            operation.tool_duration = instruments.execute_tool_duration
            note_tool_call()  # a step of the agent run (an outer tool span counted its own)
        span_attributes = {**attributes, **context_span_attributes()}
        operation.span = telemetry.tracer.start_span(
            op_.span_name(method, params), kind=SpanKind.CLIENT, attributes=span_attributes
        )
    if method == TOOLS_CALL:
        operation.record_content(ga.GEN_AI_TOOL_CALL_ARGUMENTS, params.get("arguments"))
    elif method == op_.PROMPTS_GET:
        operation.record_prompt_variables(params.get("arguments"))
    return operation


def _protocol_version(session: Any) -> str | None:
    # ClientSession keeps the negotiated revision privately; ServerSession exposes it.
    version = getattr(session, "_negotiated_version", None)
    if version is None and not hasattr(session, "_negotiated_version"):
        version = getattr(session, "protocol_version", None)
    return version if isinstance(version, str) else None


def _late_attributes(operation: Operation, session: Any) -> None:
    # The session id and the negotiated revision arrive with `initialize`'s response.
    if session is None:
        return
    late: dict[str, AttributeValue] = {}
    if ma.MCP_SESSION_ID not in operation.attributes:
        facts = facts_for(session)
        if facts is not None:
            late.update(facts.session_attributes())
    if ma.MCP_PROTOCOL_VERSION not in operation.attributes:
        version = _protocol_version(session)
        if version:
            late[ma.MCP_PROTOCOL_VERSION] = version
    if late:
        operation.set(late)


def _failed(operation: Operation, session: Any, exc: BaseException) -> None:
    with internal_errors("ending a failed MCP request span"):
        _late_attributes(operation, session)
        if isinstance(exc, CANCELLED):
            operation.cancel()
        else:
            operation.fail(exc)


def _succeeded(operation: Operation, session: Any, request: Any, result: Any) -> None:
    with internal_errors("ending an MCP request span"):
        _late_attributes(operation, session)
        tool_error = False
        if getattr(request, "method", None) == TOOLS_CALL:
            tool_error = op_.is_tool_error(result)
            if not tool_error:
                operation.record_content(ga.GEN_AI_TOOL_CALL_RESULT, _tool_output(result))
        operation.succeed(tool_error)


def _tool_output(result: Any) -> Any:
    structured = getattr(result, "structured_content", None)
    return structured if structured is not None else getattr(result, "content", None)


def otel_span_wrapper(telemetry: Telemetry) -> Callable[..., Any]:
    """A wrapt wrapper for the SDK dispatcher's `otel_span`: its CLIENT spans become ours.

    Inside a recorded request, ours stands in for it (the JSON-RPC id it knows is copied).
    Elsewhere (requests sent below the typed layer, such as the `server/discover` probe),
    the span is started as an `mcp.client` span of ours, named by the conventions and with a
    failure's text kept off it unless content is captured.
    """

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if kwargs.get("kind") is not SpanKind.CLIENT or not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        attributes = kwargs.get("attributes") or {}
        borrow = _borrowable.get()
        if borrow is not None and not borrow.claimed:
            borrow.claimed = True  # a second request from the same task is recorded apart
            request_id = attributes.get(jsonrpc.JSONRPC_REQUEST_ID)
            if isinstance(request_id, str):
                with internal_errors("noting the JSON-RPC request id"):
                    borrow.operation.set({jsonrpc.JSONRPC_REQUEST_ID: request_id})
            return _stand_in(borrow.operation)
        name = args[0] if args else kwargs.get("name")
        operation = _start_raw(telemetry, name, attributes)
        if operation is None:
            return wrapped(*args, **kwargs)
        return _raw(operation)

    return wrapper


@contextlib.contextmanager
def _stand_in(operation: Operation) -> Iterator[trace.Span]:
    # The dispatcher sets its error attributes and the peer's error message as the status on
    # this view; they are recorded from the MCPError instead, by the privacy rule.
    yield NonRecordingSpan(operation.span.get_span_context())


_SDK_PREFIX = "MCP send "


@guarded(default=None)
def _start_raw(telemetry: Telemetry, name: Any, given: Mapping[str, Any]) -> Operation | None:
    method = given.get(ma.MCP_METHOD_NAME)
    if not isinstance(method, str):
        return None
    target = name.removeprefix(_SDK_PREFIX).removeprefix(method).strip() if name else ""
    params = {"name": target} if isinstance(name, str) and target else None
    attributes = op_.request_attributes(method, params)
    request_id = given.get(jsonrpc.JSONRPC_REQUEST_ID)
    if isinstance(request_id, str):
        attributes[jsonrpc.JSONRPC_REQUEST_ID] = request_id
    operation = Operation(telemetry, attributes, telemetry.instruments.mcp_client_duration)
    operation.span = telemetry.tracer.start_span(
        op_.span_name(method, params),
        kind=SpanKind.CLIENT,
        attributes={**attributes, **context_span_attributes()},
    )
    return operation


class _Private:
    """The SDK's view of a span of ours: its error attributes kept, the peer's message not.

    The message is kept only when content is captured on spans: a JSON-RPC error message may
    quote the request.
    """

    __slots__ = ("_operation",)

    def __init__(self, operation: Operation) -> None:
        self._operation = operation

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Keep the SDK's attributes (error.type, rpc.response.status_code)."""
        with internal_errors("recording the MCP SDK's span attributes"):
            self._operation.set(attributes)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Keep one SDK attribute."""
        self.set_attributes({key: value})

    def set_status(self, status: Any, description: str | None = None) -> None:
        """ERROR, with the description only when content is captured on spans."""
        operation = self._operation
        code = getattr(status, "status_code", status)
        if not operation.capture:
            description = None
        elif description is None:
            description = getattr(status, "description", None)
        operation.span.set_status(code, description)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._operation.span, name)


@contextlib.contextmanager
def _raw(operation: Operation) -> Iterator[Any]:
    token = otel_context.attach(trace.set_span_in_context(operation.span))
    try:
        yield _Private(operation)
    except BaseException as exc:
        _failed(operation, None, exc)
        raise
    else:
        with internal_errors("ending an MCP request span"):
            operation.succeed()
    finally:
        otel_context.detach(token)
