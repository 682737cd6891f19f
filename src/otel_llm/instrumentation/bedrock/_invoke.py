"""Bedrock InvokeModel bodies per model family: request facts, content, replies, stream chunks.

InvokeModel passes each model's own JSON through: Anthropic Messages, Amazon Nova (Converse
shapes), Titan Text, Meta Llama and Mistral prompts, Mistral chat, Titan and Cohere embeddings.
Bedrock adds its own token counts: `X-Amzn-Bedrock-*-Token-Count` headers on InvokeModel replies
and `amazon-bedrock-invocationMetrics` on a stream's last chunk. Those are what AWS bills, so
they win over the counts in a model's body (which some families lack). Their input count leaves
cached tokens out, like Converse's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation import parts
from otel_llm.instrumentation._stainless_raw import Fields
from otel_llm.instrumentation.anthropic._messages import (
    MessageStreamState,
    messages_content,
    messages_response,
)
from otel_llm.instrumentation.bedrock import _converse as converse
from otel_llm.instrumentation.openai import _convert as openai_convert
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage, get_field
from otel_llm.semconv.attributes import gen_ai as ga

EMBEDDINGS = frozenset({"titan_embed", "cohere_embed"})
_MARKERS = (  # substrings of a model id (region prefixes and ARNs included), checked in order
    ("anthropic.", "anthropic"),
    ("amazon.nova", "nova"),
    ("amazon.titan-embed", "titan_embed"),
    ("amazon.titan-t", "titan_text"),  # titan-text-* and the older titan-tg1-*
    ("meta.llama", "llama"),
    ("mistral.", "mistral"),
    ("cohere.embed", "cohere_embed"),
)
_MAX_TOKENS, _TEMPERATURE, _TOP_P = (
    ga.GEN_AI_REQUEST_MAX_TOKENS,
    ga.GEN_AI_REQUEST_TEMPERATURE,
    ga.GEN_AI_REQUEST_TOP_P,
)
_TOP_K, _STOP = ga.GEN_AI_REQUEST_TOP_K, ga.GEN_AI_REQUEST_STOP_SEQUENCES
_PARAMS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "anthropic": (
        (_MAX_TOKENS, ("max_tokens",)),
        (_TEMPERATURE, ("temperature",)),
        (_TOP_P, ("top_p",)),
        (_TOP_K, ("top_k",)),
        (_STOP, ("stop_sequences",)),
    ),
    "nova": (
        (_MAX_TOKENS, ("inferenceConfig", "maxTokens")),
        (_MAX_TOKENS, ("inferenceConfig", "max_new_tokens")),
        (_TEMPERATURE, ("inferenceConfig", "temperature")),
        (_TOP_P, ("inferenceConfig", "topP")),
        (_TOP_K, ("inferenceConfig", "topK")),
        (_STOP, ("inferenceConfig", "stopSequences")),
    ),
    "titan_text": (
        (_MAX_TOKENS, ("textGenerationConfig", "maxTokenCount")),
        (_TEMPERATURE, ("textGenerationConfig", "temperature")),
        (_TOP_P, ("textGenerationConfig", "topP")),
        (_STOP, ("textGenerationConfig", "stopSequences")),
    ),
    "llama": (
        (_MAX_TOKENS, ("max_gen_len",)),
        (_TEMPERATURE, ("temperature",)),
        (_TOP_P, ("top_p",)),
    ),
    "mistral": (
        (_MAX_TOKENS, ("max_tokens",)),
        (_TEMPERATURE, ("temperature",)),
        (_TOP_P, ("top_p",)),
        (_TOP_K, ("top_k",)),
        (_STOP, ("stop",)),
    ),
    "titan_embed": (
        (ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, ("dimensions",)),
        (ga.GEN_AI_REQUEST_ENCODING_FORMATS, ("embeddingTypes",)),
    ),
    "cohere_embed": (
        (ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, ("output_dimension",)),
        (ga.GEN_AI_REQUEST_ENCODING_FORMATS, ("embedding_types",)),
    ),
}
_INTEGERS = frozenset({_MAX_TOKENS, _TOP_K, ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT})
_FINISH = {
    "FINISH": "stop",
    "STOP_CRITERIA_MET": "stop",
    "LENGTH": "length",
    "CONTENT_FILTERED": "content_filter",
    "tool_calls": "tool_call",
    "model_length": "length",
}
_NO_CONTENT = Content()
_METRICS = "amazon-bedrock-invocationMetrics"
_GUARDRAIL_ACTION = "amazon-bedrock-guardrailAction"


_BODY_KEYS = (  # a body key that only one format uses, checked in order
    ("anthropic_version", "anthropic"),
    ("schemaVersion", "nova"),
    ("inferenceConfig", "nova"),
    ("textGenerationConfig", "titan_text"),
    ("inputText", "titan_embed"),
    ("texts", "cohere_embed"),
    ("max_gen_len", "llama"),
    ("prompt", "mistral"),
    ("messages", "mistral"),
)


def family(model_id: str | None, body: object) -> str | None:
    """The body format of a call: from the model id, else (ARNs of profiles) from the body."""
    lowered = model_id.lower() if isinstance(model_id, str) else ""
    for marker, name in _MARKERS:
        if marker in lowered:
            return name
    if isinstance(body, Mapping):
        for key, name in _BODY_KEYS:
            if key in body:
                return name
    return None


def operation(name: str | None, body: object) -> str:
    """`gen_ai.operation.name`: embeddings, chat for message lists, text_completion for prompts."""
    values = ga.GenAiOperationNameValues
    if name in EMBEDDINGS:
        return values.EMBEDDINGS.value
    if not isinstance(body, Mapping) or "messages" in body:
        return values.CHAT.value
    if "prompt" in body or "inputText" in body:
        return values.TEXT_COMPLETION.value
    return values.CHAT.value


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def request_attributes(name: str | None, body: object) -> dict[str, AttributeValue]:
    """The request parameters of an InvokeModel body, per family."""
    attributes: dict[str, AttributeValue] = {}
    for key, path in _PARAMS.get(name or "", ()):
        value: Any = body
        for step in path:
            value = value.get(step) if isinstance(value, Mapping) else None
        if key in _INTEGERS:
            if type(value) is int:
                attributes[key] = value
        elif key in (_STOP, ga.GEN_AI_REQUEST_ENCODING_FORMATS):
            if isinstance(value, list | tuple) and value and all(isinstance(s, str) for s in value):
                attributes[key] = tuple(value)
            elif isinstance(value, str):  # Mistral also takes one stop string
                attributes[key] = (value,)
        elif _number(value):
            attributes[key] = value
    return attributes


def _prompt(value: object) -> list[parts.Message]:
    return [{"role": "user", "parts": [parts.text(value)]}]


def content(name: str | None, body: object) -> Content:
    """The request content of an InvokeModel body (empty for embeddings and unknown bodies)."""
    if not isinstance(body, Mapping) or name in EMBEDDINGS:
        return _NO_CONTENT
    if name == "anthropic":
        return messages_content(body)
    if name == "nova":
        return converse.content(body)
    if isinstance(body.get("messages"), list):  # Mistral chat: OpenAI-style messages
        tools = body.get("tools")
        return Content(
            input_messages=openai_convert.chat_input(body["messages"]),
            tool_definitions=openai_convert.tool_definitions(tools) if tools else None,
        )
    prompt = body.get("inputText", body.get("prompt"))
    return Content(input_messages=_prompt(prompt)) if isinstance(prompt, str) else _NO_CONTENT


def header_usage(headers: object) -> Usage | None:
    """Bedrock's token-count headers (botocore lower-cases their names), if any."""
    if not isinstance(headers, Mapping):
        return None

    def header(name: str) -> int | None:
        value = headers.get(f"x-amzn-bedrock-{name}-token-count")
        return int(value) if isinstance(value, str) and value.isdigit() else None

    return converse.cached_usage(
        header("input"), header("output"), header("cache-read-input"), header("cache-write-input")
    )


