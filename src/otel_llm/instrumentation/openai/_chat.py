"""OpenAI Chat Completions: request parameters, responses and stream chunks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation._stainless import request_info
from otel_llm.instrumentation.endpoint import Arguments, RequestInfo
from otel_llm.instrumentation.openai import _convert as convert
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage
from otel_llm.instrumentation.types import get_field as _get
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import openai as oa

_PROVIDER = ga.GenAiProviderNameValues


def provider_name(resource: Any) -> str:
    """`azure.ai.openai` for Azure OpenAI clients, `openai` otherwise (compatible servers too)."""
    client = getattr(resource, "_client", None)
    if "Azure" in type(client).__name__:
        return _PROVIDER.AZURE_AI_OPENAI.value
    return _PROVIDER.OPENAI.value


def set_attribute(
    attributes: dict[str, AttributeValue], key: str, value: Any, kind: type | tuple[type, ...]
) -> None:
    """Set `key` to `value` when it has type `kind` (a bool is never a number here)."""
    # bool is an int subclass, but a boolean is never a valid number parameter here.
    if isinstance(value, kind) and not isinstance(value, bool):
        attributes[key] = cast(AttributeValue, value)


def output_type(response_format: Any) -> str | None:
    """`gen_ai.output.type` for a `response_format` (or Responses `text.format`)."""
    kind = _get(response_format, "type")
    if kind in ("json_object", "json_schema"):
        return ga.GenAiOutputTypeValues.JSON.value
    if kind == "text":
        return ga.GenAiOutputTypeValues.TEXT.value
    if isinstance(response_format, type):  # chat.completions.parse(response_format=Model)
        return ga.GenAiOutputTypeValues.JSON.value
    return None


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
            set_attribute(attributes, key, kwargs[name], kind)


def chat_request(resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RequestInfo:
    """Request facts of chat.completions.create / parse (keyword arguments only)."""
    attributes: dict[str, AttributeValue] = {}
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
        kind = output_type(kwargs["response_format"])
        if kind:
            attributes[ga.GEN_AI_OUTPUT_TYPE] = kind
    tier = kwargs.get("service_tier")
    if isinstance(tier, str) and tier != "auto":
        attributes[oa.OPENAI_REQUEST_SERVICE_TIER] = tier
    return request_info(kwargs, attributes)


def chat_content(kwargs: Mapping[str, Any]) -> Content:
    """Request content of a chat completion, in the upstream shapes."""
    tools = kwargs.get("tools")
    return Content(
        input_messages=convert.chat_input(kwargs.get("messages") or ()),
        tool_definitions=convert.tool_definitions(tools) if is_list(tools) else None,
    )


def is_list(value: Any) -> bool:
    """Whether `value` is a non-empty list or tuple."""
    return isinstance(value, list | tuple) and bool(value)


def provider_attributes(result: Any) -> dict[str, AttributeValue]:
    """OpenAI's response attributes: service tier and system fingerprint."""
    attributes: dict[str, AttributeValue] = {}
    tier, fingerprint = _get(result, "service_tier"), _get(result, "system_fingerprint")
    set_attribute(attributes, oa.OPENAI_RESPONSE_SERVICE_TIER, tier, str)
    set_attribute(attributes, oa.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, fingerprint, str)
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
        finish_reasons=tuple(convert.finish_reason(_get(c, "finish_reason")) for c in choices),
        usage=_chat_usage(_get(result, "usage")),
        attributes=provider_attributes(result),
        output=convert.chat_output(choices) if capture else None,
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
            output = convert.chat_output(choices)
        return ResponseInfo(
            response_id=_get(first, "id"),
            model=self._model,
            finish_reasons=tuple(convert.finish_reason(c["finish_reason"]) for c in ordered),
            usage=_chat_usage(self._last_usage),
            attributes=provider_attributes(first) if first is not None else {},
            output=output,
        )


# --- asking for a stream's usage (OTEL_LLM_STREAM_USAGE) -------------------------------------
_RAW_HEADER = "x-stainless-raw-response"


def stream_usage(
    unset: tuple[type, ...],
) -> Callable[[tuple[Any, ...], Mapping[str, Any]], Arguments | None]:
    """An `Endpoint.stream_usage` for chat streams (`unset`: the SDK's NotGiven and Omit)."""

    def ask(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Arguments | None:
        """The call asking for the stream's usage; None when the caller chose stream_options."""
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
        return args, {**kwargs, "stream_options": {"include_usage": True}}

    return ask


def strip_stream_usage(chunk: Any) -> bool:
    """True for the usage-only chunk that asking for usage added (it is not passed on).

    Only that chunk is what the bare client would not have received: empty `choices` and a
    usage. Every other chunk is passed on as it came, even one whose usage is set (a server
    that reports usage on its finish chunk sends it whether asked or not).
    """
    return getattr(chunk, "usage", None) is not None and not getattr(chunk, "choices", None)
