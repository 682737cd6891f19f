"""Provider request/response data to upstream GenAI content JSON, fitted into a byte budget."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from otel_llm._budget import REDACTION_MARGIN, Redact, truncation_marker
from otel_llm.instrumentation._model import get_field

Part = dict[str, Any]
Messages = list[dict[str, Any]]


# --- Reading provider objects ------------------------------------------------------------------
def _get(obj: object, name: str) -> object:
    """Field `name` of a Mapping (user-passed params) or an object (SDK pydantic models)."""
    return get_field(obj, name)


def _seq(value: object) -> Sequence[object]:
    # Only real sequences: iterating a user's generator here would consume their request.
    return value if isinstance(value, list | tuple) else ()


def _s(value: object) -> str:
    return value if isinstance(value, str) else ""


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _args(raw: object) -> object:
    """Tool-call arguments: parsed JSON when the string is valid JSON, else as given."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    return raw


# --- Parts -------------------------------------------------------------------------------------
def _text(text: object) -> Part:
    return {"type": "text", "content": _s(text)}


def _blob(modality: str, data: object, mime: object) -> Part:
    part: Part = {"type": "blob", "modality": modality, "content": _s(data)}
    if isinstance(mime, str) and mime:
        part["mime_type"] = mime
    return part


def _url(url: object, modality: str, kind: object) -> Part:
    """A uri part, or a blob for a base64 `data:` URL (which the schema says is not a uri)."""
    if not isinstance(url, str):
        return {"type": _s(kind) or "unknown"}
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        if header.endswith(";base64"):
            return _blob(modality, data, header[5:].split(";", 1)[0])
    return {"type": "uri", "modality": modality, "uri": url}


def _file(src: object, modality: str, kind: object) -> Part:
    file_id = _get(src, "file_id")
    if isinstance(file_id, str):
        return {"type": "file", "modality": modality, "file_id": file_id}
    data = _get(src, "file_data")
    if isinstance(data, str) and not data.startswith("data:"):
        return _blob(modality, data, None)
    return _url(data if isinstance(data, str) else _get(src, "file_url"), modality, kind)


def _source(block: object, kind: str) -> Part:
    modality = "image" if kind == "image" else "document"
    src = _get(block, "source")
    src_type = _get(src, "type")
    if src_type == "base64":
        return _blob(modality, _get(src, "data"), _get(src, "media_type"))
    if src_type == "url":
        return _url(_get(src, "url"), modality, kind)
    if src_type == "file":
        return _file(src, modality, kind)
    if src_type == "text":
        return _text(_get(src, "data"))
    return {"type": kind}


def _call(call_id: object, name: object, arguments: object, parse: bool = True) -> Part:
    args = _args(arguments) if parse else arguments
    return {"type": "tool_call", "id": _opt(call_id), "name": _s(name), "arguments": args}


def _result(call_id: object, response: object) -> Part:
    return {"type": "tool_call_response", "id": _opt(call_id), "response": response}


def _response_value(content: object) -> object:
    """A tool result: strings as given, all-text block lists joined, other lists as parts."""
    if not isinstance(content, list | tuple):
        return content
    parts = [_part(block) for block in content]
    if all(p["type"] == "text" for p in parts):
        return "".join(p["content"] for p in parts)
    return parts


