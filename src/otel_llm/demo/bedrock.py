"""The simulated provider's AWS Bedrock Runtime: Converse and InvokeModel, streamed or not.

Bedrock names the model and the operation in the path (`POST /model/{modelId}/converse`,
`converse-stream`, `invoke`, `invoke-with-response-stream`). A request is translated into the
shape `Reply` reads (messages, system, tools, token limit), and the planned reply comes back in
Bedrock's shapes from `otel_llm.payloads`: JSON bodies with Bedrock's token-count headers, or
event-stream messages. Errors carry their type in `x-amzn-ErrorType`, as botocore reads it.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from otel_llm.demo.replies import Reply, Style, embedding
from otel_llm.payloads import bedrock as payloads
from otel_llm.payloads import bedrock_eventstream as es
from otel_llm.payloads import bedrock_invoke as invoke

__all__ = ["EVENT_STREAM", "PREFIX", "Answer", "answer", "error", "route", "send"]

PREFIX = "/model/"
"""Every Bedrock Runtime path starts so."""
EVENT_STREAM = "application/vnd.amazon.eventstream"

Json = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What to send: a JSON body, or event-stream messages (then `stream` is true)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[bytes] = field(default_factory=list)
    stream: bool = False


def route(path: str) -> tuple[str, str] | None:
    """(model id, botocore operation) of a Bedrock Runtime path, None for any other path."""
    parts = path.split("?", 1)[0].split("/")
    if len(parts) != 4 or parts[1] != "model" or parts[3] not in payloads.ACTIONS:
        return None
    return unquote(parts[2]), payloads.ACTIONS[parts[3]]


def error(status: int, message: str | None = None) -> Answer:
    """A Bedrock error reply: the message in JSON, the error's type in a header."""
    body = json.dumps(payloads.error(status, message)).encode()
    headers = {"Content-Type": "application/json", **payloads.error_headers(status)}
    return Answer(status, headers, body)


def _text_blocks(blocks: object) -> list[Json]:
    """Converse content blocks as `Reply` reads them (tool results marked as such)."""
    out: list[Json] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        result = block.get("toolResult")
        if isinstance(result, dict):
            out.append({"type": "tool_result", "content": result.get("content")})
        else:
            out.append(block)
    return out


def _tools(config: object) -> list[Json]:
    tools = config.get("tools") if isinstance(config, dict) else None
    out = []
    for tool in tools if isinstance(tools, list) else []:
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if isinstance(spec, dict):
            schema = spec.get("inputSchema")
            out.append({"name": spec.get("name"), "input_schema": (schema or {}).get("json")})
    return out


def _chat_request(operation: str, model_id: str, family: str | None, body: Json) -> Json:
    """The request as `Reply` reads it (OpenAI/Anthropic-shaped messages, system, tools)."""
    if operation.startswith("Converse") or family == "nova":
        config = body.get("inferenceConfig")
        limit = config.get("maxTokens") if isinstance(config, dict) else None
        messages = [
            {"role": m.get("role"), "content": _text_blocks(m.get("content"))}
            for m in body.get("messages") or []
            if isinstance(m, dict)
        ]
        return {
            "model": model_id,
            "messages": messages,
            "system": _text_blocks(body.get("system")),
            "tools": _tools(body.get("toolConfig")),
            "max_tokens": limit,
        }
    if isinstance(body.get("messages"), list):  # Anthropic and Mistral chat bodies
        return {**body, "model": model_id}
    prompt = body.get("prompt", body.get("inputText"))
    limit = body.get("max_tokens", body.get("max_gen_len"))
    config = body.get("textGenerationConfig")
    if isinstance(config, dict):
        limit = config.get("maxTokenCount")
    messages = [{"role": "user", "content": prompt if isinstance(prompt, str) else ""}]
    return {"model": model_id, "messages": messages, "max_tokens": limit}


