"""Tests for otel_llm.instrumentation.bedrock._converse: Converse shapes to upstream GenAI data."""

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_llm.instrumentation.bedrock import _converse as converse
from otel_llm.instrumentation.types import Usage
from otel_llm.payloads.bedrock import Reply, Tokens, ToolUse, converse_stream_events
from tests.instrumentation._schemas import INPUT, OUTPUT, SYSTEM, TOOLS, assert_valid

PNG = b"\x89PNG\r\n\x1a\n fake image bytes"


def test_text_image_document_and_video_blocks_become_parts() -> None:
    """Inline bytes become base64 blobs with a MIME type, S3 sources uris, text sources text."""
    messages = [
        {
            "role": "user",
            "content": [
                {"text": "Compare these."},
                {"image": {"format": "png", "source": {"bytes": PNG}}},
                {
                    "document": {
                        "format": "pdf",
                        "name": "Invoice",
                        "source": {"bytes": b"%PDF-1.7"},
                    }
                },
                {
                    "document": {
                        "format": "txt",
                        "name": "Notes",
                        "source": {"text": "Ship Friday."},
                    }
                },
                {
                    "video": {
                        "format": "mp4",
                        "source": {"s3Location": {"uri": "s3://bucket/clip.mp4"}},
                    }
                },
                {"audio": {"format": "mp3", "source": {"bytes": "QUJD"}}},
            ],
        }
    ]
    result = converse.input_messages(messages)
    assert result == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Compare these."},
                {
                    "type": "blob",
                    "modality": "image",
                    "content": base64.b64encode(PNG).decode(),
                    "mime_type": "image/png",
                },
                {
                    "type": "blob",
                    "modality": "document",
                    "content": base64.b64encode(b"%PDF-1.7").decode(),
                    "mime_type": "application/pdf",
                },
                {"type": "text", "content": "Ship Friday."},
                {
                    "type": "uri",
                    "modality": "video",
                    "uri": "s3://bucket/clip.mp4",
                    "mime_type": "video/mp4",
                },
                {"type": "blob", "modality": "audio", "content": "QUJD", "mime_type": "audio/mpeg"},
            ],
        }
    ]
    assert_valid(INPUT, result)


def test_tool_use_and_results_split_into_assistant_and_tool_messages() -> None:
    """A toolUse block is a tool_call with its input; toolResult moves to a `tool` message."""
    messages = [
        {"role": "user", "content": [{"text": "Where is order A-1042?"}]},
        {
            "role": "assistant",
            "content": [
                {"text": "Let me check."},
                {
                    "toolUse": {
                        "toolUseId": "tooluse_1",
                        "name": "get_order",
                        "input": {"id": "A-1042"},
                    }
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "tooluse_1",
                        "content": [{"json": {"status": "shipped"}}],
                    }
                },
                {
                    "toolResult": {
                        "toolUseId": "tooluse_2",
                        "content": [{"text": "ok"}, {"text": "!"}],
                    }
                },
                {"text": "Thanks."},
            ],
        },
    ]
    result = converse.input_messages(messages)
    assert [m["role"] for m in result] == ["user", "assistant", "tool", "user"]
    assert result[1]["parts"][1] == {
        "type": "tool_call",
        "id": "tooluse_1",
        "name": "get_order",
        "arguments": {"id": "A-1042"},
    }
    assert result[2]["parts"] == [
        {"type": "tool_call_response", "id": "tooluse_1", "response": {"status": "shipped"}},
        {"type": "tool_call_response", "id": "tooluse_2", "response": "ok!"},
    ]
    assert_valid(INPUT, result)


