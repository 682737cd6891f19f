"""AWS Bedrock InvokeModel bodies per model family, in recorded shapes (no boto3 needed).

Each family has its own request body, response body and InvokeModelWithResponseStream chunk
shapes; Bedrock adds `amazon-bedrock-invocationMetrics` to the last chunk and the token counts
as `X-Amzn-Bedrock-*` headers to every InvokeModel response. A `Reply` (from `bedrock`)
describes the answer; its `stop_reason` uses Converse's names and is translated per family.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from otel_llm.payloads.bedrock import (
    ANSWER,
    QUESTION,
    SIG,
    SYSTEM,
    Json,
    Reply,
    Tokens,
    pieces,
)

__all__ = [
    "ANTHROPIC_ID",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_TOOL_ID",
    "EMBEDDING_FAMILIES",
    "FAMILIES",
    "embed_request",
    "embed_response",
    "family_of",
    "hash_seed",
    "headers",
    "invocation_metrics",
    "request",
    "response",
    "stream_chunks",
    "vector",
]

FAMILIES = ("anthropic", "nova", "titan_text", "llama", "mistral", "mistral_chat")
"""Text-generation body formats."""
EMBEDDING_FAMILIES = ("titan_embed", "titan_embed_v1", "cohere_embed")
"""Embedding body formats."""

_TITAN_STOP = {
    "end_turn": "FINISH",
    "max_tokens": "LENGTH",
    "stop_sequence": "STOP_CRITERIA_MET",
    "content_filtered": "CONTENT_FILTERED",
}
_LLAMA_STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}
_MISTRAL_STOP = {**_LLAMA_STOP, "tool_use": "tool_calls"}
_FAMILY_MARKERS = (  # substrings of a model id, checked in order
    ("anthropic.", "anthropic"),
    ("amazon.nova", "nova"),
    ("amazon.titan-embed-text-v1", "titan_embed_v1"),
    ("amazon.titan-embed", "titan_embed"),
    ("amazon.titan-t", "titan_text"),
    ("meta.llama", "llama"),
    ("mistral.mistral-large-2407", "mistral_chat"),
    ("mistral.", "mistral"),
    ("cohere.embed", "cohere_embed"),
)
ANTHROPIC_MODEL = "claude-3-5-haiku-20241022"
ANTHROPIC_ID = "msg_bdrk_01FmwvNC1ksCq1T8tjvgUdDB"
ANTHROPIC_TOOL_ID = "toolu_bdrk_01KatiGijVFb9yuMPcnVk38e"


def family_of(model_id: str = "amazon.nova-lite-v1:0") -> str | None:
    """The body format a model id speaks (region prefixes and ARNs included), None if unknown."""
    lowered = model_id.lower()
    return next((family for marker, family in _FAMILY_MARKERS if marker in lowered), None)


def request(
    family: str,
    text: str = QUESTION,
    *,
    system: str | None = SYSTEM,
    max_tokens: int = 256,
    temperature: float = 0.2,
    top_p: float = 0.9,
    stop: Sequence[str] = (),
) -> Json:
    """The JSON `body` an app sends to InvokeModel for `family`."""
    stops = list(stop)
    if family == "anthropic":
        body: Json = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": max_tokens}
        if system is not None:
            body["system"] = system
        body["messages"] = [{"role": "user", "content": [{"type": "text", "text": text}]}]
        body.update(temperature=temperature, top_p=top_p, top_k=250)
        return {**body, "stop_sequences": stops} if stops else body
    if family == "nova":
        body = {"schemaVersion": "messages-v1"}
        if system is not None:
            body["system"] = [{"text": system}]
        body["messages"] = [{"role": "user", "content": [{"text": text}]}]
        config: Json = {"max_new_tokens": max_tokens, "temperature": temperature, "topP": top_p}
        config["topK"] = 20
        if stops:
            config["stopSequences"] = stops
        body["inferenceConfig"] = config
        return body
    if family == "titan_text":
        config = {"maxTokenCount": max_tokens, "temperature": temperature, "topP": top_p}
        return {"inputText": text, "textGenerationConfig": {**config, "stopSequences": stops}}
    if family == "llama":
        prompt = f"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{text}<|eot_id|>"
        return {
            "prompt": prompt,
            "max_gen_len": max_tokens,
            "temperature": temperature,
            "top_p": top_p,
        }
    if family == "mistral":
        body = {"prompt": f"<s>[INST] {text} [/INST]", "max_tokens": max_tokens}
        body.update(temperature=temperature, top_p=top_p, top_k=50)
        return {**body, "stop": stops} if stops else body
    if family == "mistral_chat":
        messages = [{"role": "system", "content": system}] if system is not None else []
        messages.append({"role": "user", "content": text})
        return {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": top_p,
        }
    raise ValueError(f"unknown InvokeModel family {family!r}")


def _anthropic_blocks(reply: Reply) -> list[Json]:
    blocks: list[Json] = []
    if reply.reasoning is not None:
        blocks.append({"type": "thinking", "thinking": reply.reasoning, "signature": SIG})
    if reply.text is not None:
        blocks.append({"type": "text", "text": reply.text})
    blocks.extend(
        {"type": "tool_use", "id": ANTHROPIC_TOOL_ID, "name": t.name, "input": t.input}
        for t in reply.tool_uses
    )
    return blocks


def _anthropic_usage(tokens: Tokens, output: int) -> Json:
    return {
        "input_tokens": tokens.input,
        "cache_creation_input_tokens": tokens.cache_write,
        "cache_read_input_tokens": tokens.cache_read,
        "output_tokens": output,
    }


def _nova_content(reply: Reply) -> list[Json]:
    content: list[Json] = [{"text": reply.text}] if reply.text is not None else []
    content.extend(
        {"toolUse": {"toolUseId": t.id, "name": t.name, "input": t.input}} for t in reply.tool_uses
    )
    return content


def _nova_usage(tokens: Tokens) -> Json:
    return {
        "inputTokens": tokens.input,
        "outputTokens": tokens.output,
        "totalTokens": tokens.total,
        "cacheReadInputTokenCount": tokens.cache_read,
        "cacheWriteInputTokenCount": tokens.cache_write,
    }


def _mistral_message(reply: Reply, text: str | None) -> Json:
    message: Json = {"role": "assistant", "content": text or ""}
    if reply.tool_uses:
        message["tool_calls"] = [
            {"id": "v6RMMiRlT", "function": {"name": t.name, "arguments": json.dumps(t.input)}}
            for t in reply.tool_uses
        ]
    return message


def response(family: str, reply: Reply | None = None) -> Json:
    """The JSON body InvokeModel returns for `family`."""
    reply = reply or Reply()
    tokens, text = reply.tokens, reply.text or ""
    if family == "anthropic":
        return {
            "id": ANTHROPIC_ID,
            "type": "message",
            "role": "assistant",
            "model": ANTHROPIC_MODEL,
            "content": _anthropic_blocks(reply),
            "stop_reason": reply.stop_reason,
            "stop_sequence": None,
            "usage": _anthropic_usage(tokens, tokens.output),
        }
    if family == "nova":
        return {
            "output": {"message": {"content": _nova_content(reply), "role": "assistant"}},
            "stopReason": reply.stop_reason,
            "usage": _nova_usage(tokens),
        }
    if family == "titan_text":
        result = {"tokenCount": tokens.output, "outputText": text}
        result["completionReason"] = _TITAN_STOP.get(reply.stop_reason, "FINISH")
        return {"inputTextTokenCount": tokens.input, "results": [result]}
    if family == "llama":
        return {
            "generation": text,
            "prompt_token_count": tokens.input,
            "generation_token_count": tokens.output,
            "stop_reason": _LLAMA_STOP.get(reply.stop_reason, "stop"),
        }
    if family == "mistral":
        return {"outputs": [{"text": text, "stop_reason": _MISTRAL_STOP.get(reply.stop_reason)}]}
    if family == "mistral_chat":
        choice = {"index": 0, "message": _mistral_message(reply, reply.text)}
        return {"choices": [{**choice, "stop_reason": _MISTRAL_STOP.get(reply.stop_reason)}]}
    raise ValueError(f"unknown InvokeModel family {family!r}")


def invocation_metrics(tokens: Tokens, latency_ms: int = 412, first_byte_ms: int = 183) -> Json:
    """`amazon-bedrock-invocationMetrics`, which Bedrock adds to a stream's last chunk."""
    metrics: Json = {"inputTokenCount": tokens.input, "outputTokenCount": tokens.output}
    if tokens.cache_read or tokens.cache_write:
        metrics.update(
            cacheReadInputTokenCount=tokens.cache_read,
            cacheWriteInputTokenCount=tokens.cache_write,
        )
    return {**metrics, "invocationLatency": latency_ms, "firstByteLatency": first_byte_ms}


