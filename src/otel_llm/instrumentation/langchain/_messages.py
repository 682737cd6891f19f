"""LangChain's messages, model parameters and results in the GenAI conventions' terms.

Read duck-typed (LangChain's message classes are never imported here), so a message of any
integration package converts, and a value of an unexpected shape is skipped, never raised on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation import parts
from otel_llm.instrumentation.endpoint import RequestInfo
from otel_llm.instrumentation.parts import Message, Part
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = [
    "content",
    "messages",
    "provider_name",
    "request_info",
    "response_info",
    "text_content",
]

_seq, _s = parts.sequence, parts.string

PROVIDERS = {
    # LangChain's `ls_provider` (or a legacy `_type`) -> gen_ai.provider.name.
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure-openai-chat": "azure.ai.openai",
    "openai-chat": "openai",
    "anthropic-chat": "anthropic",
    "google_genai": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "google_anthropic_vertex": "gcp.vertex_ai",
    "vertexai": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "mistralai": "mistral_ai",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "ibm": "ibm.watsonx.ai",
    "watsonx": "ibm.watsonx.ai",
    "azure_ai": "azure.ai.inference",
}
"""LangChain's provider names that upstream spells differently (the rest pass through)."""

FINISH_REASONS = {
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "tool_use": "tool_call",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "refusal": "content_filter",
}
"""Finish reasons across integrations (OpenAI, Anthropic, Gemini) in upstream terms."""

