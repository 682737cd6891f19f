"""OpenAI SDK (2.x and 3.x): what to read from requests, responses and stream chunks."""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping
from typing import Any, cast

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.util.types import AttributeValue
from wrapt import wrap_function_wrapper

from otel_llm.instrumentation import _content as content
from otel_llm.instrumentation._engine import wrap_async, wrap_sync
from otel_llm.instrumentation._install import install_telemetry, unwrap_all
from otel_llm.instrumentation._model import (
    Content,
    Endpoint,
    RequestInfo,
    ResponseInfo,
    Usage,
    request_info,
    server_attributes,
)
from otel_llm.instrumentation._model import get_field as _get
from otel_llm.instrumentation._streams import StreamManagerProxy
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import openai as oa

SUPPORTED = "openai >= 2.0.0, < 4"
"""The openai SDK versions this module supports (both major lines talk HTTP differently)."""

_CHAT = ga.GenAiOperationNameValues.CHAT.value
_PROVIDER = ga.GenAiProviderNameValues


def provider_name(resource: Any) -> str:
    """`azure.ai.openai` for Azure OpenAI clients, `openai` otherwise (compatible servers too)."""
    client = getattr(resource, "_client", None)
    if "Azure" in type(client).__name__:
        return _PROVIDER.AZURE_AI_OPENAI.value
    return _PROVIDER.OPENAI.value


def _set(
    attributes: dict[str, AttributeValue], key: str, value: Any, kind: type | tuple[type, ...]
) -> None:
    # bool is an int subclass, but a boolean is never a valid number parameter here.
    if isinstance(value, kind) and not isinstance(value, bool):
        attributes[key] = cast(AttributeValue, value)


def _output_type(response_format: Any) -> str | None:
    kind = _get(response_format, "type")
    if kind in ("json_object", "json_schema"):
        return ga.GenAiOutputTypeValues.JSON.value
    if kind == "text":
        return ga.GenAiOutputTypeValues.TEXT.value
    if isinstance(response_format, type):  # chat.completions.parse(response_format=Model)
        return ga.GenAiOutputTypeValues.JSON.value
    return None


# --- Chat Completions ------------------------------------------------------------------------
_NUMBER = (float, int)
# (kwarg, attribute, accepted types), in precedence order: a later row overwrites an earlier one
# (max_completion_tokens wins over the deprecated max_tokens).
_CHAT_PARAMS: tuple[tuple[str, str, type | tuple[type, ...]], ...] = (
    ("temperature", ga.GEN_AI_REQUEST_TEMPERATURE, _NUMBER),
    ("top_p", ga.GEN_AI_REQUEST_TOP_P, _NUMBER),
    ("max_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("max_completion_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("frequency_penalty", ga.GEN_AI_REQUEST_FREQUENCY_PENALTY, _NUMBER),
    ("presence_penalty", ga.GEN_AI_REQUEST_PRESENCE_PENALTY, _NUMBER),
    ("seed", ga.GEN_AI_REQUEST_SEED, int),
    ("reasoning_effort", ga.GEN_AI_REQUEST_REASONING_LEVEL, str),
)


def _params(
    attributes: dict[str, AttributeValue],
    kwargs: Mapping[str, Any],
    table: tuple[tuple[str, str, type | tuple[type, ...]], ...],
) -> None:
    # Runs on every call: only the rows whose kwarg was actually passed are looked at.
    for name, key, kind in table:
        if name in kwargs:
            _set(attributes, key, kwargs[name], kind)


def chat_request(resource: Any, kwargs: Mapping[str, Any]) -> RequestInfo:
    """Request facts of chat.completions.create / parse."""
    attributes = server_attributes(resource)
    attributes[oa.OPENAI_API_TYPE] = oa.OpenaiApiTypeValues.CHAT_COMPLETIONS.value
    _params(attributes, kwargs, _CHAT_PARAMS)
    if "stop" in kwargs:
        stop = kwargs["stop"]
        if isinstance(stop, str):
            attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = (stop,)
        elif isinstance(stop, list | tuple) and all(isinstance(s, str) for s in stop):
            attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stop)
    choices = kwargs.get("n")
    if isinstance(choices, int) and choices != 1:
        attributes[ga.GEN_AI_REQUEST_CHOICE_COUNT] = choices
    if "response_format" in kwargs:
        output_type = _output_type(kwargs["response_format"])
        if output_type:
            attributes[ga.GEN_AI_OUTPUT_TYPE] = output_type
    tier = kwargs.get("service_tier")
    if isinstance(tier, str) and tier != "auto":
        attributes[oa.OPENAI_REQUEST_SERVICE_TIER] = tier
    return request_info(kwargs, attributes)


