"""Bedrock's Converse API (also Amazon Nova's InvokeModel bodies) read as upstream GenAI data.

Converse messages are lists of single-key content blocks (`{"text": ...}`, `{"toolUse": ...}`,
`{"image": {"format", "source": {"bytes" | "s3Location"}}}`, ...); its stream is a sequence of
single-key events (`messageStart`, `contentBlockDelta`, ..., `metadata`). Nova's InvokeModel
bodies and stream chunks use the same shapes, so both read through this module. Usage:
Bedrock's `inputTokens` leaves out the cached tokens (its `totalTokens` counts all four).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation import parts
from otel_llm.instrumentation.parts import Message, Part, blob, reasoning, text, tool_call
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage, get_field, token_count
from otel_llm.semconv.attributes import gen_ai as ga

_seq, _s = parts.sequence, parts.string

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


# --- request parameters --------------------------------------------------------------------------
def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def request_attributes(params: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """The request parameters of a Converse call (`inferenceConfig` and model-specific fields)."""
    attributes: dict[str, AttributeValue] = {}
    config = params.get("inferenceConfig")
    config = config if isinstance(config, Mapping) else {}
    if type(max_tokens := config.get("maxTokens")) is int:
        attributes[ga.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    for key, name in (
        (ga.GEN_AI_REQUEST_TEMPERATURE, "temperature"),
        (ga.GEN_AI_REQUEST_TOP_P, "topP"),
    ):
        if _number(config.get(name)):
            attributes[key] = config[name]
    stops = config.get("stopSequences")
    if isinstance(stops, list | tuple) and stops and all(isinstance(s, str) for s in stops):
        attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stops)
    # Model-specific parameters travel in additionalModelRequestFields (Claude's top_k, ...).
    extra = params.get("additionalModelRequestFields")
    if isinstance(extra, Mapping):
        top_k = extra.get("top_k", extra.get("topK"))
        if type(top_k) is int:
            attributes[ga.GEN_AI_REQUEST_TOP_K] = top_k
    return attributes


# --- parts -------------------------------------------------------------------------------------
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
    if isinstance(data, bytes | bytearray | str):
        # boto3 callers pass raw bytes (encoded by `blob`); InvokeModel bodies carry base64.
        return blob(modality, data, mime)
    location = get_field(get_field(source, "s3Location"), "uri")
    if isinstance(location, str):
        part = parts.uri(location, modality)
        if mime:
            part["mime_type"] = mime
        return part
    if isinstance(inline := get_field(source, "text"), str):
        return text(inline)
    return parts.generic(kind)


def _tool_result(block: object) -> Part:
    values: list[Part] = []
    for item in _seq(get_field(block, "content")):
        if isinstance(said := get_field(item, "text"), str):
            values.append(text(said))
        elif (data := get_field(item, "json")) is not None:
            values.append(parts.generic("json", content=data))
        else:
            values.append(part(item))
    response: object = values
    if values and all(v["type"] == "text" for v in values):
        response = "".join(v["content"] for v in values)
    elif len(values) == 1 and values[0]["type"] == "json":
        response = values[0]["content"]
    return parts.tool_call_response(get_field(block, "toolUseId"), response)


def _tool_use(block: object) -> Part:
    call_id, name = get_field(block, "toolUseId"), _s(get_field(block, "name"))
    arguments = get_field(block, "input")
    if get_field(block, "type") == "server_tool_use":
        details = {"type": name or "server_tool", "input": arguments}
        call_id = parts.optional_string(call_id)
        return parts.generic("server_tool_call", id=call_id, name=name, server_tool_call=details)
    return tool_call(call_id, name, arguments)


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
    if (thought := get_field(block, "reasoningContent")) is not None:
        said = get_field(get_field(thought, "reasoningText"), "text")
        if isinstance(said, str):
            return reasoning(said)
        return parts.generic("redacted_reasoning")  # encrypted by the model provider
    if (guarded := get_field(block, "guardContent")) is not None:
        return text(get_field(get_field(guarded, "text"), "text"))
    if (cited := get_field(block, "citationsContent")) is not None:
        return text("".join(_s(get_field(c, "text")) for c in _seq(get_field(cited, "content"))))
    keys = [k for k in block if isinstance(k, str)] if isinstance(block, Mapping) else []
    return parts.generic(keys[0] if keys else "unknown")


def _parts(content: object) -> list[Part]:
    if isinstance(content, str):  # Mistral-style plain strings, should they appear
        return [text(content)] if content else []
    # Cache points mark where a prompt cache ends; they are not content.
    return [part(block) for block in _seq(content) if get_field(block, "cachePoint") is None]


def input_messages(messages: object) -> list[Message]:
    """Converse `messages`; tool results move to `tool` messages, keeping their order."""
    out: list[Message] = []
    for message in _seq(messages):
        role = _s(get_field(message, "role")) or "user"
        split: list[Message] = []
        for item in _parts(get_field(message, "content")):
            parts.append(split, "tool" if item["type"] == "tool_call_response" else role, item)
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
            name = get_field(spec, "name")
            out.append(parts.tool_definition("function", name, get_field(spec, "description")))
        elif (system := get_field(tool, "systemTool")) is not None:
            out.append(parts.tool_definition("system_tool", get_field(system, "name")))
    return out or None


def content(params: Mapping[str, Any]) -> Content:
    """The request content of a Converse call (or a Nova body), in the upstream shapes."""
    return Content(
        input_messages=input_messages(params.get("messages")),
        system_instructions=system_instructions(params.get("system")),
        tool_definitions=tool_definitions(params.get("toolConfig")),
    )


def output_messages(message: object, stop_reason: object) -> list[Message]:
    """A Converse `output.message` as the one output message."""
    return [
        {
            "role": _s(get_field(message, "role")) or "assistant",
            "parts": _parts(get_field(message, "content")),
            "finish_reason": finish_reason(stop_reason),
        }
    ]


def response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a Converse result (a dict: `output`, `stopReason`, `usage`...)."""
    if not isinstance(result, Mapping):
        return ResponseInfo()
    stop = result.get("stopReason")
    return ResponseInfo(
        finish_reasons=(finish_reason(stop),),
        usage=usage(result.get("usage")),
        output=output_messages(get_field(result.get("output"), "message"), stop)
        if capture
        else None,
    )


