"""Bedrock's Converse shapes (also Amazon Nova's InvokeModel bodies) as upstream GenAI data.

Converse messages are lists of single-key content blocks (`{"text": ...}`, `{"toolUse": ...}`,
`{"image": {"format", "source": {"bytes" | "s3Location"}}}`, ...); its stream is a sequence of
single-key events (`messageStart`, `contentBlockDelta`, ..., `metadata`). Nova's InvokeModel
bodies and stream chunks use the same shapes, so both read through this module. Usage:
Bedrock's `inputTokens` leaves out the cached tokens (its `totalTokens` counts all four).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from otel_llm.instrumentation._model import Usage, get_field, token_count

Part = dict[str, Any]
Messages = list[dict[str, Any]]

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
"""Converse stop reasons in upstream terms; others (`malformed_tool_use`, ...) pass through."""

_MODALITIES = {"image": "image", "document": "document", "video": "video", "audio": "audio"}
_MIME = {  # (modality, Bedrock format) -> MIME type, where it is not `{modality}/{format}`
    ("document", "pdf"): "application/pdf",
    ("document", "csv"): "text/csv",
    ("document", "doc"): "application/msword",
    ("document", "docx"): (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    ("document", "xls"): "application/vnd.ms-excel",
    ("document", "xlsx"): "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ("document", "html"): "text/html",
    ("document", "txt"): "text/plain",
    ("document", "md"): "text/markdown",
    ("video", "mkv"): "video/x-matroska",
    ("video", "mov"): "video/quicktime",
    ("video", "three_gp"): "video/3gpp",
    ("video", "flv"): "video/x-flv",
    ("video", "mpg"): "video/mpeg",
    ("video", "wmv"): "video/x-ms-wmv",
    ("audio", "mp3"): "audio/mpeg",
    ("audio", "mpga"): "audio/mpeg",
    ("audio", "m4a"): "audio/mp4",
    ("audio", "mka"): "audio/x-matroska",
    ("audio", "mkv"): "audio/x-matroska",
}


def finish_reason(reason: object) -> str:
    """A Converse (or Nova) stopReason in upstream terms; a missing one means the call failed."""
    return FINISH_REASONS.get(reason, reason) if isinstance(reason, str) else "error"


def count(value: object) -> int | None:
    """A token count; JSON floats such as `6.0` (Bedrock sends them) count as integers."""
    if type(value) is float and value.is_integer():
        value = int(value)
    return token_count(value)


def usage(report: object) -> Usage | None:
    """Converse/Nova `usage` as Usage, the input total including cache reads and writes."""
    if not isinstance(report, Mapping):
        return None
    uncached = count(report.get("inputTokens"))
    output = count(report.get("outputTokens"))
    read = count(report.get("cacheReadInputTokens", report.get("cacheReadInputTokenCount")))
    write = count(report.get("cacheWriteInputTokens", report.get("cacheWriteInputTokenCount")))
    return cached_usage(uncached, output, read, write, count(report.get("totalTokens")))


def cached_usage(
    uncached: int | None,
    output: int | None,
    read: int | None,
    write: int | None,
    total: int | None = None,
) -> Usage | None:
    """Usage from Bedrock's counts, whose input count leaves the cached tokens out."""
    if uncached is None and output is None:
        return None
    input_tokens = uncached
    if uncached is not None and (read or write):
        # Bedrock's total says which it is: a total of input + output means the input count
        # already held the cached tokens; otherwise (the documented case) they are added.
        included = total is not None and total == uncached + (output or 0)
        input_tokens = uncached if included else uncached + (read or 0) + (write or 0)
    return Usage(input_tokens, output, read, write)


# --- Parts -------------------------------------------------------------------------------------
def string(value: object) -> str:
    """`value` if it is a string, else ""."""
    return value if isinstance(value, str) else ""


def _seq(value: object) -> Sequence[Any]:
    # Only real sequences: iterating a user's generator here would consume their request.
    return value if isinstance(value, list | tuple) else ()


def text(content: object) -> Part:
    """An upstream text part."""
    return {"type": "text", "content": string(content)}


