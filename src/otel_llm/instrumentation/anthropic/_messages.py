"""Anthropic Messages: request parameters, responses and raw stream events."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation._stainless import request_info
from otel_llm.instrumentation.anthropic import _convert as convert
from otel_llm.instrumentation.endpoint import RequestInfo
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage, token_count
from otel_llm.instrumentation.types import get_field as _get
from otel_llm.semconv.attributes import gen_ai as ga

_PROVIDER = ga.GenAiProviderNameValues


def provider_name(resource: Any) -> str:
    """`aws.bedrock` / `gcp.vertex_ai` for those clients, `anthropic` otherwise."""
    client_name = type(getattr(resource, "_client", None)).__name__
    if "Bedrock" in client_name:
        return _PROVIDER.AWS_BEDROCK.value
    if "Vertex" in client_name:
        return _PROVIDER.GCP_VERTEX_AI.value
    return _PROVIDER.ANTHROPIC.value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def messages_request(
    resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of messages.create / messages.stream (keyword arguments only)."""
    attributes: dict[str, AttributeValue] = {}
    for key, name in (
        (ga.GEN_AI_REQUEST_TEMPERATURE, "temperature"),
        (ga.GEN_AI_REQUEST_TOP_P, "top_p"),
    ):
        if _number(kwargs.get(name)):
            attributes[key] = kwargs[name]
    for key, name in (
        (ga.GEN_AI_REQUEST_MAX_TOKENS, "max_tokens"),
        (ga.GEN_AI_REQUEST_TOP_K, "top_k"),
    ):
        value = kwargs.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            attributes[key] = value
    stops = kwargs.get("stop_sequences")
    if isinstance(stops, list | tuple) and stops and all(isinstance(s, str) for s in stops):
        attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stops)
    effort = _get(kwargs.get("output_config"), "effort")
    if isinstance(effort, str):
        attributes[ga.GEN_AI_REQUEST_REASONING_LEVEL] = effort
    return request_info(kwargs, attributes)


def messages_content(kwargs: Mapping[str, Any]) -> Content:
    """Request content of a Messages call, in the upstream shapes."""
    tools = kwargs.get("tools")
    return Content(
        input_messages=convert.input_messages(kwargs.get("messages") or ()),
        system_instructions=convert.system_instructions(kwargs.get("system")),
        tool_definitions=convert.tool_definitions(tools)
        if isinstance(tools, list | tuple) and tools
        else None,
    )


def _usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    uncached = token_count(_get(usage, "input_tokens")) or 0
    cache_read = token_count(_get(usage, "cache_read_input_tokens"))
    cache_write = token_count(_get(usage, "cache_creation_input_tokens"))
    # Anthropic reports the three input parts separately; upstream's input total includes all.
    return Usage(
        input_tokens=uncached + (cache_read or 0) + (cache_write or 0),
        output_tokens=_get(usage, "output_tokens"),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def messages_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a Message."""
    return ResponseInfo(
        response_id=_get(result, "id"),
        model=_get(result, "model"),
        finish_reasons=(convert.finish_reason(_get(result, "stop_reason")),),
        usage=_usage(_get(result, "usage")),
        output=convert.output_messages(result) if capture else None,
    )


class MessageStreamState:
    """Accumulates raw Messages stream events: the message, its usage, and content if captured."""

    __slots__ = ("_blocks", "_capture", "_message", "_stop_reason", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._message: Any = None
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._blocks: dict[int, dict[str, Any]] = {}

    def on_chunk(self, event: Any) -> None:
        """Note one raw stream event."""
        kind = getattr(event, "type", None)
        # Events are built without validation: any field may be missing or of a wrong type.
        if kind == "message_start":
            self._message = getattr(event, "message", None)
            self._merge_usage(getattr(self._message, "usage", None))
        elif kind == "message_delta":
            reason = getattr(getattr(event, "delta", None), "stop_reason", None)
            if isinstance(reason, str) and reason:
                self._stop_reason = reason
            self._merge_usage(getattr(event, "usage", None))
        elif self._capture:
            self._content_event(kind, event)

    def _merge_usage(self, usage: Any) -> None:
        # message_delta usage is cumulative; fields it leaves None keep message_start's values.
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        ):
            value = token_count(getattr(usage, name, None))
            if value is not None:
                self._usage[name] = value

    def _content_event(self, kind: Any, event: Any) -> None:
        index = getattr(event, "index", None)
        if type(index) is not int:
            return
        if kind == "content_block_start":
            block = getattr(event, "content_block", None)
            self._blocks[index] = {
                "type": getattr(block, "type", None),
                "id": getattr(block, "id", None),
                "name": getattr(block, "name", None),
                "parts": [getattr(block, "text", None) or ""],
            }
        elif kind == "content_block_delta" and index in self._blocks:
            delta = getattr(event, "delta", None)
            piece = getattr(delta, "text", None) or getattr(delta, "partial_json", None)
            piece = piece or getattr(delta, "thinking", None)
            if isinstance(piece, str) and piece:
                self._blocks[index]["parts"].append(piece)

    def result(self) -> ResponseInfo:
        """What the events so far amount to."""
        message = self._message
        output = None
        if self._capture:
            output = convert.output_messages(
                {
                    "content": [_block(b) for _, b in sorted(self._blocks.items())],
                    "stop_reason": self._stop_reason,
                }
            )
        return ResponseInfo(
            response_id=_get(message, "id"),
            model=_get(message, "model"),
            finish_reasons=(convert.finish_reason(self._stop_reason),),
            usage=_usage(self._usage) if self._usage else None,
            output=output,
        )


def _block(block: Mapping[str, Any]) -> dict[str, Any]:
    text = "".join(block["parts"])
    if block["type"] == "tool_use":
        return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": text or "{}"}
    if block["type"] == "thinking":
        return {"type": "thinking", "thinking": text}
    return {"type": "text", "text": text}


def stream_error(event: str | None, data: Any, response: Any) -> BaseException | None:
    """The error anthropic's Stream raises for an `error` event (read from a raw body)."""
    if event != "error":
        return None
    import anthropic  # noqa: PLC0415 - only once a raw stream carried an error

    # The SDK picks the class from the status and the error's type, with a private helper;
    # where a release lacks it, the base class stands in.
    make = getattr(sys.modules.get("anthropic._error_classes"), "make_status_error", None)
    message = str(data)
    if make is not None:
        return make(message, body=data, response=response)  # type: ignore[no-any-return]
    return anthropic.APIStatusError(message, response=response, body=data)
