"""OpenAI Responses API payloads: ``response`` objects, their output items and stream events."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from itertools import count
from typing import Any, Final

from otel_llm.payloads._common import Json, deltas, fragments, obfuscation

__all__ = [
    "MODEL",
    "TEXT",
    "function_call",
    "output_message",
    "reasoning_item",
    "response",
    "response_events",
    "usage",
]

MODEL: Final = "gpt-4o-2024-08-06"
TEXT: Final = "It ships today."
"""The canonical reply."""


def usage(
    input_tokens: int = 30,
    output_tokens: int = 5,
    *,
    cached_tokens: int = 10,
    reasoning_tokens: int = 2,
) -> Json:
    """A Responses ``usage``, with cached input and reasoning output tokens."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


_usage = usage  # for the functions whose `usage` argument hides it
_FAILURE: Final = {
    "code": "server_error",
    "message": "An error occurred while processing your request. Please retry.",
}


def output_message(
    text: str = TEXT,
    *,
    id: str = "msg_67ccd2bf17f0819081ff3bb2cf6508e6",
    status: str = "completed",
) -> Json:
    """An assistant ``message`` output item with one ``output_text`` part."""
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    return {"id": id, "type": "message", "status": status, "content": [part], "role": "assistant"}


def function_call(
    name: str = "get_order_status",
    arguments: str | Mapping[str, Any] = '{"order_id":"A-1"}',
    *,
    call_id: str = "call_Qx9bTq3lN7pR2vW8yZ1aC4dE",
    id: str = "fc_67ccd2bf5b2c8190a1d2e3f4a5b6c7d8",
    status: str = "completed",
) -> Json:
    """A ``function_call`` output item: the model asks the caller to run a tool."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "id": id,
        "type": "function_call",
        "status": status,
        "arguments": text,
        "call_id": call_id,
        "name": name,
    }


def reasoning_item(
    summary: Sequence[str] = (),
    *,
    id: str = "rs_67ccd2bf0a8c8190b4e2f2c2c1a0d6e5",
) -> Json:
    """A ``reasoning`` output item; its `summary` parts only when one was asked for."""
    parts = [{"type": "summary_text", "text": text} for text in summary]
    return {"id": id, "type": "reasoning", "summary": parts}


def response(
    output: Sequence[Json] | None = None,
    *,
    status: str = "completed",
    id: str = "resp_67ccd2bed1ec8190",
    model: str = MODEL,
    created_at: int = 1741476542,
    usage: Json | None = None,
    incomplete_details: Json | None = None,
    instructions: str | None = None,
) -> Json:
    """A ``response`` object (the body of ``responses.create``), every field the API sends.

    Default output: one `output_message`. An ``incomplete`` response says why
    (``max_output_tokens`` unless `incomplete_details` is given), a ``failed`` one has an error.
    """
    if status == "incomplete" and incomplete_details is None:
        incomplete_details = {"reason": "max_output_tokens"}
    items = [output_message()] if output is None else output
    return {
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "completed_at": created_at + 2 if status == "completed" else None,
        "error": _FAILURE if status == "failed" else None,
        "incomplete_details": incomplete_details,
        "instructions": instructions,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": model,
        "output": [json.loads(json.dumps(item)) for item in items],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": _usage() if usage is None else usage,
        "user": None,
        "metadata": {},
    }


_ENDINGS: Final = frozenset({"completed", "incomplete", "failed"})
"""Statuses that end a stream with an event of their own name (``response.incomplete``)."""

_Event = Callable[..., Json]


def response_events(final: Json | None = None, pieces: Sequence[str] | None = None) -> list[Json]:
    """The events of a streamed Responses call that ends in `final` (default: `response()`).

    In the API's order: ``response.created`` and ``response.in_progress`` (no output, no usage),
    then per output item ``output_item.added``, its content as deltas (message text, function
    call arguments in fragments, reasoning summary), ``output_item.done``, and last
    ``response.completed`` (``.incomplete``, ``.failed``) carrying `final`. `pieces` are the
    deltas of the first ``output_text`` (default: its words).
    """
    final = response() if final is None else final
    numbers = count()

    def event(kind: str, **fields: object) -> Json:
        return {"type": f"response.{kind}", **fields, "sequence_number": next(numbers)}

    started = {**final, "status": "in_progress", "output": [], "usage": None}
    started.update(completed_at=None, incomplete_details=None, error=None)
    events = [event("created", response=started), event("in_progress", response=started)]
    for index, item in enumerate(final.get("output") or []):
        kind = item.get("type")
        if kind == "message":
            events += _message_events(event, item, index, pieces)
            pieces = None  # only the first message is cut as the caller asked
        elif kind == "function_call":
            events += _function_call_events(event, item, index)
        elif kind == "reasoning":
            events += _reasoning_events(event, item, index)
        else:
            events.append(event("output_item.added", item=item, output_index=index))
        events.append(event("output_item.done", item=item, output_index=index))
    status = final.get("status")
    events.append(event(status if status in _ENDINGS else "completed", response=final))
    return events


def _message_events(
    event: _Event, item: Json, index: int, pieces: Sequence[str] | None
) -> list[Json]:
    added = {**item, "status": "in_progress", "content": []}
    events = [event("output_item.added", item=added, output_index=index)]
    for part_index, part in enumerate(item.get("content") or []):
        at = {"item_id": item.get("id"), "output_index": index, "content_index": part_index}
        text = str(part.get("text", ""))
        events.append(event("content_part.added", **at, part={**part, "text": ""}))
        for piece in deltas(text, pieces if part_index == 0 else None):
            padding = obfuscation(len(events))
            events.append(
                event("output_text.delta", **at, delta=piece, logprobs=[], obfuscation=padding)
            )
        events.append(event("output_text.done", **at, logprobs=[], text=text))
        events.append(event("content_part.done", **at, part=part))
    return events


def _function_call_events(event: _Event, item: Json, index: int) -> list[Json]:
    added = {**item, "status": "in_progress", "arguments": ""}
    events = [event("output_item.added", item=added, output_index=index)]
    at = {"item_id": item.get("id"), "output_index": index}
    arguments = str(item.get("arguments", ""))
    for piece in fragments(arguments):
        padding = obfuscation(len(events))
        events.append(
            event("function_call_arguments.delta", **at, delta=piece, obfuscation=padding)
        )
    events.append(event("function_call_arguments.done", **at, arguments=arguments))
    return events


def _reasoning_events(event: _Event, item: Json, index: int) -> list[Json]:
    events = [event("output_item.added", item={**item, "summary": []}, output_index=index)]
    for summary_index, part in enumerate(item.get("summary") or []):
        at = {"item_id": item.get("id"), "output_index": index, "summary_index": summary_index}
        text = str(part.get("text", ""))
        events.append(event("reasoning_summary_part.added", **at, part={**part, "text": ""}))
        for piece in deltas(text):
            padding = obfuscation(len(events))
            events.append(
                event("reasoning_summary_text.delta", **at, delta=piece, obfuscation=padding)
            )
        events.append(event("reasoning_summary_text.done", **at, text=text))
        events.append(event("reasoning_summary_part.done", **at, part=part))
    return events