def test_reasoning_guard_citations_and_unknown_blocks() -> None:
    """Reasoning text is a reasoning part, guarded and cited text is text, cache points vanish."""
    content: list[Any] = [
        {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "sig"}}},
        {"reasoningContent": {"redactedContent": b"\x00encrypted"}},
        {"guardContent": {"text": {"text": "Guard this.", "qualifiers": ["guard_content"]}}},
        {
            "citationsContent": {
                "content": [{"text": "Cited "}, {"text": "answer."}],
                "citations": [],
            }
        },
        {"cachePoint": {"type": "default"}},
        {"searchResult": {"source": "kb", "title": "Doc", "content": []}},
        {
            "toolUse": {
                "toolUseId": "srv_1",
                "name": "web_search",
                "input": {"q": "x"},
                "type": "server_tool_use",
            }
        },
        "not a block",
    ]
    parts = converse.input_messages([{"role": "assistant", "content": content}])[0]["parts"]
    assert parts[:4] == [
        {"type": "reasoning", "content": "Think."},
        {"type": "redacted_reasoning"},
        {"type": "text", "content": "Guard this."},
        {"type": "text", "content": "Cited answer."},
    ]
    assert parts[4] == {"type": "searchResult"}
    assert parts[5]["type"] == "server_tool_call"
    assert parts[5]["server_tool_call"] == {"type": "web_search", "input": {"q": "x"}}
    assert parts[6] == {"type": "unknown"}
    assert_valid(INPUT, [{"role": "assistant", "parts": parts}])


def test_system_blocks_and_tool_configs() -> None:
    """System text (and guarded text) are parts; tool specs are functions, system tools named."""
    system = converse.system_instructions(
        [
            {"text": "Be brief."},
            {"cachePoint": {"type": "default"}},
            {"guardContent": {"text": {"text": "No PII."}}},
        ]
    )
    assert system == [
        {"type": "text", "content": "Be brief."},
        {"type": "text", "content": "No PII."},
    ]
    assert_valid(SYSTEM, system)
    tools = converse.tool_definitions(
        {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_order",
                        "description": "Find an order.",
                        "inputSchema": {"json": {}},
                    }
                },
                {"systemTool": {"name": "nova_grounding"}},
                {"cachePoint": {"type": "default"}},
            ]
        }
    )
    assert tools == [
        {"type": "function", "name": "get_order", "description": "Find an order."},
        {"type": "system_tool", "name": "nova_grounding"},
    ]
    assert_valid(TOOLS, tools)
    assert converse.system_instructions(None) is None
    assert converse.tool_definitions({"tools": []}) is None


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_call"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_tool_use", "malformed_tool_use"),
        (None, "error"),
        (42, "error"),
    ],
)
def test_finish_reasons_map_to_upstream(reason: object, expected: str) -> None:
    """Stop reasons map to upstream values; unknown ones pass, a missing one means failure."""
    assert converse.finish_reason(reason) == expected


def test_output_message_validates() -> None:
    """A Converse output.message becomes one output message with its finish reason."""
    message = {
        "role": "assistant",
        "content": [
            {"text": "Shipped."},
            {"toolUse": {"toolUseId": "t", "name": "n", "input": {}}},
        ],
    }
    result = converse.output_messages(message, "tool_use")
    assert result[0]["finish_reason"] == "tool_call"
    assert_valid(OUTPUT, result)


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ({"inputTokens": 25, "outputTokens": 12, "totalTokens": 37}, Usage(25, 12)),
        # Recorded Nova prompt caching: input 4 + cache read 2701 + output 10 = total 2715.
        (
            {
                "inputTokens": 4,
                "outputTokens": 10,
                "totalTokens": 2715,
                "cacheReadInputTokens": 2701,
                "cacheWriteInputTokens": 0,
            },
            Usage(2705, 10, 2701, 0),
        ),
        # A total of input + output says the input count already held the cached tokens.
        (
            {
                "inputTokens": 2705,
                "outputTokens": 10,
                "totalTokens": 2715,
                "cacheReadInputTokens": 2701,
            },
            Usage(2705, 10, 2701),
        ),
        ({"inputTokens": 5.0, "outputTokens": 10.0}, Usage(5, 10)),
        ({"inputTokenCount": 5}, None),
        ({"inputTokens": "5", "outputTokens": -1}, None),
        ("usage", None),
    ],
)
def test_usage_counts_cached_tokens_into_the_input(report: object, expected: Usage | None) -> None:
    """Upstream's input count includes cache reads and writes, which Bedrock reports apart."""
    assert converse.usage(report) == expected


