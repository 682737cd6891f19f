"""Anthropic Messages content in the upstream GenAI message shapes."""

from __future__ import annotations

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

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
}
"""Anthropic's stop reasons in upstream terms (unknown ones such as pause_turn pass through)."""


def finish_reason(reason: str | None) -> str:
    """An Anthropic stop_reason in upstream terms; a missing one means the call failed."""
    # As parts.finish_reason, inline: it runs for every choice of every reply.
    return FINISH_REASONS.get(reason, reason) if isinstance(reason, str) else "error"


def _source(block: object, kind: str) -> Part:
    modality = "image" if kind == "image" else "document"
    src = _get(block, "source")
    src_type = _get(src, "type")
    if src_type == "base64":
        return blob(modality, _get(src, "data"), _get(src, "media_type"))
    if src_type == "url":
        return uri(_get(src, "url"), modality, kind)
    if src_type == "file":
        file_id = _get(src, "file_id")
        if isinstance(file_id, str):
            return file(file_id, modality)
        return uri(_get(src, "file_url"), modality, kind)
    if src_type == "text":
        return text(_get(src, "data"))
    return generic(kind)


def _part(block: object) -> Part:  # noqa: PLR0911 - one flat dispatch over every block type
    """One Messages content block as a part; unknown types (server tool use) stay generic."""
    if isinstance(block, str):
        return text(block)
    kind = _get(block, "type")
    if kind == "text":
        return text(_get(block, "text"))
    if kind in ("image", "document"):
        return _source(block, kind)
    if kind == "tool_use":
        return tool_call(_get(block, "id"), _get(block, "name"), _get(block, "input"))
    if kind == "tool_result":
        result = _response_value(_get(block, "content"))
        return tool_call_response(_get(block, "tool_use_id"), result)
    if kind == "thinking":
        return reasoning(_get(block, "thinking"))
    # Generic part, e.g. server_tool_use; name and id say which call it was.
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


def input_messages(messages: object) -> list[Message]:
    """Anthropic `messages`; tool_result blocks move to `tool` messages, keeping their order."""
    out: list[Message] = []
    for message in _seq(messages):
        role = _s(_get(message, "role")) or "user"
        split: list[Message] = []
        for part in _parts(_get(message, "content")):
            append(split, "tool" if part["type"] == "tool_call_response" else role, part)
        out.extend(split or [{"role": role, "parts": []}])
    return out


def system_instructions(system: object) -> list[Part] | None:
    """Anthropic `system` (a string or text blocks) as parts; None if empty."""
    return _parts(system) or None


def output_messages(message: object) -> list[Message]:
    """An Anthropic Message as one assistant output message."""
    return [
        {
            "role": _s(_get(message, "role")) or "assistant",
            "parts": _parts(_get(message, "content")),
            "finish_reason": finish_reason(_opt(_get(message, "stop_reason"))),
        }
    ]


def tool_definitions(tools: object) -> list[Part]:
    """Custom tools as functions; server tools (typed, e.g. web_search_20250305) as generic."""
    out: list[Part] = []
    for tool in _seq(tools):
        kind = _get(tool, "type")
        if isinstance(kind, str) and kind != "custom":
            out.append(tool_definition(kind, _get(tool, "name")))
        else:
            description = _get(tool, "description")
            out.append(tool_definition("function", _get(tool, "name"), description))
    return out