def _part(block: object) -> Part:  # noqa: PLR0911 - one flat dispatch over every block type
    """One OpenAI or Anthropic content block as an upstream part; unknown types stay generic."""
    if isinstance(block, str):
        return _text(block)
    kind = _get(block, "type")
    if kind in ("text", "input_text", "output_text"):
        return _text(_get(block, "text"))
    if kind == "refusal":
        return {"type": "refusal", "content": _s(_get(block, "refusal"))}
    if kind == "image_url":
        return _url(_get(_get(block, "image_url"), "url"), "image", kind)
    if kind == "input_image":
        if isinstance(_get(block, "file_id"), str):
            return _file(block, "image", kind)
        return _url(_get(block, "image_url"), "image", kind)
    if kind in ("file", "input_file"):
        return _file(_get(block, "file") if kind == "file" else block, "document", kind)
    if kind == "input_audio":
        audio = _get(block, "input_audio")
        fmt = _get(audio, "format")
        return _blob("audio", _get(audio, "data"), f"audio/{fmt}" if isinstance(fmt, str) else None)
    if kind in ("image", "document"):
        return _source(block, kind)
    if kind == "tool_use":
        return _call(_get(block, "id"), _get(block, "name"), _get(block, "input"))
    if kind == "tool_result":
        return _result(_get(block, "tool_use_id"), _response_value(_get(block, "content")))
    if kind == "thinking":
        return {"type": "reasoning", "content": _s(_get(block, "thinking"))}
    # Generic part, e.g. Anthropic server_tool_use; name and id say which call it was.
    generic: Part = {"type": _s(kind) or "unknown"}
    generic.update((k, v) for k in ("id", "name") if isinstance(v := _get(block, k), str))
    return generic


def _parts(content: object) -> list[Part]:
    if isinstance(content, str):
        return [_text(content)] if content else []
    return [_part(block) for block in _seq(content)]


def _add(messages: Messages, role: str, part: Part) -> None:
    """Append `part` to the last message when it has `role`, else start a new message."""
    if messages and messages[-1]["role"] == role:
        messages[-1]["parts"].append(part)
    else:
        messages.append({"role": role, "parts": [part]})


# --- OpenAI Chat Completions -------------------------------------------------------------------
_OPENAI_FINISH = {"tool_calls": "tool_call", "function_call": "tool_call"}


def openai_finish_reason(reason: str | None) -> str:
    """An OpenAI finish_reason in upstream terms; a missing one means the call failed."""
    return _OPENAI_FINISH.get(reason, reason) if isinstance(reason, str) else "error"


def _openai_tool_call(call: object) -> Part:
    if _get(call, "type") == "custom":
        custom = _get(call, "custom")
        return _call(_get(call, "id"), _get(custom, "name"), _get(custom, "input"), parse=False)
    function = _get(call, "function")
    return _call(_get(call, "id"), _get(function, "name"), _get(function, "arguments"))


def _chat_parts(message: object) -> list[Part]:
    parts = _parts(_get(message, "content"))
    refusal = _get(message, "refusal")
    if isinstance(refusal, str):
        parts.append({"type": "refusal", "content": refusal})
    parts.extend(_openai_tool_call(call) for call in _seq(_get(message, "tool_calls")))
    legacy = _get(message, "function_call")
    if legacy is not None:
        parts.append(_call(None, _get(legacy, "name"), _get(legacy, "arguments")))
    return parts


def openai_chat_input(messages: object) -> Messages:
    """Chat Completions `messages` (system/developer messages included) as input messages."""
    out: Messages = []
    for message in _seq(messages):
        role = _s(_get(message, "role")) or "user"
        if role in ("tool", "function"):
            parts = [
                _result(_get(message, "tool_call_id"), _response_value(_get(message, "content")))
            ]
            role = "tool"
        else:
            parts = _chat_parts(message)
        entry: dict[str, Any] = {"role": role, "parts": parts}
        name = _get(message, "name")
        if isinstance(name, str):
            entry["name"] = name
        out.append(entry)
    return out


def openai_chat_output(choices: object) -> Messages:
    """One output message per Chat Completions choice."""
    return [
        {
            "role": _s(_get(_get(choice, "message"), "role")) or "assistant",
            "parts": _chat_parts(_get(choice, "message")),
            "finish_reason": openai_finish_reason(_opt(_get(choice, "finish_reason"))),
        }
        for choice in _seq(choices)
    ]


