"""Message parts: the builders, and every provider's converter on odd input stays valid."""

from collections.abc import Callable
from typing import Any

import pytest

from otel_llm.instrumentation.anthropic import _convert as anthropic
from otel_llm.instrumentation.openai import _convert as openai
from tests.instrumentation._schemas import INPUT, OUTPUT, SYSTEM, TOOLS, assert_valid

# --- Odd input ---------------------------------------------------------------------------------
ODD_INPUTS: list[Any] = [
    None,
    42,
    "",
    [],
    [None, 7, "text"],
    [{"role": None, "content": None}],
    [{"role": "user", "content": 5}],
    [{"role": "user", "content": [None, 3, {"type": None}, {"type": "mystery", "x": 1}]}],
    [{"role": "assistant", "tool_calls": [None, {"function": None}, {"type": "custom"}]}],
    [{"role": "tool", "content": None}],
    [{"type": "function_call", "arguments": None}, {"type": "function_call_output"}],
    [{"role": "user", "content": [{"type": "image_url", "image_url": None}]}],
    [{"role": "user", "content": [{"type": "image", "source": None}, {"type": "tool_result"}]}],
]
INPUT_CONVERTERS: list[Callable[[Any], Any]] = [
    openai.chat_input,
    openai.responses_input,
    anthropic.input_messages,
]


@pytest.mark.parametrize("convert", INPUT_CONVERTERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", ODD_INPUTS)
def test_odd_input_never_raises(convert: Callable[[Any], Any], value: Any) -> None:
    """Odd input (None fields, wrong types, unknown parts) converts without raising, validly."""
    assert_valid(INPUT, convert(value))


@pytest.mark.parametrize("value", ODD_INPUTS)
def test_odd_output_and_tools_never_raise(value: Any) -> None:
    """Output, system and tool converters also accept odd input and stay schema-valid."""
    assert_valid(OUTPUT, openai.chat_output(value))
    assert_valid(OUTPUT, openai.responses_output({"output": value}))
    assert_valid(OUTPUT, anthropic.output_messages({"content": value}))
    assert_valid(TOOLS, openai.tool_definitions(value))
    assert_valid(TOOLS, anthropic.tool_definitions(value))
    for system in (openai.responses_system(value), anthropic.system_instructions(value)):
        if system is not None:
            assert_valid(SYSTEM, system)


def test_unknown_parts_are_generic_and_bad_arguments_kept() -> None:
    """Unknown part types keep their type; non-JSON tool arguments stay the original string."""
    messages = [
        {"role": "user", "content": [{"type": "video_url", "video_url": {"url": "x"}}]},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
            ],
        },
    ]
    result = openai.chat_input(messages)
    assert result[0]["parts"] == [{"type": "video_url"}]
    assert result[1]["parts"] == [
        {"type": "tool_call", "id": "c1", "name": "f", "arguments": "{oops"}
    ]
    assert_valid(INPUT, result)


def test_empty_assistant_content_and_none_choices() -> None:
    """Empty or None content gives no parts; a choice without finish_reason is an error."""
    assert openai.chat_input([{"role": "assistant", "content": ""}]) == [
        {"role": "assistant", "parts": []}
    ]
    result = openai.chat_output([{"message": None, "finish_reason": None}])
    assert result == [{"role": "assistant", "parts": [], "finish_reason": "error"}]
    assert anthropic.input_messages([{"role": "user", "content": []}]) == [
        {"role": "user", "parts": []}
    ]