def _anthropic_chunks(reply: Reply) -> list[Json]:
    message = response("anthropic", reply)
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = _anthropic_usage(reply.tokens, 1)
    chunks: list[Json] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(_anthropic_blocks(reply)):
        kind = block["type"]
        empty = {"text": {"text": ""}, "thinking": {"thinking": "", "signature": ""}}
        opening = {**block, **empty.get(kind, {"input": {}})}
        chunks.append({"type": "content_block_start", "index": index, "content_block": opening})
        if kind == "tool_use":
            text = json.dumps(block["input"])
            deltas = [
                {"type": "input_json_delta", "partial_json": text[i : i + 10]}
                for i in range(0, len(text), 10)
            ]
        elif kind == "thinking":
            deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": SIG})
        else:
            deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
        chunks.extend({"type": "content_block_delta", "index": index, "delta": d} for d in deltas)
        chunks.append({"type": "content_block_stop", "index": index})
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": None}
    chunks.append(
        {"type": "message_delta", "delta": delta, "usage": {"output_tokens": reply.tokens.output}}
    )
    chunks.append({"type": "message_stop"})
    return chunks


def _nova_chunks(reply: Reply) -> list[Json]:
    chunks: list[Json] = [{"messageStart": {"role": "assistant"}}]
    index = 0
    # Nova streams each text piece as a block of its own (as recorded).
    for piece in pieces(reply.text or "") if reply.text else ():
        chunks.append({"contentBlockDelta": {"delta": {"text": piece}, "contentBlockIndex": index}})
        chunks.append({"contentBlockStop": {"contentBlockIndex": index}})
        index += 1
    for tool in reply.tool_uses:
        start = {"toolUse": {"toolUseId": tool.id, "name": tool.name}}
        chunks.append({"contentBlockStart": {"start": start, "contentBlockIndex": index}})
        delta = {"toolUse": {"input": json.dumps(tool.input, separators=(",", ":"))}}
        chunks.append({"contentBlockDelta": {"delta": delta, "contentBlockIndex": index}})
        chunks.append({"contentBlockStop": {"contentBlockIndex": index}})
        index += 1
    chunks.append({"messageStop": {"stopReason": reply.stop_reason}})
    usage = {"inputTokens": reply.tokens.input, "outputTokens": reply.tokens.output}
    chunks.append({"metadata": {"usage": usage, "metrics": {}, "trace": {}}})
    return chunks


