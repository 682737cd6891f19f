"""One MCP operation as otel-llm records it: span attributes, outcome, metrics and content.

Shared by both directions: a request a session sends (`mcp.client` spans) and a message a
session receives and handles (`mcp.server` spans). Everything here follows the upstream MCP
conventions; what otel-llm adds is its privacy rule (no text of a failure, no arguments or
results unless content capture on spans is on) and the cardinality cap on metric dimensions.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import Histogram
from opentelemetry.trace import INVALID_SPAN, Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import fit_text
from otel_llm._failure import failure_attributes, record_failure
from otel_llm._telemetry import Telemetry
from otel_llm.instrumentation._fit import fit_json
from otel_llm.semconv.attributes import error as error_attrs
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import mcp as ma
from otel_llm.semconv.attributes import network, rpc, server

__all__ = ["CANCELLED", "TOOLS_CALL", "Operation", "request_attributes", "span_name"]

TOOLS_CALL = "tools/call"
PROMPTS_GET = "prompts/get"
_URI_METHODS = frozenset({"resources/read", "resources/subscribe", "resources/unsubscribe"})
_EXECUTE_TOOL = ga.GenAiOperationNameValues.EXECUTE_TOOL.value
CANCELLED = (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)
"""A request its caller gave up on: ended without an error, as the engine ends such calls."""
TOOL_ERROR = "tool_error"
"""`error.type` of a tool call whose result says `isError` (upstream's value)."""

_METRIC_KEYS = (
    ma.MCP_METHOD_NAME,
    ga.GEN_AI_OPERATION_NAME,
    ga.GEN_AI_TOOL_NAME,
    ga.GEN_AI_PROMPT_NAME,
    ma.MCP_PROTOCOL_VERSION,
    network.NETWORK_TRANSPORT,
    network.NETWORK_PROTOCOL_NAME,
    server.SERVER_ADDRESS,
    server.SERVER_PORT,
)
"""Span attributes that are also dimensions of the MCP duration histograms (never the session,
the request id or the resource URI: those are unbounded)."""


def _target(params: Mapping[str, Any] | None) -> str | None:
    # Inbound params are the peer's raw JSON: anything may arrive where a mapping should be.
    name = params.get("name") if isinstance(params, Mapping) else None
    return name if isinstance(name, str) and name else None


def span_name(method: str, params: Mapping[str, Any] | None) -> str:
    """`{mcp.method.name} {target}`: the tool or prompt name when the request names one."""
    if method in (TOOLS_CALL, PROMPTS_GET):
        target = _target(params)
        if target is not None:
            return f"{method} {target}"
    return method


def request_attributes(method: str, params: Mapping[str, Any] | None) -> dict[str, AttributeValue]:
    """The attributes a request's method and parameters give, on either side."""
    attributes: dict[str, AttributeValue] = {ma.MCP_METHOD_NAME: method}
    if method == TOOLS_CALL:
        attributes[ga.GEN_AI_OPERATION_NAME] = _EXECUTE_TOOL
        target = _target(params)
        if target is not None:
            attributes[ga.GEN_AI_TOOL_NAME] = target
    elif method == PROMPTS_GET:
        target = _target(params)
        if target is not None:
            attributes[ga.GEN_AI_PROMPT_NAME] = target
    elif method in _URI_METHODS and isinstance(params, Mapping):
        uri = params.get("uri")
        if isinstance(uri, str) and uri:
            attributes[ma.MCP_RESOURCE_URI] = uri
    return attributes


def error_code(exc: BaseException) -> int | None:
    """The JSON-RPC error code of an MCP error (`MCPError.error.code`), else None."""
    code = getattr(getattr(exc, "error", None), "code", None)
    return code if type(code) is int else None


def is_tool_error(result: Any) -> bool:
    """Whether a tools/call result reports a failed tool (`isError: true`)."""
    if isinstance(result, Mapping):
        return result.get("isError") is True
    return getattr(result, "is_error", None) is True


class Operation:
    """The telemetry of one MCP request or notification, on the side that records it."""

    __slots__ = (
        "attributes",
        "capture",
        "duration",
        "owns_span",
        "span",
        "start",
        "telemetry",
        "tool_duration",
    )

    def __init__(
        self,
        telemetry: Telemetry,
        attributes: dict[str, AttributeValue],
        duration: Histogram,
        *,
        tool_duration: Histogram | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.attributes = attributes
        """Everything recorded so far (the metric dimensions are picked from it at the end)."""
        self.duration = duration
        self.tool_duration = tool_duration
        """gen_ai.execute_tool.duration, for the side that counts the tool call (the caller)."""
        self.capture = telemetry.content_mode().on_spans
        self.span: Span = INVALID_SPAN
        self.owns_span = True
        """False when the span is another instrumentation's execute_tool span, enriched."""
        self.start = time.perf_counter()

    def set(self, values: Mapping[str, AttributeValue]) -> None:
        """Add attributes known after the start (session id, request id, transport)."""
        self.attributes.update(values)
        self.span.set_attributes(values)

    def record_content(self, key: str, value: Any) -> None:
        """Record tool arguments or a tool result, only when content is captured on spans."""
        if not self.capture or value is None:
            return
        settings = self.telemetry.settings
        if isinstance(value, str):
            text = fit_text(value, settings.max_content_bytes, self.telemetry.redact_part)
        else:
            text = fit_json(
                _jsonable(value), settings.max_content_bytes, self.telemetry.redact_part
            )
        self.span.set_attribute(key, text)

    def record_prompt_variables(self, arguments: Any) -> None:
        """`gen_ai.prompt.variable.<name>` for each prompt argument, only when captured."""
        if not self.capture or not isinstance(arguments, Mapping):
            return
        settings = self.telemetry.settings
        for name, value in arguments.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            self.span.set_attribute(
                f"{ga.GEN_AI_PROMPT_VARIABLE}.{name}",
                fit_text(text, settings.max_content_bytes, self.telemetry.redact_part),
            )

    def succeed(self, tool_error: bool = False) -> None:
        """End the operation after a result (a tool result may still report a failed tool)."""
        if tool_error:
            self.attributes[error_attrs.ERROR_TYPE] = TOOL_ERROR
            self.span.set_attribute(error_attrs.ERROR_TYPE, TOOL_ERROR)
            self.span.set_status(Status(StatusCode.ERROR))
        self._end()

    def fail(self, exc: BaseException, code: int | None = None) -> None:
        """End the operation with the exception it raised: identifiers only unless captured."""
        span = self.span
        failure = failure_attributes(exc)
        if code is None:
            code = error_code(exc)
        if code is not None:
            # Upstream: error.type is the JSON-RPC error code when the peer answered with one.
            failure[error_attrs.ERROR_TYPE] = str(code)
            failure[rpc.RPC_RESPONSE_STATUS_CODE] = str(code)
        self.attributes.update(failure)
        span.set_attributes(failure)
        if self.owns_span:
            record_failure(span, exc, self.telemetry)
        self._end()

    def cancel(self) -> None:
        """End an operation its caller gave up on (cancelled): not a failure of the peer."""
        self._end()

    def _end(self) -> None:
        elapsed = time.perf_counter() - self.start
        attributes = self.attributes
        if self.owns_span:
            self.span.end()
        dimensions = {key: attributes[key] for key in _METRIC_KEYS if key in attributes}
        for key in (error_attrs.ERROR_TYPE, rpc.RPC_RESPONSE_STATUS_CODE):
            if key in attributes:
                dimensions[key] = attributes[key]
        # Exemplars point at the operation's own span, as on the inference histograms.
        context = trace.set_span_in_context(self.span)
        self.duration.record(elapsed, dimensions, context)
        tool_duration = self.tool_duration
        tool = attributes.get(ga.GEN_AI_TOOL_NAME)
        if tool_duration is not None and tool is not None:
            tool_dimensions: dict[str, AttributeValue] = {ga.GEN_AI_TOOL_NAME: tool}
            if error_attrs.ERROR_TYPE in attributes:
                tool_dimensions[error_attrs.ERROR_TYPE] = attributes[error_attrs.ERROR_TYPE]
            tool_duration.record(elapsed, tool_dimensions, context)


def _jsonable(value: Any) -> Any:
    # MCP SDK results are pydantic models; the wire form is what the peer saw.
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