def _media(kind: str, block: object) -> Part:
    """An image/document/video/audio block: a blob (inline bytes), uri (S3) or text part."""
    modality = _MODALITIES[kind]
    fmt = get_field(block, "format")
    mime = None
    if isinstance(fmt, str) and fmt:
        default = None if modality == "document" else f"{modality}/{fmt}"
        mime = _MIME.get((modality, fmt), default)
    source = get_field(block, "source")
    data = get_field(source, "bytes")
    part: Part
    if isinstance(data, bytes | bytearray | str):
        # boto3 callers pass raw bytes; InvokeModel bodies carry base64 text already.
        encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
        part = {"type": "blob", "modality": modality, "content": encoded}
    elif isinstance(uri := get_field(get_field(source, "s3Location"), "uri"), str):
        part = {"type": "uri", "modality": modality, "uri": uri}
    elif isinstance(inline := get_field(source, "text"), str):
        return text(inline)
    else:
        return {"type": kind}
    if mime:
        part["mime_type"] = mime
    return part


def _tool_result(block: object) -> Part:
    values = []
    for item in _seq(get_field(block, "content")):
        if isinstance(get_field(item, "text"), str):
            values.append(text(get_field(item, "text")))
        elif get_field(item, "json") is not None:
            values.append({"type": "json", "content": get_field(item, "json")})
        else:
            values.append(part(item))
    response: object = values
    if values and all(v["type"] == "text" for v in values):
        response = "".join(v["content"] for v in values)
    elif len(values) == 1 and values[0]["type"] == "json":
        response = values[0]["content"]
    return {"type": "tool_call_response", "id": get_field(block, "toolUseId"), "response": response}


def _tool_use(block: object) -> Part:
    call_id, name = get_field(block, "toolUseId"), string(get_field(block, "name"))
    arguments = get_field(block, "input")
    if get_field(block, "type") == "server_tool_use":
        details = {"type": name or "server_tool", "input": arguments}
        return {
            "type": "server_tool_call",
            "id": call_id,
            "name": name,
            "server_tool_call": details,
        }
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def part(block: object) -> Part:  # noqa: PLR0911 - one flat dispatch over every block kind
    """One Converse content block as an upstream part; unknown kinds stay generic."""
    if isinstance(value := get_field(block, "text"), str):
        return text(value)
    for kind in _MODALITIES:
        if (media := get_field(block, kind)) is not None:
            return _media(kind, media)
    if (use := get_field(block, "toolUse")) is not None:
        return _tool_use(use)
    if (result := get_field(block, "toolResult")) is not None:
        return _tool_result(result)
    if (reasoning := get_field(block, "reasoningContent")) is not None:
        said = get_field(get_field(reasoning, "reasoningText"), "text")
        if isinstance(said, str):
            return {"type": "reasoning", "content": said}
        return {"type": "redacted_reasoning"}  # encrypted by the model provider
    if (guarded := get_field(block, "guardContent")) is not None:
        return text(get_field(get_field(guarded, "text"), "text"))
    if (cited := get_field(block, "citationsContent")) is not None:
        return text(
            "".join(string(get_field(c, "text")) for c in _seq(get_field(cited, "content")))
        )
    keys = [k for k in block if isinstance(k, str)] if isinstance(block, Mapping) else []
    return {"type": keys[0] if keys else "unknown"}


def _parts(content: object) -> list[Part]:
    if isinstance(content, str):  # Mistral-style plain strings, should they appear
        return [text(content)] if content else []
    # Cache points mark where a prompt cache ends; they are not content.
    return [part(block) for block in _seq(content) if get_field(block, "cachePoint") is None]


def input_messages(messages: object) -> Messages:
    """Converse `messages`; tool results move to `tool` messages, keeping their order."""
    out: Messages = []
    for message in _seq(messages):
        role = string(get_field(message, "role")) or "user"
        split: Messages = []
        for item in _parts(get_field(message, "content")):
            kind = "tool" if item["type"] == "tool_call_response" else role
            if split and split[-1]["role"] == kind:
                split[-1]["parts"].append(item)
            else:
                split.append({"role": kind, "parts": [item]})
        out.extend(split or [{"role": role, "parts": []}])
    return out


