"""Anthropic Messages content in the upstream shapes: requests, replies and tools."""

from typing import Any

import pytest
from anthropic.types import Message

from otel_llm.instrumentation.anthropic._convert import (
    finish_reason,
    input_messages,
    output_messages,
    system_instructions,
    tool_definitions,
)
from tests.instrumentation._schemas import (
    INPUT,
    OUTPUT,
    PNG,
    SYSTEM,
    TOOLS,
    assert_valid,
    text_part,
)


# --- Anthropic ---------------------------------------------------------------------------------
def test_anthropic_input_tool_use_result_and_thinking() -> None:
    """tool_use is a tool_call, tool_result moves to a tool message, thinking is reasoning."""
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What's in this photo, and the weather there?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
                {"type": "image", "source": {"type": "url", "url": "https://example.com/b.jpg"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Looks like Paris.", "signature": "EqQBCkYIBxgC"},
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "18C, clear"},
                {"type": "text", "text": "Also, should I bring a coat?"},
            ],
        },
    ]
    result = input_messages(messages)
    assert result == [
        {
            "role": "user",
            "parts": [
                text_part("What's in this photo, and the weather there?"),
                {"type": "blob", "modality": "image", "content": PNG, "mime_type": "image/png"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/b.jpg"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Looks like Paris."},
                text_part("Let me check."),
                {
                    "type": "tool_call",
                    "id": "toolu_01A",
                    "name": "get_weather",
                    "arguments": {"location": "Paris"},
                },
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "toolu_01A", "response": "18C, clear"}],
        },
        {"role": "user", "parts": [text_part("Also, should I bring a coat?")]},
    ]
    assert_valid(INPUT, result)


def test_anthropic_tool_result_with_blocks() -> None:
    """A tool_result of text blocks is joined; one with an image keeps its parts."""
    messages = [
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [
                        {"type": "text", "text": "part 1, "},
                        {"type": "text", "text": "2"},
                    ],
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "is_error": True,
                    "content": [
                        {"type": "text", "text": "chart:"},
                        {"type": "image", "source": {"type": "file", "file_id": "file_011"}},
                    ],
                },
            ],
        }
    ]
    result = input_messages(messages)
    assert result == [
        {
            "role": "tool",
            "parts": [
                {"type": "tool_call_response", "id": "toolu_1", "response": "part 1, 2"},
                {
                    "type": "tool_call_response",
                    "id": "toolu_2",
                    "response": [
                        text_part("chart:"),
                        {"type": "file", "modality": "image", "file_id": "file_011"},
                    ],
                },
            ],
        }
    ]
    assert_valid(INPUT, result)


def test_anthropic_system() -> None:
    """A system string or text blocks become text parts; absent or empty is None."""
    assert system_instructions("You are Claude.") == [text_part("You are Claude.")]
    blocks = [{"type": "text", "text": "Rule A", "cache_control": {"type": "ephemeral"}}]
    assert system_instructions(blocks) == [text_part("Rule A")]
    assert system_instructions(None) is None
    assert system_instructions([]) is None
    assert_valid(SYSTEM, system_instructions(blocks))


ANTHROPIC_MESSAGE: dict[str, Any] = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "thinking", "thinking": "User wants weather.", "signature": "EqQBCkYIBxgC"},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
        {"type": "text", "text": "I'll look that up."},
        {
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "get_weather",
            "input": {"location": "San Francisco, CA"},
        },
        {
            "type": "server_tool_use",
            "id": "srvtoolu_01",
            "name": "web_search",
            "input": {"query": "sf weather"},
        },
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 472, "output_tokens": 91},
}


def test_anthropic_output_from_sdk_object() -> None:
    """An Anthropic Message is one assistant message; tool_use stop reason maps to tool_call."""
    message = Message.model_validate(ANTHROPIC_MESSAGE)
    result = output_messages(message)
    assert result == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "User wants weather."},
                {"type": "redacted_thinking"},
                text_part("I'll look that up."),
                {
                    "type": "tool_call",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "arguments": {"location": "San Francisco, CA"},
                },
                {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search"},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert_valid(OUTPUT, result)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_call"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause_turn"),
        (None, "error"),
    ],
)
def test_anthropic_finish_reason(reason: str | None, expected: str) -> None:
    """Anthropic stop reasons map to upstream values; pause_turn passes through; None is error."""
    assert finish_reason(reason) == expected


def test_anthropic_tool_definitions() -> None:
    """Custom tools are functions (no input_schema); server tools are generic, named by name."""
    tools = [
        {
            "name": "get_weather",
            "description": "Get the current weather",
            "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
        },
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ]
    result = tool_definitions(tools)
    assert result == [
        {"type": "function", "name": "get_weather", "description": "Get the current weather"},
        {"type": "web_search_20250305", "name": "web_search"},
    ]
    assert_valid(TOOLS, result)
