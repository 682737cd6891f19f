"""Tests for otel_llm.payloads.bedrock_eventstream: botocore's own decoder reads what we encode."""

import base64
import json
import uuid
from datetime import datetime, timezone

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer, EventStreamMessage
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_llm.payloads import bedrock_eventstream as es

# The first message of a ConverseStream reply recorded from AWS (opentelemetry-python-contrib,
# botocore cassette test_converse_stream_with_content.yaml): 148 bytes, both CRCs included.
RECORDED_MESSAGE_START = base64.b64decode(
    "AAAAlAAAAFLEwW5hCzpldmVudC10eXBlBwAMbWVzc2FnZVN0YXJ0DTpjb250ZW50LXR5cGUHABBh"
    "cHBsaWNhdGlvbi9qc29uDTptZXNzYWdlLXR5cGUHAAVldmVudHsicCI6ImFiY2RlZmdoaWprbG1u"
    "b3BxcnN0dXZ3Iiwicm9sZSI6ImFzc2lzdGFudCJ9P+wfRA=="
)


def decode(data: bytes) -> list[EventStreamMessage]:
    """Every message botocore's buffer finds in `data`."""
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def test_an_event_encodes_byte_for_byte_like_bedrock() -> None:
    """Re-encoding a recorded Bedrock event from its headers and payload gives the same bytes."""
    (message,) = decode(RECORDED_MESSAGE_START)
    encoded = es.event(message.headers[":event-type"], json.loads(message.payload))
    assert encoded == RECORDED_MESSAGE_START


def test_event_headers_and_payload_round_trip_through_botocore() -> None:
    """An event message carries its event type, JSON content type and message type."""
    (message,) = decode(es.event("contentBlockDelta", {"delta": {"text": "Hi"}, "p": "ab"}))
    assert message.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(message.payload) == {"delta": {"text": "Hi"}, "p": "ab"}
    assert message.to_response_dict()["status_code"] == 200


def test_one_key_stream_events_encode_in_order() -> None:
    """events() encodes `{event type: payload}` dicts, as botocore yields them, one message each."""
    stream = [{"messageStart": {"role": "assistant"}}, {"messageStop": {"stopReason": "end_turn"}}]
    messages = decode(b"".join(es.events(stream)))
    assert [m.headers[":event-type"] for m in messages] == ["messageStart", "messageStop"]
    assert [json.loads(m.payload) for m in messages] == [
        {"role": "assistant"},
        {"stopReason": "end_turn"},
    ]


def test_bedrock_payload_keys_are_sorted_and_compact() -> None:
    """Bedrock's own event payloads are compact JSON with sorted keys (as recorded)."""
    (message,) = decode(es.event("messageStart", {"role": "assistant", "p": "abc"}))
    assert message.payload == b'{"p":"abc","role":"assistant"}'


@pytest.mark.parametrize(
    ("exception_type", "fields"),
    [
        ("throttlingException", {}),
        ("modelStreamErrorException", {"originalStatusCode": 500, "originalMessage": "boom"}),
        ("validationException", {}),
    ],
)
def test_exception_messages_decode_as_errors(
    exception_type: str, fields: dict[str, object]
) -> None:
    """An exception message names its stream member and decodes as a 400 with the message."""
    data = es.exception(exception_type, "Too many tokens.", **fields)  # type: ignore[arg-type]
    (message,) = decode(data)
    assert message.headers[":message-type"] == "exception"
    assert message.headers[":exception-type"] == exception_type
    assert message.to_response_dict()["status_code"] == 400
    assert json.loads(message.payload) == {"message": "Too many tokens.", **fields}


def test_error_messages_carry_code_and_message_in_headers() -> None:
    """An error message has its code and message as headers and an empty payload."""
    (message,) = decode(es.error("InternalFailure", "Try again."))
    assert message.headers[":error-code"] == "InternalFailure"
    assert message.headers[":error-message"] == "Try again."
    assert message.payload == b""
    assert message.to_response_dict()["status_code"] == 400


def test_chunk_events_carry_the_model_bytes_base64_encoded() -> None:
    """A chunk event's JSON holds the model's chunk as base64 `bytes`, plus the padding."""
    model_chunk = {
        "type": "message_stop",
        "amazon-bedrock-invocationMetrics": {"inputTokenCount": 5},
    }
    (message,) = decode(es.chunk(model_chunk, padding="abcd"))
    payload = json.loads(message.payload)
    assert message.headers[":event-type"] == "chunk"
    assert payload["p"] == "abcd"
    assert json.loads(base64.b64decode(payload["bytes"])) == model_chunk
    raw = es.chunk(b"not json")
    assert base64.b64decode(json.loads(decode(raw)[0].payload)["bytes"]) == b"not json"


def test_every_header_type_decodes_to_its_value() -> None:
    """Booleans, bytes, strings, 8/16/32/64-bit integers, timestamps and UUIDs all decode."""
    when = datetime(2026, 9, 1, 13, 5, 0, 250000, tzinfo=timezone.utc)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    headers: dict[str, es.HeaderValue | es.Typed] = {
        "yes": True,
        "no": False,
        "byte": es.Typed(2, -7),
        "short": es.Typed(3, 30000),
        "int": 2**31 - 1,
        "long": 2**40,
        "negative": -(2**31),
        "raw": b"\x00\xff",
        "text": "héllo",
        "when": when,
        "id": ident,
    }
    (message,) = decode(es.encode_message(headers, b"payload"))
    assert message.headers == {
        "yes": True,
        "no": False,
        "byte": -7,
        "short": 30000,
        "int": 2**31 - 1,
        "long": 2**40,
        "negative": -(2**31),
        "raw": b"\x00\xff",
        "text": "héllo",
        "when": int(when.timestamp() * 1000),
        "id": ident.bytes,
    }
    assert message.payload == b"payload"


def test_a_corrupted_message_fails_botocore_checksum() -> None:
    """Both CRCs are real: flipping a payload byte makes botocore reject the message."""
    data = bytearray(es.event("messageStop", {"stopReason": "end_turn"}))
    data[-6] ^= 0x01
    with pytest.raises(ChecksumMismatch):
        decode(bytes(data))


def test_header_names_longer_than_255_bytes_are_refused() -> None:
    """The name length is one byte, so a longer name cannot be encoded."""
    with pytest.raises(ValueError, match="255"):
        es.encode_message({"x" * 256: "v"}, b"")


def test_padding_is_deterministic_and_never_empty() -> None:
    """The `p` padding varies with its seed, stays the same for a seed and is never empty."""
    assert es.padding(3) == es.padding(3)
    assert {len(es.padding(seed)) for seed in range(20)} != {1}
    assert all(es.padding(seed) for seed in range(200))


@settings(max_examples=60, deadline=None)
@given(
    bodies=st.lists(
        st.dictionaries(st.text(max_size=8), st.text(max_size=40) | st.integers(), max_size=4),
        min_size=1,
        max_size=6,
    ),
    cut=st.integers(min_value=1, max_value=64),
)
def test_messages_split_anywhere_decode_in_order(bodies: list[dict[str, object]], cut: int) -> None:
    """A stream fed to botocore in arbitrary slices yields every message, in order."""
    data = b"".join(es.event("contentBlockDelta", body) for body in bodies)
    buffer = EventStreamBuffer()
    decoded: list[object] = []
    for start in range(0, len(data), cut):
        buffer.add_data(data[start : start + cut])
        decoded.extend(json.loads(m.payload) for m in buffer)
    assert decoded == bodies