def system_instructions(system: object) -> list[Part] | None:
    """Converse `system` blocks as parts; None if there are none."""
    return _parts(system) or None


def tool_definitions(config: object) -> list[Part] | None:
    """`toolConfig.tools`: specs as functions, system tools by name; None if there are none."""
    out: list[Part] = []
    for tool in _seq(get_field(config, "tools")):
        spec = get_field(tool, "toolSpec")
        if spec is not None:
            definition: Part = {"type": "function", "name": string(get_field(spec, "name"))}
            if isinstance(description := get_field(spec, "description"), str):
                definition["description"] = description
            out.append(definition)
        elif (system := get_field(tool, "systemTool")) is not None:
            out.append({"type": "system_tool", "name": string(get_field(system, "name"))})
    return out or None


def output_messages(message: object, stop_reason: object) -> Messages:
    """A Converse `output.message` as the one output message."""
    return [
        {
            "role": string(get_field(message, "role")) or "assistant",
            "parts": _parts(get_field(message, "content")),
            "finish_reason": finish_reason(stop_reason),
        }
    ]


# --- Streams -----------------------------------------------------------------------------------
class EventState:
    """Accumulates Converse stream events (and Nova's stream chunks): stop reason, usage, content.

    Events are dicts with one key each; any field may be missing or of a wrong type. Without
    content capture only `messageStop` and `metadata` are read.
    """

    __slots__ = ("_blocks", "_capture", "_role", "stop_reason", "usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._role = "assistant"
        self._blocks: dict[int, dict[str, Any]] = {}
        self.stop_reason: object = None
        self.usage: object = None

    def on_event(self, event: object) -> None:
        """Note one event."""
        if not isinstance(event, Mapping):
            return
        if (stop := event.get("messageStop")) is not None:
            self.stop_reason = get_field(stop, "stopReason")
        elif (metadata := event.get("metadata")) is not None:
            self.usage = get_field(metadata, "usage")
        elif self._capture:
            self._content(event)

    def _content(self, event: Mapping[str, Any]) -> None:
        if (start := event.get("messageStart")) is not None:
            self._role = string(get_field(start, "role")) or self._role
            return
        item = event.get("contentBlockStart") or event.get("contentBlockDelta")
        index = get_field(item, "contentBlockIndex")
        if type(index) is not int:
            return
        block = self._blocks.setdefault(index, {"kind": "text", "parts": []})
        if (use := get_field(get_field(item, "start"), "toolUse")) is not None:
            block.update(kind="tool", id=get_field(use, "toolUseId"), name=get_field(use, "name"))
        delta = get_field(item, "delta")
        if isinstance(piece := get_field(delta, "text"), str):
            block["parts"].append(piece)
        elif (use := get_field(delta, "toolUse")) is not None:
            block["kind"] = "tool"
            block["parts"].append(string(get_field(use, "input")))
        elif (reasoning := get_field(delta, "reasoningContent")) is not None:
            block["kind"] = "reasoning"
            block["parts"].append(string(get_field(reasoning, "text")))

    def output(self) -> Messages:
        """The streamed reply as one output message (content captured only)."""
        parts: list[Part] = []
        for _, block in sorted(self._blocks.items()):
            joined = "".join(block["parts"])
            if block["kind"] == "tool":
                try:
                    arguments: object = json.loads(joined) if joined else {}
                except ValueError:
                    arguments = joined  # a stream cut inside the arguments
                name = string(block.get("name"))
                parts.append(
                    {
                        "type": "tool_call",
                        "id": block.get("id"),
                        "name": name,
                        "arguments": arguments,
                    }
                )
            elif block["kind"] == "reasoning":
                parts.append({"type": "reasoning", "content": joined})
            elif parts and parts[-1]["type"] == "text":
                parts[-1]["content"] += joined  # Nova streams each piece as a block of its own
            else:
                parts.append(text(joined))
        return [
            {"role": self._role, "parts": parts, "finish_reason": finish_reason(self.stop_reason)}
        ]
