"""What openai and anthropic share: server from the client, error classes, stream finding."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import openai
import pytest

from otel_llm.instrumentation._stainless import Sdk, request_info, server
from otel_llm.instrumentation._stainless_raw import RawResponses
from otel_llm.instrumentation.types import StreamState
from tests.instrumentation import _fakes as fakes


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (None, {"server.address": "api.openai.com", "server.port": 443}),
        ("http://localhost:8000/v1", {"server.address": "localhost", "server.port": 8000}),
        ("http://vllm.internal/v1", {"server.address": "vllm.internal", "server.port": 80}),
    ],
)
def test_server_is_read_from_the_clients_base_url(base_url: str | None, expected: Any) -> None:
    """server.address and server.port come from the resource's client, default ports filled."""
    client = fakes.openai_client(fakes.respond_json({}), base_url=base_url)
    assert dict(server(client.chat.completions)) == expected


def test_server_is_cached_per_base_url() -> None:
    """The parsed server is reused until the client's base URL changes."""
    client = fakes.openai_client(fakes.respond_json({}))
    resource = client.chat.completions
    assert server(resource) is server(resource)
    client.base_url = "https://eu.api.openai.com/v1"
    assert server(resource)["server.address"] == "eu.api.openai.com"


def test_a_resource_without_a_client_has_no_server() -> None:
    """An object with no `_client` gives no server attributes."""
    assert dict(server(object())) == {}


def test_request_info_reads_model_and_stream_flag() -> None:
    """The model only when it is a string; the stream flag only when exactly True."""
    info = request_info({"model": "gpt-4o", "stream": True}, {})
    assert (info.model, info.stream, info.attributes) == (
        "gpt-4o",
        True,
        {"gen_ai.request.stream": True},
    )
    assert request_info({"model": 7, "stream": 1}, {}).model is None
    assert request_info({"stream": 1}, {}).stream is False


@pytest.mark.parametrize("sdk", [openai, anthropic], ids=["openai", "anthropic"])
def test_timeouts_and_rate_limits_are_classified(sdk: Any) -> None:
    """The SDK's timeout and its HTTP library's, and HTTP 429; nothing else is claimed."""
    classify = Sdk.of(sdk).classify
    request = httpx2.Request("POST", "https://example.com")
    response = httpx2.Response(429, request=request)
    limited = sdk.RateLimitError("slow down", response=response, body=None)
    assert classify(sdk.APITimeoutError(request=request)).outcome == "timeout"  # type: ignore[union-attr]
    assert classify(httpx2.ReadTimeout("read")).outcome == "timeout"  # type: ignore[union-attr]
    assert classify(limited).outcome == "rate_limited"  # type: ignore[union-attr]
    assert classify(sdk.APIConnectionError(request=request)) is None
    assert classify(ValueError("Timeout")) is None


class Handle:
    """A stand-in CallHandle recording what was observed or how it ended."""

    stream = False
    capturing = False

    def __init__(self) -> None:
        self.ended: list[Any] = []

    def observe(self, stream: Any, state: StreamState | None = None) -> Any:
        return ("observed", stream)

    def succeed(self, info: Any) -> None:
        self.ended.append(info)


def test_stream_finder_observes_streams_and_hands_them_to_the_collector() -> None:
    """An SDK stream is replaced by its proxy, which the collector gets; other results pass."""
    sdk = Sdk(streams=(list,), timeouts=(), rate_limited=())
    collected: list[Any] = []
    find = sdk.stream_finder(RawResponses(), collected.append)
    assert find([1], Handle()) == ("observed", [1])  # type: ignore[arg-type]
    assert collected == [("observed", [1])]
    assert find({"id": 1}, Handle()) is None  # type: ignore[arg-type]
