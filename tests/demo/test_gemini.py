"""The simulated provider's Gemini API, driven by the real google-genai client."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from google import genai
from google.genai import errors, types

from otel_llm.demo import gemini
from otel_llm.demo.provider import EMBEDDING_DIMENSION, Behaviour, SimulatedProvider
from otel_llm.demo.replies import Reply

FAST = Behaviour(time_scale=0.0, seed=7)
MODEL = "gemini-2.5-flash-lite"
LOOKUP = types.FunctionDeclaration(
    name="crm_account_lookup",
    description="Look up the customer's account.",
    parameters_json_schema={
        "type": "object",
        "properties": {"account_id": {"type": "string"}},
    },
)


@pytest.fixture
def provider() -> Iterator[SimulatedProvider]:
    """A running provider with no delays."""
    with SimulatedProvider(FAST) as running:
        yield running


def _client(provider: SimulatedProvider, timeout_ms: int | None = None) -> genai.Client:
    """A real google-genai client for the Gemini API, pointed at the provider."""
    options = types.HttpOptions(base_url=provider.base_url_gemini, timeout=timeout_ms)
    return genai.Client(api_key="AIza-test", http_options=options)


@pytest.fixture
def sdk(provider: SimulatedProvider) -> genai.Client:
    """A real google-genai client pointed at the provider."""
    return _client(provider)


# --- through the real client ---------------------------------------------------------------------
def test_generate_content_answers_with_usage(sdk: genai.Client) -> None:
    """A generateContent call answers with text, the model named in the path, a finish and usage."""
    response = sdk.models.generate_content(
        model=MODEL,
        contents="How do I reset my password?",
        config=types.GenerateContentConfig(system_instruction="You are a support agent."),
    )
    assert response.text
    assert response.model_version == MODEL
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage is not None
    assert usage.prompt_token_count
    assert usage.candidates_token_count


def test_the_stream_adds_up_to_one_answer(sdk: genai.Client) -> None:
    """A streamGenerateContent call (SSE) sends the answer in pieces; usage and finish come last."""
    chunks = list(sdk.models.generate_content_stream(model=MODEL, contents="Where are invoices?"))
    assert len(chunks) > 2
    assert "".join(c.text or "" for c in chunks).endswith(".")
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    assert chunks[0].usage_metadata.candidates_token_count  # type: ignore[union-attr]


def test_a_declared_function_is_called_then_its_result_answered(sdk: genai.Client) -> None:
    """Asked about the account with the lookup declared, the model calls it, then answers."""
    config = types.GenerateContentConfig(
        system_instruction="Answer from this article.\n[doc-1] Plans: Plans renew monthly.",
        tools=[types.Tool(function_declarations=[LOOKUP])],
    )
    question = types.Content(role="user", parts=[types.Part.from_text(text="My account status?")])
    first = sdk.models.generate_content(model=MODEL, contents=[question], config=config)
    assert first.function_calls is not None
    call = first.function_calls[0]
    assert (call.name, call.args) == ("crm_account_lookup", {"account_id": "acct_1234"})
    result = {"account_id": "acct_1234", "status": "active", "plan": "business", "open_invoices": 1}
    contents = [
        question,
        first.candidates[0].content,  # type: ignore[index]
        types.Content(
            role="user",
            parts=[types.Part.from_function_response(name=call.name or "", response=result)],
        ),
    ]
    answer = sdk.models.generate_content(model=MODEL, contents=contents, config=config)
    assert answer.function_calls is None
    assert "acct_1234 is active" in (answer.text or "")


def test_max_output_tokens_cuts_the_answer(sdk: genai.Client) -> None:
    """A low max_output_tokens ends the answer with MAX_TOKENS."""
    response = sdk.models.generate_content(
        model=MODEL, contents="Tell me everything.", config={"max_output_tokens": 3}
    )
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata.candidates_token_count == 3  # type: ignore[union-attr]


def test_embeddings_one_vector_per_text(sdk: genai.Client) -> None:
    """A batchEmbedContents call answers one unit vector of the demo's dimension per text."""
    result = sdk.models.embed_content(
        model="gemini-embedding-001", contents=["reset password", "invoice"]
    )
    vectors = [e.values or [] for e in result.embeddings or ()]
    assert [len(v) for v in vectors] == [EMBEDDING_DIMENSION] * 2
    assert vectors[0] != vectors[1]


