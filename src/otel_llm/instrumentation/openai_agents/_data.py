"""What the Agents SDK's span data says, in the GenAI conventions' terms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agents.tracing.span_data import GenerationSpanData
from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation.openai import _convert as openai_convert
from otel_llm.instrumentation.openai._responses import responses_response
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = [
    "content",
    "conversation_id",
    "handoff_tool_name",
    "provider_name",
    "request_model",
    "response_info",
    "tool_attributes",
]

_PROVIDERS = {
    # LiteLLM-style `provider/model` names (the SDK's LitellmModel) -> gen_ai.provider.name.
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "mistral": "mistral_ai",
    "groq": "groq",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "azure": "azure.ai.openai",
    "cohere": "cohere",
}
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]")


def conversation_id(trace: Any) -> str | None:
    """The trace's `group_id`: the application's id of the conversation (a chat thread)."""
    group = getattr(trace, "group_id", None)
    return group if isinstance(group, str) and group else None


def provider_name(data: Any) -> str:
    """The provider of a model call the SDK traced (its OpenAI models unless named otherwise)."""
    model = getattr(data, "model", None)
    if isinstance(model, str) and "/" in model:
        prefix = model.split("/", 1)[0]
        return _PROVIDERS.get(prefix, prefix)
    return "openai"


def request_model(data: Any) -> str | None:
    """The model asked for: the generation's, else the one the response names."""
    model = getattr(data, "model", None)
    if not isinstance(model, str):
        model = getattr(getattr(data, "response", None), "model", None)
    return model if isinstance(model, str) and model else None


def tool_attributes(name: str, kind: str, agent: str | None) -> dict[str, AttributeValue]:
    """The `execute_tool` span's attributes."""
    attributes: dict[str, AttributeValue] = {
        ga.GEN_AI_OPERATION_NAME: ga.GenAiOperationNameValues.EXECUTE_TOOL.value,
        ga.GEN_AI_TOOL_NAME: name,
        ga.GEN_AI_TOOL_TYPE: kind,
    }
    if agent:
        attributes[ga.GEN_AI_AGENT_NAME] = agent
    return attributes


def handoff_tool_name(agent: str) -> str:
    """The tool a model calls to hand off to `agent`, as the SDK names it by default."""
    return _NOT_NAME.sub("_", f"transfer_to_{agent}").lower()


def _int(value: object) -> int | None:
    return value if type(value) is int else None


def _usage(usage: object) -> Usage | None:
    if not isinstance(usage, Mapping):
        return None
    inputs = usage.get("input_tokens_details")
    outputs = usage.get("output_tokens_details")
    inputs = inputs if isinstance(inputs, Mapping) else {}
    outputs = outputs if isinstance(outputs, Mapping) else {}
    return Usage(
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_read_tokens=_int(inputs.get("cached_tokens")),
        cache_write_tokens=_int(inputs.get("cache_write_tokens")) or None,
        reasoning_tokens=_int(outputs.get("reasoning_tokens")),
    )


def response_info(data: Any, capturing: bool) -> ResponseInfo:
    """A model call's response: the Response the SDK kept, else its usage and response id."""
    response = getattr(data, "response", None)
    if response is not None:
        return responses_response(response, capturing)
    exported: Mapping[str, Any] = {}
    try:
        exported = data.export() if data is not None else {}
    except Exception:  # span data of a shape this version does not know
        exported = {}
    response_id = exported.get("response_id")
    output = getattr(data, "output", None) if capturing else None
    messages = openai_convert.chat_input(output) if output else None
    return ResponseInfo(
        response_id=response_id if isinstance(response_id, str) else None,
        usage=_usage(getattr(data, "usage", None)),
        output=[{**m, "finish_reason": "stop"} for m in messages] if messages else None,
    )


def content(data: Any) -> Content | None:
    """A model call's input, when the SDK kept it (its `trace_include_sensitive_data`)."""
    items = getattr(data, "input", None)
    if not items:
        return None
    if isinstance(data, GenerationSpanData):
        return Content(input_messages=openai_convert.chat_input(items) or None)
    return Content(input_messages=openai_convert.responses_input(items) or None)
