"""Anthropic Messages: request parameters, provider by client, usage totals, error events."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import pytest

from otel_llm.instrumentation._stainless_raw import Fields
from otel_llm.instrumentation.anthropic._messages import (
    MessageStreamState,
    messages_request,
    messages_response,
    provider_name,
    stream_error,
)
from tests.instrumentation import _fakes as fakes


def test_request_parameters_become_attributes() -> None:
    """Numbers, max tokens, top_k, stop sequences and effort; a bool is no number."""
    info = messages_request(
        None,
        (),
        {
            "model": "claude-sonnet-4-6",
            "temperature": True,
            "top_p": 0.9,
            "max_tokens": 256,
            "top_k": 5,
            "stop_sequences": ["END"],
            "output_config": {"effort": "high"},
        },
    )
    assert info.attributes == {
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.top_k": 5,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.reasoning.level": "high",
    }


class _Resource:
    def __init__(self, client: Any) -> None:
        self._client = client


@pytest.mark.parametrize(
    ("client_class", "provider"),
    [
        ("AnthropicBedrock", "aws.bedrock"),
        ("AnthropicVertex", "gcp.vertex_ai"),
        ("Anthropic", "anthropic"),
    ],
)
def test_provider_follows_the_client(client_class: str, provider: str) -> None:
    """Claude through Bedrock or Vertex AI is recorded as that provider."""
    client = type(client_class, (), {})()
    assert provider_name(_Resource(client)) == provider


def test_input_tokens_include_the_cache() -> None:
    """Upstream's input total is uncached + cache read + cache write, each also kept apart."""
    info = messages_response(fakes.anthropic_message(), False)
    assert info.usage is not None
    assert info.usage.input_tokens == 1210
    assert (info.usage.cache_read_tokens, info.usage.cache_write_tokens) == (1000, 200)


def test_stream_state_merges_cumulative_usage() -> None:
    """message_delta's usage overrides message_start's where it reports a count."""
    state = MessageStreamState(capture=True)
    for event in fakes.anthropic_events():
        state.on_chunk(Fields(event))  # each event as the SDK's objects read
    info = state.result()
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.output_tokens) == (1210, 7)
    assert info.finish_reasons == ("stop",)
    assert info.output[0]["parts"] == [{"type": "text", "content": "Your order ships."}]


def test_stream_error_is_what_the_sdk_raises_for_an_error_event() -> None:
    """An `error` event gives the SDK's status error for it; other events give none."""
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    response = httpx2.Response(200, request=request)
    data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    error = stream_error("error", data, response)
    assert isinstance(error, anthropic.APIStatusError)
    assert stream_error("message_stop", {"type": "message_stop"}, response) is None