_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    # A streamed reply's merged chunks keep their chunk classes' names.
    "HumanMessageChunk": "user",
    "AIMessageChunk": "assistant",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
}
_SYSTEM = "system"
_INTEGERS = frozenset(
    {ga.GEN_AI_REQUEST_MAX_TOKENS, ga.GEN_AI_REQUEST_SEED, ga.GEN_AI_REQUEST_TOP_K}
)
_PARAMS: tuple[tuple[str, str], ...] = (
    ("temperature", ga.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", ga.GEN_AI_REQUEST_TOP_P),
    ("top_k", ga.GEN_AI_REQUEST_TOP_K),
    ("frequency_penalty", ga.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", ga.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", ga.GEN_AI_REQUEST_SEED),
    ("max_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_completion_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_output_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS),
)


def _get(value: object, key: str) -> Any:
    """`value[key]` of a mapping, or its attribute; None when it has neither."""
    if isinstance(value, Mapping):
        return value.get(key)
    return getattr(value, key, None)


def provider_name(metadata: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """The `gen_ai.provider.name` of a LangChain model run, from its tracing metadata."""
    name = metadata.get("ls_provider") or params.get("_type")
    if not isinstance(name, str) or not name:
        return "langchain"
    return PROVIDERS.get(name, name)


def request_info(
    metadata: Mapping[str, Any], params: Mapping[str, Any], streaming: bool
) -> RequestInfo:
    """The model and request parameters of a model run (`invocation_params` and `ls_*`)."""
    model = metadata.get("ls_model_name") or params.get("model") or params.get("model_name")
    attributes: dict[str, AttributeValue] = {}
    for key, attribute in _PARAMS:
        if attribute in attributes:
            continue
        value = params.get(key)
        if value is None:
            value = metadata.get(f"ls_{key}")
        if type(value) is int or (type(value) is float and attribute not in _INTEGERS):
            attributes[attribute] = value
    stop = params.get("stop") or metadata.get("ls_stop")
    if isinstance(stop, str):
        stop = [stop]
    if isinstance(stop, list | tuple) and stop and all(isinstance(s, str) for s in stop):
        attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stop)
    count = params.get("n")
    if type(count) is int and count != 1:
        attributes[ga.GEN_AI_REQUEST_CHOICE_COUNT] = count
    if streaming:
        attributes[ga.GEN_AI_REQUEST_STREAM] = True
    model = model if isinstance(model, str) and model else None
    return RequestInfo(model=model, attributes=attributes, stream=streaming)


# --- content ----------------------------------------------------------------------------------
def _block(block: object) -> Part | None:  # noqa: PLR0911 - one flat dispatch over block types
    """One content block (OpenAI-style or LangChain's standard blocks) as a part."""
    if isinstance(block, str):
        return parts.text(block)
    kind = _get(block, "type")
    if kind == "text":
        return parts.text(_get(block, "text"))
    if kind == "image_url":
        image = _get(block, "image_url")
        return parts.uri(_get(image, "url") if not isinstance(image, str) else image, "image")
    if kind in ("image", "audio", "video", "file"):
        modality = "document" if kind == "file" else kind
        data = _get(block, "base64") or _get(block, "data")
        if isinstance(data, str):
            return parts.blob(modality, data, _get(block, "mime_type"))
        file_id = _get(block, "file_id") or _get(block, "id")
        url = _get(block, "url")
        if isinstance(url, str):
            return parts.uri(url, modality)
        if isinstance(file_id, str):
            return parts.file(file_id, modality)
        return parts.generic(kind)
    if kind in ("reasoning", "thinking"):
        return parts.reasoning(_get(block, "reasoning") or _get(block, "thinking"))
    if kind in ("tool_call", "tool_use", "tool_call_chunk", "function_call"):
        return None  # the message's tool_calls list says it once
    return parts.generic(kind)


def _parts(value: object) -> list[Part]:
    if isinstance(value, str):
        return [parts.text(value)] if value else []
    found: list[Part] = []
    for block in _seq(value):
        part = _block(block)
        if part is not None:
            found.append(part)
    return found


def _role(message: object) -> str:
    if isinstance(message, tuple) and len(message) == 2:  # ("user", "text") shorthand
        return _ROLES.get(_s(message[0]), _s(message[0]) or "user")
    kind = _s(_get(message, "type"))
    if kind in ("chat", "ChatMessageChunk"):
        return _s(_get(message, "role")) or "user"
    return _ROLES.get(kind, kind or "user")


def _message(message: object) -> Message | None:
    """One LangChain message (or a `(role, text)` pair, or a plain string) as a message."""
    if isinstance(message, str):
        return {"role": "user", "parts": [parts.text(message)]}
    if isinstance(message, tuple) and len(message) == 2:
        return {"role": _role(message), "parts": _parts(message[1])}
    if _get(message, "content") is None and _get(message, "type") is None:
        return None
    role = _role(message)
    found = _parts(_get(message, "content"))
    if role == "tool":
        return {
            "role": "tool",
            "parts": [parts.tool_call_response(_get(message, "tool_call_id"), _text(found))],
        }
    for call in _seq(_get(message, "tool_calls")):
        found.append(parts.tool_call(_get(call, "id"), _get(call, "name"), _get(call, "args")))
    return {"role": role, "parts": found}


def _text(found: list[Part]) -> str:
    return "".join(_s(part.get("content")) for part in found if part.get("type") == "text")


def messages(values: object) -> list[Message]:
    """A list of LangChain messages as input messages (system messages included)."""
    out: list[Message] = []
    for value in _seq(values):
        message = _message(value)
        if message is not None:
            out.append(message)
    return out


def content(values: object, params: Mapping[str, Any]) -> Content:
    """A chat model run's request content: messages, system instructions, tool definitions."""
    found = messages(values)
    system = [part for m in found if m["role"] == _SYSTEM for part in m["parts"]]
    tools = [
        parts.tool_definition(
            _s(_get(tool, "type")) or "function",
            _get(_get(tool, "function") or tool, "name"),
            _get(_get(tool, "function") or tool, "description"),
        )
        for tool in _seq(params.get("tools"))
    ]
    return Content(
        input_messages=[m for m in found if m["role"] != _SYSTEM] or None,
        system_instructions=system or None,
        tool_definitions=tools or None,
    )


def text_content(prompts: object) -> Content:
    """A completion model run's request content: each prompt as a user message."""
    found = [{"role": "user", "parts": [parts.text(p)]} for p in _seq(prompts)]
    return Content(input_messages=found or None)


# --- results ----------------------------------------------------------------------------------
def _int(value: object) -> int | None:
    return value if type(value) is int else None


def _add(total: int | None, value: int | None) -> int | None:
    if value is None:
        return total
    return value if total is None else total + value


def _usage(generations: Sequence[object], llm_output: object) -> Usage | None:
    usage = Usage()
    found = False
    for generation in generations:
        meta = _get(_get(generation, "message"), "usage_metadata")
        if not isinstance(meta, Mapping):
            continue
        found = True
        inputs = _get(meta, "input_token_details")
        outputs = _get(meta, "output_token_details")
        usage = Usage(
            input_tokens=_add(usage.input_tokens, _int(meta.get("input_tokens"))),
            output_tokens=_add(usage.output_tokens, _int(meta.get("output_tokens"))),
            cache_read_tokens=_add(usage.cache_read_tokens, _int(_get(inputs, "cache_read"))),
            cache_write_tokens=_add(usage.cache_write_tokens, _int(_get(inputs, "cache_creation"))),
            reasoning_tokens=_add(usage.reasoning_tokens, _int(_get(outputs, "reasoning"))),
        )
    if found:
        return usage
    # Integrations without usage_metadata report OpenAI-style counts in llm_output.
    counts = _get(llm_output, "token_usage") or _get(llm_output, "usage")
    if not isinstance(counts, Mapping):
        return None
    inputs = _int(counts.get("prompt_tokens"))
    outputs = _int(counts.get("completion_tokens"))
    return Usage(
        input_tokens=inputs if inputs is not None else _int(counts.get("input_tokens")),
        output_tokens=outputs if outputs is not None else _int(counts.get("output_tokens")),
    )


def _finish_reason(generation: object) -> str | None:
    info = _get(generation, "generation_info")
    metadata = _get(_get(generation, "message"), "response_metadata")
    reason = _get(info, "finish_reason") or _get(metadata, "finish_reason")
    reason = reason or _get(metadata, "stop_reason")
    # LangChain's models report a reason only when their provider does (a model of its own,
    # a merged stream, may not): none is unknown here, not a failure.
    return parts.finish_reason(reason, FINISH_REASONS) if isinstance(reason, str) else None


def response_info(result: object, capturing: bool) -> ResponseInfo:
    """A model run's LLMResult: response id and model, finish reasons, usage, output."""
    generations = [g for batch in _seq(_get(result, "generations")) for g in _seq(batch)]
    llm_output = _get(result, "llm_output")
    first = _get(generations[0], "message") if generations else None
    metadata = _get(first, "response_metadata")
    model = _get(metadata, "model_name") or _get(metadata, "model")
    model = model or _get(llm_output, "model_name")
    response_id = _get(metadata, "id") or _get(llm_output, "id")
    output = None
    if capturing:
        output = []
        for generation in generations:
            message = _get(generation, "message")
            converted = _message(message) if message is not None else None
            if converted is None:
                converted = {"role": "assistant", "parts": _parts(_get(generation, "text"))}
            converted["finish_reason"] = _finish_reason(generation) or "stop"
            output.append(converted)
    return ResponseInfo(
        response_id=response_id if isinstance(response_id, str) else None,
        model=model if isinstance(model, str) else None,
        finish_reasons=tuple(r for r in map(_finish_reason, generations) if r is not None),
        usage=_usage(generations, llm_output),
        output=output,
    )