def _payload_reply(reply: Reply) -> payloads.Reply:
    """The planned reply in the Bedrock payloads' terms (uncached input, cache reads apart)."""
    tokens = payloads.Tokens(
        input=reply.prompt_tokens - reply.cached,
        output=reply.output_tokens,
        cache_read=reply.cached,
    )
    if reply.tool is not None:
        name, arguments = reply.tool
        use = payloads.ToolUse(id=f"tooluse_{uuid.uuid4().hex[:22]}", name=name, input=arguments)
        return payloads.Reply(text=None, tool_uses=[use], stop_reason="tool_use", tokens=tokens)
    stop = "max_tokens" if reply.truncated else "end_turn"
    return payloads.Reply(text=reply.text, stop_reason=stop, tokens=tokens)


def _embeddings(family: str, body: Json, dimension: int) -> Answer:
    given = body.get("texts") if family == "cohere_embed" else [body.get("inputText")]
    texts = [t if isinstance(t, str) else "" for t in (given if isinstance(given, list) else [])]
    texts = texts or [""]
    vectors = [embedding(text, dimension) for text in texts]
    tokens = sum(max(1, len(t) // 4) for t in texts)
    reply: Json
    if family == "cohere_embed":
        reply = {"id": str(uuid.uuid4()), "embeddings": vectors, "texts": texts}
        reply["response_type"] = "embeddings_floats"
    else:
        reply = {"embedding": vectors[0], "inputTextTokenCount": tokens}
    headers = {"Content-Type": "application/json"}
    headers["X-Amzn-Bedrock-Input-Token-Count"] = str(tokens)
    return Answer(200, headers, json.dumps(reply).encode())


def answer(
    model_id: str,
    operation: str,
    raw: bytes,
    *,
    style: Style,
    rng: random.Random,
    lock: threading.Lock,
    dimension: int,
) -> Answer:
    """Bedrock's reply to one request: its operation's and its model family's shape."""
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = None
    family = invoke.family_of(model_id)
    if not isinstance(body, dict) or (operation.startswith("Invoke") and family is None):
        return error(400)
    if family in invoke.EMBEDDING_FAMILIES:
        if operation != "InvokeModel":
            return error(400, "The model does not support streaming.")
        return _embeddings(str(family), body, dimension)
    planned = Reply(_chat_request(operation, model_id, family, body), style, rng, lock)
    return _generated(operation, family, body, _payload_reply(planned))


def _generated(operation: str, family: str | None, body: Json, reply: payloads.Reply) -> Answer:
    if operation == "Converse":
        return _json(payloads.converse_response(reply))
    if operation == "ConverseStream":
        events = es.events(payloads.converse_stream_events(reply))
        return Answer(200, {}, events=events, stream=True)
    family = "mistral_chat" if family == "mistral" and "messages" in body else str(family)
    if operation == "InvokeModel":
        headers = invoke.headers(reply.tokens, cache=family in ("anthropic", "nova"))
        return _json(invoke.response(family, reply), headers)
    chunks = invoke.stream_chunks(family, reply)
    events = [es.chunk(c, es.padding(i)) for i, c in enumerate(chunks)]
    return Answer(
        200, {"X-Amzn-Bedrock-Content-Type": "application/json"}, events=events, stream=True
    )


def send(handler: BaseHTTPRequestHandler, reply: Answer, pause: Callable[[], None]) -> None:
    """Write `reply`; `pause` runs between stream messages (the provider's chunk pacing)."""
    handler.send_response(reply.status)
    handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
    for key, value in reply.headers.items():
        handler.send_header(key, value)
    if not reply.stream:
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)
        return
    handler.send_header("Content-Type", EVENT_STREAM)
    handler.end_headers()  # HTTP/1.0: the stream ends when the connection closes
    for index, message in enumerate(reply.events):
        if index > 1:
            pause()
        handler.wfile.write(message)
        handler.wfile.flush()


def _json(body: Json, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(
        200, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()
    )
