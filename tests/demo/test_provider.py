"""Tests for the simulated LLM provider, driven by the real openai and anthropic clients."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from otel_llm.demo.provider import EMBEDDING_DIMENSION, Behaviour, SimulatedProvider

FAST = Behaviour(time_scale=0.0, seed=7)
TOOLS: list[dict[str, object]] = [
    {
        "type": "function",
        "function": {
            "name": "get_balance",
            "description": "Look up an account balance.",
            "parameters": {
                "type": "object",
                "properties": {"account_id": {"type": "string"}, "limit": {"type": "integer"}},
            },
        },
    }
]
ANTHROPIC_MODEL = "claude-sonnet-4-6"


@pytest.fixture
def provider() -> Iterator[SimulatedProvider]:
    """A running provider with no delays."""
    with SimulatedProvider(FAST) as running:
        yield running


@pytest.fixture
def oai(provider: SimulatedProvider) -> Iterator[openai.OpenAI]:
    """A real OpenAI client pointed at the provider."""
    with openai.OpenAI(base_url=provider.base_url_openai, api_key="x", max_retries=0) as client:
        yield client


@pytest.fixture
def claude(provider: SimulatedProvider) -> Iterator[anthropic.Anthropic]:
    """A real Anthropic client pointed at the provider."""
    with anthropic.Anthropic(
        base_url=provider.base_url_anthropic, api_key="x", max_retries=0
    ) as client:
        yield client


def test_openai_chat_completion_has_usage(oai: openai.OpenAI, provider: SimulatedProvider) -> None:
    """A non-streaming chat completion echoes the model and reports token usage."""
    result = oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello there"}]
    )
    assert result.id.startswith("chatcmpl-")
    assert result.model == "gpt-4o-mini"
    assert result.choices[0].message.content
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None
    assert result.usage.completion_tokens >= 20
    assert result.usage.prompt_tokens_details is not None
    assert result.usage.prompt_tokens_details.cached_tokens == 0
    assert provider.requests == 1


def test_openai_stream_with_usage(oai: openai.OpenAI) -> None:
    """A stream with include_usage yields text chunks and a final usage-only chunk."""
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    with stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert text.endswith(".")
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(text.split())
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_openai_tool_calls(oai: openai.OpenAI) -> None:
    """A prompt mentioning an account triggers a call to the first tool with JSON arguments."""
    result = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is my account balance?"}],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_balance"
    assert json.loads(call.function.arguments) == {"account_id": "acct_1234", "limit": 42}


def test_openai_no_tool_call_without_trigger(oai: openai.OpenAI) -> None:
    """Tools are offered but not called when the prompt does not ask for them."""
    result = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Tell me a story"}],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    assert result.choices[0].finish_reason == "stop"
    assert result.choices[0].message.tool_calls is None


def test_openai_embeddings(oai: openai.OpenAI) -> None:
    """Embeddings have the fixed dimension and are deterministic per input text."""
    first = oai.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])
    again = oai.embeddings.create(model="text-embedding-3-small", input="alpha")
    assert [len(d.embedding) for d in first.data] == [EMBEDDING_DIMENSION] * 2
    assert first.data[0].embedding == pytest.approx(again.data[0].embedding)
    assert first.data[0].embedding != first.data[1].embedding
    assert first.usage.prompt_tokens >= 2


def test_anthropic_message(claude: anthropic.Anthropic) -> None:
    """messages.create returns a text message with usage including cache fields."""
    message = claude.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=200,
        system="Be brief.",
        messages=[{"role": "user", "content": "Hello"}],
    )
    assert message.id.startswith("msg_")
    assert message.model == ANTHROPIC_MODEL
    assert message.stop_reason == "end_turn"
    assert message.content[0].type == "text"
    assert message.content[0].text
    assert message.usage.output_tokens >= 20
    assert message.usage.input_tokens >= 1
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.cache_creation_input_tokens == 0


def test_anthropic_stream(claude: anthropic.Anthropic) -> None:
    """messages.stream yields text deltas that add up to the final message with usage."""
    with claude.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=200, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text
    assert final.content[0].type == "text"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == len(text.split())


def test_anthropic_tool_use(claude: anthropic.Anthropic) -> None:
    """A prompt naming a tool gets a tool_use block, streamed or not."""
    tools: list[anthropic.types.ToolParam] = [
        {
            "name": "get_weather",
            "description": "Weather for a city.",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    messages: list[anthropic.types.MessageParam] = [
        {"role": "user", "content": "Use get_weather for Paris"}
    ]
    message = claude.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=200, tools=tools, messages=messages
    )
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use"
    assert block.name == "get_weather"
    assert block.input == {"city": "acct_1234"}
    with claude.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=200, tools=tools, messages=messages
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[0].type == "tool_use"
    assert final.content[0].input == {"city": "acct_1234"}


def test_max_tokens_truncates(claude: anthropic.Anthropic) -> None:
    """A max_tokens below the drawn length truncates the reply with stop_reason max_tokens."""
    message = claude.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5


def test_error_rate_raises_internal_server_error(
    oai: openai.OpenAI, claude: anthropic.Anthropic, provider: SimulatedProvider
) -> None:
    """With error_rate=1 every call fails with a provider-shaped HTTP 500."""
    provider.behaviour = Behaviour(time_scale=0.0, error_rate=1.0)
    with pytest.raises(openai.InternalServerError) as raised:
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 500
    with pytest.raises(anthropic.InternalServerError):
        claude.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )


def test_rate_limit_rate_raises_rate_limit_error(
    oai: openai.OpenAI, provider: SimulatedProvider
) -> None:
    """With rate_limit_rate=1 every call fails with HTTP 429 and a retry-after header."""
    provider.behaviour = Behaviour(time_scale=0.0, rate_limit_rate=1.0)
    with pytest.raises(openai.RateLimitError) as raised:
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert raised.value.response.headers["retry-after"] == "1"


def test_timeout_rate_makes_client_time_out() -> None:
    """With timeout_rate=1 the server stalls long enough for a short client timeout to fire."""
    behaviour = Behaviour(latency_median_s=0.0, timeout_rate=1.0, timeout_sleep_s=2)
    with (
        SimulatedProvider(behaviour) as provider,
        openai.OpenAI(
            base_url=provider.base_url_openai, api_key="x", max_retries=0, timeout=0.2
        ) as client,
        pytest.raises(openai.APITimeoutError),
    ):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_input_tokens_grow_with_prompt(oai: openai.OpenAI) -> None:
    """Prompt tokens are roughly characters/4, so a longer prompt costs more input tokens."""

    def prompt_tokens(text: str) -> int:
        result = oai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": text}]
        )
        assert result.usage is not None
        return result.usage.prompt_tokens

    short, long = prompt_tokens("hi"), prompt_tokens("word " * 1000)
    assert short == 1
    assert long > 1000
    assert long > short


def test_seed_makes_replies_deterministic() -> None:
    """Two providers with the same seed give the same reply to the same request."""
    replies = []
    for _ in range(2):
        with (
            SimulatedProvider(FAST) as provider,
            openai.OpenAI(base_url=provider.base_url_openai, api_key="x", max_retries=0) as c,
        ):
            result = c.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
            replies.append(result.choices[0].message.content)
    assert replies[0] == replies[1]


def test_unknown_path_and_bad_json(provider: SimulatedProvider) -> None:
    """Unknown paths get a 404 JSON error and a malformed body gets a 400 JSON error."""
    for path, body, status in [
        ("/v1/nope", b"{}", 404),
        ("/v1/chat/completions", b"{not json", 400),
        ("/v1/messages", b"[]", 400),
    ]:
        request = urllib.request.Request(  # noqa: S310  # A local http URL.
            provider.base_url_anthropic + path, data=body, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=5)  # noqa: S310
        with raised.value as response:
            assert response.code == status
            assert "error" in json.loads(response.read())
    assert provider.requests == 3


def test_binds_loopback_only(provider: SimulatedProvider) -> None:
    """The server listens on 127.0.0.1, never on all interfaces."""
    host, port = provider.address
    assert host == "127.0.0.1"
    assert port > 0
    assert provider.base_url_openai == f"http://127.0.0.1:{port}/v1"


def test_stop_frees_port(oai: openai.OpenAI, provider: SimulatedProvider) -> None:
    """After stop() nothing listens on the port and it can be bound again."""
    oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    port = provider.address[1]
    provider.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_scaled_latency_and_runtime_swap(oai: openai.OpenAI, provider: SimulatedProvider) -> None:
    """Sleeps honour time_scale, and swapping the behaviour at runtime injects and clears faults."""
    provider.behaviour = Behaviour(time_scale=0.01, output_tokens=(5, 5))
    stream = oai.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "x"}], stream=True
    )
    with stream:
        pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert len("".join(pieces).split()) == 5
    provider.behaviour = Behaviour(time_scale=0.0, error_rate=1.0)
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    provider.behaviour = FAST
    assert oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_embeddings_of_texts_sharing_words_are_closer(oai: openai.OpenAI) -> None:
    """Bag-of-words embeddings make a vector search find the related article, not a random one."""
    texts = ["reset password", "Reset your password via the sign-in page", "Tax exemption form"]
    query, related, unrelated = (
        d.embedding for d in oai.embeddings.create(model="e", input=texts).data
    )

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(query, related) > cosine(query, unrelated) + 0.3


def test_errors_are_each_providers_own_bodies(
    oai: openai.OpenAI, claude: anthropic.Anthropic, provider: SimulatedProvider
) -> None:
    """A rate limit reads as OpenAI's `requests` error on one path and Anthropic's on the other."""
    provider.behaviour = Behaviour(time_scale=0.0, rate_limit_rate=1.0)
    with pytest.raises(openai.RateLimitError) as limited:
        oai.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert (limited.value.type, limited.value.code) == ("requests", "rate_limit_exceeded")
    with pytest.raises(anthropic.RateLimitError) as throttled:
        claude.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    body: Any = throttled.value.body
    assert body["error"]["type"] == "rate_limit_error"
    assert body["request_id"].startswith("req_")


def test_streamed_tool_call_arguments_add_up(oai: openai.OpenAI) -> None:
    """A streamed tool call arrives in argument fragments the SDK reassembles into valid JSON."""
    with oai.chat.completions.stream(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is my account balance?"}],
        tools=TOOLS,  # type: ignore[arg-type]
    ) as stream:
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert json.loads(call.function.arguments) == {"account_id": "acct_1234", "limit": 42}
    assert final.choices[0].finish_reason == "tool_calls"
