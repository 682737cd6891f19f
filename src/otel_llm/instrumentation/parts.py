"""Message parts in the upstream GenAI JSON shapes, for the converters next to each provider.

A provider's converter reads its SDK's request and response objects and builds messages
(`{"role": ..., "parts": [...]}`, output messages with a `finish_reason`) from these parts;
the engine fits them into the byte budget and checks nothing else. The readers at the end
take untrusted values (SDK objects are built without validation, requests are the user's):
they never raise and never consume an iterator.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "Message",
    "Part",
    "append",
    "arguments",
    "blob",
    "file",
    "finish_reason",
    "generic",
    "optional_string",
    "reasoning",
    "sequence",
    "string",
    "text",
    "tool_call",
    "tool_call_response",
    "tool_definition",
    "uri",
]

Part = dict[str, Any]
"""One message part: `{"type": "text", "content": ...}`, a tool call, a blob..."""
Message = dict[str, Any]
"""`{"role": ..., "parts": [...]}`; output messages also carry a `finish_reason`."""


# --- readers ----------------------------------------------------------------------------------
def sequence(value: object) -> Sequence[object]:
    """`value` if it is a list or tuple, else empty (a user's generator is never consumed)."""
    return value if isinstance(value, list | tuple) else ()


def string(value: object) -> str:
    """`value` if it is a string, else the empty string."""
    return value if isinstance(value, str) else ""


def optional_string(value: object) -> str | None:
    """`value` if it is a string, else None."""
    return value if isinstance(value, str) else None


def arguments(raw: object) -> object:
    """Tool-call arguments: parsed JSON when `raw` is a string of valid JSON, else as given."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    return raw


# --- parts ------------------------------------------------------------------------------------
def text(content: object) -> Part:
    """A text part (a non-string becomes the empty string)."""
    return {"type": "text", "content": string(content)}


def blob(modality: str, content: object, mime_type: object = None) -> Part:
    """Inline data: `content` base64 (bytes are encoded here); `modality` image, audio..."""
    if isinstance(content, bytes | bytearray):
        content = base64.b64encode(content).decode("ascii")
    part: Part = {"type": "blob", "modality": modality, "content": string(content)}
    if isinstance(mime_type, str) and mime_type:
        part["mime_type"] = mime_type
    return part


def uri(url: object, modality: str, kind: object = None) -> Part:
    """A part referring to `url`; a base64 `data:` URL is a blob (the schema's uri is not one).

    Not a string: a generic part of type `kind` (what the provider called the block).
    """
    if not isinstance(url, str):
        return generic(kind)
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        if header.endswith(";base64"):
            return blob(modality, data, header[5:].split(";", 1)[0])
    return {"type": "uri", "modality": modality, "uri": url}


def file(file_id: str, modality: str) -> Part:
    """A file uploaded to the provider, referred to by its id."""
    return {"type": "file", "modality": modality, "file_id": file_id}


def tool_call(call_id: object, name: object, args: object, *, parse: bool = True) -> Part:
    """A tool call; string arguments holding JSON are parsed unless `parse` is False."""
    return {
        "type": "tool_call",
        "id": optional_string(call_id),
        "name": string(name),
        "arguments": arguments(args) if parse else args,
    }


def tool_call_response(call_id: object, response: object) -> Part:
    """The result of a tool call, as the application sent it back."""
    return {"type": "tool_call_response", "id": optional_string(call_id), "response": response}


def reasoning(content: object) -> Part:
    """The model's reasoning (thinking) text."""
    return {"type": "reasoning", "content": string(content)}


def generic(kind: object, **fields: object) -> Part:
    """A part of a type upstream does not define (e.g. a server tool call), named by `kind`."""
    part: Part = {"type": string(kind) or "unknown"}
    part.update(fields)
    return part


def tool_definition(kind: str, name: object, description: object = None) -> Part:
    """A tool offered to the model; a tool without a name (a built-in) is named by its kind."""
    tool: Part = {"type": kind, "name": name if isinstance(name, str) and name else kind}
    if isinstance(description, str):
        tool["description"] = description
    return tool


# --- messages ---------------------------------------------------------------------------------
def append(messages: list[Message], role: str, part: Part) -> None:
    """Append `part` to the last message when it has `role`, else start a new message."""
    if messages and messages[-1]["role"] == role:
        messages[-1]["parts"].append(part)
    else:
        messages.append({"role": role, "parts": [part]})


def finish_reason(reason: object, names: Mapping[str, str]) -> str:
    """A provider's finish reason in upstream terms (via `names`); none at all means `error`.

    Reasons `names` does not know pass through as the provider spells them.
    """
    if not isinstance(reason, str):
        return "error"
    return names.get(reason, reason)
