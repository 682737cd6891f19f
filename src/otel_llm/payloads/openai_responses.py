"""OpenAI Responses API payloads: ``response`` objects, their output items and stream events."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import count
from typing import Any, Final

from otel_llm.payloads._common import Json, deltas, fragments, obfuscation

__all__ = [
    "MODEL",
    "TEXT",
    "function_call",
    "output_message",
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


def response_events(final: Json | None = None, pieces: Sequence[str] | None = None) -> list[Json]:
    """The events of a streamed Responses call that ends in `final` (default: `response()`).

    In the API's order: ``response.created`` and ``response.in_progress`` (no output, no usage),
    then per output item ``output_item.added``, its text parts with their deltas (or its
    function-call arguments in fragments), ``output_item.done``, and last ``response.completed``
    (``.incomplete``, ``.failed``) carrying `final`. `pieces` are the deltas of the first
    ``output_text`` (default: its words).
    """
    final = response() if final is None else final
    numbers = count()

    def event(kind: str, **fields: object) -> Json:
        return {"type": f"response.{kind}", **fields, "sequence_number": next(numbers)}

    started = {**final, "status": "in_progress", "output": [], "usage": None}
    started.update(completed_at=None, incomplete_details=None)
    events = [event("created", response=started), event("in_progress", response=started)]
    for index, item in enumerate(final.get("output") or []):
        where = {"item_id": item.get("id"), "output_index": index}
        if item.get("type") == "message":
            added = {**item, "status": "in_progress", "content": []}
            events.append(event("output_item.added", item=added, output_index=index))
            for part_index, part in enumerate(item.get("content") or []):
                at = {**where, "content_index": part_index}
                text = str(part.get("text", ""))
                events.append(event("content_part.added", **at, part={**part, "text": ""}))
                events += [
                    event(
                        "output_text.delta",
                        **at,
                        delta=piece,
                        logprobs=[],
                        obfuscation=obfuscation(len(events)),
                    )
                    for piece in deltas(text, pieces)
                ]
                pieces = None  # only the first text part is cut as the caller asked
                events.append(event("output_text.done", **at, logprobs=[], text=text))
                events.append(event("content_part.done", **at, part=part))
        elif item.get("type") == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            events.append(event("output_item.added", item=added, output_index=index))
            arguments = str(item.get("arguments", ""))
            events += [
                event(
                    "function_call_arguments.delta",
                    **where,
                    delta=piece,
                    obfuscation=obfuscation(len(events)),
                )
                for piece in fragments(arguments)
            ]
            events.append(event("function_call_arguments.done", **where, arguments=arguments))
        else:
            events.append(event("output_item.added", item=item, output_index=index))
        events.append(event("output_item.done", item=item, output_index=index))
    status = final.get("status")
    events.append(event(status if status in _ENDINGS else "completed", response=final))
    return events