def _tool_definition(kind: str, name: object, description: object) -> Part:
    tool: Part = {"type": kind, "name": name if isinstance(name, str) and name else kind}
    if isinstance(description, str):
        tool["description"] = description
    return tool


def openai_tool_definitions(tools: object) -> list[Part]:
    """Chat (nested `function`) or Responses (flat) tools; built-in tools are named by type."""
    out: list[Part] = []
    for tool in _seq(tools):
        kind = _s(_get(tool, "type")) or "function"
        nested = _get(tool, kind) if kind in ("function", "custom") else None
        spec = tool if nested is None else nested
        out.append(_tool_definition(kind, _get(spec, "name"), _get(spec, "description")))
    return out


# --- OpenAI Responses --------------------------------------------------------------------------
def _responses_call(item: object) -> Part:
    if _get(item, "type") == "custom_tool_call":
        return _call(_get(item, "call_id"), _get(item, "name"), _get(item, "input"), parse=False)
    return _call(_get(item, "call_id"), _get(item, "name"), _get(item, "arguments"))


def _reasoning(item: object) -> list[Part]:
    texts = [_get(s, "text") for s in _seq(_get(item, "summary"))]
    texts = texts or [_get(c, "text") for c in _seq(_get(item, "content"))]
    return [{"type": "reasoning", "content": t} for t in texts if isinstance(t, str) and t]


def openai_responses_input(items: object) -> Messages:
    """Responses `input`: a string (one user message) or a list of messages and items."""
    if isinstance(items, str):
        return [{"role": "user", "parts": [_text(items)]}]
    out: Messages = []
    for item in _seq(items):
        kind = _get(item, "type")
        role = _get(item, "role")
        if kind == "message" or (kind is None and role is not None):
            out.append({"role": _s(role) or "user", "parts": _parts(_get(item, "content"))})
        elif kind in ("function_call", "custom_tool_call"):
            _add(out, "assistant", _responses_call(item))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            _add(out, "tool", _result(_get(item, "call_id"), _response_value(_get(item, "output"))))
        elif kind == "reasoning":
            for part in _reasoning(item):
                _add(out, "assistant", part)
    return out


def openai_responses_system(instructions: object) -> list[Part] | None:
    """Responses `instructions` (a string or a list of messages) as text parts; None if empty."""
    if isinstance(instructions, str):
        return [_text(instructions)] if instructions else None
    parts: list[Part] = []
    for item in _seq(instructions):
        content = _get(item, "content")
        parts.extend(_parts(content) if content is not None else [_part(item)])
    return parts or None


_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def openai_responses_output(response: object) -> Messages:
    """All `response.output` items as ONE assistant message, as the API returns one choice."""
    parts: list[Part] = []
    called = False
    for item in _seq(_get(response, "output")):
        kind = _get(item, "type")
        if kind == "message":
            parts.extend(_parts(_get(item, "content")))
        elif kind in ("function_call", "custom_tool_call"):
            parts.append(_responses_call(item))
            called = True
        elif kind == "reasoning":
            parts.extend(_reasoning(item))
        elif isinstance(kind, str):
            parts.append(_part(item))  # built-in tool calls such as web_search_call: generic
    incomplete = _INCOMPLETE.get(_s(_get(_get(response, "incomplete_details"), "reason")))
    finish = incomplete or ("tool_call" if called else "stop")
    if _get(response, "status") == "failed":
        finish = "error"
    return [{"role": "assistant", "parts": parts, "finish_reason": finish}]


# --- Anthropic Messages ------------------------------------------------------------------------
_ANTHROPIC_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
}


def anthropic_finish_reason(reason: str | None) -> str:
    """An Anthropic stop_reason in upstream terms (unknown ones such as pause_turn pass through)."""
    return _ANTHROPIC_FINISH.get(reason, reason) if isinstance(reason, str) else "error"