def metrics_usage(metrics: object) -> Usage | None:
    """Usage from a stream's `amazon-bedrock-invocationMetrics`, if any."""
    if not isinstance(metrics, Mapping):
        return None
    return converse.cached_usage(
        converse.count(metrics.get("inputTokenCount")),
        converse.count(metrics.get("outputTokenCount")),
        converse.count(metrics.get("cacheReadInputTokenCount")),
        converse.count(metrics.get("cacheWriteInputTokenCount")),
    )


def billed(bedrock: Usage | None, model: Usage | None) -> Usage | None:
    """Bedrock's counts (what AWS bills), with the model's cache counts where Bedrock had none."""
    if bedrock is None or model is None:
        return bedrock or model
    bedrock_cached = bedrock.cache_read_tokens is not None or bedrock.cache_write_tokens is not None
    if bedrock_cached or not (model.cache_read_tokens or model.cache_write_tokens):
        return bedrock
    return converse.cached_usage(
        bedrock.input_tokens,
        bedrock.output_tokens,
        model.cache_read_tokens,
        model.cache_write_tokens,
    )


def _finish(reason: object) -> str:
    return _FINISH.get(reason, reason) if isinstance(reason, str) else "error"


def _outputs(body: Mapping[str, Any]) -> list[tuple[str, object]]:
    """(text, stop reason) of each generation in a Titan, Llama or Mistral reply."""
    if isinstance(results := body.get("results"), list):
        return [
            (parts.string(get_field(r, "outputText")), get_field(r, "completionReason"))
            for r in results
        ]
    if isinstance(outputs := body.get("outputs"), list):
        return [(parts.string(get_field(o, "text")), get_field(o, "stop_reason")) for o in outputs]
    if "generation" in body:
        return [(parts.string(body.get("generation")), body.get("stop_reason"))]
    return []


