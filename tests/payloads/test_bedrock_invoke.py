"""Tests for otel_llm.payloads.bedrock_invoke: InvokeModel bodies per family, as recorded."""

import json

import pytest

from otel_llm.payloads import bedrock_invoke as invoke
from otel_llm.payloads.bedrock import ANSWER, Reply, Tokens, ToolUse


@pytest.mark.parametrize("family", invoke.FAMILIES)
def test_requests_are_json_bodies_with_the_family_keys(family: str) -> None:
    """Each family's request has the keys that tell its format apart, and serialises."""
    body = invoke.request(family, stop=["END"])
    markers = {
        "anthropic": "anthropic_version",
        "nova": "schemaVersion",
        "titan_text": "textGenerationConfig",
        "llama": "max_gen_len",
        "mistral": "prompt",
        "mistral_chat": "messages",
    }
    assert markers[family] in body
    assert json.loads(json.dumps(body)) == body


@pytest.mark.parametrize("family", invoke.FAMILIES)
def test_responses_carry_the_answer(family: str) -> None:
    """The answer's text appears in every family's response body."""
    assert ANSWER in json.dumps(invoke.response(family))


@pytest.mark.parametrize("family", invoke.FAMILIES)
def test_stream_chunks_end_with_bedrock_invocation_metrics(family: str) -> None:
    """Only the last chunk carries amazon-bedrock-invocationMetrics, with the reply's counts."""
    tokens = Tokens(input=14, output=10)
    chunks = invoke.stream_chunks(family, Reply(tokens=tokens))
    assert all("amazon-bedrock-invocationMetrics" not in c for c in chunks[:-1])
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert (metrics["inputTokenCount"], metrics["outputTokenCount"]) == (14, 10)
    assert metrics["invocationLatency"] >= metrics["firstByteLatency"]


def _streamed_text(family: str, chunks: list[dict[str, object]]) -> str:
    texts = []
    for chunk in chunks:
        if family == "anthropic":
            delta = chunk.get("delta")
            texts.append(delta.get("text", "") if isinstance(delta, dict) else "")
        elif family == "nova":
            delta = chunk.get("contentBlockDelta")
            texts.append(delta["delta"].get("text", "") if isinstance(delta, dict) else "")
        elif family == "titan_text":
            texts.append(str(chunk["outputText"]))
        elif family == "llama":
            texts.append(str(chunk["generation"]))
        elif family == "mistral":
            texts.append(chunk["outputs"][0]["text"])  # type: ignore[index]
        else:
            texts.append(chunk["choices"][0]["message"]["content"])  # type: ignore[index]
    return "".join(texts)


@pytest.mark.parametrize("family", invoke.FAMILIES)
def test_stream_chunks_add_up_to_the_answer(family: str) -> None:
    """The text pieces of every family's chunks join to the reply's text."""
    assert _streamed_text(family, invoke.stream_chunks(family)) == ANSWER


def test_anthropic_stream_follows_the_messages_event_order() -> None:
    """message_start, then blocks (start, deltas, stop), message_delta with usage, message_stop."""
    reply = Reply(reasoning="Look it up.", tool_uses=[ToolUse()], stop_reason="tool_use")
    kinds = [c["type"] for c in invoke.stream_chunks("anthropic", reply)]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 3


def test_titan_and_llama_counts_are_where_bedrock_puts_them() -> None:
    """Titan sends the input count first and the output total last; Llama's counts run up."""
    titan = invoke.stream_chunks("titan_text", Reply(tokens=Tokens(input=5, output=10)))
    assert titan[0]["inputTextTokenCount"] == 5
    assert titan[-1]["totalOutputTextTokenCount"] == 10
    assert titan[-1]["completionReason"] == "FINISH"
    llama = invoke.stream_chunks("llama", Reply(tokens=Tokens(input=5, output=10)))
    counts = [c["generation_token_count"] for c in llama]
    assert counts == sorted(counts)
    assert counts[-1] == 10
    assert [c["stop_reason"] for c in llama][-1] == "stop"


@pytest.mark.parametrize(
    ("stop_reason", "titan", "llama", "mistral"),
    [
        ("end_turn", "FINISH", "stop", "stop"),
        ("max_tokens", "LENGTH", "length", "length"),
    ],
)
def test_stop_reasons_translate_per_family(
    stop_reason: str, titan: str, llama: str, mistral: str
) -> None:
    """A Converse-style stop reason becomes each family's own word for it."""
    reply = Reply(stop_reason=stop_reason)
    assert invoke.response("titan_text", reply)["results"][0]["completionReason"] == titan
    assert invoke.response("llama", reply)["stop_reason"] == llama
    assert invoke.response("mistral", reply)["outputs"][0]["stop_reason"] == mistral


def test_headers_hold_uncached_input_and_optional_cache_counts() -> None:
    """X-Amzn-Bedrock headers: input (uncached), output, and cache counts when asked for."""
    tokens = Tokens(input=4, output=50, cache_read=18131)
    plain = invoke.headers(tokens)
    assert plain["X-Amzn-Bedrock-Input-Token-Count"] == "4"
    assert "X-Amzn-Bedrock-Cache-Read-Input-Token-Count" not in plain
    cached = invoke.headers(tokens, cache=True, output=False)
    assert cached["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] == "18131"
    assert "X-Amzn-Bedrock-Output-Token-Count" not in cached


@pytest.mark.parametrize("family", invoke.EMBEDDING_FAMILIES)
def test_embeddings_match_their_request(family: str) -> None:
    """Titan answers one vector (of the asked dimension), Cohere one per text."""
    body = invoke.embed_request(family, ["first text", "second text"], dimension=512)
    reply = invoke.embed_response(family, body, tokens=7)
    if family == "cohere_embed":
        vectors = reply["embeddings"]["float"]
        assert len(vectors) == 2
        assert reply["response_type"] == "embeddings_by_type"
        assert "inputTextTokenCount" not in reply  # Cohere's count is only in a header
    else:
        assert reply["inputTextTokenCount"] == 7
        assert len(reply["embedding"]) == (512 if family == "titan_embed" else 1536)


def test_vectors_are_deterministic_unit_vectors() -> None:
    """The same text gives the same vector across processes, of length one."""
    first = invoke.vector("hello", 64)
    assert first == invoke.vector("hello", 64)
    assert first != invoke.vector("world", 64)
    assert abs(sum(v * v for v in first) - 1) < 1e-3


def test_unknown_families_are_refused() -> None:
    """A family name the module does not know raises instead of returning a wrong shape."""
    for build in (invoke.request, invoke.response, invoke.stream_chunks):
        with pytest.raises(ValueError, match="unknown"):
            build("cohere_command")
    with pytest.raises(ValueError, match="unknown"):
        invoke.embed_request("openai")