@pytest.mark.parametrize(
    ("behaviour", "error", "status"),
    [
        (Behaviour(time_scale=0.0, rate_limit_rate=1.0), errors.ClientError, "RESOURCE_EXHAUSTED"),
        (Behaviour(time_scale=0.0, error_rate=1.0), errors.ServerError, "INTERNAL"),
    ],
    ids=["rate_limit", "error"],
)
def test_faults_answer_with_the_gemini_error_bodies(
    provider: SimulatedProvider, sdk: genai.Client, behaviour: Behaviour, error: type, status: str
) -> None:
    """Injected rate limits and errors raise the SDK's own errors with Google's status names."""
    provider.behaviour = behaviour
    with pytest.raises(error) as raised:
        sdk.models.generate_content(model=MODEL, contents="hi")
    assert raised.value.status == status  # type: ignore[attr-defined]


def test_unknown_gemini_methods_are_not_found(sdk: genai.Client) -> None:
    """A model method the provider does not serve (countTokens) is a 404 in Google's shape."""
    with pytest.raises(errors.ClientError) as raised:
        sdk.models.count_tokens(model=MODEL, contents="hi")
    assert raised.value.code == 404
    assert raised.value.status == "NOT_FOUND"


# --- the translation on its own ------------------------------------------------------------------
def test_chat_body_reads_contents_system_tools_and_limit() -> None:
    """A generateContent body becomes the chat request Reply plans from."""
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "Where is"}, {"text": "my order?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"response": {"ok": True}}}]},
            "not a content",
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
        "generationConfig": {"maxOutputTokens": 9},
        "tools": [{"functionDeclarations": [{"name": "lookup", "parameters": {"type": "object"}}]}],
    }
    chat = gemini.chat_body(body, "/v1beta/models/gemini-2.5-pro:generateContent")
    assert chat == {
        "model": "gemini-2.5-pro",
        "messages": [
            {"role": "user", "content": "Where is my order?"},
            {"role": "assistant", "content": ""},
            {"role": "tool", "content": json.dumps({"ok": True})},
        ],
        "system": "Be brief.",
        "tools": [{"name": "lookup", "parameters": {"type": "object"}}],
        "max_tokens": 9,
    }


@pytest.mark.parametrize(
    ("path", "generate", "stream", "embeddings"),
    [
        ("/v1beta/models/gemini-2.5-flash:generateContent", True, False, False),
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent", True, True, False),
        ("/v1beta/models/gemini-embedding-001:batchEmbedContents", False, False, True),
        ("/v1beta/models/gemini-embedding-001:embedContent", False, False, True),
        ("/v1beta/models/gemini-2.5-flash:countTokens", False, False, False),
        ("/v1/chat/completions", False, False, False),
    ],
)
def test_routes(path: str, generate: bool, stream: bool, embeddings: bool) -> None:
    """The method in the path says which Gemini call it is; other paths are not Gemini's."""
    assert (gemini.is_generate(path), gemini.is_stream(path), gemini.is_embeddings(path)) == (
        generate,
        stream,
        embeddings,
    )


def test_a_single_embed_content_gets_one_vector() -> None:
    """An embedContent call (one text) answers one `embedding`, not a list."""
    body: dict[str, Any] = {"content": {"parts": [{"text": "reset password"}]}}
    answer = gemini.embeddings(body, "/v1beta/models/m:embedContent", 8)
    assert len(answer["embedding"]["values"]) == 8


def test_a_planned_reply_streams_in_its_pieces() -> None:
    """The stream's texts are the reply's planned chunks; the last chunk carries the usage."""
    body = gemini.chat_body({"contents": [{"parts": [{"text": "hi"}]}]}, "/v1beta/models/m:x")
    reply = Reply(body, FAST, random.Random(1), threading.Lock())  # noqa: S311
    chunks = gemini.stream(reply, body)
    texts = [c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks]
    assert texts == reply.chunks
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == reply.output_tokens