# --- streams -----------------------------------------------------------------------------------
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

    def on_chunk(self, event: object) -> None:
        """Note one event."""
        if type(event) is not dict:
            return
        if (stop := event.get("messageStop")) is not None:
            self.stop_reason = get_field(stop, "stopReason")
        elif (metadata := event.get("metadata")) is not None:
            self.usage = get_field(metadata, "usage")
        elif self._capture:
            self._content(event)

    def _content(self, event: Mapping[str, Any]) -> None:
        if (start := event.get("messageStart")) is not None:
            self._role = _s(get_field(start, "role")) or self._role
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
            block["parts"].append(_s(get_field(use, "input")))
        elif (thought := get_field(delta, "reasoningContent")) is not None:
            block["kind"] = "reasoning"
            block["parts"].append(_s(get_field(thought, "text")))

    def output(self) -> list[Message]:
        """The streamed reply as one output message (content captured only)."""
        found: list[Part] = []
        for _, block in sorted(self._blocks.items()):
            joined = "".join(block["parts"])
            if block["kind"] == "tool":
                try:
                    arguments: object = json.loads(joined) if joined else {}
                except (ValueError, RecursionError):
                    arguments = joined  # a stream cut inside the arguments
                found.append(tool_call(block.get("id"), block.get("name"), arguments))
            elif block["kind"] == "reasoning":
                found.append(reasoning(joined))
            elif found and found[-1]["type"] == "text":
                found[-1]["content"] += joined  # Nova streams each piece as a block of its own
            else:
                found.append(text(joined))
        return [
            {"role": self._role, "parts": found, "finish_reason": finish_reason(self.stop_reason)}
        ]

    def result(self) -> ResponseInfo:
        """What the events so far amount to."""
        return ResponseInfo(
            finish_reasons=(finish_reason(self.stop_reason),),
            usage=usage(self.usage),
            output=self.output() if self._capture else None,
        )