def chat_content(kwargs: Mapping[str, Any]) -> Content:
    """Request content of a chat completion, in the upstream shapes."""
    tools = kwargs.get("tools")
    return Content(
        input_messages=content.openai_chat_input(kwargs.get("messages") or ()),
        tool_definitions=content.openai_tool_definitions(tools) if _is_list(tools) else None,
    )


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value)


def _provider_attributes(result: Any) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    _set(attributes, oa.OPENAI_RESPONSE_SERVICE_TIER, _get(result, "service_tier"), str)
    _set(attributes, oa.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, _get(result, "system_fingerprint"), str)
    return attributes


def _chat_usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    return Usage(
        input_tokens=_get(usage, "prompt_tokens"),
        output_tokens=_get(usage, "completion_tokens"),
        cache_read_tokens=_get(_get(usage, "prompt_tokens_details"), "cached_tokens"),
        reasoning_tokens=_get(_get(usage, "completion_tokens_details"), "reasoning_tokens"),
    )


def chat_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a ChatCompletion (or ParsedChatCompletion)."""
    choices = _get(result, "choices") or ()
    return ResponseInfo(
        response_id=_get(result, "id"),
        model=_get(result, "model"),
        finish_reasons=tuple(
            content.openai_finish_reason(_get(c, "finish_reason")) for c in choices
        ),
        usage=_chat_usage(_get(result, "usage")),
        attributes=_provider_attributes(result),
        output=content.openai_chat_output(choices) if capture else None,
    )


class ChatStreamState:
    """Accumulates ChatCompletionChunks: ids, finish reasons, usage, and content if captured."""

    __slots__ = ("_capture", "_choices", "_first", "_last_usage", "_model")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._first: Any = None
        self._model: Any = None
        self._last_usage: Any = None
        self._choices: dict[int, dict[str, Any]] = {}

    def on_chunk(self, chunk: Any) -> None:
        """Note one chunk; text and tool-call deltas are kept only when content is captured."""
        # Azure OpenAI opens with a content-filter chunk whose id and model are empty: they
        # come from the first chunk that has them.
        if self._first is None and getattr(chunk, "id", None):
            self._first = chunk
        if self._model is None:
            model = getattr(chunk, "model", None)
            if isinstance(model, str) and model:
                self._model = model
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._last_usage = usage
        choices = getattr(chunk, "choices", None)
        if not isinstance(choices, list):
            return
        for choice in choices:
            # Chunks are built without validation: any field may be missing or of a wrong type.
            index = getattr(choice, "index", None)
            index = index if type(index) is int else 0
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = {
                    "finish_reason": None,
                    "text": [],
                    "tools": {},
                }
            reason = getattr(choice, "finish_reason", None)
            if isinstance(reason, str):
                state["finish_reason"] = reason
            if self._capture:
                delta = getattr(choice, "delta", None)
                if delta is not None:
                    self._accumulate(state, delta)

    @staticmethod
    def _accumulate(state: dict[str, Any], delta: Any) -> None:
        content = getattr(delta, "content", None)
        if isinstance(content, str) and content:
            state["text"].append(content)
        calls = getattr(delta, "tool_calls", None)
        for call in calls if isinstance(calls, list) else ():
            index = getattr(call, "index", None)
            index = index if type(index) is int else 0
            tool = state["tools"].setdefault(index, {"id": None, "name": "", "arguments": []})
            call_id = getattr(call, "id", None)
            if isinstance(call_id, str) and call_id:
                tool["id"] = call_id
            function = getattr(call, "function", None)
            if function is not None:
                name = getattr(function, "name", None)
                arguments = getattr(function, "arguments", None)
                tool["name"] += name if isinstance(name, str) else ""
                tool["arguments"].append(arguments if isinstance(arguments, str) else "")

    def result(self) -> ResponseInfo:
        """What the chunks so far amount to."""
        first = self._first
        ordered = [self._choices[i] for i in sorted(self._choices)]
        output = None
        if self._capture:
            choices = [
                {
                    "finish_reason": c["finish_reason"],
                    "message": {
                        "role": "assistant",
                        "content": "".join(c["text"]) or None,
                        "tool_calls": [
                            {
                                "id": t["id"],
                                "type": "function",
                                "function": {
                                    "name": t["name"],
                                    "arguments": "".join(t["arguments"]),
                                },
                            }
                            for _, t in sorted(c["tools"].items())
                        ]
                        or None,
                    },
                }
                for c in ordered
            ]
            output = content.openai_chat_output(choices)
        return ResponseInfo(
            response_id=_get(first, "id"),
            model=self._model,
            finish_reasons=tuple(content.openai_finish_reason(c["finish_reason"]) for c in ordered),
            usage=_chat_usage(self._last_usage),
            attributes=_provider_attributes(first) if first is not None else {},
            output=output,
        )


# --- Responses API -----------------------------------------------------------------------------
def responses_request(resource: Any, kwargs: Mapping[str, Any]) -> RequestInfo:
    """Request facts of responses.create."""
    attributes = server_attributes(resource)
    attributes[oa.OPENAI_API_TYPE] = oa.OpenaiApiTypeValues.RESPONSES.value
    _set(attributes, ga.GEN_AI_REQUEST_TEMPERATURE, kwargs.get("temperature"), (float, int))
    _set(attributes, ga.GEN_AI_REQUEST_TOP_P, kwargs.get("top_p"), (float, int))
    _set(attributes, ga.GEN_AI_REQUEST_MAX_TOKENS, kwargs.get("max_output_tokens"), int)
    _set(
        attributes, ga.GEN_AI_REQUEST_REASONING_LEVEL, _get(kwargs.get("reasoning"), "effort"), str
    )
    _set(
        attributes, ga.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID, kwargs.get("previous_response_id"), str
    )
    output_type = _output_type(_get(kwargs.get("text"), "format"))
    if output_type:
        attributes[ga.GEN_AI_OUTPUT_TYPE] = output_type
    tier = kwargs.get("service_tier")
    if isinstance(tier, str) and tier != "auto":
        attributes[oa.OPENAI_REQUEST_SERVICE_TIER] = tier
    conversation = kwargs.get("conversation")
    conversation_id = conversation if isinstance(conversation, str) else _get(conversation, "id")
    _set(attributes, ga.GEN_AI_CONVERSATION_ID, conversation_id, str)
    return request_info(kwargs, attributes)


def responses_content(kwargs: Mapping[str, Any]) -> Content:
    """Request content of a Responses API call."""
    tools = kwargs.get("tools")
    return Content(
        input_messages=content.openai_responses_input(kwargs.get("input")),
        system_instructions=content.openai_responses_system(kwargs.get("instructions")),
        tool_definitions=content.openai_tool_definitions(tools) if _is_list(tools) else None,
    )


def responses_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a Response object."""
    usage = _get(result, "usage")
    output = content.openai_responses_output(result) if _get(result, "output") is not None else []
    finish = (output[0].get("finish_reason") if output else None) or "stop"
    if _get(result, "status") == "failed":
        finish = "error"
    return ResponseInfo(
        response_id=_get(result, "id"),
        model=_get(result, "model"),
        finish_reasons=(finish,),
        usage=None
        if usage is None
        else Usage(
            input_tokens=_get(usage, "input_tokens"),
            output_tokens=_get(usage, "output_tokens"),
            cache_read_tokens=_get(_get(usage, "input_tokens_details"), "cached_tokens"),
            reasoning_tokens=_get(_get(usage, "output_tokens_details"), "reasoning_tokens"),
        ),
        attributes=_provider_attributes(result),
        output=output if capture else None,
    )


