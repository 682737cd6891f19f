"""Tests for otel_llm.instrumentation.bedrock._invoke: InvokeModel bodies of every family."""

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_llm.instrumentation.bedrock import _invoke as invoke
from otel_llm.instrumentation.types import Content, Usage
from otel_llm.payloads import bedrock_invoke as payloads
from otel_llm.payloads.bedrock import MODEL_IDS, Reply, Tokens, ToolUse
from otel_llm.semconv.attributes import gen_ai as ga
from tests.instrumentation._schemas import INPUT, OUTPUT, SYSTEM, TOOLS, assert_valid

# Payload family -> the family the instrumentation reads it as (Mistral chat is Mistral).
READ_AS = {
    family: "mistral" if family == "mistral_chat" else family for family in payloads.FAMILIES
}
READ_AS.update(titan_embed="titan_embed", titan_embed_v1="titan_embed", cohere_embed="cohere_embed")
HEADERS = {
    "x-amzn-bedrock-input-token-count": "25",
    "x-amzn-bedrock-output-token-count": "12",
    "x-amzn-bedrock-invocation-latency": "412",
}


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic"),
        ("us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0",
            "nova",
        ),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1", "titan_text"),
        ("amazon.titan-tg1-large", "titan_text"),
        ("amazon.titan-embed-text-v2:0", "titan_embed"),
        ("us.meta.llama3-2-11b-instruct-v1:0", "llama"),
        ("mistral.mixtral-8x7b-instruct-v0:1", "mistral"),
        ("cohere.embed-multilingual-v3", "cohere_embed"),
        ("stability.sd3-large-v1:0", None),
    ],
)
def test_families_by_model_id(model_id: str, expected: str | None) -> None:
    """Region prefixes and ARNs still name the family."""
    assert invoke.family(model_id, None) == expected


@pytest.mark.parametrize("family", [*payloads.FAMILIES, "cohere_embed", "titan_embed"])
def test_families_by_body_when_the_id_names_no_model(family: str) -> None:
    """Application-profile and provisioned ARNs name no model: the body's keys tell the format."""
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"
    if family in payloads.FAMILIES:
        body = payloads.request(family)
    else:
        body = payloads.embed_request(family)
    assert invoke.family(arn, body) == READ_AS[family]


@pytest.mark.parametrize(
    ("family", "operation"),
    [
        ("anthropic", "chat"),
        ("nova", "chat"),
        ("mistral_chat", "chat"),
        ("titan_text", "text_completion"),
        ("llama", "text_completion"),
        ("mistral", "text_completion"),
    ],
)
def test_operation_follows_the_body(family: str, operation: str) -> None:
    """Message lists are chat, prompts text_completion, embedding models embeddings."""
    assert invoke.operation(READ_AS[family], payloads.request(family)) == operation
    assert invoke.operation("titan_embed", {"inputText": "x"}) == "embeddings"
    assert invoke.operation(None, None) == "chat"


@pytest.mark.parametrize("family", payloads.FAMILIES)
def test_request_parameters_per_family(family: str) -> None:
    """Each family's own parameter names map to the same request attributes."""
    body = payloads.request(family, max_tokens=300, temperature=0.5, top_p=0.8, stop=["END"])
    attributes = invoke.request_attributes(READ_AS[family], body)
    assert attributes[ga.GEN_AI_REQUEST_MAX_TOKENS] == 300
    assert attributes[ga.GEN_AI_REQUEST_TEMPERATURE] == 0.5
    assert attributes[ga.GEN_AI_REQUEST_TOP_P] == 0.8
    if family in ("anthropic", "nova", "titan_text", "mistral"):
        assert attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] == ("END",)


def test_request_parameters_of_wrong_types_are_left_out() -> None:
    """Booleans, strings and floats where integers belong are not recorded; one stop string is."""
    body = {"prompt": "x", "max_tokens": True, "temperature": "hot", "top_k": 5.5, "stop": "###"}
    assert invoke.request_attributes("mistral", body) == {
        ga.GEN_AI_REQUEST_STOP_SEQUENCES: ("###",)
    }
    assert invoke.request_attributes("llama", "not a body") == {}
    assert invoke.request_attributes(None, {"max_tokens": 5}) == {}