def _body_usage(name: str | None, body: Mapping[str, Any]) -> Usage | None:
    if name == "nova":
        return converse.usage(body.get("usage"))
    count = converse.count
    if "prompt_token_count" in body:  # Llama
        return Usage(
            count(body.get("prompt_token_count")), count(body.get("generation_token_count"))
        )
    results = body.get("results")
    if name in ("titan_text", "titan_embed") and "inputTextTokenCount" in body:
        outputs = (
            [count(get_field(r, "tokenCount")) for r in results or ()]
            if isinstance(results, list)
            else []
        )
        output = sum(o for o in outputs if o is not None) if outputs else None
        return Usage(count(body.get("inputTextTokenCount")), output)
    return None


def response(name: str | None, body: object, headers: object, capture: bool) -> ResponseInfo:
    """Response facts of an InvokeModel reply: its parsed JSON body and HTTP headers."""
    bedrock = header_usage(headers)
    if not isinstance(body, Mapping):
        return ResponseInfo(usage=bedrock)
    if name in EMBEDDINGS:
        return _embeddings(body, bedrock or _body_usage(name, body))
    if name == "anthropic":
        info = messages_response(body, capture)
        info.usage = billed(bedrock, info.usage)
    elif name == "nova":
        output = get_field(body.get("output"), "message")
        info = ResponseInfo(
            finish_reasons=(converse.finish_reason(body.get("stopReason")),),
            usage=billed(bedrock, _body_usage(name, body)),
            output=converse.output_messages(output, body.get("stopReason")) if capture else None,
        )
    elif isinstance(choices := body.get("choices"), list):  # Mistral chat
        renamed = [
            {**c, "finish_reason": c.get("stop_reason", c.get("finish_reason"))}
            for c in choices
            if isinstance(c, Mapping)
        ]
        output = openai_convert.chat_output(renamed)
        info = ResponseInfo(
            response_id=body.get("id") if isinstance(body.get("id"), str) else None,
            finish_reasons=tuple(m["finish_reason"] for m in output),
            usage=bedrock,
            output=output if capture else None,
        )
    else:
        generations = _outputs(body)
        reasons = tuple(_finish(reason) for _, reason in generations)
        info = ResponseInfo(finish_reasons=reasons, usage=bedrock or _body_usage(name, body))
        if capture:
            info.output = [
                {"role": "assistant", "parts": [parts.text(said)], "finish_reason": reason}
                for (said, _), reason in zip(generations, reasons, strict=True)
            ]
    if body.get(_GUARDRAIL_ACTION) == "INTERVENED":
        info.finish_reasons = ("content_filter",) * max(1, len(info.finish_reasons))
    return info


def reply(name: str | None, data: bytes | None, headers: object, capture: bool) -> ResponseInfo:
    """Response facts of an InvokeModel reply from its raw body (None: not read) and headers."""
    try:
        body = json.loads(data) if data else None
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        body = None
    return response(name, body, headers, capture)


def _embeddings(body: Mapping[str, Any], usage: Usage | None) -> ResponseInfo:
    vectors: object = body.get("embeddings")
    if isinstance(vectors, Mapping):  # Cohere's embeddings_by_type: {"float": [[...]], ...}
        vectors = next(iter(vectors.values()), None)
    first = body.get("embedding") or (vectors[0] if isinstance(vectors, list) and vectors else None)
    attributes: dict[str, AttributeValue] = {}
    if isinstance(first, list):
        attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(first)
    # Cohere's reply has an `id`, but upstream's embeddings span has no response id.
    return ResponseInfo(usage=usage, attributes=attributes)


