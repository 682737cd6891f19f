"""AWS event-stream encoding (`application/vnd.amazon.eventstream`), as Bedrock streams replies.

A message is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), the
headers, the payload and a CRC32 of everything before it. Each header is a 1-byte name length,
the name, a 1-byte value type and the value. botocore's `EventStreamBuffer` decodes exactly
this; the tests check every message type and header type against it.
"""

from __future__ import annotations

import base64
import json
import struct
import uuid
from binascii import crc32
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "HeaderValue",
    "Typed",
    "chunk",
    "encode_message",
    "error",
    "event",
    "events",
    "exception",
    "padding",
]

HeaderValue = bool | int | str | bytes | uuid.UUID | datetime
"""A header value; its Python type picks the wire type (int: int32, else int64)."""

_BOOL_TRUE, _BOOL_FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)
_INT32 = range(-(2**31), 2**31)
_JSON = "application/json"


@dataclass(frozen=True)
class Typed:
    """A header value with an explicit wire type (byte, short or long), for the rarer types."""

    type: int
    value: int


def _header(name: str, value: HeaderValue | Typed) -> bytes:
    raw = name.encode()
    if len(raw) > 255:
        raise ValueError(f"header name longer than 255 bytes: {name[:40]!r}")
    return struct.pack("!B", len(raw)) + raw + _value(value)


def _value(value: HeaderValue | Typed) -> bytes:
    """The type byte and the encoded value."""
    if isinstance(value, bool):  # before int: bool is an int
        return struct.pack("!B", _BOOL_TRUE if value else _BOOL_FALSE)
    if isinstance(value, Typed):
        fmt = {_BYTE: "!Bb", _SHORT: "!Bh", _INT: "!Bi", _LONG: "!Bq"}[value.type]
        return struct.pack(fmt, value.type, value.value)
    if isinstance(value, int):
        return (
            struct.pack("!Bi", _INT, value) if value in _INT32 else struct.pack("!Bq", _LONG, value)
        )
    if isinstance(value, str | bytes):
        data = value.encode() if isinstance(value, str) else value
        return struct.pack("!BH", _STRING if isinstance(value, str) else _BYTES, len(data)) + data
    if isinstance(value, uuid.UUID):
        return struct.pack("!B", _UUID) + value.bytes
    # Timestamps travel as milliseconds since the epoch.
    return struct.pack("!Bq", _TIMESTAMP, int(value.timestamp() * 1000))


def encode_message(headers: Mapping[str, HeaderValue | Typed], payload: bytes) -> bytes:
    """One event-stream message: prelude, prelude CRC, headers, payload, message CRC."""
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", crc32(prelude) & 0xFFFFFFFF)
    message = prelude + encoded + payload
    return message + struct.pack("!I", crc32(message) & 0xFFFFFFFF)


def _json(body: Mapping[str, Any], *, sort: bool = False) -> bytes:
    # Compact, as Bedrock sends it; its own event payloads have their keys sorted, a model's
    # chunk keeps the model's order.
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, sort_keys=sort).encode()


def event(event_type: str, body: Mapping[str, Any]) -> bytes:
    """An `event` message whose JSON payload becomes the `event_type` member of the stream."""
    headers = {":event-type": event_type, ":content-type": _JSON, ":message-type": "event"}
    return encode_message(headers, _json(body, sort=True))


def events(stream: Sequence[Mapping[str, Mapping[str, Any]]]) -> list[bytes]:
    """Encoded `event` messages for one-key dicts `{event type: payload}` (ConverseStream's)."""
    return [event(kind, body) for item in stream for kind, body in item.items()]


def exception(exception_type: str, message: str, **fields: str | int) -> bytes:
    """An `exception` message: botocore raises EventStreamError with `exception_type` as code.

    `exception_type` is the stream member name (`throttlingException`,
    `modelStreamErrorException`, ...), as Bedrock sends it.
    """
    headers = {":exception-type": exception_type, ":content-type": _JSON}
    headers[":message-type"] = "exception"
    return encode_message(headers, _json({"message": message, **fields}, sort=True))


def error(code: str, message: str) -> bytes:
    """An `error` message (code and message in headers, empty payload)."""
    headers = {":error-code": code, ":error-message": message, ":message-type": "error"}
    return encode_message(headers, b"")


def chunk(data: Mapping[str, Any] | bytes, padding: str | None = None) -> bytes:
    """An InvokeModelWithResponseStream `chunk` event carrying `data` (a model's JSON chunk).

    Bedrock base64-encodes the model's bytes into the event's JSON, with a `p` padding field
    that varies the message length.
    """
    raw = data if isinstance(data, bytes) else _json(data)
    body: dict[str, Any] = {"bytes": base64.b64encode(raw).decode()}
    if padding is not None:
        body["p"] = padding
    return event("chunk", body)


_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def padding(seed: int) -> str:
    """A deterministic `p` padding value like Bedrock's (a prefix of its alphabet)."""
    return _ALPHABET[: 1 + (seed * 37) % len(_ALPHABET)]