def _events(reply: Reply) -> list[dict[str, Any]]:
    return converse_stream_events(reply)


def test_event_state_rebuilds_text_reasoning_and_tool_calls() -> None:
    """Streamed deltas accumulate to the same output message the non-stream reply gives."""
    reply = Reply(
        reasoning="Check it.",
        tool_uses=[ToolUse()],
        stop_reason="tool_use",
        tokens=Tokens(cache_read=7),
    )
    state = converse.EventState(capture=True)
    for event in _events(reply):
        state.on_chunk(event)
    assert state.stop_reason == "tool_use"
    assert converse.usage(state.usage) == Usage(32, 12, 7, 0)
    output = state.output()
    assert output[0]["parts"] == [
        {"type": "reasoning", "content": "Check it."},
        {"type": "text", "content": reply.text},
        {
            "type": "tool_call",
            "id": ToolUse().id,
            "name": ToolUse().name,
            "arguments": ToolUse().input,
        },
    ]
    assert output[0]["finish_reason"] == "tool_call"
    assert_valid(OUTPUT, output)


def test_event_state_without_capture_reads_only_stop_and_usage() -> None:
    """Without content capture no block is kept, only the stop reason and usage."""
    state = converse.EventState(capture=False)
    for event in _events(Reply()):
        state.on_chunk(event)
    assert state.stop_reason == "end_turn"
    assert state.output()[0]["parts"] == []


def test_event_state_survives_cut_and_malformed_events() -> None:
    """A stream cut inside tool arguments keeps the raw text; odd events are skipped."""
    state = converse.EventState(capture=True)
    for event in [
        "not an event",
        {"contentBlockStart": {"contentBlockIndex": "0", "start": {"toolUse": {"name": "x"}}}},
        {
            "contentBlockStart": {
                "contentBlockIndex": 0,
                "start": {"toolUse": {"toolUseId": "t", "name": "x"}},
            }
        },
        {
            "contentBlockDelta": {
                "contentBlockIndex": 0,
                "delta": {"toolUse": {"input": '{"order_id": "A-'}},
            }
        },
        {"contentBlockDelta": {"contentBlockIndex": True, "delta": {"text": "dropped"}}},
    ]:
        state.on_chunk(event)
    output = state.output()
    assert output[0]["parts"] == [
        {"type": "tool_call", "id": "t", "name": "x", "arguments": '{"order_id": "A-'}
    ]
    assert output[0]["finish_reason"] == "error"
    assert_valid(OUTPUT, output)


def test_nova_pieces_in_separate_blocks_join_into_one_text_part() -> None:
    """Nova streams each text piece as its own block; adjacent text blocks make one part."""
    state = converse.EventState(capture=True)
    for index, piece in enumerate(["Your", " order", " ships."]):
        state.on_chunk(
            {"contentBlockDelta": {"delta": {"text": piece}, "contentBlockIndex": index}}
        )
        state.on_chunk({"contentBlockStop": {"contentBlockIndex": index}})
    assert state.output()[0]["parts"] == [{"type": "text", "content": "Your order ships."}]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_BLOCK_KEYS = st.sampled_from(
    [
        "text",
        "image",
        "document",
        "video",
        "audio",
        "toolUse",
        "toolResult",
        "reasoningContent",
        "guardContent",
        "citationsContent",
        "cachePoint",
        "other",
    ]
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["role", "content"]),
            st.lists(st.dictionaries(_BLOCK_KEYS, _JSON, max_size=2), max_size=4) | _JSON,
        ),
        max_size=4,
    )
)
def test_hostile_messages_never_raise(messages: list[dict[str, Any]]) -> None:
    """Any JSON-shaped input converts without raising and serialises as JSON."""
    json.dumps(converse.input_messages(messages), default=str)
    converse.system_instructions(messages)
    converse.tool_definitions({"tools": messages})
    state = converse.EventState(capture=True)
    for message in messages:
        state.on_chunk(message)
    state.output()
