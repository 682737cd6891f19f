"""The shared call facts: usage, stream states, server attributes from an endpoint URL."""

from typing import Any

import pytest

from otel_llm.instrumentation.anthropic._messages import MessageStreamState
from otel_llm.instrumentation.openai._chat import ChatStreamState
from otel_llm.instrumentation.openai._responses import ResponsesStreamState
from otel_llm.instrumentation.types import (
    ResponseInfo,
    StreamState,
    Usage,
    server_attributes,
    token_count,
)


def test_stream_states_follow_the_protocol() -> None:
    """Each accumulator can start empty and report a ResponseInfo without any chunk."""
    states: list[StreamState] = [
        ChatStreamState(capture=False),
        ResponsesStreamState(capture=True),
        MessageStreamState(capture=True),
    ]
    for state in states:
        info: Any = state.result()
        assert isinstance(info, ResponseInfo)
        assert info.usage is None


def test_usage_defaults_mean_not_reported() -> None:
    """An unreported count is None, never 0, so 'no data' and 'zero tokens' stay distinct."""
    assert Usage() == Usage(None, None, None, None, None)
    assert ResponseInfo().finish_reasons == ()


def test_usage_drops_counts_that_are_not_plausible_token_counts() -> None:
    """Strings, floats, bools, negatives and values past int64 never reach metrics or sums."""
    usage = Usage(
        input_tokens="many",  # type: ignore[arg-type]
        output_tokens=2**63,
        cache_read_tokens=True,
        cache_write_tokens=-1,
        reasoning_tokens=7,
    )
    assert usage == Usage(reasoning_tokens=7)
    assert token_count(3) == 3
    assert token_count(3.0) is None


def test_malformed_stream_chunks_are_skipped_not_raised() -> None:
    """Chunks with null or odd choices, indexes or deltas leave the state usable."""
    state = ChatStreamState(capture=True)
    for chunk in (
        _Obj(choices=[None]),
        _Obj(choices=["x"]),
        _Obj(choices=[_Obj(index=None, finish_reason=5, delta=_Obj(content=7))]),
        _Obj(choices=[_Obj(index=0, finish_reason="stop", delta=_Obj(content="hi"))]),
        _Obj(choices=7),
    ):
        state.on_chunk(chunk)
    assert state.result().finish_reasons == ("stop",)
    events = MessageStreamState(capture=True)
    events.on_chunk(_Obj(type="message_start"))
    events.on_chunk(_Obj(type="message_delta", usage=_Obj(output_tokens="ten")))
    events.on_chunk(_Obj(type="content_block_delta", index=None))
    assert events.result().usage is None


class _Obj:
    """An object with the given attributes (SDK models are built without validation)."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            ("bedrock-runtime.us-east-1.amazonaws.com", 443),
        ),
        ("http://127.0.0.1:4566", ("127.0.0.1", 4566)),
        ("http://localhost", ("localhost", 80)),
        ("https://[::1]:8443/v1", ("::1", 8443)),
    ],
)
def test_server_attributes_from_an_endpoint_url(url: str, expected: tuple[str, int]) -> None:
    """Host and port of a URL, the scheme's default port when none is given."""
    attributes = server_attributes(url)
    assert (attributes["server.address"], attributes["server.port"]) == expected


@pytest.mark.parametrize("url", ["", "not a url", "http://host:99999", "file:///tmp/x"])
def test_a_url_without_a_usable_host_gives_no_server(url: str) -> None:
    """Nothing (rather than an exception or a wrong port) for what is no network endpoint."""
    assert dict(server_attributes(url)) == {}
