"""OpenAI Chat Completions and Responses content in the upstream GenAI message shapes."""

from __future__ import annotations

from typing import Any

from otel_llm.instrumentation import parts
from otel_llm.instrumentation.parts import (
    Message,
    Part,
    append,
    blob,
    file,
    generic,
    reasoning,
    text,
    tool_call,
    tool_call_response,
    tool_definition,
    uri,
)
from otel_llm.instrumentation.types import get_field as _get

_seq, _s, _opt = parts.sequence, parts.string, parts.optional_string

FINISH_REASONS = {"tool_calls": "tool_call", "function_call": "tool_call"}
"""OpenAI's finish reasons that upstream names differently (the rest pass through)."""


def finish_reason(reason: str | None) -> str:
    """An OpenAI finish_reason in upstream terms; a missing one means the call failed."""
    # As parts.finish_reason, inline: it runs for every choice of every reply.
    return FINISH_REASONS.get(reason, reason) if isinstance(reason, str) else "error"


# --- content blocks ---------------------------------------------------------------------------
def _file(src: object, modality: str, kind: object) -> Part:
    file_id = _get(src, "file_id")
    if isinstance(file_id, str):
        return file(file_id, modality)
    data = _get(src, "file_data")
    if isinstance(data, str) and not data.startswith("data:"):
        return blob(modality, data)
    return uri(data if isinstance(data, str) else _get(src, "file_url"), modality, kind)


def _part(block: object) -> Part:  # noqa: PLR0911 - one flat dispatch over every block type
    """One Chat Completions or Responses content block as a part; unknown types stay generic."""
    if isinstance(block, str):
        return text(block)
    kind = _get(block, "type")
    if kind in ("text", "input_text", "output_text"):
        return text(_get(block, "text"))
    if kind == "refusal":
        return generic("refusal", content=_s(_get(block, "refusal")))
    if kind == "image_url":
        return uri(_get(_get(block, "image_url"), "url"), "image", kind)
    if kind == "input_image":
        if isinstance(_get(block, "file_id"), str):
            return _file(block, "image", kind)
        return uri(_get(block, "image_url"), "image", kind)
    if kind in ("file", "input_file"):
        return _file(_get(block, "file") if kind == "file" else block, "document", kind)
    if kind == "input_audio":
        audio = _get(block, "input_audio")
        fmt = _get(audio, "format")
        mime = f"audio/{fmt}" if isinstance(fmt, str) else None
        return blob("audio", _get(audio, "data"), mime)
    # Generic part, e.g. a built-in tool call; name and id say which call it was.
    return generic(kind, **{k: v for k in ("id", "name") if isinstance(v := _get(block, k), str)})


def _parts(content: object) -> list[Part]:
    if isinstance(content, str):
        return [text(content)] if content else []
    return [_part(block) for block in _seq(content)]


def _response_value(content: object) -> object:
    """A tool result: strings as given, all-text block lists joined, other lists as parts."""
    if not isinstance(content, list | tuple):
        return content
    blocks = [_part(block) for block in content]
    if all(p["type"] == "text" for p in blocks):
        return "".join(p["content"] for p in blocks)
    return blocks


# --- Chat Completions -------------------------------------------------------------------------
def _tool_call(call: object) -> Part:
    if _get(call, "type") == "custom":
        custom = _get(call, "custom")
        return tool_call(_get(call, "id"), _get(custom, "name"), _get(custom, "input"), parse=False)
    function = _get(call, "function")
    return tool_call(_get(call, "id"), _get(function, "name"), _get(function, "arguments"))


def _chat_parts(message: object) -> list[Part]:
    found = _parts(_get(message, "content"))
    refusal = _get(message, "refusal")
    if isinstance(refusal, str):
        found.append(generic("refusal", content=refusal))
    found.extend(_tool_call(call) for call in _seq(_get(message, "tool_calls")))
    legacy = _get(message, "function_call")
    if legacy is not None:
        found.append(tool_call(None, _get(legacy, "name"), _get(legacy, "arguments")))
    return found


