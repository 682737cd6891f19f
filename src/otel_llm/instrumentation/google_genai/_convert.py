"""google-genai contents, parts and candidates in the upstream GenAI message shapes.

Built only when content is captured (or read by an online evaluator). Inline data (images,
audio, documents sent or returned as bytes) is recorded as a reference, never its bytes: its
MIME type, modality and size.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from otel_llm.instrumentation.parts import (
    Message,
    Part,
    generic,
    reasoning,
    text,
    tool_call,
    tool_call_response,
    tool_definition,
    uri,
)

__all__ = [
    "enum_value",
    "field",
    "finish_reason",
    "has_function_call",
    "input_messages",
    "output_messages",
    "prompt_blocked",
    "sequence",
    "system_instructions",
    "to_part",
    "tool_definitions",
]


# --- reading SDK objects and user dicts --------------------------------------------------------
@functools.cache
def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


_MAPPING_TYPES: dict[type, bool] = {}


def _is_mapping(kind: type) -> bool:
    known = _MAPPING_TYPES.get(kind)
    if known is None:
        known = _MAPPING_TYPES[kind] = issubclass(kind, Mapping)
    return known


def field(obj: Any, name: str) -> Any:
    """Field `name` of an SDK model, or of a user dict in snake_case or camelCase (both work)."""
    kind = type(obj)
    if kind is dict:
        value = obj.get(name)
        return obj.get(_camel(name)) if value is None and "_" in name else value
    value = getattr(obj, name, None)
    # Most fields of an SDK model are None: the Mapping check is cached per type, not per call.
    if value is None and _is_mapping(kind):
        value = obj.get(name)
        return obj.get(_camel(name)) if value is None else value
    return value


def sequence(value: Any) -> Sequence[Any]:
    """`value` if it is a list or tuple, else empty (a user's generator is never consumed)."""
    return value if isinstance(value, list | tuple) else ()


def enum_value(value: Any) -> str | None:
    """An SDK enum member's value, or a string as it came in raw JSON; None if neither."""
    if isinstance(value, Enum):
        value = value.value
    return value if isinstance(value, str) and value else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --- parts ---------------------------------------------------------------------------------------
_ROLES = {"model": "assistant", "user": "user", "function": "tool", "tool": "tool"}
_MODALITIES = frozenset({"image", "video", "audio"})


def _modality(mime: Any) -> str:
    kind = mime.split("/", 1)[0] if isinstance(mime, str) else ""
    return kind if kind in _MODALITIES else "document"


def _size(data: Any) -> int | None:
    """How many bytes inline data holds: raw bytes (the SDK's), or base64 text (a user dict)."""
    if isinstance(data, bytes | bytearray):
        return len(data)
    if isinstance(data, memoryview):
        return data.nbytes
    if isinstance(data, str):
        padding = len(data) - len(data.rstrip("="))
        return max(len(data) * 3 // 4 - padding, 0)
    return None


def _inline(blob: Any) -> Part:
    """Inline bytes as a reference: MIME type, modality and size, never the bytes themselves."""
    mime = field(blob, "mime_type")
    part = generic("inline_data", modality=_modality(mime))
    if isinstance(mime, str) and mime:
        part["mime_type"] = mime
    size = _size(field(blob, "data"))
    if size is not None:
        part["size"] = size
    return part


def _uri(url: Any, mime: Any, kind: str) -> Part:
    part = uri(url, _modality(mime), kind)
    if part["type"] == "uri" and isinstance(mime, str) and mime:
        part["mime_type"] = mime
    return part


def _server_call(kind: str, call_id: Any, details: dict[str, Any]) -> Part:
    return generic(
        "server_tool_call",
        id=_string(call_id),
        name=kind,
        server_tool_call={"type": kind, **details},
    )


def _server_result(kind: str, call_id: Any, details: dict[str, Any]) -> Part:
    return generic(
        "server_tool_call_response",
        id=_string(call_id),
        server_tool_call_response={"type": kind, **details},
    )


def _text(part: Any, value: str) -> Part | None:
    if not value and field(part, "thought_signature") is not None:
        return None  # an empty text carrying only a signature (streams end with one)
    return reasoning(value) if field(part, "thought") is True else text(value)


def to_part(part: Any) -> Part | None:  # noqa: PLR0911 - one flat dispatch over the part kinds
    """One google-genai part (SDK object, dict or str) as an upstream part; None if empty."""
    if isinstance(part, str):
        return text(part)
    value = field(part, "text")
    if isinstance(value, str):
        return _text(part, value)
    if (call := field(part, "function_call")) is not None:
        return tool_call(field(call, "id"), field(call, "name"), field(call, "args"), parse=False)
    if (result := field(part, "function_response")) is not None:
        return tool_call_response(field(result, "id"), field(result, "response"))
    if (blob := field(part, "inline_data")) is not None:
        return _inline(blob)
    if (file := field(part, "file_data")) is not None:
        return _uri(field(file, "file_uri"), field(file, "mime_type"), "file_data")
    if (code := field(part, "executable_code")) is not None:
        details = {"code": field(code, "code"), "language": enum_value(field(code, "language"))}
        return _server_call("code_execution", field(code, "id"), details)
    if (outcome := field(part, "code_execution_result")) is not None:
        details = {
            "outcome": enum_value(field(outcome, "outcome")),
            "output": field(outcome, "output"),
        }
        return _server_result("code_execution", field(outcome, "id"), details)
    if (call := field(part, "tool_call")) is not None:  # Gemini 3 built-in tools
        kind = (enum_value(field(call, "tool_type")) or "tool").lower()
        return _server_call(kind, field(call, "id"), {"arguments": field(call, "args")})
    if (result := field(part, "tool_response")) is not None:
        kind = (enum_value(field(result, "tool_type")) or "tool").lower()
        return _server_result(kind, field(result, "id"), {"response": field(result, "response")})
    if isinstance(field(part, "uri"), str):  # a types.File from client.files.upload
        return _uri(field(part, "uri"), field(part, "mime_type"), "file")
    if "image" in type(part).__name__.lower():  # a PIL image: its bytes are only encoded on send
        return generic("image", modality="image")
    return None


def _parts(parts: Any) -> list[Part]:
    return [p for p in map(to_part, sequence(parts)) if p is not None]


# --- messages ----------------------------------------------------------------------------------
def _is_content(item: Any) -> bool:
    if isinstance(item, Mapping):
        return not item or "parts" in item or "role" in item
    return hasattr(item, "parts") and hasattr(item, "role")


def _add_content(messages: list[Message], content: Any) -> None:
    raw = field(content, "role")
    role = _ROLES.get(raw, raw) if isinstance(raw, str) and raw else "user"
    start = len(messages)
    for part in _parts(field(content, "parts")):
        # Function responses travel in user turns; upstream puts tool results in tool messages.
        part_role = "tool" if part["type"] == "tool_call_response" else role
        if len(messages) > start and messages[-1]["role"] == part_role:
            messages[-1]["parts"].append(part)
        else:
            messages.append({"role": part_role, "parts": [part]})
    if len(messages) == start:
        messages.append({"role": role, "parts": []})


def _calls_function(item: Any) -> bool:
    return not isinstance(item, str) and field(item, "function_call") is not None


def input_messages(contents: Any) -> list[Message]:
    """`contents` as input messages, grouped the way the SDK groups loose parts into turns.

    A string, a part, a Content or a list of any of them; consecutive loose parts make one
    turn (a model turn when they call functions), a nested list one user turn.
    """
    if contents is None:
        return []
    items = contents if isinstance(contents, list | tuple) else [contents]
    messages: list[Message] = []
    loose: list[Any] = []

    def flush() -> None:
        if loose:
            role = "model" if any(map(_calls_function, loose)) else "user"
            _add_content(messages, {"role": role, "parts": list(loose)})
            loose.clear()

    for item in items:
        if isinstance(item, list | tuple):
            flush()
            _add_content(messages, {"role": "user", "parts": item})
        elif not isinstance(item, str) and _is_content(item):
            flush()
            _add_content(messages, item)
        else:
            if loose and _calls_function(item) != any(map(_calls_function, loose)):
                flush()
            loose.append(item)
    flush()
    return messages


def system_instructions(instruction: Any) -> list[Part] | None:
    """`config.system_instruction` (a string, part(s) or a Content) as parts; None if empty."""
    if instruction is None:
        return None
    if not isinstance(instruction, str) and _is_content(instruction):
        instruction = field(instruction, "parts")
    items = instruction if isinstance(instruction, list | tuple) else [instruction]
    return _parts(items) or None


def _tool_kinds(tool: Any) -> list[str]:
    """The built-in tools (google_search, code_execution, ...) a Tool enables, snake_case."""
    if isinstance(tool, Mapping):
        names = [k for k, v in tool.items() if v is not None and isinstance(k, str)]
    else:
        fields = getattr(type(tool), "model_fields", {})
        names = [name for name in fields if getattr(tool, name, None) is not None]
    snake = ("".join(f"_{c.lower()}" if c.isupper() else c for c in name) for name in names)
    return [name for name in snake if name != "function_declarations"]


def tool_definitions(tools: Any) -> list[Part] | None:
    """`config.tools` as tool definitions: function declarations, callables, built-in tools."""
    out: list[Part] = []
    for tool in sequence(tools):
        if callable(tool) and not isinstance(tool, Mapping):  # automatic function calling
            doc = getattr(tool, "__doc__", None)
            description = doc.strip() if isinstance(doc, str) else None
            out.append(tool_definition("function", getattr(tool, "__name__", None), description))
            continue
        for declaration in sequence(field(tool, "function_declarations")):
            name, description = field(declaration, "name"), field(declaration, "description")
            out.append(tool_definition("function", name, description))
        out.extend(tool_definition(kind, None) for kind in _tool_kinds(tool))
    return out or None


# --- finish reasons ----------------------------------------------------------------------------
CONTENT_FILTER = "content_filter"
_FILTERED = """SAFETY RECITATION LANGUAGE BLOCKLIST PROHIBITED_CONTENT SPII IMAGE_SAFETY
IMAGE_PROHIBITED_CONTENT IMAGE_RECITATION MODEL_ARMOR ESCALATION PUP_LIMITED_DISABLED"""
_FAILED = """FINISH_REASON_UNSPECIFIED OTHER MALFORMED_FUNCTION_CALL UNEXPECTED_TOOL_CALL
MISSING_THOUGHT_SIGNATURE MALFORMED_RESPONSE IMAGE_OTHER NO_IMAGE"""
FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "CONTINUATION": "length",  # the per-request token limit, automatic continuation switched off
    **dict.fromkeys(_FILTERED.split(), CONTENT_FILTER),
    **dict.fromkeys(_FAILED.split(), "error"),
}
"""Gemini's finish reasons in upstream terms (unknown ones pass through in lower case)."""


def finish_reason(reason: Any, called: bool = False) -> str:
    """A candidate's finish reason in upstream terms.

    Gemini ends a turn that calls functions with STOP; `called` turns that into `tool_call`, as
    the other providers report it. A missing reason means the candidate never finished.
    """
    name = enum_value(reason)
    if name is None:
        return "error"
    mapped = FINISH_REASONS.get(name.upper(), name.lower())
    return "tool_call" if called and mapped == "stop" else mapped


def has_function_call(candidate: Any) -> bool:
    """Whether a candidate's content calls a function (Gemini then still says STOP)."""
    parts = sequence(field(field(candidate, "content"), "parts"))
    return any(field(part, "function_call") is not None for part in parts)


def prompt_blocked(response: Any) -> bool:
    """Whether the prompt itself was blocked (the response then has no candidates)."""
    return enum_value(field(field(response, "prompt_feedback"), "block_reason")) is not None


def output_messages(candidates: Any) -> list[Message]:
    """One assistant output message per candidate."""
    return [
        {
            "role": "assistant",
            "parts": _parts(field(field(c, "content"), "parts")),
            "finish_reason": finish_reason(field(c, "finish_reason"), has_function_call(c)),
        }
        for c in sequence(candidates)
    ]
