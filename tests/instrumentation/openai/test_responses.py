"""Responses API: request parameters, the Response's facts, and its stream's lifecycle events."""

from __future__ import annotations

from openai.types.responses import Response

from otel_llm.instrumentation.openai._responses import (
    ResponsesStreamState,
    responses_request,
    responses_response,
)
from tests.instrumentation import _fakes as fakes


def test_request_parameters_become_attributes() -> None:
    """Output budget, reasoning effort, previous response, JSON output and conversation id."""
    info = responses_request(
        None,
        (),
        {
            "model": "gpt-4o",
            "max_output_tokens": 300,
            "reasoning": {"effort": "low"},
            "previous_response_id": "resp_1",
            "text": {"format": {"type": "json_schema"}},
            "conversation": {"id": "conv_9"},
        },
    )
    assert info.model == "gpt-4o"
    assert info.attributes == {
        "openai.api.type": "responses",
        "gen_ai.request.max_tokens": 300,
        "gen_ai.request.reasoning.level": "low",
        "gen_ai.request.previous_response.id": "resp_1",
        "gen_ai.output.type": "json",
        "gen_ai.conversation.id": "conv_9",
    }


def test_response_facts_and_a_failed_status() -> None:
    """Usage with cached and reasoning tokens; a failed Response finishes with `error`."""
    info = responses_response(fakes.responses_body(), False)  # as a raw response's JSON
    assert info.response_id == "resp_67ccd2bed1ec8190"
    assert info.finish_reasons == ("stop",)
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.cache_read_tokens) == (30, 10)
    failed = responses_response(fakes.responses_body("failed"), False)
    assert failed.finish_reasons == ("error",)


def test_stream_state_keeps_the_last_response_and_the_first_ids() -> None:
    """The final event's Response wins; id and model come from the first event that had them."""
    state = ResponsesStreamState(capture=False)
    assert state.result().usage is None
    created = Response.model_construct(**{**fakes.responses_body("in_progress"), "usage": None})
    final = Response.model_construct(**{**fakes.responses_body(), "id": "", "model": ""})

    class Event:
        def __init__(self, response: Response) -> None:
            self.response = response

    state.on_chunk(Event(created))
    state.on_chunk(Event(final))
    info = state.result()
    assert (info.response_id, info.model) == ("resp_67ccd2bed1ec8190", "gpt-4o-2024-08-06")
