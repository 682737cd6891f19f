"""Tests for the Responses API payloads: bodies and event streams as the SDK reads them."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from otel_llm.payloads import openai_responses as payloads
from otel_llm.payloads import sse
from tests.instrumentation import _fakes as fakes
from tests.payloads._sdk import unknown_fields

EVENT = TypeAdapter(ResponseStreamEvent)
STORE = ["store"]  # recorded in 2026 traffic, not yet declared by the SDK
REASONING = payloads.reasoning_item(["Checking the order.", "It left today."])
WITH_CALL = payloads.response([REASONING, payloads.output_message(), payloads.function_call()])


def _final(events: list[dict[str, Any]]) -> Any:
    """The response the SDK's stream helper assembles from `events`."""
    client = fakes.openai_client(fakes.respond_sse(sse.encode(events, named=True)))
    with client.responses.stream(model="gpt-4o", input="Where is my order?") as stream:
        return stream.get_final_response()


@pytest.mark.parametrize("status", ["completed", "in_progress", "incomplete", "failed"])
def test_responses_have_every_field_the_sdk_knows(status: str) -> None:
    """A response body validates as the SDK's Response, its only extra field a recorded one."""
    body = payloads.response([payloads.output_message(), payloads.function_call()], status=status)
    assert unknown_fields(Response.model_validate(body)) == [f"{s}" for s in STORE]


def test_an_unfinished_response_says_why() -> None:
    """Incomplete responses carry incomplete_details, failed ones an error; completed neither."""
    assert payloads.response(status="incomplete")["incomplete_details"] == {
        "reason": "max_output_tokens"
    }
    assert payloads.response(status="failed")["error"]["code"] == "server_error"
    completed = payloads.response(status="completed")
    assert (completed["incomplete_details"], completed["error"]) == (None, None)


def test_usage_counts_cached_and_reasoning_tokens() -> None:
    """Responses usage details cached input and reasoning output tokens and sums the total."""
    usage = payloads.usage(100, 30, cached_tokens=50, reasoning_tokens=20)
    assert usage["total_tokens"] == 130
    assert usage["input_tokens_details"]["cached_tokens"] == 50
    assert usage["output_tokens_details"]["reasoning_tokens"] == 20


def test_events_follow_the_recorded_order() -> None:
    """A text reply streams as recorded: created, in progress, item and part, deltas, done."""
    events = payloads.response_events()
    assert [event["type"] for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert events[0]["response"]["usage"] is None
    assert events[0]["response"]["output"] == []


def test_every_event_is_one_the_sdk_declares() -> None:
    """Each event validates as a stream event; only padding and recorded fields are extra."""
    for event in payloads.response_events(WITH_CALL):
        extra = unknown_fields(EVENT.validate_python(event))
        assert set(extra) <= {"obfuscation", "response.store"}, event["type"]


def test_the_stream_assembles_the_final_response() -> None:
    """The SDK's stream helper ends with the body, text and function call arguments included."""
    final = _final(payloads.response_events(WITH_CALL, ["It", " ships", " today."]))
    assert final.output_text == payloads.TEXT
    dumped = final.model_dump()
    _, message, call = dumped["output"]
    del message["content"][0]["parsed"], call["parsed_arguments"]  # ParsedResponse adds them
    assert dumped == Response.model_validate(WITH_CALL).model_dump()


def test_reasoning_streams_its_summary_only_when_it_has_one() -> None:
    """Reasoning without a summary is added and done; a summary streams part by part."""
    silent = payloads.response([payloads.reasoning_item(), payloads.output_message()])
    kinds = [event["type"] for event in payloads.response_events(silent)]
    assert kinds[2:4] == ["response.output_item.added", "response.output_item.done"]
    events = payloads.response_events(payloads.response([REASONING]))
    texts = [e["text"] for e in events if e["type"] == "response.reasoning_summary_text.done"]
    assert texts == ["Checking the order.", "It left today."]
    assert [e["summary_index"] for e in events if e["type"].endswith("part.added")] == [0, 1]


def test_function_call_arguments_stream_in_fragments() -> None:
    """A function call's argument deltas add up to its arguments."""
    events = payloads.response_events(payloads.response([payloads.function_call()]))
    pieces = [e["delta"] for e in events if e["type"].endswith("arguments.delta")]
    assert len(pieces) > 1
    assert "".join(pieces) == payloads.function_call()["arguments"]


@pytest.mark.parametrize("status", ["incomplete", "failed"])
def test_a_stream_ends_with_an_event_named_for_its_status(status: str) -> None:
    """An incomplete or failed response ends the stream with response.incomplete / .failed."""
    events = payloads.response_events(payloads.response(status=status))
    assert events[-1]["type"] == f"response.{status}"
    assert events[-1]["response"]["status"] == status


def test_pieces_must_tell_the_same_text() -> None:
    """Deltas that do not add up to the response's text are refused."""
    with pytest.raises(ValueError, match="do not add up"):
        payloads.response_events(pieces=["It ships tomorrow."])
