"""OpenAI Responses API: request parameters, responses and stream events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation._stainless import request_info
from otel_llm.instrumentation.endpoint import RequestInfo
from otel_llm.instrumentation.openai import _convert as convert
from otel_llm.instrumentation.openai._chat import (
    is_list,
    output_type,
    provider_attributes,
    set_attribute,
)
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage
from otel_llm.instrumentation.types import get_field as _get
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import openai as oa


def responses_request(
    resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of responses.create / parse (keyword arguments only)."""
    attributes: dict[str, AttributeValue] = {}
    attributes[oa.OPENAI_API_TYPE] = oa.OpenaiApiTypeValues.RESPONSES.value
    set_attribute(
        attributes, ga.GEN_AI_REQUEST_TEMPERATURE, kwargs.get("temperature"), (float, int)
    )
    set_attribute(attributes, ga.GEN_AI_REQUEST_TOP_P, kwargs.get("top_p"), (float, int))
    set_attribute(attributes, ga.GEN_AI_REQUEST_MAX_TOKENS, kwargs.get("max_output_tokens"), int)
    set_attribute(
        attributes, ga.GEN_AI_REQUEST_REASONING_LEVEL, _get(kwargs.get("reasoning"), "effort"), str
    )
    set_attribute(
        attributes, ga.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID, kwargs.get("previous_response_id"), str
    )
    kind = output_type(_get(kwargs.get("text"), "format"))
    if kind:
        attributes[ga.GEN_AI_OUTPUT_TYPE] = kind
    tier = kwargs.get("service_tier")
    if isinstance(tier, str) and tier != "auto":
        attributes[oa.OPENAI_REQUEST_SERVICE_TIER] = tier
    conversation = kwargs.get("conversation")
    conversation_id = conversation if isinstance(conversation, str) else _get(conversation, "id")
    set_attribute(attributes, ga.GEN_AI_CONVERSATION_ID, conversation_id, str)
    return request_info(kwargs, attributes)


def responses_content(kwargs: Mapping[str, Any]) -> Content:
    """Request content of a Responses API call."""
    tools = kwargs.get("tools")
    return Content(
        input_messages=convert.responses_input(kwargs.get("input")),
        system_instructions=convert.responses_system(kwargs.get("instructions")),
        tool_definitions=convert.tool_definitions(tools) if is_list(tools) else None,
    )


def responses_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a Response object."""
    usage = _get(result, "usage")
    output = convert.responses_output(result) if _get(result, "output") is not None else []
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
        attributes=provider_attributes(result),
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