def _text_chunks(family: str, reply: Reply) -> list[Json]:
    tokens, parts = reply.tokens, pieces(reply.text or "") or [""]
    chunks: list[Json] = []
    for i, piece in enumerate(parts):
        last = i == len(parts) - 1
        if family == "titan_text":
            chunks.append(
                {
                    "outputText": piece,
                    "index": 0,
                    "totalOutputTextTokenCount": tokens.output if last else None,
                    "completionReason": _TITAN_STOP.get(reply.stop_reason, "FINISH")
                    if last
                    else None,
                    "inputTextTokenCount": tokens.input if i == 0 else None,
                }
            )
        elif family == "llama":
            chunks.append(
                {
                    "generation": piece,
                    "prompt_token_count": tokens.input if i == 0 else None,
                    "generation_token_count": math.ceil(tokens.output * (i + 1) / len(parts)),
                    "stop_reason": _LLAMA_STOP.get(reply.stop_reason, "stop") if last else None,
                }
            )
        elif family == "mistral":
            stop = _MISTRAL_STOP.get(reply.stop_reason) if last else None
            chunks.append({"outputs": [{"text": piece, "stop_reason": stop}]})
        else:
            stop = _MISTRAL_STOP.get(reply.stop_reason) if last else None
            message = {"role": "assistant", "content": piece}
            chunks.append({"choices": [{"index": 0, "message": message, "stop_reason": stop}]})
    return chunks


