"""Tests for otel_llm.payloads.bedrock: Converse payloads fit botocore's bedrock-runtime model."""

import json
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape
from botocore.parsers import create_parser
from botocore.validate import ParamValidator

from otel_llm.payloads import bedrock as payloads
from otel_llm.payloads.bedrock import Reply, Tokens, ToolUse


@cache
def service() -> ServiceModel:
    """The bedrock-runtime service model botocore ships."""
    return botocore.session.get_session().get_service_model("bedrock-runtime")


def operation(name: str) -> OperationModel:
    """One operation's model."""
    return service().operation_model(name)


def parse(body: dict[str, Any], name: str = "Converse") -> dict[str, Any]:
    """`body` as botocore's rest-json parser hands it to the caller (unmodelled keys dropped)."""
    response = {"body": json.dumps(body).encode(), "headers": {}, "status_code": 200}
    parsed: dict[str, Any] = create_parser("rest-json").parse(
        response, operation(name).output_shape
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


REPLIES = [
    Reply(),
    Reply(text=None, tool_uses=[ToolUse()], stop_reason="tool_use"),
    Reply(reasoning="The order id is in the question.", stop_reason="end_turn"),
    Reply(tokens=Tokens(input=4, output=10, cache_read=2701), stop_reason="max_tokens"),
    Reply(guardrail_id=payloads.GUARDRAIL_ID, stop_reason="guardrail_intervened"),
]


@pytest.mark.parametrize("tools", [False, True])
@pytest.mark.parametrize("guardrail", [False, True])
def test_converse_requests_pass_botocore_validation(tools: bool, guardrail: bool) -> None:
    """The request builder's keyword arguments are valid Converse and ConverseStream input."""
    params = {"modelId": payloads.MODEL_IDS["nova"]}
    params.update(payloads.converse_request(tools=tools, guardrail=guardrail, stop=["END"]))
    for name in ("Converse", "ConverseStream"):
        report = ParamValidator().validate(params, operation(name).input_shape)
        assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize("reply", REPLIES)
def test_converse_responses_parse_as_botocore_returns_them(reply: Reply) -> None:
    """Every field botocore models survives its parser; only the extra count names drop out."""
    body = payloads.converse_response(reply)
    parsed = parse(body)
    assert parsed["output"] == body["output"]
    assert parsed["stopReason"] == reply.stop_reason
    modelled = {k: v for k, v in body["usage"].items() if not k.endswith(("Count", "Usage"))}
    assert parsed["usage"] == modelled
    if reply.guardrail_id is not None:
        assessment = parsed["trace"]["guardrail"]["inputAssessment"]
        assert list(assessment) == [reply.guardrail_id]


def test_usage_total_counts_cache_reads_and_writes() -> None:
    """As recorded: totalTokens is uncached input + output + cache reads + cache writes."""
    usage = payloads.usage(Tokens(input=4, output=10, cache_read=2701, cache_write=7))
    assert usage["totalTokens"] == 2722
    assert usage["cacheReadInputTokens"] == usage["cacheReadInputTokenCount"] == 2701
    assert "cacheReadInputTokens" not in payloads.usage(Tokens())


def _members(shape: Shape) -> dict[str, Shape]:
    assert isinstance(shape, StructureShape)
    return dict(shape.members)


@pytest.mark.parametrize("reply", REPLIES)
def test_stream_events_are_members_of_the_converse_stream(reply: Reply) -> None:
    """Each event type is a ConverseStreamOutput member and its fields (but `p`) are modelled."""
    stream = _members(operation("ConverseStream").output_shape)["stream"]
    events = [next(iter(event.items())) for event in payloads.converse_stream_events(reply)]
    assert all(len(event) == 1 for event in payloads.converse_stream_events(reply))
    assert events[0][0] == "messageStart"
    assert [kind for kind, _ in events[-2:]] == ["messageStop", "metadata"]
    for kind, body in events:
        event_shape = _members(stream)[kind]
        assert set(body) - {"p"} <= set(_members(event_shape)), kind
        assert body["p"]


def test_stream_deltas_add_up_to_the_reply() -> None:
    """Text deltas join to the text, tool input deltas to the tool's JSON arguments."""
    reply = Reply(tool_uses=[ToolUse()], reasoning="Check the order.", stop_reason="tool_use")
    events = [next(iter(event.items())) for event in payloads.converse_stream_events(reply)]
    deltas = [body["delta"] for kind, body in events if kind == "contentBlockDelta"]
    text = "".join(d.get("text", "") for d in deltas)
    arguments = "".join(d["toolUse"]["input"] for d in deltas if "toolUse" in d)
    thinking = "".join(
        d["reasoningContent"].get("text", "") for d in deltas if "reasoningContent" in d
    )
    assert text == reply.text
    assert json.loads(arguments) == ToolUse().input
    assert thinking == reply.reasoning
    starts = [body for kind, body in events if kind == "contentBlockStart"]
    assert starts[0]["start"]["toolUse"]["toolUseId"] == ToolUse().id


def test_every_listed_stop_reason_is_one_botocore_knows() -> None:
    """The stop reasons the payloads offer are the service model's StopReason values."""
    shape = _members(operation("Converse").output_shape)["stopReason"]
    assert set(payloads.STOP_REASONS) <= set(shape.enum)


def test_pieces_rejoin_to_the_text() -> None:
    """Streaming pieces split on word groups and join back losslessly."""
    text = "one two three four five six seven"
    assert "".join(payloads.pieces(text)) == text
    assert payloads.pieces("single") == ["single"]


@pytest.mark.parametrize("status", sorted(payloads.ERROR_TYPES))
def test_errors_parse_as_the_modelled_aws_error(status: int) -> None:
    """Botocore reads each error's code from its header, as a Converse error the model lists."""
    response = {
        "body": json.dumps(payloads.error(status)).encode(),
        # botocore's headers are case-insensitive; its parser asks for lower-case names.
        "headers": {k.lower(): v for k, v in payloads.error_headers(status).items()},
        "status_code": status,
    }
    parsed = create_parser("rest-json").parse(response, operation("Converse").output_shape)
    code = payloads.ERROR_TYPES[status]
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"] == payloads.error(status)["message"]
    assert code in {shape.name for shape in operation("Converse").error_shapes}
