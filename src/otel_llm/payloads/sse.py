"""Server-sent-event framing (``text/event-stream``), as OpenAI and Anthropic stream replies."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["CONTENT_TYPE", "DONE", "decode", "encode", "frame"]

CONTENT_TYPE: Final = "text/event-stream; charset=utf-8"
"""The Content-Type both providers send with a stream."""

DONE: Final = b"data: [DONE]\n\n"
"""The sentinel ending a Chat Completions stream (Responses and Anthropic streams have none)."""


def frame(event: object, *, named: bool = False) -> bytes:
    """One event as it goes on the wire, blank line included.

    A ``str`` goes out as is (raw field lines: keep-alive comments, truncated or malformed
    events); any other value as compact JSON on a ``data:`` line, preceded, when `named`, by an
    ``event:`` line with its ``"type"`` (Anthropic and the Responses API name their events,
    Chat Completions does not).
    """
    if isinstance(event, str):
        return event.encode("utf-8", "surrogatepass") + b"\n\n"
    data = json.dumps(event, separators=(",", ":"))
    kind = event.get("type") if named and isinstance(event, dict) else None
    prefix = f"event: {kind}\n" if isinstance(kind, str) else ""
    return f"{prefix}data: {data}\n\n".encode()


def encode(events: Iterable[object], *, named: bool = False, done: bool = False) -> bytes:
    """A whole stream: every event framed (see `frame`), then `DONE` when `done`."""
    body = b"".join(frame(event, named=named) for event in events)
    return body + DONE if done else body


def decode(body: bytes | str) -> list[Any]:
    """The JSON data of each event in a stream body, in order: the inverse of `encode`.

    Follows the event-stream format: events end at a blank line, several ``data:`` lines join
    with newlines, comments and other fields are skipped, and ``[DONE]`` is not an event.
    """
    text = body.decode() if isinstance(body, bytes) else body
    events: list[Any] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line[5:] for line in block.split("\n") if line.startswith("data:")]
        data = "\n".join(line[1:] if line.startswith(" ") else line for line in lines)
        if lines and data != "[DONE]":
            events.append(json.loads(data))
    return events
