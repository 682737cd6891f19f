"""Tests for the Anthropic payloads: messages and stream events as the SDK reads them."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic.types import ErrorResponse, Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from otel_llm.payloads import anthropic as payloads
from otel_llm.payloads import sse
from tests.instrumentation import _fakes as fakes
from tests.payloads._sdk import unknown_fields

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]
EVENT = TypeAdapter(RawMessageStreamEvent)
MIXED = payloads.message(
    [payloads.thinking_block(), payloads.text_block(), payloads.tool_use_block()]
)


def _stream(events: list[dict[str, Any]]) -> Any:
    """The client's stream helper over `events`: the final message."""
    client = fakes.anthropic_client(fakes.anthropic_respond(sse.encode(events, named=True)))
    with client.messages.stream(model="claude", max_tokens=99, messages=MESSAGES) as stream:
        return stream.get_final_message()


@pytest.mark.parametrize("body", [payloads.message(), MIXED], ids=["text", "mixed"])
def test_messages_have_every_field_the_sdk_knows_and_no_other(body: dict[str, Any]) -> None:
    """A message validates as the SDK's Message and every field in it is a declared one."""
    assert unknown_fields(Message.model_validate(body)) == []


def test_stop_reason_follows_the_content() -> None:
    """A tool_use block stops with tool_use, text alone with end_turn, unless told otherwise."""
    assert payloads.message()["stop_reason"] == "end_turn"
    assert payloads.message([payloads.tool_use_block()])["stop_reason"] == "tool_use"
    assert payloads.message(stop_reason="max_tokens")["stop_reason"] == "max_tokens"


def test_usage_counts_cache_reads_and_writes_beside_the_input() -> None:
    """Cache reads and writes are counted apart from input tokens, writes by cache lifetime."""
    usage = payloads.usage(5, 7, cache_read_input_tokens=300, cache_creation_input_tokens=40)
    assert (usage["input_tokens"], usage["output_tokens"]) == (5, 7)
    assert usage["cache_read_input_tokens"] == 300
    assert usage["cache_creation"]["ephemeral_5m_input_tokens"] == 40


def test_events_follow_the_recorded_order() -> None:
    """A text reply streams as recorded: start, block start, ping, deltas, stops, delta, stop."""
    events = payloads.message_events(payloads.message("Your order ships."))
    assert [event["type"] for event in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0]["message"]
    assert (start["content"], start["stop_reason"], start["usage"]["output_tokens"]) == (
        [],
        None,
        1,
    )
    assert events[-2]["usage"]["output_tokens"] == 12
    assert events[-2]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}


def test_every_event_but_ping_is_one_the_sdk_declares() -> None:
    """Each event validates as a raw stream event with no undeclared field (ping has no type)."""
    for event in payloads.message_events(MIXED):
        if event["type"] != "ping":
            assert unknown_fields(EVENT.validate_python(event)) == [], event["type"]


def test_the_stream_assembles_the_message() -> None:
    """Thinking, text and tool input streamed as deltas end as exactly the message body."""
    final = _stream(payloads.message_events(MIXED))
    assert final.model_dump() == Message.model_validate(MIXED).model_dump()


def test_tool_input_streams_after_an_empty_fragment() -> None:
    """Tool input JSON opens with an empty partial_json, as recorded, then arrives in pieces."""
    events = payloads.message_events(payloads.message([payloads.tool_use_block()]))
    partial = [e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta"]
    assert partial[0] == ""
    assert len(partial) > 2
    assert events[1]["content_block"]["input"] == {}


def test_pieces_cut_the_first_text_block() -> None:
    """Given pieces become the text deltas, and must add up to the text."""
    events = payloads.message_events(payloads.message("ab cd"), ["a", "b cd"])
    assert [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"] == [
        "a",
        "b cd",
    ]
    with pytest.raises(ValueError, match="do not add up"):
        payloads.message_events(payloads.message("ab"), ["x"])


@pytest.mark.parametrize(
    ("status", "exception", "kind"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.APIStatusError, "request_too_large"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (529, anthropic.InternalServerError, "overloaded_error"),
        (418, anthropic.APIStatusError, "invalid_request_error"),
    ],
)
def test_error_bodies_are_what_the_sdk_raises_from(
    status: int, exception: type[anthropic.APIStatusError], kind: str
) -> None:
    """Each status gets Anthropic's recorded error type and a request id the SDK can read."""
    body = payloads.error(status)
    if status != 413:  # the API's request_too_large (sent by its front end) is not in the SDK
        assert unknown_fields(ErrorResponse.model_validate(body)) == []
    client = fakes.anthropic_client(fakes.anthropic_respond(body, status))
    with pytest.raises(exception) as raised:
        client.messages.create(model="claude", max_tokens=9, messages=MESSAGES)
    assert raised.value.status_code == status
    error: Any = raised.value.body
    assert error["error"]["type"] == kind
    assert error["request_id"].startswith("req_")


def test_an_error_event_ends_a_stream_with_an_exception() -> None:
    """An overloaded error sent mid-stream makes the SDK raise while the caller iterates."""
    events = [*payloads.message_events()[:4], payloads.error_event()]
    client = fakes.anthropic_client(fakes.anthropic_respond(sse.encode(events, named=True)))
    stream = client.messages.create(model="c", max_tokens=9, messages=MESSAGES, stream=True)
    with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
        list(stream)