def anthropic_input(messages: object) -> Messages:
    """Anthropic `messages`; tool_result blocks move to `tool` messages, keeping their order."""
    out: Messages = []
    for message in _seq(messages):
        role = _s(_get(message, "role")) or "user"
        split: Messages = []
        for part in _parts(_get(message, "content")):
            _add(split, "tool" if part["type"] == "tool_call_response" else role, part)
        out.extend(split or [{"role": role, "parts": []}])
    return out


def anthropic_system(system: object) -> list[Part] | None:
    """Anthropic `system` (a string or text blocks) as parts; None if empty."""
    return _parts(system) or None


def anthropic_output(message: object) -> Messages:
    """An Anthropic Message as one assistant output message."""
    return [
        {
            "role": _s(_get(message, "role")) or "assistant",
            "parts": _parts(_get(message, "content")),
            "finish_reason": anthropic_finish_reason(_opt(_get(message, "stop_reason"))),
        }
    ]


def anthropic_tool_definitions(tools: object) -> list[Part]:
    """Custom tools as functions; server tools (typed, e.g. web_search_20250305) as generic."""
    out: list[Part] = []
    for tool in _seq(tools):
        kind = _get(tool, "type")
        if isinstance(kind, str) and kind != "custom":
            out.append(_tool_definition(kind, _get(tool, "name"), None))
        else:
            out.append(_tool_definition("function", _get(tool, "name"), _get(tool, "description")))
    return out


# --- Byte budget -------------------------------------------------------------------------------
_MIN_STRING = 64  # encoded bytes; shorter strings are never cut
_MAX_DEPTH = 64
_TOO_DEEP = f"…[nested deeper than {_MAX_DEPTH} levels]"
_NEVER_CUT = frozenset({"type", "role", "finish_reason"})  # cutting these breaks the schema


