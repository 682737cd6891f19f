"""Anthropic SDK (2.x): what to read from Messages requests, responses and stream events."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from wrapt import wrap_function_wrapper

from otel_llm._errors import guarded
from otel_llm._telemetry import Telemetry
from otel_llm.instrumentation import _content as content
from otel_llm.instrumentation._engine import (
    Call,
    enter_call,
    exit_call,
    in_instrumented_call,
    start_call,
    wrap_async,
    wrap_sync,
)
from otel_llm.instrumentation._install import install_telemetry, unwrap_all
from otel_llm.instrumentation._model import (
    Content,
    Endpoint,
    RequestInfo,
    ResponseInfo,
    Usage,
    request_info,
    server_attributes,
    token_count,
)
from otel_llm.instrumentation._model import get_field as _get
from otel_llm.instrumentation._streams import AsyncStreamProxy, SyncStreamProxy
from otel_llm.semconv.attributes import gen_ai as ga

SUPPORTED = "anthropic >= 2.0.0, < 3"
"""The anthropic SDK versions this module supports."""

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


def messages_request(resource: Any, kwargs: Mapping[str, Any]) -> RequestInfo:
    """Request facts of messages.create / messages.stream."""
    attributes = server_attributes(resource)
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
        input_messages=content.anthropic_input(kwargs.get("messages") or ()),
        system_instructions=content.anthropic_system(kwargs.get("system")),
        tool_definitions=content.anthropic_tool_definitions(tools)
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
        finish_reasons=(content.anthropic_finish_reason(_get(result, "stop_reason")),),
        usage=_usage(_get(result, "usage")),
        output=content.anthropic_output(result) if capture else None,
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
            output = content.anthropic_output(
                {
                    "content": [_block(b) for _, b in sorted(self._blocks.items())],
                    "stop_reason": self._stop_reason,
                }
            )
        return ResponseInfo(
            response_id=_get(message, "id"),
            model=_get(message, "model"),
            finish_reasons=(content.anthropic_finish_reason(self._stop_reason),),
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


def _endpoint() -> Endpoint:
    import anthropic  # noqa: PLC0415 - only when instrumenting

    return Endpoint(
        operation=ga.GenAiOperationNameValues.CHAT.value,
        provider=provider_name,
        request=messages_request,
        response=messages_response,
        stream_types=(anthropic.Stream, anthropic.AsyncStream),
        stream_state=MessageStreamState,
        content=messages_content,
        raw_types=(anthropic.APIResponse, anthropic.AsyncAPIResponse),
        final_events=frozenset({"message_stop"}),
        stream_error=stream_error,
    )


# --- the messages.stream(...) helper ------------------------------------------------------
class _StreamManagerProxy(wrapt.ObjectProxy[Any]):
    """Wraps MessageStreamManager: the call starts when the `with` block enters it."""

    def __init__(
        self,
        wrapped: Any,
        endpoint: Endpoint,
        resource: Any,
        kwargs: Mapping[str, Any],
        telemetry: Telemetry,
    ) -> None:
        super().__init__(wrapped)
        self._self_telemetry = telemetry
        self._self_endpoint = endpoint
        self._self_resource = resource
        self._self_kwargs = {**kwargs, "stream": True}
        self._self_raw: Any = None

    def _self_start(self) -> Call | None:
        if in_instrumented_call():
            return None
        return start_call(
            self._self_endpoint, self._self_resource, self._self_kwargs, self._self_telemetry
        )

    def _self_attach(self, call: Call | None, stream: Any, proxy: Callable[..., Any]) -> Any:
        if call is not None:
            attach_raw_stream(stream, call, self._self_endpoint, proxy)
            self._self_raw = getattr(stream, "_raw_stream", None)
        return stream

    def _self_close(self) -> None:
        # Leaving the with-block (even by the caller's own exception) abandons an unfinished
        # stream; it does not make the provider call a failure.
        raw = self._self_raw
        if raw is not None and hasattr(raw, "_self_end"):
            raw._self_end()

    def __enter__(self) -> Any:
        call = self._self_start()
        tokens = enter_call(call) if call is not None else None
        try:
            stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            if call is not None:
                call.fail(exc)
            raise
        finally:
            if tokens is not None:
                exit_call(tokens)
        return self._self_attach(call, stream, SyncStreamProxy)

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_close()

    async def __aenter__(self) -> Any:
        call = self._self_start()
        tokens = enter_call(call) if call is not None else None
        try:
            stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            if call is not None:
                call.fail(exc)
            raise
        finally:
            if tokens is not None:
                exit_call(tokens)
        return self._self_attach(call, stream, AsyncStreamProxy)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_close()


@guarded(default=None)
def attach_raw_stream(
    stream: Any, call: Call, endpoint: Endpoint, proxy: Callable[..., Any]
) -> None:
    """Observe a MessageStream's raw events by proxying its (not yet iterated) raw stream."""
    raw = getattr(stream, "_raw_stream", None)
    if raw is None or endpoint.stream_state is None:
        call.succeed(ResponseInfo())
        return
    capture = call.telemetry.content_mode()
    state = endpoint.stream_state(capture.on_spans or capture.on_events or call.evaluate)
    stream._raw_stream = proxy(raw, call, state)


def _wrap_stream_helper(endpoint: Endpoint, telemetry: Telemetry) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        manager = wrapped(*args, **kwargs)
        return _StreamManagerProxy(manager, endpoint, instance, kwargs, telemetry)

    return wrapper


def _suppress_sdk_span(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    # anthropic >= 2 starts its own call span once a tracer provider is set; inside a call we
    # record, that would record the call twice, so the SDK gets "no span" (which it supports).
    if in_instrumented_call():
        return None
    return wrapped(*args, **kwargs)


class AnthropicInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # untyped base class
    """Instruments anthropic; `opentelemetry-instrument` finds it as `otel_llm_anthropic`."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """The anthropic versions this instrumentor supports."""
        return (SUPPORTED,)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = install_telemetry(kwargs)
        endpoint = _endpoint()
        messages = importlib.import_module("anthropic.resources.messages")
        self._wrapped: list[tuple[Any, str]] = []
        targets: list[tuple[Any, str, Callable[..., Any]]] = [
            (messages.Messages, "create", wrap_sync(endpoint, telemetry)),
            (messages.AsyncMessages, "create", wrap_async(endpoint, telemetry)),
            (messages.Messages, "stream", _wrap_stream_helper(endpoint, telemetry)),
            (messages.AsyncMessages, "stream", _wrap_stream_helper(endpoint, telemetry)),
        ]
        base_client = importlib.import_module("anthropic._base_client")
        if hasattr(base_client, "start_api_call_span"):
            targets.append((base_client, "start_api_call_span", _suppress_sdk_span))
        for owner, method, wrapper in targets:
            wrap_function_wrapper(owner, method, wrapper)
            self._wrapped.append((owner, method))

    def _uninstrument(self, **kwargs: Any) -> None:
        unwrap_all(getattr(self, "_wrapped", []))
        self._wrapped = []