def stream_chunks(family: str, reply: Reply | None = None) -> list[Json]:
    """The model's JSON chunks for InvokeModelWithResponseStream; the last carries the metrics."""
    reply = reply or Reply()
    if family == "anthropic":
        chunks = _anthropic_chunks(reply)
    elif family == "nova":
        chunks = _nova_chunks(reply)
    elif family in FAMILIES:
        chunks = _text_chunks(family, reply)
    else:
        raise ValueError(f"unknown InvokeModel family {family!r}")
    chunks[-1]["amazon-bedrock-invocationMetrics"] = invocation_metrics(reply.tokens)
    return chunks


def headers(tokens: Tokens, *, output: bool = True, cache: bool = False) -> dict[str, str]:
    """The `X-Amzn-Bedrock-*` headers of an InvokeModel response (input count: uncached only)."""
    values = {"X-Amzn-Bedrock-Input-Token-Count": str(tokens.input)}
    if output:
        values["X-Amzn-Bedrock-Output-Token-Count"] = str(tokens.output)
    if cache:
        values["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] = str(tokens.cache_read)
        values["X-Amzn-Bedrock-Cache-Write-Input-Token-Count"] = str(tokens.cache_write)
    values["X-Amzn-Bedrock-Invocation-Latency"] = "412"
    return values


def vector(seed: str, dimension: int) -> list[float]:
    """A deterministic, unit-length embedding of `seed`."""
    raw = [math.sin(hash_seed(seed) + i * 0.7) for i in range(dimension)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [round(v / norm, 6) for v in raw]


def hash_seed(text: str) -> int:
    """A stable small integer for `text` (Python's hash() is salted per process)."""
    return sum(ord(c) * (i + 1) for i, c in enumerate(text)) % 9973


def embed_request(family: str, texts: Sequence[str] = (ANSWER,), dimension: int = 256) -> Json:
    """An embeddings `body`: Titan takes one text, Cohere a list."""
    if family == "titan_embed_v1":
        return {"inputText": texts[0]}
    if family == "titan_embed":
        return {
            "inputText": texts[0],
            "dimensions": dimension,
            "normalize": True,
            "embeddingTypes": ["float"],
        }
    if family == "cohere_embed":
        return {
            "texts": list(texts),
            "input_type": "search_document",
            "truncate": "END",
            "embedding_types": ["float"],
        }
    raise ValueError(f"unknown embeddings family {family!r}")


def embed_response(family: str, request_body: Json, tokens: int = 9) -> Json:
    """The embeddings response for `request_body` (Cohere reports no tokens in its body)."""
    if family in ("titan_embed", "titan_embed_v1"):
        embedding = vector(str(request_body.get("inputText")), request_body.get("dimensions", 1536))
        body: dict[str, Any] = {"embedding": embedding}
        if family == "titan_embed":
            body["embeddingsByType"] = {"float": embedding}
        return {**body, "inputTextTokenCount": tokens}
    if family == "cohere_embed":
        texts = [str(t) for t in request_body.get("texts", ())]
        vectors = [vector(t, 1024) for t in texts]
        by_type = bool(request_body.get("embedding_types"))
        return {
            "id": "836a33cc-61ec-4e65-afaf-c4628171a315",
            "embeddings": {"float": vectors} if by_type else vectors,
            "response_type": "embeddings_by_type" if by_type else "embeddings_floats",
            "texts": texts,
        }
    raise ValueError(f"unknown embeddings family {family!r}")