class ResponsesStreamState:
    """Keeps the Response carried by the stream's lifecycle events; the final one wins."""

    __slots__ = ("_capture", "_id", "_model", "_response")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._response: Any = None
        self._id: Any = None
        self._model: Any = None

    def on_chunk(self, chunk: Any) -> None:
        """Note one server-sent event; only those carrying a `response` matter."""
        response = getattr(chunk, "response", None)
        if response is not None:
            self._response = response
            # Kept from the first event that has them, should a later one carry them empty.
            if not self._id:
                self._id = getattr(response, "id", None)
            if not self._model:
                self._model = getattr(response, "model", None)

    def result(self) -> ResponseInfo:
        """Facts of the last Response seen (created, in progress, then its final state)."""
        if self._response is None:
            return ResponseInfo()
        info = responses_response(self._response, self._capture)
        if not info.response_id and isinstance(self._id, str) and self._id:
            info.response_id = self._id
        if not info.model and isinstance(self._model, str) and self._model:
            info.model = self._model
        return info


# --- Streams --------------------------------------------------------------------------------
_RAW_HEADER = "x-stainless-raw-response"
_STREAM_ERROR = "An error occurred during streaming"


def _stream_usage(unset: tuple[type, ...]) -> Any:
    def stream_usage(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        """`kwargs` asking for the stream's usage; None when the caller chose stream_options."""
        if "stream_options" in kwargs and not isinstance(kwargs["stream_options"], unset):
            return None  # the caller's own stream_options (even None) are theirs
        extra_body = kwargs.get("extra_body")
        if isinstance(extra_body, Mapping) and "stream_options" in extra_body:
            return None
        headers = kwargs.get("extra_headers")
        # with_raw_response / with_streaming_response hand the caller the body's bytes, from
        # which an extra usage event could not be hidden.
        if isinstance(headers, Mapping) and any(
            isinstance(name, str) and name.lower() == _RAW_HEADER for name in headers
        ):
            return None
        return {**kwargs, "stream_options": {"include_usage": True}}

    return stream_usage


def strip_stream_usage(chunk: Any) -> bool:
    """Hide the usage otel-llm asked for; True for the usage-only chunk (not passed on)."""
    # With include_usage every chunk carries `"usage": null`; without it the field is unset,
    # which `to_dict()` and `model_dump(exclude_unset=True)` show.
    fields = getattr(chunk, "__pydantic_fields_set__", None)
    if getattr(chunk, "usage", None) is not None:
        if not getattr(chunk, "choices", None):
            return True
        chunk.usage = None  # a server that put usage on a content chunk
    if isinstance(fields, set):
        fields.discard("usage")
    return False


def stream_error(event: str | None, data: Any, response: Any) -> BaseException | None:
    """The APIError openai's Stream raises for an error event (read from a raw body)."""
    if not isinstance(data, dict) or not data.get("error"):
        return None
    if event is not None and event.startswith("thread."):
        return None  # Assistants events are passed on whatever they hold
    import openai  # noqa: PLC0415 - only once a raw stream carried an error

    error = data["error"]
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        message = _STREAM_ERROR
    return openai.APIError(message=message, request=response.request, body=error)


# --- Embeddings --------------------------------------------------------------------------------
def embeddings_request(resource: Any, kwargs: Mapping[str, Any]) -> RequestInfo:
    """Request facts of embeddings.create."""
    attributes = server_attributes(resource)
    encoding = kwargs.get("encoding_format")
    if isinstance(encoding, str):
        attributes[ga.GEN_AI_REQUEST_ENCODING_FORMATS] = (encoding,)
    return request_info(kwargs, attributes)


def embeddings_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a CreateEmbeddingResponse."""
    del capture  # embeddings have no message content
    attributes: dict[str, AttributeValue] = {}
    data = _get(result, "data") or ()
    if data and isinstance(_get(data[0], "embedding"), list):
        attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(_get(data[0], "embedding"))
    usage = _get(result, "usage")
    return ResponseInfo(
        model=_get(result, "model"),
        usage=None if usage is None else Usage(input_tokens=_get(usage, "prompt_tokens")),
        attributes=attributes,
    )


def _endpoints() -> dict[str, Endpoint]:
    import openai  # noqa: PLC0415 - only when instrumenting

    streams = (openai.Stream, openai.AsyncStream)
    legacy = importlib.import_module("openai._legacy_response").LegacyAPIResponse
    raw = (legacy, openai.APIResponse, openai.AsyncAPIResponse)
    metric_keys = (oa.OPENAI_RESPONSE_SERVICE_TIER,)
    chat = Endpoint(
        operation=_CHAT,
        provider=provider_name,
        request=chat_request,
        response=chat_response,
        stream_types=streams,
        stream_state=ChatStreamState,
        content=chat_content,
        metric_attributes=metric_keys,
        raw_types=raw,
        stream_error=stream_error,
        stream_usage=_stream_usage((openai.NotGiven, openai.Omit)),
        strip_usage=strip_stream_usage,
    )
    responses = Endpoint(
        operation=_CHAT,
        provider=provider_name,
        request=responses_request,
        response=responses_response,
        stream_types=streams,
        stream_state=ResponsesStreamState,
        content=responses_content,
        metric_attributes=metric_keys,
        raw_types=raw,
        final_events=frozenset({"response.completed", "response.incomplete", "response.failed"}),
        stream_error=stream_error,
    )
    embeddings = Endpoint(
        operation=ga.GenAiOperationNameValues.EMBEDDINGS.value,
        provider=provider_name,
        request=embeddings_request,
        response=embeddings_response,
        raw_types=raw,
    )
    return {"chat": chat, "responses": responses, "embeddings": embeddings}


# (module, sync class, async class, method, endpoint key)
_TARGETS = (
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "create", "chat"),
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "parse", "chat"),
    ("openai.resources.responses", "Responses", "AsyncResponses", "create", "responses"),
    ("openai.resources.responses", "Responses", "AsyncResponses", "parse", "responses"),
    ("openai.resources.embeddings", "Embeddings", "AsyncEmbeddings", "create", "embeddings"),
)
# Stream helpers whose `with` block must end the span even when left early.
_HELPERS = (
    ("openai.resources.chat.completions", ("Completions", "AsyncCompletions"), "stream"),
    ("openai.resources.responses", ("Responses", "AsyncResponses"), "stream"),
)


def _wrap_helper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    return StreamManagerProxy(wrapped(*args, **kwargs))


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # untyped base class
    """Instruments the openai SDK; `opentelemetry-instrument` finds it as `otel_llm_openai`."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """The openai versions this instrumentor supports."""
        return (SUPPORTED,)

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = install_telemetry(kwargs)
        endpoints = _endpoints()
        self._wrapped: list[tuple[Any, str]] = []
        for module, sync_class, async_class, method, key in _TARGETS:
            endpoint = endpoints[key]
            real = _resolve(module)
            for owner, wrapper in (
                (sync_class, wrap_sync(endpoint, telemetry)),
                (async_class, wrap_async(endpoint, telemetry)),
            ):
                self._wrap(getattr(real, owner, None), method, wrapper)
        for module, owners, method in _HELPERS:
            real = _resolve(module)
            for owner in owners:
                self._wrap(getattr(real, owner, None), method, _wrap_helper)

    def _wrap(self, cls: Any, method: str, wrapper: Any) -> None:
        # Methods missing from an older SDK release are simply not instrumented.
        if cls is not None and hasattr(cls, method):
            wrap_function_wrapper(cls, method, wrapper)
            self._wrapped.append((cls, method))

    def _uninstrument(self, **kwargs: Any) -> None:
        unwrap_all(getattr(self, "_wrapped", []))
        self._wrapped = []


def _resolve(module: str) -> Any:
    return importlib.import_module(module)
