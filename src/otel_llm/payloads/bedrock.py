"""AWS Bedrock Runtime payloads in recorded shapes: Converse and ConverseStream (no boto3 needed).

Shapes follow recorded Bedrock traffic (opentelemetry-python-contrib's and openllmetry's botocore
cassettes): ConverseStream payloads carry Bedrock's `p` padding field, Converse usage reports
uncached `inputTokens` with the cache counts beside them (`totalTokens` sums all four), and
guardrail traces are keyed by guardrail id. `bedrock_invoke` has the InvokeModel bodies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from otel_llm.payloads.bedrock_eventstream import padding

__all__ = [  # noqa: RUF022 - a plain sort, as tests/payloads/test_package.py checks
    "ACTIONS",
    "ANSWER",
    "ERROR_NAMESPACE",
    "ERROR_TYPES",
    "GUARDRAIL_ID",
    "GUARDRAIL_VERSION",
    "MODEL_IDS",
    "QUESTION",
    "Reply",
    "SIG",
    "STOP_REASONS",
    "SYSTEM",
    "Tokens",
    "ToolUse",
    "converse_request",
    "converse_response",
    "converse_stream_events",
    "error",
    "error_headers",
    "guardrail_trace",
    "pieces",
    "tool_config",
    "usage",
]

Json = dict[str, Any]

MODEL_IDS: dict[str, str] = {
    "anthropic": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic_profile": "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "nova": "amazon.nova-micro-v1:0",
    "nova_profile": "us.amazon.nova-lite-v1:0",
    "titan_text": "amazon.titan-text-express-v1",
    "llama": "meta.llama3-1-70b-instruct-v1:0",
    "mistral": "mistral.mistral-7b-instruct-v0:2",
    "mistral_chat": "mistral.mistral-large-2407-v1:0",
    "titan_embed": "amazon.titan-embed-text-v2:0",
    "titan_embed_v1": "amazon.titan-embed-text-v1",
    "cohere_embed": "cohere.embed-english-v3",
}
"""One realistic model id per body format (and an inference profile for two of them)."""

ACTIONS = {
    "converse": "Converse",
    "converse-stream": "ConverseStream",
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
}
"""The last step of each inference operation's path (`POST /model/{modelId}/{action}`)."""

GUARDRAIL_ID = "5zwrmdlsra2e"
GUARDRAIL_VERSION = "DRAFT"
ANSWER = "Your order ships today from the Dublin warehouse."
QUESTION = "When does my order ship?"
SYSTEM = "You are a concise support assistant."


@dataclass(frozen=True)
class Tokens:
    """Token counts as Bedrock reports them: `input` excludes the cached tokens."""

    input: int = 25
    output: int = 12
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        """Bedrock's `totalTokens`: all four counts."""
        return self.input + self.output + self.cache_read + self.cache_write


@dataclass(frozen=True)
class ToolUse:
    """A tool call the model asks for."""

    id: str = "tooluse_tggNKJbGSrm48inRqf3Rvw"
    name: str = "get_order_status"
    input: Json = field(default_factory=lambda: {"order_id": "A-1042"})


SIG = "EqoBCkgIARABGAIiQLc3xTsJDGdkZS4xaGDq9Xe0oFygMVk7lbxOlH0R"
"""A reasoning signature (opaque, model-generated)."""


def tool_config(names: Sequence[str] = ("get_order_status",)) -> Json:
    """A Converse `toolConfig` with one function tool per name."""
    tools = [
        {
            "toolSpec": {
                "name": name,
                "description": f"Look up {name.removeprefix('get_').replace('_', ' ')}.",
                "inputSchema": {
                    "json": {
                        "type": "object",
                        "properties": {"order_id": {"type": "string"}},
                        "required": ["order_id"],
                    }
                },
            }
        }
        for name in names
    ]
    return {"tools": tools}


def converse_request(
    text: str = QUESTION,
    *,
    system: str | None = SYSTEM,
    tools: bool = False,
    guardrail: bool = False,
    max_tokens: int = 256,
    temperature: float = 0.2,
    top_p: float = 0.9,
    stop: Sequence[str] = (),
) -> Json:
    """Converse / ConverseStream keyword arguments (without `modelId`), as an app sends them."""
    params: Json = {"messages": [{"role": "user", "content": [{"text": text}]}]}
    if system is not None:
        params["system"] = [{"text": system}]
    config: Json = {"maxTokens": max_tokens, "temperature": temperature, "topP": top_p}
    if stop:
        config["stopSequences"] = list(stop)
    params["inferenceConfig"] = config
    if tools:
        params["toolConfig"] = tool_config()
    if guardrail:
        params["guardrailConfig"] = {
            "guardrailIdentifier": GUARDRAIL_ID,
            "guardrailVersion": GUARDRAIL_VERSION,
            "trace": "enabled",
        }
    return params


def usage(tokens: Tokens) -> Json:
    """Converse `usage`; cache counts (under both of Bedrock's names) only when caching ran."""
    body: Json = {
        "inputTokens": tokens.input,
        "outputTokens": tokens.output,
        "totalTokens": tokens.total,
    }
    if tokens.cache_read or tokens.cache_write:
        body.update(
            cacheReadInputTokenCount=tokens.cache_read,
            cacheReadInputTokens=tokens.cache_read,
            cacheWriteInputTokenCount=tokens.cache_write,
            cacheWriteInputTokens=tokens.cache_write,
            serverToolUsage={},
        )
    return body