@dataclass(slots=True)
class _Leaf:
    """A cuttable string and where it lives, so it can be replaced or restored in place."""

    container: Any
    key: str | int
    text: str


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Built once: json.dumps with arguments builds a new encoder on every call."""


def _dumps(value: object) -> str:
    return _ENCODER.encode(value)


def _enc(text: str) -> int:
    return len(_dumps(text).encode())


_ASCII = tuple(_enc(chr(code)) - 2 for code in range(128))  # JSON size of each ASCII char


def _fixed(text: str) -> str:
    return text.encode("utf-8", "replace").decode()  # lone surrogates cannot be UTF-8


def _clean(value: object, leaves: list[_Leaf], depth: int, fix: bool) -> object:
    """A JSON-safe copy of `value`, recording its string leaves; odd types become strings."""
    if isinstance(value, str):
        return _fixed(value) if fix else value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    out: Any
    if depth < _MAX_DEPTH and isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            name = _fixed(name) if fix else name
            out[name] = child = _clean(item, leaves, depth + 1, fix)
            if isinstance(child, str) and name not in _NEVER_CUT:
                leaves.append(_Leaf(out, name, child))
        return out
    if depth < _MAX_DEPTH and isinstance(value, list | tuple):
        out = [_clean(item, leaves, depth + 1, fix) for item in value]
        leaves.extend(_Leaf(out, i, c) for i, c in enumerate(out) if isinstance(c, str))
        return out
    return _clean(_as_text(value, depth), leaves, depth, fix)


def _as_text(value: object, depth: int) -> str:
    """What an odd value is recorded as: its str(), never a deep repr, never an exception."""
    if depth >= _MAX_DEPTH and isinstance(value, Mapping | list | tuple):
        # Not str(value): the repr of a deep structure recurses as deep as the structure.
        return _TOO_DEEP
    try:
        return str(value)
    except Exception:  # A user object whose __str__ fails must not cost the call its span.
        return f"<unprintable {type(value).__name__}>"


def _prepare(value: object) -> tuple[list[Any], list[_Leaf], str, int]:
    """`value` cleaned into a one-item box (so a top-level string is a cuttable leaf), serialised.

    Lone surrogates cannot be UTF-8: only when encoding fails is the value cleaned again with
    them replaced, so the common case costs one walk and one serialisation.
    """
    for fix in (False, True):
        leaves: list[_Leaf] = []
        box: Any = _clean([value], leaves, 0, fix)
        text = _dumps(box[0])
        try:
            return box, leaves, text, len(text.encode())
        except UnicodeEncodeError:
            continue
    raise AssertionError("unreachable: replaced strings always encode")  # pragma: no cover


def _truncate(text: str, cap: int, original: int | None = None) -> str:
    """`text` cut to at most `cap` encoded bytes, ending with a marker of its original size.

    `original` is the size to report when `text` is already a redacted form of the value.
    """
    marker = truncation_marker(len(text.encode()) if original is None else original)
    room = cap - _enc(marker)  # escaped bytes left for the prefix between the quotes
    used = 0
    # Whole characters, so UTF-8 is never split; at most `room` steps, so the total work of
    # all cuts is bounded by the budget rather than by the size of the input.
    for i, char in enumerate(text):
        code = ord(char)
        used += _ASCII[code] if code < 128 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if used > room:
            return text[:i] + marker
    return text + marker


_LeafCut = Callable[[str, int], str]
"""Cuts one string leaf to a cap of encoded bytes (redacting it first when redaction is on)."""


def _leaf_cutter(redact: Redact | None, max_bytes: int) -> _LeafCut:
    """How `_shrink` cuts leaves: as they are, or redacted first (once per leaf per fit).

    The redacted part is the same for every cap (a cap never exceeds `max_bytes`), so a leaf
    cut twice (before and after dropping middle messages) is redacted, and counted, once.
    """
    if redact is None:
        return _truncate
    redacted: dict[str, tuple[str, bool]] = {}

    def cut(text: str, cap: int) -> str:
        known = redacted.get(text)
        if known is None:
            part, first, last = redact(text, 0, min(len(text), max_bytes), REDACTION_MARGIN)
            known = redacted[text] = (part, first == 0 and last == len(text))
        safe, whole = known
        if whole and _enc(safe) <= cap:
            return safe  # redaction alone made it fit
        return _truncate(safe, cap, len(text.encode()))

    return cut


def _shrink(leaves: list[_Leaf], size: int, budget: int, cut_leaf: _LeafCut = _truncate) -> int:
    """Cut the longest strings to one common cap that frees `size - budget` bytes; new size."""
    excess = size - budget
    if excess <= 0:
        return size
    big = sorted(
        ((n, leaf) for leaf in leaves if (n := _enc(leaf.text)) > _MIN_STRING),
        key=lambda pair: pair[0],
        reverse=True,
    )
    # Water-filling: the largest cap L with sum(max(0, n - L)) >= excess, found in one pass.
    cap, total = _MIN_STRING, 0
    for k, (n, _) in enumerate(big, 1):
        total += n
        level = (total - excess) // k
        if level >= (big[k][0] if k < len(big) else _MIN_STRING):
            cap = level
            break
    for n, leaf in big:
        if n <= cap:
            break
        cut = cut_leaf(leaf.text, cap)
        leaf.container[leaf.key] = cut
        size -= n - _enc(cut)
    return size


def _is_messages(value: object) -> TypeGuard[list[Any]]:
    if not isinstance(value, list) or not value:
        return False
    return all(isinstance(m, dict) and "role" in m and "parts" in m for m in value)


def _marker(messages: list[Any], part: Part) -> dict[str, Any]:
    marker: dict[str, Any] = {"role": "otel_llm", "parts": [part]}
    if "finish_reason" in messages[0]:
        marker["finish_reason"] = "truncated"  # output messages require one; ours is synthetic
    return marker


def _drop_middle(messages: list[Any], leaves: list[_Leaf], budget: int) -> list[Any] | None:
    """Keep first and last messages (alternating) around a drop marker; None if none fit."""
    sizes = [len(_dumps(m).encode()) for m in messages]
    n = len(messages)
    marker = _marker(messages, {"type": "truncated", "messages_dropped": n})
    room = budget - 2 - len(_dumps(marker).encode())  # a count of n is the widest marker
    head = tail = 0
    front = True
    failed: set[bool] = set()
    while head + tail < n and len(failed) < 2:
        cost = sizes[head if front else n - 1 - tail] + 1  # the comma before it
        if cost <= room:
            room -= cost
            head, tail = (head + 1, tail) if front else (head, tail + 1)
        else:
            failed.add(front)
        if (not front) not in failed:
            front = not front
    if head + tail == 0:
        return None
    for leaf in leaves:  # the kept messages are re-cut from their full text with the freed room
        leaf.container[leaf.key] = leaf.text
    marker["parts"][0]["messages_dropped"] = n - head - tail
    return [*messages[:head], marker, *messages[n - tail :]]


def _last_resort(value: object, size: int) -> object:
    if _is_messages(value):
        return [_marker(value, {"type": "truncated", "original_bytes": size})]
    # Parts and tool definitions need `type` (and tool definitions a `name`) to stay valid.
    part = {"type": "truncated", "name": "otel_llm", "original_bytes": size}
    return [part] if isinstance(value, list) else part


def _fit(value: object, max_bytes: int, redact: Redact | None = None) -> tuple[Any, str]:
    box, leaves, text, size = _prepare(value)
    if size <= max_bytes:
        return box[0], text
    cut_leaf = _leaf_cutter(redact, max_bytes)
    if _shrink(leaves, size, max_bytes, cut_leaf) <= max_bytes:
        return box[0], _dumps(box[0])
    if _is_messages(box[0]):
        kept = _drop_middle(box[0], leaves, max_bytes)
        if kept is not None:
            kept_box, kept_leaves, _, kept_size = _prepare(kept)
            if _shrink(kept_leaves, kept_size, max_bytes, cut_leaf) <= max_bytes:
                return kept_box[0], _dumps(kept_box[0])
    last = _last_resort(box[0], size)
    return last, _dumps(last)


def fit_json_structured(value: object, max_bytes: int, redact: Redact | None = None) -> Any:
    """`value` as JSON-compatible data whose compact UTF-8 JSON fits in `max_bytes` (>= 256).

    Shrinks in order: cut the longest strings (keeping a prefix and a `…[truncated N bytes]`
    marker with the original size), then replace middle messages with a marker message, then
    return a single marker with the original size. A string is cut only after `redact` ran
    over it (the part kept and a margin past it), so no finding is exported in part; values
    that fit are not redacted here (the redaction processor does that after).
    """
    return _fit(value, max_bytes, redact)[0]


def fit_json(value: object, max_bytes: int, redact: Redact | None = None) -> str:
    """The compact JSON of `fit_json_structured(value, max_bytes, redact)`, serialised once."""
    if _plain(value, 1):
        # Already plain JSON data: serialised as it is, the same text the cleaned copy gives.
        text = _dumps(value)
        try:
            if len(text.encode()) <= max_bytes:
                return text
        except UnicodeEncodeError:
            pass  # lone surrogates: the full path replaces them
    return _fit(value, max_bytes, redact)[1]


_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(value: object, depth: int) -> bool:
    """Whether `_clean` would copy `value` (at `depth`) unchanged.

    JSON types with str keys, finite floats, containers above the depth limit; exact types
    only, so a subclass takes the full path.
    """
    if type(value) in _PLAIN_SCALARS:
        return True
    if type(value) is float:
        return math.isfinite(value)
    if depth >= _MAX_DEPTH:
        return False
    if type(value) is dict:
        return all(type(key) is str and _plain(item, depth + 1) for key, item in value.items())
    if type(value) is list or type(value) is tuple:
        return all(_plain(item, depth + 1) for item in value)
    return False
