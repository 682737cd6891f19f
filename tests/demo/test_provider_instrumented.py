"""The instrumentation over real HTTP: both SDKs against the simulated provider on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

import otel_llm
from otel_llm.demo.provider import Behaviour, SimulatedProvider
from tests.conftest import Captured, make_captured

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]


@pytest.fixture
def server() -> Iterator[SimulatedProvider]:
    """A fast simulated provider (no sleeps)."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=7)) as provider:
        yield provider


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """Both SDKs instrumented against in-memory providers."""
    captured = make_captured()
    otel_llm.instrument(**captured.providers)
    try:
        yield captured
    finally:
        otel_llm.uninstrument()


def test_openai_and_anthropic_over_real_http(
    server: SimulatedProvider, instrumented: Captured
) -> None:
    """Calls over real sockets produce spans with the server's address and the reply's usage."""
    oai = openai.OpenAI(base_url=server.base_url_openai, api_key="x", max_retries=0)
    reply = oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    streamed = oai.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    claude = anthropic.Anthropic(base_url=server.base_url_anthropic, api_key="x", max_retries=0)
    with claude.messages.stream(model="claude-sonnet-4-6", max_tokens=256, messages=MESSAGES) as s:
        final = s.get_final_message()
    assert reply.usage is not None
    assert text
    spans = instrumented.finished_spans()
    assert [s.name for s in spans] == [
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "chat claude-sonnet-4-6",
    ]
    host, port = server.address
    for span in spans:
        assert span.attributes["server.address"] == host
        assert span.attributes["server.port"] == port
    assert spans[0].attributes["gen_ai.usage.output_tokens"] == reply.usage.completion_tokens
    assert spans[1].attributes["gen_ai.request.stream"] is True
    assert spans[1].attributes["gen_ai.usage.output_tokens"] > 0
    assert spans[2].attributes["gen_ai.usage.output_tokens"] == final.usage.output_tokens


def test_injected_faults_show_up_as_outcomes(
    server: SimulatedProvider, instrumented: Captured
) -> None:
    """Switching the provider to errors and rate limits is visible in the outcome counter."""
    oai = openai.OpenAI(base_url=server.base_url_openai, api_key="x", max_retries=0)
    server.behaviour = Behaviour(time_scale=0.0, error_rate=1.0)
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    server.behaviour = Behaviour(time_scale=0.0, rate_limit_rate=1.0)
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    outcomes = {
        p.attributes["otel_llm.request.outcome"]: p.value
        for p in instrumented.metric_points("otel_llm.client.requests")
    }
    assert outcomes == {"error": 1, "rate_limited": 1}