def chat_input(messages: object) -> list[Message]:
    """Chat Completions `messages` (system/developer messages included) as input messages."""
    out: list[Message] = []
    for message in _seq(messages):
        role = _s(_get(message, "role")) or "user"
        if role in ("tool", "function"):
            content = _response_value(_get(message, "content"))
            found = [tool_call_response(_get(message, "tool_call_id"), content)]
            role = "tool"
        else:
            found = _chat_parts(message)
        entry: Message = {"role": role, "parts": found}
        name = _get(message, "name")
        if isinstance(name, str):
            entry["name"] = name
        out.append(entry)
    return out


def chat_output(choices: object) -> list[Message]:
    """One output message per Chat Completions choice."""
    return [
        {
            "role": _s(_get(_get(choice, "message"), "role")) or "assistant",
            "parts": _chat_parts(_get(choice, "message")),
            "finish_reason": finish_reason(_opt(_get(choice, "finish_reason"))),
        }
        for choice in _seq(choices)
    ]


def tool_definitions(tools: object) -> list[Part]:
    """Chat (nested `function`) or Responses (flat) tools; built-in tools are named by type."""
    out: list[Part] = []
    for tool in _seq(tools):
        kind = _s(_get(tool, "type")) or "function"
        nested = _get(tool, kind) if kind in ("function", "custom") else None
        spec = tool if nested is None else nested
        out.append(tool_definition(kind, _get(spec, "name"), _get(spec, "description")))
    return out


# --- Responses --------------------------------------------------------------------------------
def _responses_call(item: object) -> Part:
    if _get(item, "type") == "custom_tool_call":
        return tool_call(
            _get(item, "call_id"), _get(item, "name"), _get(item, "input"), parse=False
        )
    return tool_call(_get(item, "call_id"), _get(item, "name"), _get(item, "arguments"))


def _reasoning(item: object) -> list[Part]:
    texts = [_get(s, "text") for s in _seq(_get(item, "summary"))]
    texts = texts or [_get(c, "text") for c in _seq(_get(item, "content"))]
    return [reasoning(t) for t in texts if isinstance(t, str) and t]


def responses_input(items: object) -> list[Message]:
    """Responses `input`: a string (one user message) or a list of messages and items."""
    if isinstance(items, str):
        return [{"role": "user", "parts": [text(items)]}]
    out: list[Message] = []
    for item in _seq(items):
        kind = _get(item, "type")
        role = _get(item, "role")
        if kind == "message" or (kind is None and role is not None):
            out.append({"role": _s(role) or "user", "parts": _parts(_get(item, "content"))})
        elif kind in ("function_call", "custom_tool_call"):
            append(out, "assistant", _responses_call(item))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            result = _response_value(_get(item, "output"))
            append(out, "tool", tool_call_response(_get(item, "call_id"), result))
        elif kind == "reasoning":
            for part in _reasoning(item):
                append(out, "assistant", part)
    return out


def responses_system(instructions: object) -> list[Part] | None:
    """Responses `instructions` (a string or a list of messages) as text parts; None if empty."""
    if isinstance(instructions, str):
        return [text(instructions)] if instructions else None
    found: list[Part] = []
    for item in _seq(instructions):
        content = _get(item, "content")
        found.extend(_parts(content) if content is not None else [_part(item)])
    return found or None


_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def responses_output(response: Any) -> list[Message]:
    """All `response.output` items as ONE assistant message, as the API returns one choice."""
    found: list[Part] = []
    called = False
    for item in _seq(_get(response, "output")):
        kind = _get(item, "type")
        if kind == "message":
            found.extend(_parts(_get(item, "content")))
        elif kind in ("function_call", "custom_tool_call"):
            found.append(_responses_call(item))
            called = True
        elif kind == "reasoning":
            found.extend(_reasoning(item))
        elif isinstance(kind, str):
            found.append(_part(item))  # built-in tool calls such as web_search_call: generic
    incomplete = _INCOMPLETE.get(_s(_get(_get(response, "incomplete_details"), "reason")))
    finish = incomplete or ("tool_call" if called else "stop")
    if _get(response, "status") == "failed":
        finish = "error"
    return [{"role": "assistant", "parts": found, "finish_reason": finish}]