_BLOCKS = (b'{"type":"content_block_', b'{"type": "content_block_', b'{"contentBlock')
"""How Anthropic's and Nova's content-block chunks (start, delta, stop) begin. Without content
capture they hold nothing the state reads and most chunks are deltas, so they are not decoded
at all, unless Bedrock added its metrics or guardrail action (`amazon-bedrock-...`) to one."""


def _decode(event: object, capture: bool) -> dict[str, Any] | None:
    """The model's JSON chunk inside a `{"chunk": {"bytes": ...}}` stream event."""
    chunk = event.get("chunk") if isinstance(event, dict) else None
    data = chunk.get("bytes") if isinstance(chunk, dict) else None
    if not isinstance(data, bytes):
        return None
    if not capture and data.startswith(_BLOCKS) and b"amazon-bedrock-" not in data:
        return None
    try:
        decoded = json.loads(data.decode())
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return decoded if isinstance(decoded, dict) else None


class ChunkState:
    """Accumulates InvokeModelWithResponseStream events for one model family.

    Anthropic chunks feed the anthropic module's stream state, Nova's the Converse event state;
    Titan, Llama and Mistral chunks carry text pieces and, at the end, a stop reason. Bedrock's
    invocation metrics on the last chunk give the usage.
    """

    __slots__ = ("_billed", "_capture", "_counts", "_inner", "_intervened", "_reason", "_texts")

    def __init__(self, name: str | None, capture: bool) -> None:
        self._capture = capture
        self._inner: Any = None
        if name == "anthropic":
            self._inner = MessageStreamState(capture)
        elif name == "nova":
            self._inner = converse.EventState(capture)
        self._billed: Usage | None = None
        self._intervened = False
        self._reason: object = None
        self._counts: dict[str, int | None] = {}
        self._texts: list[str] = []

    def on_chunk(self, event: object) -> None:
        """Take one stream event."""
        data = _decode(event, self._capture)
        if data is None:
            return
        if (metrics := data.get(_METRICS)) is not None:
            self._billed = metrics_usage(metrics)
        if data.get(_GUARDRAIL_ACTION) == "INTERVENED":
            self._intervened = True
        if isinstance(self._inner, MessageStreamState):
            self._inner.on_chunk(Fields(data))
        elif isinstance(self._inner, converse.EventState):
            self._inner.on_chunk(data)
        else:
            self._text_chunk(data)

    def _text_chunk(self, data: dict[str, Any]) -> None:
        piece: object = None
        reason: object = None
        if "outputText" in data or "completionReason" in data:  # Titan
            piece, reason = data.get("outputText"), data.get("completionReason")
            self._count("input", data.get("inputTextTokenCount"))
            self._count("output", data.get("totalOutputTextTokenCount"))
        elif "generation" in data:  # Llama: counts are running totals
            piece, reason = data.get("generation"), data.get("stop_reason")
            self._count("input", data.get("prompt_token_count"))
            self._count("output", data.get("generation_token_count"))
        elif isinstance(outputs := data.get("outputs"), list) and outputs:  # Mistral
            piece, reason = get_field(outputs[0], "text"), get_field(outputs[0], "stop_reason")
        elif isinstance(choices := data.get("choices"), list) and choices:  # Mistral chat
            said = get_field(choices[0], "message") or get_field(choices[0], "delta")
            piece = get_field(said, "content")
            reason = get_field(choices[0], "stop_reason") or get_field(choices[0], "finish_reason")
        if isinstance(reason, str) and reason:
            self._reason = reason
        if self._capture and isinstance(piece, str):
            self._texts.append(piece)

    def _count(self, key: str, value: object) -> None:
        counted = converse.count(value)
        if counted is not None:
            self._counts[key] = counted

    def result(self) -> ResponseInfo:
        """What the chunks so far amount to."""
        if isinstance(self._inner, MessageStreamState):
            info = self._inner.result()
            info.usage = billed(self._billed, info.usage)
        elif isinstance(self._inner, converse.EventState):
            state = self._inner
            info = ResponseInfo(
                finish_reasons=(converse.finish_reason(state.stop_reason),),
                usage=billed(self._billed, converse.usage(state.usage)),
                output=state.output() if self._capture else None,
            )
        else:
            reason = _finish(self._reason)
            counts = self._counts
            usage = Usage(counts.get("input"), counts.get("output")) if counts else None
            info = ResponseInfo(finish_reasons=(reason,), usage=self._billed or usage)
            if self._capture:
                said = [parts.text("".join(self._texts))]
                info.output = [{"role": "assistant", "parts": said, "finish_reason": reason}]
        if self._intervened:
            info.finish_reasons = ("content_filter",)
        return info
