"""The MCP operation record: names, attributes, outcomes and content rules."""

from __future__ import annotations

import json

import mcp_types
import pytest
from mcp.shared.exceptions import MCPError

from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.mcp import _operation as op_
from tests.conftest import make_captured


@pytest.mark.parametrize(
    ("method", "params", "name"),
    [
        ("tools/call", {"name": "get_weather"}, "tools/call get_weather"),
        ("prompts/get", {"name": "greet"}, "prompts/get greet"),
        ("resources/read", {"uri": "kb://articles/7"}, "resources/read"),
        ("tools/call", {"name": ""}, "tools/call"),
        ("tools/call", None, "tools/call"),
        ("initialize", {"name": "not a target"}, "initialize"),
    ],
)
def test_span_name_adds_only_a_tool_or_prompt_target(
    method: str, params: dict[str, str] | None, name: str
) -> None:
    """The span name is the method, plus the tool or prompt name; never a URI (unbounded)."""
    assert op_.span_name(method, params) == name


def test_request_attributes_follow_the_method() -> None:
    """Tool calls name their tool, prompts/get its prompt, resource requests their URI."""
    assert op_.request_attributes("tools/call", {"name": "t"}) == {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "t",
    }
    assert op_.request_attributes("prompts/get", {"name": "p"})["gen_ai.prompt.name"] == "p"
    assert op_.request_attributes("resources/subscribe", {"uri": "a://b"})["mcp.resource.uri"] == (
        "a://b"
    )
    assert op_.request_attributes("ping", {"name": "x"}) == {"mcp.method.name": "ping"}


def test_tool_errors_and_error_codes_are_read_from_either_shape() -> None:
    """A tool error is read from models and wire dicts; the JSON-RPC code from MCPError only."""
    failed = mcp_types.CallToolResult(content=[], is_error=True)
    assert op_.is_tool_error(failed)
    assert op_.is_tool_error({"isError": True})
    assert not op_.is_tool_error({"isError": "true"})
    assert not op_.is_tool_error(mcp_types.CallToolResult(content=[]))
    assert op_.error_code(MCPError(code=-32602, message="bad")) == -32602
    assert op_.error_code(ValueError("x")) is None


@pytest.mark.parametrize("mode", list(ContentCapturingMode))
def test_content_is_recorded_only_on_spans_with_capture(mode: ContentCapturingMode) -> None:
    """Tool arguments are recorded only when captured on spans, as JSON cut to the budget."""
    captured = make_captured(Settings(capture_message_content=mode, max_content_bytes=512))
    telemetry = captured.telemetry
    operation = op_.Operation(telemetry, {}, telemetry.instruments.mcp_client_duration)
    operation.span = telemetry.tracer.start_span("tools/call t")
    operation.record_content("gen_ai.tool.call.arguments", {"text": "x" * 5000})
    operation.record_prompt_variables({"name": "Ann"})
    operation.succeed()
    (span,) = captured.finished_spans()
    if mode.on_spans:
        value = span.attributes["gen_ai.tool.call.arguments"]
        assert len(value.encode()) <= 512
        assert json.loads(value)["text"].startswith("xxx")
        assert span.attributes["gen_ai.prompt.variable.name"] == "Ann"
    else:
        assert dict(span.attributes) == {}


def test_metrics_keep_only_bounded_dimensions() -> None:
    """The duration point carries method, tool and error, never the session, request id or URI."""
    captured = make_captured()
    telemetry = captured.telemetry
    attributes = op_.request_attributes("tools/call", {"name": "t"})
    attributes.update(
        {"mcp.session.id": "s", "jsonrpc.request.id": "7", "mcp.resource.uri": "a://b"}
    )
    operation = op_.Operation(telemetry, attributes, telemetry.instruments.mcp_server_duration)
    operation.span = telemetry.tracer.start_span("tools/call t")
    operation.fail(MCPError(code=-32601, message="no such method"))
    (point,) = captured.metric_points("mcp.server.operation.duration")
    assert dict(point.attributes) == {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "t",
        "error.type": "-32601",
        "rpc.response.status_code": "-32601",
    }


@pytest.mark.parametrize("params", [None, [], "tools", {"name": 7}, {"name": ["a"]}, {"uri": 3}])
def test_malformed_params_give_the_method_alone(params: object) -> None:
    """Params a peer sent in the wrong shape name no target and no URI (and raise nothing)."""
    for method in ("tools/call", "prompts/get", "resources/read"):
        assert op_.span_name(method, params) == method  # type: ignore[arg-type]
        attributes = op_.request_attributes(method, params)  # type: ignore[arg-type]
        assert attributes["mcp.method.name"] == method
        assert "gen_ai.tool.name" not in attributes
        assert "mcp.resource.uri" not in attributes