def test_embedding_request_attributes() -> None:
    """Titan v2's dimensions and embedding types become the dimension count and encodings."""
    body = payloads.embed_request("titan_embed", dimension=512)
    assert invoke.request_attributes("titan_embed", body) == {
        ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 512,
        ga.GEN_AI_REQUEST_ENCODING_FORMATS: ("float",),
    }
    cohere = payloads.embed_request("cohere_embed")
    assert invoke.request_attributes("cohere_embed", cohere) == {
        ga.GEN_AI_REQUEST_ENCODING_FORMATS: ("float",)
    }


@pytest.mark.parametrize("family", payloads.FAMILIES)
def test_request_content_validates(family: str) -> None:
    """Every family's request content matches the upstream schemas and holds the question."""
    content = invoke.content(READ_AS[family], payloads.request(family))
    assert content is not None
    assert_valid(INPUT, content.input_messages)
    assert "When does my order ship?" in json.dumps(content.input_messages)
    if content.system_instructions is not None:
        assert_valid(SYSTEM, content.system_instructions)


def test_nova_and_mistral_chat_tools_are_definitions() -> None:
    """Nova's toolConfig and Mistral chat's OpenAI-style tools become tool definitions."""
    nova = {
        **payloads.request("nova"),
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_order"}}]},
    }
    mistral = {
        **payloads.request("mistral_chat"),
        "tools": [{"type": "function", "function": {"name": "get_order", "description": "d"}}],
    }
    for family, body in (("nova", nova), ("mistral", mistral)):
        content = invoke.content(family, body)
        assert content is not None
        assert content.tool_definitions is not None
        assert content.tool_definitions[0]["name"] == "get_order"
        assert_valid(TOOLS, content.tool_definitions)


