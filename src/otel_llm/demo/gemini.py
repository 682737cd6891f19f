"""The simulated provider's Gemini API: generateContent, its SSE stream, embeddings and errors.

Requests arrive as google-genai sends them to the Gemini API
(``POST /v1beta/models/{model}:generateContent``, ``:streamGenerateContent?alt=sse``,
``:embedContent``, ``:batchEmbedContents``); `chat_body` translates one into the chat request
`Reply` plans from, and the answers are built from otel_llm.payloads.gemini.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from otel_llm.demo.replies import Reply, embedding
from otel_llm.payloads import gemini as payloads

__all__ = [
    "chat_body",
    "complete",
    "embeddings",
    "error",
    "frame",
    "is_embeddings",
    "is_gemini",
    "is_generate",
    "is_stream",
    "stream",
]

Json = dict[str, Any]

_GENERATE = frozenset({"generateContent", "streamGenerateContent"})
_EMBED = frozenset({"embedContent", "batchEmbedContents"})
_ROLES = {"model": "assistant", "user": "user", "function": "tool"}

frame = payloads.frame
"""How a stream chunk goes on the wire (CRLF-framed server-sent events)."""


def is_gemini(path: str) -> bool:
    """Whether `path` is one of the Gemini API's model methods (served or not)."""
    return path.startswith("/v1") and "/models/" in path and ":" in path


def is_generate(path: str) -> bool:
    """Whether `path` is a generateContent call, streamed or not."""
    return is_gemini(path) and payloads.method_of(path) in _GENERATE


def is_stream(path: str) -> bool:
    """Whether `path` asks for the streamed answer (the method says so, not the body)."""
    return payloads.method_of(path) == "streamGenerateContent"


def is_embeddings(path: str) -> bool:
    """Whether `path` is an embedContent or batchEmbedContents call."""
    return is_gemini(path) and payloads.method_of(path) in _EMBED


def _texts(parts: object) -> str:
    items = parts if isinstance(parts, list) else []
    texts = [part.get("text") for part in items if isinstance(part, dict)]
    return " ".join(text for text in texts if isinstance(text, str))


def _message(content: object) -> Json | None:
    """One Gemini content as a chat message; a function's result as a `tool` message."""
    if not isinstance(content, dict):
        return None
    parts = [p for p in content.get("parts") or () if isinstance(p, dict)]
    results = [p["functionResponse"] for p in parts if isinstance(p.get("functionResponse"), dict)]
    if results:
        return {"role": "tool", "content": json.dumps(results[0].get("response"))}
    role = _ROLES.get(str(content.get("role")), "user")
    return {"role": role, "content": _texts(parts)}


_SCHEMA_KEYS = ("parameters", "parametersJsonSchema", "parameters_json_schema")
"""Where a declaration keeps its parameters: an OpenAPI schema, or a JSON schema (which
google-genai 3.x sends under its Python name)."""


def _schema(declaration: Json) -> object:
    return next((declaration[k] for k in _SCHEMA_KEYS if declaration.get(k) is not None), None)


def chat_body(body: Json, path: str) -> Json:
    """A generateContent request as the chat request `Reply` reads (messages, system, tools)."""
    messages = [m for m in map(_message, body.get("contents") or ()) if m is not None]
    system = body.get("systemInstruction")
    config = body.get("generationConfig")
    tools = [
        {"name": declaration.get("name"), "parameters": _schema(declaration)}
        for tool in body.get("tools") or ()
        if isinstance(tool, dict)
        for declaration in tool.get("functionDeclarations") or ()
        if isinstance(declaration, dict)
    ]
    chat: Json = {
        "model": payloads.model_of(path) or payloads.MODEL,
        "messages": messages,
        "system": _texts(system.get("parts")) if isinstance(system, dict) else "",
        "tools": tools,
    }
    if isinstance(config, dict) and isinstance(config.get("maxOutputTokens"), int):
        chat["max_tokens"] = config["maxOutputTokens"]
    return chat


def complete(reply: Reply) -> Json:
    """The generateContent response of `reply`: its text or function call, and its usage."""
    if reply.tool is not None:
        name, arguments = reply.tool
        parts, reason = [payloads.function_call(name, arguments)], "STOP"
    else:
        parts = [payloads.text_part(reply.text)]
        reason = "MAX_TOKENS" if reply.truncated else "STOP"
    usage = payloads.usage(reply.prompt_tokens, reply.output_tokens, cached=reply.cached or None)
    return payloads.response(
        [payloads.candidate(parts, reason)],
        usage,
        model=reply.model,
        response_id=uuid.uuid4().hex[:22],
    )


def stream(reply: Reply, body: Json) -> list[Json]:
    """The streamGenerateContent chunks of `reply`, its text in the planned pieces."""
    return payloads.chunks(complete(reply), None if reply.tool else reply.chunks)


def error(status: int, message: str) -> Json:
    """The Gemini API's error body for `status`."""
    return payloads.error(status, message)


def embeddings(body: Json, path: str, dimension: int) -> Json:
    """Bag-of-words vectors: one for embedContent, one per request for batchEmbedContents."""
    if payloads.method_of(path) == "embedContent":
        text = _texts((body.get("content") or {}).get("parts"))
        return {"embedding": {"values": embedding(text, dimension)}}
    requests = [r for r in body.get("requests") or () if isinstance(r, dict)]
    texts = [_texts((r.get("content") or {}).get("parts")) for r in requests]
    return payloads.batch_embeddings([embedding(text, dimension) for text in texts])