def guardrail_trace(guardrail_id: str = GUARDRAIL_ID, *, masked: bool = True) -> Json:
    """The `trace.guardrail` assessment Bedrock returns when a guardrail ran with trace on."""
    metrics = {
        "guardrailCoverage": {"textCharacters": {"guarded": 58, "total": 58}},
        "guardrailProcessingLatency": 243,
        "usage": {"contentPolicyUnits": 1, "sensitiveInformationPolicyUnits": 1},
    }
    output: Json = {"invocationMetrics": metrics}
    if masked:
        output["sensitiveInformationPolicy"] = {
            "piiEntities": [
                {"action": "ANONYMIZED", "detected": True, "match": "Dublin", "type": "ADDRESS"}
            ]
        }
    return {
        "guardrail": {
            "actionReason": "No action.\nGuardrail masked." if masked else "No action.",
            "inputAssessment": {guardrail_id: {"invocationMetrics": metrics}},
            "modelOutput": [ANSWER],
            "outputAssessments": {guardrail_id: [output]},
        }
    }


@dataclass(frozen=True)
class Reply:
    """What the model answers: the one description both reply shapes are built from."""

    text: str | None = ANSWER
    tool_uses: Sequence[ToolUse] = ()
    reasoning: str | None = None
    stop_reason: str = "end_turn"
    tokens: Tokens = field(default_factory=Tokens)
    guardrail_id: str | None = None
    latency_ms: int = 412


def _content(reply: Reply) -> list[Json]:
    content: list[Json] = []
    if reply.reasoning is not None:
        content.append(
            {"reasoningContent": {"reasoningText": {"text": reply.reasoning, "signature": SIG}}}
        )
    if reply.text is not None:
        content.append({"text": reply.text})
    content.extend(
        {"toolUse": {"input": t.input, "name": t.name, "toolUseId": t.id}} for t in reply.tool_uses
    )
    return content


def converse_response(reply: Reply | None = None) -> Json:
    """A Converse response body (what `client.converse` returns, less ResponseMetadata)."""
    reply = reply or Reply()
    body: Json = {
        "metrics": {"latencyMs": reply.latency_ms},
        "output": {"message": {"content": _content(reply), "role": "assistant"}},
        "stopReason": reply.stop_reason,
        "usage": usage(reply.tokens),
    }
    if reply.guardrail_id is not None:
        body["trace"] = guardrail_trace(reply.guardrail_id)
    return body


def pieces(text: str, size: int = 3) -> list[str]:
    """`text` split into word groups, the way models stream it."""
    words = text.split(" ")
    groups = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [group if i == 0 else " " + group for i, group in enumerate(groups)]


def converse_stream_events(reply: Reply | None = None) -> list[Json]:
    """The ConverseStream events for `reply`, in Bedrock's order, each with its `p` padding.

    Each event is a one-key dict, `{event type: payload}`, as botocore yields it from the
    stream (without the padding, which botocore drops as a member its model does not know).
    """
    reply = reply or Reply()
    events: list[tuple[str, Json]] = [("messageStart", {"role": "assistant"})]
    delta: Json
    index = 0
    if reply.reasoning is not None:
        for piece in pieces(reply.reasoning):
            delta = {"reasoningContent": {"text": piece}}
            events.append(("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        delta = {"reasoningContent": {"signature": SIG}}
        events.append(("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    if reply.text is not None:
        for piece in pieces(reply.text):
            delta = {"text": piece}
            events.append(("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    for tool in reply.tool_uses:
        start = {"toolUse": {"name": tool.name, "toolUseId": tool.id}}
        events.append(("contentBlockStart", {"contentBlockIndex": index, "start": start}))
        arguments = json.dumps(tool.input, separators=(",", ":"))
        for cut in range(0, len(arguments), 12):
            delta = {"toolUse": {"input": arguments[cut : cut + 12]}}
            events.append(("contentBlockDelta", {"contentBlockIndex": index, "delta": delta}))
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
        index += 1
    events.append(("messageStop", {"stopReason": reply.stop_reason}))
    metadata: Json = {"metrics": {"latencyMs": reply.latency_ms}, "usage": usage(reply.tokens)}
    if reply.guardrail_id is not None:
        metadata["trace"] = guardrail_trace(reply.guardrail_id)
    events.append(("metadata", metadata))
    return [{kind: {**body, "p": padding(i)}} for i, (kind, body) in enumerate(events)]


STOP_REASONS = (
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "malformed_model_output",
    "malformed_tool_use",
    "model_context_window_exceeded",
)
"""Every Converse `stopReason` botocore's service model lists."""


ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
"""The error Bedrock Runtime answers each HTTP status with (botocore raises it by this name)."""
ERROR_NAMESPACE = "http://internal.amazon.com/coral/com.amazon.bedrock/"
_ERROR_MESSAGES = {
    400: "The provided model identifier is invalid.",
    408: "Model has timed out in processing the request.",
    429: "Too many requests, please wait before trying again.",
    500: "The server encountered an internal error.",
    503: "Bedrock is unable to process your request.",
}


def error(status: int = 429, message: str | None = None) -> Json:
    """The JSON body of a Bedrock error reply; the error's type goes in `error_headers`."""
    return {"message": message or _ERROR_MESSAGES.get(status, "The request failed.")}


def error_headers(status: int = 429) -> dict[str, str]:
    """The `x-amzn-ErrorType` header botocore reads the error code from (`Type:namespace`)."""
    kind = ERROR_TYPES.get(status, "InternalServerException")
    return {"x-amzn-ErrorType": f"{kind}:{ERROR_NAMESPACE}"}
