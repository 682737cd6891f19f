"""generate_content_stream chunks add up to the whole response's facts (google_genai._stream)."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import types

from otel_llm.instrumentation.google_genai._stream import GenerateContentStreamState
from otel_llm.instrumentation.types import ResponseInfo, Usage
from otel_llm.payloads import gemini as g
from tests.instrumentation._schemas import OUTPUT, assert_valid
from tests.instrumentation.google_genai._fakes import stream

BOTH = pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])
PIECES = ["Your order ", "ships ", "today."]


def accumulate(chunks: list[Any], capture: bool = True) -> ResponseInfo:
    """The ResponseInfo a stream state builds from `chunks`."""
    state = GenerateContentStreamState(capture)
    for chunk in chunks:
        state.on_chunk(chunk)
    return state.result()


@BOTH
def test_stream_state_of_a_text_stream(vertex: bool) -> None:
    """The streamed answer, its last usage, id, model and finish reason, text pieces joined."""
    info = accumulate(stream(g.chunks(pieces=PIECES, vertex=vertex), vertex=vertex))
    assert (info.response_id, info.model, info.finish_reasons) == (
        g.RESPONSE_ID,
        g.MODEL,
        ("stop",),
    )
    assert info.usage == Usage(input_tokens=12, output_tokens=5)
    assert info.output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": g.TEXT}],
            "finish_reason": "stop",
        }
    ]
    chunks = stream(g.chunks(pieces=PIECES, vertex=vertex), vertex=vertex)
    assert accumulate(chunks, capture=False).output is None


def test_stream_cut_short_keeps_the_running_usage() -> None:
    """Abandoned after two Gemini API chunks: the running counts so far, and no finish yet."""
    info = accumulate(stream(g.chunks(pieces=PIECES))[:2])
    assert info.usage is not None
    assert info.usage.input_tokens == 12
    assert 0 < (info.usage.output_tokens or 0) < 5
    assert info.finish_reasons == ("error",)
    vertex = accumulate(stream(g.chunks(pieces=PIECES, vertex=True), vertex=True)[:2])
    assert vertex.usage is None  # Vertex only counts in the last chunk


def test_stream_thoughts_and_answer_stay_separate_parts() -> None:
    """Streamed thoughts join into one reasoning part, the answer into one text part."""
    final = g.thinking_response()
    final["candidates"][0]["content"]["parts"][:1] = [
        g.text_part("First I check. ", thought=True),
        g.text_part("Then I answer.", thought=True),
    ]
    info = accumulate(stream(g.chunks(final)))
    assert info.output is not None
    parts = info.output[0]["parts"]
    assert parts == [
        {"type": "reasoning", "content": "First I check. Then I answer."},
        {"type": "text", "content": g.TEXT},
    ]
    assert info.usage == Usage(input_tokens=34, output_tokens=17 + 759, reasoning_tokens=759)
    assert_valid(OUTPUT, info.output)


@BOTH
def test_stream_function_call_and_safety_block(vertex: bool) -> None:
    """A streamed function call finishes as tool_call; a blocked stream as content_filter."""
    final = g.function_call_response(text="Let me look.", vertex=vertex)
    calls = accumulate(stream(g.chunks(final, vertex=vertex), vertex=vertex))
    assert calls.finish_reasons == ("tool_call",)
    assert calls.output is not None
    assert [p["type"] for p in calls.output[0]["parts"]] == ["text", "tool_call"]
    blocked = accumulate(stream(g.safety_blocked_stream(vertex=vertex), vertex=vertex))
    assert blocked.finish_reasons == ("content_filter",)
    assert blocked.usage == Usage(input_tokens=14, output_tokens=5)
    for info in (calls, blocked):
        assert_valid(OUTPUT, info.output)


def test_a_blocked_prompt_streams_as_content_filter() -> None:
    """A stream whose only chunk blocks the prompt finishes as content_filter, no output."""
    info = accumulate(stream(g.chunks(g.prompt_blocked_response())))
    assert info.finish_reasons == ("content_filter",)
    assert info.output == []
    assert info.usage == Usage(input_tokens=9, output_tokens=0)


def test_streamed_images_are_referred_to_not_kept() -> None:
    """An image streamed by an image model is recorded by size; its bytes are not accumulated."""
    info = accumulate(stream(g.chunks(g.image_response())))
    assert info.output is not None
    assert info.output[0]["parts"][-1]["type"] == "inline_data"
    assert g.PNG_BASE64 not in repr(info.output)


def test_stream_state_survives_hostile_chunks() -> None:
    """None, strings and malformed dicts are skipped; a prompt block still shows."""
    chunks: list[Any] = [
        None,
        "data",
        {"candidates": [{"index": "0", "content": {"parts": [{"text": 3}]}}]},
        {"usageMetadata": {"promptTokenCount": -5}, "candidates": "x", "responseId": 7},
        {"promptFeedback": {"blockReason": "SAFETY"}},
    ]
    info = accumulate(chunks)
    assert (info.usage, info.response_id) == (None, None)
    assert info.finish_reasons == ("error",)  # the malformed candidate never finished
    assert accumulate(chunks[-1:]).finish_reasons == ("content_filter",)
    assert accumulate([]).finish_reasons == ()


def test_stream_candidates_are_kept_apart_by_index() -> None:
    """With candidate_count=2, each candidate's pieces, finish and calls stay its own."""
    first = g.response(
        [
            g.candidate([g.text_part("A")], None),
            g.candidate([g.text_part("B")], None, index=1),
        ]
    )
    last = g.response(
        [
            g.candidate([g.text_part("a")], "STOP"),
            g.candidate([g.function_call()], "STOP", index=1),
        ]
    )
    info = accumulate([types.GenerateContentResponse.model_validate(c) for c in (first, last)])
    assert info.finish_reasons == ("stop", "tool_call")
    assert info.output is not None
    assert info.output[0]["parts"] == [{"type": "text", "content": "Aa"}]
    assert [p["type"] for p in info.output[1]["parts"]] == ["text", "tool_call"]
