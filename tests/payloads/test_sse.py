"""Tests for server-sent-event framing: what goes on the wire and how it reads back."""

from __future__ import annotations

from typing import Any

import pytest

from otel_llm.payloads import sse

EVENTS: list[Any] = [
    {"type": "message_start", "message": {"id": "msg_1", "content": []}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "é\n"}},
    {"type": "message_stop"},
]


def test_unnamed_events_are_compact_json_data_lines() -> None:
    """Chat Completions frames: one compact `data:` line per event, a blank line after each."""
    assert sse.frame({"id": "c", "choices": []}) == b'data: {"id":"c","choices":[]}\n\n'


def test_named_events_carry_their_type_on_an_event_line() -> None:
    """Anthropic and Responses frames start with `event: <type>` before the data line."""
    assert sse.frame({"type": "ping"}, named=True) == b'event: ping\ndata: {"type":"ping"}\n\n'


@pytest.mark.parametrize("event", [{"type": 7}, {"no": "type"}, [1, 2], None])
def test_events_without_a_string_type_have_no_event_line(event: Any) -> None:
    """A named stream still frames events whose type is missing or not a string, data only."""
    assert sse.frame(event, named=True).startswith(b"data: ")


def test_raw_strings_go_out_as_they_are() -> None:
    """Strings are sent verbatim (comments, truncated events), lone surrogates included."""
    assert sse.frame(": keep-alive") == b": keep-alive\n\n"
    assert sse.frame("data: \udc80") == "data: \udc80\n\n".encode("utf-8", "surrogatepass")


def test_done_ends_the_stream_only_when_asked() -> None:
    """`[DONE]` closes OpenAI chat streams; Anthropic and Responses streams end without it."""
    assert sse.encode(EVENTS, done=True).endswith(b"\n\ndata: [DONE]\n\n")
    assert not sse.encode(EVENTS).endswith(sse.DONE)


@pytest.mark.parametrize("named", [True, False])
def test_decode_reads_back_what_encode_wrote(named: bool) -> None:
    """Decoding an encoded stream gives the events back, `[DONE]` and raw comments skipped."""
    body = sse.encode([": hello", *EVENTS], named=named, done=True)
    assert sse.decode(body) == EVENTS


def test_decode_follows_the_event_stream_format() -> None:
    """CRLF line ends, multi-line data and fields other than data are handled as the spec says."""
    body = 'id: 1\r\nevent: x\r\ndata: {"a":\r\ndata: 1}\r\n\r\nretry: 5\r\n\r\ndata:{"b":2}\n\n'
    assert sse.decode(body) == [{"a": 1}, {"b": 2}]
