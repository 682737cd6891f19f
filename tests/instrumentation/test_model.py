"""The provider contract: both providers' stream accumulators satisfy StreamState."""

from typing import Any

from otel_llm.instrumentation._model import ResponseInfo, StreamState, Usage
from otel_llm.instrumentation.anthropic import MessageStreamState
from otel_llm.instrumentation.openai import ChatStreamState, ResponsesStreamState


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
