"""Hypothesis strategies: provider payloads with missing, None, unknown and mistyped fields."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from tests.instrumentation import _fakes as fakes

Path = tuple[str | int, ...]

ODD_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(-5, 5), max_size=2),
)
"""JSON values of every type, for fields that should hold something else."""

REASONS: st.SearchStrategy[Any] = st.sampled_from(
    [
        "stop",
        "length",
        "tool_calls",
        "function_call",
        "content_filter",
        "end_turn",
        "max_tokens",
        "tool_use",
        "pause_turn",
        "refusal",
        "",
    ]
) | st.text(max_size=10)
"""Known and unknown finish/stop reasons."""

MALFORMED_EVENTS: st.SearchStrategy[str] = st.sampled_from(
    [
        'data: {"id": "chatcmpl-cut", "choi',
        "data: not json",
        "data: ",
        "data: null",
        "data: 42",
        "data: []",
        ": keep-alive comment",
        "retry: 10",
        "id: 7",
        'data: {"error": {"message": "overloaded"}}',
        'data: {"error": "plain"}',
        'event: error\ndata: {"error": {"message": "boom"}}',
        'event: ping\ndata: {"type": "ping"}',
        'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
        '"message": "Overloaded"}}',
        "data: [DONE]",
    ]
) | st.text(max_size=30).map(lambda text: f"data: {text}")
"""Raw server-sent events that are truncated, not JSON, errors, or noise."""

TAILS: st.SearchStrategy[bytes] = st.sampled_from(
    [b"data: [DONE]\n\n", b"", b'data: {"id": "cut-mid-event", "ch', b"\n\n"]
)
"""How a stream ends: properly, abruptly, mid-event."""


def with_usage(body: dict[str, Any], **usage: Any) -> bytes:
    """`body` (a response with `usage`) with some usage fields replaced, as JSON bytes."""
    return json.dumps({**body, "usage": {**body["usage"], **usage}}).encode()


def _slots(value: Any, path: Path = ()) -> list[Path]:
    """The path of every field and list item in `value`, outermost first."""
    slots: list[Path] = []
    items: Any = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        slots.append((*path, key))
        slots.extend(_slots(item, (*path, key)))
    return slots


def _at(value: Any, path: Path) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def mutated(draw: st.DrawFn, base: Any, max_mutations: int = 4) -> Any:
    """`base` with up to `max_mutations` fields deleted, nulled, retyped, or given siblings."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.integers(0, max_mutations))):
        slots = _slots(value)
        if not slots:
            break
        path = draw(st.sampled_from(slots))
        parent, key = _at(value, path[:-1]), path[-1]
        action = draw(st.sampled_from(("delete", "null", "odd", "reason", "extra")))
        if action == "delete":
            del parent[key]
        elif action == "null":
            parent[key] = None
        elif action == "odd":
            parent[key] = draw(ODD_VALUES)
        elif action == "reason":
            parent[key] = draw(REASONS)
        elif isinstance(parent, dict):  # an unknown field next to a known one
            parent[draw(st.text(min_size=1, max_size=8))] = draw(ODD_VALUES)
    return value


def _tool_call_body() -> dict[str, Any]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup", "arguments": '{"id": "A-1"}'},
    }
    return fakes.chat_completion(content=None, finish_reason="tool_calls", tool_calls=[call])


CHAT_BODIES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            fakes.chat_completion(),
            fakes.chat_completion(choices=2, finish_reason="length"),
            _tool_call_body(),
            {**fakes.chat_completion(), "choices": []},
        ]
    ).flatmap(mutated),
    ODD_VALUES,  # not an object at all
)
"""Chat Completions response bodies."""


def _tool_call_chunks() -> list[dict[str, Any]]:
    chunks = fakes.chat_chunks(("",), usage=True)
    delta = {
        "tool_calls": [
            {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"id": '},
            }
        ]
    }
    more = {"tool_calls": [{"index": 0, "function": {"arguments": '"A-1"}'}}]}
    chunks[1]["choices"][0]["delta"] = delta
    chunks.insert(2, {**chunks[1], "choices": [{"index": 0, "delta": more}]})
    return chunks


@st.composite
def event_streams(
    draw: st.DrawFn, bases: list[list[dict[str, Any]]]
) -> tuple[list[str | dict[str, Any]], bytes]:
    """A mutated list of events with raw malformed events inserted, and how the stream ends."""
    events: list[str | dict[str, Any]] = list(draw(st.sampled_from(bases).flatmap(mutated)))
    for _ in range(draw(st.integers(0, 2))):
        position = draw(st.integers(0, len(events)))
        events.insert(position, draw(MALFORMED_EVENTS))
    return events, draw(TAILS)


CHAT_STREAMS = event_streams([fakes.chat_chunks(), _tool_call_chunks()])
"""Chat Completions chunk streams."""


def _responses_events() -> list[dict[str, Any]]:
    blocks = fakes.responses_events().decode().strip().split("\n\n")
    return [json.loads(block.split("data: ", 1)[1]) for block in blocks]


def responses_events_with_usage(**usage: Any) -> list[dict[str, Any]]:
    """A streamed Responses call whose completed event carries `usage` fields replaced."""
    events = _responses_events()
    final = events[-1]["response"]
    final["usage"] = {**final["usage"], **usage}
    return events


def _function_call_response() -> dict[str, Any]:
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "lookup",
        "arguments": '{"id": "A-1"}',
        "status": "completed",
    }
    return {**fakes.responses_body(), "output": [call]}


def _incomplete_response() -> dict[str, Any]:
    body = fakes.responses_body(status="incomplete")
    return {**body, "incomplete_details": {"reason": "max_output_tokens"}}


RESPONSES_BODIES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [fakes.responses_body(), _function_call_response(), _incomplete_response()]
    ).flatmap(mutated),
    ODD_VALUES,
)
"""Responses API bodies."""

RESPONSES_STREAMS = event_streams([_responses_events()])
"""Responses API event streams."""


def _tool_use_message() -> dict[str, Any]:
    tool = {"id": "toolu_1", "name": "lookup", "input": {"id": "A-1"}}
    return fakes.anthropic_message(stop_reason="tool_use", tool_use=tool)


ANTHROPIC_BODIES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            fakes.anthropic_message(),
            _tool_use_message(),
            {**fakes.anthropic_message(), "content": []},
        ]
    ).flatmap(mutated),
    ODD_VALUES,
)
"""Anthropic Messages bodies."""


def _tool_use_events() -> list[dict[str, Any]]:
    events = fakes.anthropic_events(())
    block = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
    events[1] = {"type": "content_block_start", "index": 0, "content_block": block}
    delta = {"type": "input_json_delta", "partial_json": '{"id": "A-1"}'}
    events.insert(2, {"type": "content_block_delta", "index": 0, "delta": delta})
    return events


ANTHROPIC_STREAMS = event_streams([fakes.anthropic_events(), _tool_use_events()])
"""Anthropic raw Messages stream events."""
