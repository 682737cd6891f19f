"""Hypothesis strategies: provider payloads with missing, None, unknown and mistyped fields.

The payloads mutated here are otel_llm.payloads' recorded shapes; only the mutations live here.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from otel_llm.payloads import anthropic as anthropic_payloads
from otel_llm.payloads import openai as openai_payloads
from otel_llm.payloads import openai_responses

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


_TOOL_CALL = openai_payloads.tool_call("lookup", {"id": "A-1"}, id="call_1")

CHAT_BODIES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            openai_payloads.chat_completion(),
            openai_payloads.chat_completion(choices=2, finish_reason="length"),
            openai_payloads.chat_completion(None, tool_calls=[_TOOL_CALL]),
            {**openai_payloads.chat_completion(), "choices": []},
        ]
    ).flatmap(mutated),
    ODD_VALUES,  # not an object at all
)
"""Chat Completions response bodies."""


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


CHAT_STREAMS = event_streams(
    [
        openai_payloads.chat_chunks(),
        openai_payloads.chat_chunks(tool_calls=[_TOOL_CALL]),
        openai_payloads.azure_chat_chunks(),
    ]
)
"""Chat Completions chunk streams (Azure's, with its prompt-filter chunk, among them)."""


def responses_events_with_usage(**usage: Any) -> list[dict[str, Any]]:
    """A streamed Responses call whose completed event carries `usage` fields replaced."""
    final = openai_responses.response(usage={**openai_responses.usage(), **usage})
    return openai_responses.response_events(final)


_FUNCTION_CALL_RESPONSE = openai_responses.response([openai_responses.function_call()])
_REASONING_RESPONSE = openai_responses.response(
    [openai_responses.reasoning_item(["Checking the order."]), openai_responses.output_message()]
)

RESPONSES_BODIES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            openai_responses.response(),
            _FUNCTION_CALL_RESPONSE,
            _REASONING_RESPONSE,
            openai_responses.response(status="incomplete"),
        ]
    ).flatmap(mutated),
    ODD_VALUES,
)
"""Responses API bodies."""

RESPONSES_STREAMS = event_streams(
    [
        openai_responses.response_events(),
        openai_responses.response_events(_FUNCTION_CALL_RESPONSE),
        openai_responses.response_events(_REASONING_RESPONSE),
    ]
)
"""Responses API event streams."""

_TOOL_USE_MESSAGE = anthropic_payloads.message(
    [anthropic_payloads.tool_use_block("lookup", {"id": "A-1"}, id="toolu_1")]
)
_THINKING_MESSAGE = anthropic_payloads.message(
    [anthropic_payloads.thinking_block(), anthropic_payloads.text_block()]
)

ANTHROPIC_BODIES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            anthropic_payloads.message(),
            _TOOL_USE_MESSAGE,
            _THINKING_MESSAGE,
            {**anthropic_payloads.message(), "content": []},
        ]
    ).flatmap(mutated),
    ODD_VALUES,
)
"""Anthropic Messages bodies."""

ANTHROPIC_STREAMS = event_streams(
    [
        anthropic_payloads.message_events(),
        anthropic_payloads.message_events(_TOOL_USE_MESSAGE),
        anthropic_payloads.message_events(_THINKING_MESSAGE),
    ]
)
"""Anthropic raw Messages stream events."""