def test_embeddings_and_unknown_bodies_have_no_content() -> None:
    """Embeddings carry no messages; an unreadable body gives no content."""
    empty = Content()
    assert invoke.content("titan_embed", payloads.embed_request("titan_embed")) == empty
    assert invoke.content("llama", None) == empty
    assert invoke.content(None, {"unknown": 1}) == empty


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (HEADERS, Usage(25, 12)),
        # Recorded Claude prompt caching: 4 uncached input tokens, 18131 read from the cache.
        (
            {
                "x-amzn-bedrock-input-token-count": "4",
                "x-amzn-bedrock-output-token-count": "50",
                "x-amzn-bedrock-cache-read-input-token-count": "18131",
                "x-amzn-bedrock-cache-write-input-token-count": "0",
            },
            Usage(18135, 50, 18131, 0),
        ),
        ({"x-amzn-bedrock-input-token-count": "9"}, Usage(9, None)),
        ({"x-amzn-bedrock-input-token-count": "-1"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_header_usage(headers: object, expected: Usage | None) -> None:
    """Bedrock's count headers give the usage, cache reads and writes added to the input."""
    assert invoke.header_usage(headers) == expected


@pytest.mark.parametrize("family", payloads.FAMILIES)
@pytest.mark.parametrize("capture", [False, True])
def test_responses_per_family(family: str, capture: bool) -> None:
    """Every family's reply gives its finish reason, the billed usage and (captured) the answer."""
    info = invoke.response(READ_AS[family], payloads.response(family), HEADERS, capture)
    assert info.finish_reasons == ("stop",)
    assert info.usage == Usage(25, 12)
    if capture:
        assert_valid(OUTPUT, info.output)
        assert info.output[0]["parts"][0]["content"] == Reply().text
    else:
        assert info.output is None


@pytest.mark.parametrize("family", ["anthropic", "nova", "titan_text", "llama"])
def test_body_counts_stand_in_when_headers_are_missing(family: str) -> None:
    """Without Bedrock's headers, the counts in the model's own body are the usage."""
    reply = Reply(tokens=Tokens(input=14, output=10))
    info = invoke.response(family, payloads.response(family, reply), {}, False)
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.output_tokens) == (14, 10)


def test_anthropic_replies_keep_id_model_and_tool_calls() -> None:
    """Claude's id and model are the response's; tool_use stops as tool_call."""
    reply = Reply(text=None, tool_uses=[ToolUse()], stop_reason="tool_use")
    info = invoke.response("anthropic", payloads.response("anthropic", reply), HEADERS, True)
    assert (info.response_id, info.model) == (payloads.ANTHROPIC_ID, payloads.ANTHROPIC_MODEL)
    assert info.finish_reasons == ("tool_call",)
    assert info.output[0]["parts"][0]["type"] == "tool_call"


def test_float_counts_and_guardrail_interventions() -> None:
    """Titan's float counts (28.0) count; a guardrail intervention is a content filter."""
    body = {
        "inputTextTokenCount": 28.0,
        "results": [
            {"tokenCount": 197.0, "outputText": "{Account Number}", "completionReason": "FINISH"}
        ],
        "amazon-bedrock-guardrailAction": "INTERVENED",
    }
    info = invoke.response("titan_text", body, {}, False)
    assert info.usage == Usage(28, 197)
    assert info.finish_reasons == ("content_filter",)


@pytest.mark.parametrize("family", ["titan_embed", "titan_embed_v1", "cohere_embed"])
def test_embedding_responses(family: str) -> None:
    """Embeddings record the vector dimension and input tokens (Cohere's only from headers)."""
    body = payloads.embed_request(family)
    reply = payloads.embed_response(family, body, tokens=7)
    headers = {"x-amzn-bedrock-input-token-count": "7"}
    info = invoke.response(READ_AS[family], reply, headers, True)
    dimension = {"titan_embed": 256, "titan_embed_v1": 1536, "cohere_embed": 1024}[family]
    assert info.attributes == {ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: dimension}
    assert info.usage == Usage(7, None)
    assert info.finish_reasons == ()
    assert info.output is None
    without_headers = invoke.response(READ_AS[family], reply, {}, False)
    assert without_headers.usage == (None if family == "cohere_embed" else Usage(7, None))


def test_unreadable_bodies_still_give_the_headers_usage() -> None:
    """A reply body that is not a JSON object leaves only the header counts."""
    info = invoke.response("llama", None, HEADERS, True)
    assert info.usage == Usage(25, 12)
    assert info.finish_reasons == ()


def _events(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chunks as botocore yields them from InvokeModelWithResponseStream."""
    return [{"chunk": {"bytes": json.dumps(c).encode()}} for c in chunks]


@pytest.mark.parametrize("family", payloads.FAMILIES)
@pytest.mark.parametrize("capture", [False, True])
def test_stream_states_per_family(family: str, capture: bool) -> None:
    """Every family's chunks give its finish reason, the metrics' usage and the joined text."""
    reply = Reply(tokens=Tokens(input=14, output=10))
    state = invoke.ChunkState(READ_AS[family], capture)
    for event in _events(payloads.stream_chunks(family, reply)):
        state.on_chunk(event)
    info = state.result()
    assert info.finish_reasons == ("stop",)
    assert info.usage == Usage(14, 10)
    if capture:
        assert_valid(OUTPUT, info.output)
        assert info.output[0]["parts"][0]["content"] == reply.text
    else:
        assert info.output is None


@pytest.mark.parametrize("family", ["anthropic", "nova", "titan_text", "llama"])
def test_stream_counts_stand_in_without_metrics(family: str) -> None:
    """A stream whose last chunk never came still has the counts its chunks carried."""
    chunks = payloads.stream_chunks(family, Reply(tokens=Tokens(input=14, output=10)))
    chunks[-1].pop("amazon-bedrock-invocationMetrics")
    state = invoke.ChunkState(family, False)
    for event in _events(chunks):
        state.on_chunk(event)
    usage = state.result().usage
    assert usage is not None
    assert usage.input_tokens == 14


def test_anthropic_stream_cache_counts_join_bedrocks_metrics() -> None:
    """Claude's own cache counts fill in when Bedrock's metrics report none."""
    reply = Reply(tokens=Tokens(input=4, output=50, cache_read=100))
    chunks = payloads.stream_chunks("anthropic", reply)
    chunks[-1]["amazon-bedrock-invocationMetrics"] = {"inputTokenCount": 4, "outputTokenCount": 50}
    state = invoke.ChunkState("anthropic", False)
    for event in _events(chunks):
        state.on_chunk(event)
    assert state.result().usage == Usage(104, 50, 100, 0)


def test_stream_metrics_with_cache_counts() -> None:
    """Invocation metrics with cache counts add them to the input."""
    metrics = {"inputTokenCount": 10, "outputTokenCount": 5, "cacheReadInputTokenCount": 100}
    assert invoke.metrics_usage(metrics) == Usage(110, 5, 100, None)
    assert invoke.metrics_usage("metrics") is None


def test_stream_states_skip_malformed_chunks() -> None:
    """Non-JSON bytes, JSON that is not an object and events without a chunk change nothing."""
    state = invoke.ChunkState("titan_text", True)
    for event in [
        {"chunk": {"bytes": b"\xff not json"}},
        {"chunk": {"bytes": b"[1, 2]"}},
        {"chunk": {}},
        {"internalServerException": {"message": "x"}},
        "event",
        {"chunk": {"bytes": b'{"outputText": "Hi", "completionReason": "LENGTH"}'}},
    ]:
        state.on_chunk(event)
    info = state.result()
    assert info.finish_reasons == ("length",)
    assert info.output[0]["parts"] == [{"type": "text", "content": "Hi"}]


def test_stream_guardrail_interventions() -> None:
    """A chunk with the guardrail's INTERVENED action makes the stream a content filter."""
    chunk = {"outputText": "Input blocked", "index": 0.0, "inputTextTokenCount": 6.0}
    chunk["amazon-bedrock-guardrailAction"] = "INTERVENED"
    state = invoke.ChunkState("titan_text", False)
    state.on_chunk(
        {"chunk": {"bytes": base64.b64decode(base64.b64encode(json.dumps(chunk).encode()))}}
    )
    assert state.result().finish_reasons == ("content_filter",)
    assert state.result().usage == Usage(6, None)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=25,
)
_KEYS = st.sampled_from(
    [
        "messages",
        "prompt",
        "inputText",
        "outputText",
        "generation",
        "outputs",
        "choices",
        "results",
        "usage",
        "output",
        "stopReason",
        "completionReason",
        "stop_reason",
        "type",
        "delta",
        "contentBlockDelta",
        "messageStop",
        "metadata",
        "amazon-bedrock-invocationMetrics",
        "embedding",
        "embeddings",
        "max_tokens",
        "inferenceConfig",
        "textGenerationConfig",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from([*sorted(set(READ_AS.values())), None]),
    body=st.dictionaries(_KEYS, _JSON, max_size=6),
)
def test_hostile_bodies_never_raise(name: str | None, body: dict[str, Any]) -> None:
    """Any JSON object, read as any family, converts without raising."""
    invoke.request_attributes(name, body)
    invoke.content(name, body)
    invoke.response(name, body, {"x-amzn-bedrock-input-token-count": "x"}, True)
    state = invoke.ChunkState(name, True)
    state.on_chunk({"chunk": {"bytes": json.dumps(body, default=str).encode()}})
    state.result()


def test_model_ids_of_the_payloads_resolve_to_their_families() -> None:
    """The payload module's model ids are read as the family their bodies have."""
    for family, model_id in MODEL_IDS.items():
        if family in READ_AS:
            assert invoke.family(model_id, None) == READ_AS[family], family
