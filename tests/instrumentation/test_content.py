"""Tests for otel_llm.instrumentation._content: provider data to GenAI JSON, and budgets."""

import base64
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from anthropic.types import Message
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from otel_llm.instrumentation._content import (
    _fit,
    anthropic_finish_reason,
    anthropic_input,
    anthropic_output,
    anthropic_system,
    anthropic_tool_definitions,
    fit_json,
    fit_json_structured,
    openai_chat_input,
    openai_chat_output,
    openai_finish_reason,
    openai_responses_input,
    openai_responses_output,
    openai_responses_system,
    openai_tool_definitions,
)
from otel_llm.redaction import Redactor
from tests.test_budget import (
    EMAIL,
    FILLER,
    FINDINGS,
    leaked_fragment,
    recording,
    redactor_text,
    straddling_texts,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "semconv" / "upstream" / "schemas"
INPUT, OUTPUT, SYSTEM, TOOLS = (
    "input-messages",
    "output-messages",
    "system-instructions",
    "tool-definitions",
)
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image bytes").decode()
WEATHER_ARGS = '{"location": "Paris, France", "unit": "celsius"}'


@cache
def _validator(kind: str) -> Validator:
    schema = json.loads((SCHEMAS / f"gen-ai-{kind}.json").read_text(encoding="utf-8"))
    # The schemas declare no $schema today; their pydantic generator emits Draft 2020-12.
    validator_class = validator_for(schema, default=Draft202012Validator)
    validator_class.check_schema(schema)
    return validator_class(schema)


def assert_valid(kind: str, value: Any) -> None:
    """Fail with every schema error if `value` does not match upstream schema `kind`."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator(kind).iter_errors(value)]
    assert not errors, errors


def size(text: str) -> int:
    """UTF-8 size of `text`."""
    return len(text.encode())


def compact(value: Any) -> str:
    """The compact JSON fit_json produces when nothing needs cutting."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def text_part(content: str) -> dict[str, Any]:
    """An upstream text part."""
    return {"type": "text", "content": content}


# --- OpenAI Chat Completions -------------------------------------------------------------------
def test_chat_input_keeps_system_developer_and_names() -> None:
    """System and developer messages stay in the input list with their roles; `name` is kept."""
    messages = [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        {"role": "user", "name": "alice", "content": "What's the capital of France?"},
    ]
    result = openai_chat_input(messages)
    assert result == [
        {"role": "system", "parts": [text_part("You are a concise assistant.")]},
        {"role": "developer", "parts": [text_part("Answer in French.")]},
        {"role": "user", "parts": [text_part("What's the capital of France?")], "name": "alice"},
    ]
    assert_valid(INPUT, result)


def test_chat_tool_call_round_trip() -> None:
    """An assistant tool call and the tool's answer become tool_call and tool_call_response."""
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9Ab3",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": WEATHER_ARGS},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9Ab3", "content": '{"temp_c": 18, "sky": "clear"}'},
        {"role": "assistant", "content": "It is 18 °C and clear in Paris."},
    ]
    result = openai_chat_input(messages)
    assert result[1:3] == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_9Ab3",
                    "name": "get_weather",
                    "arguments": {"location": "Paris, France", "unit": "celsius"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": "call_9Ab3",
                    "response": '{"temp_c": 18, "sky": "clear"}',
                }
            ],
        },
    ]
    assert result[3] == {
        "role": "assistant",
        "parts": [text_part("It is 18 °C and clear in Paris.")],
    }
    assert_valid(INPUT, result)


def test_chat_images_and_audio() -> None:
    """image_url parts become uri parts, data: URLs become base64 blobs, input_audio a blob."""
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Compare these."},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                {
                    "type": "image_url",
                    "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"},
                },
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"file_id": "file-abc123"}},
            ],
        }
    ]
    result = openai_chat_input(messages)
    assert result[0]["parts"] == [
        text_part("Compare these."),
        {"type": "uri", "modality": "image", "uri": "https://example.com/cat.jpg"},
        {"type": "blob", "modality": "image", "content": PNG, "mime_type": "image/png"},
        {"type": "blob", "modality": "audio", "content": "UklGRg==", "mime_type": "audio/wav"},
        {"type": "file", "modality": "document", "file_id": "file-abc123"},
    ]
    assert_valid(INPUT, result)


CHAT_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4.1-2025-04-14",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "annotations": [],
                "tool_calls": [
                    {
                        "id": "call_9Ab3",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": WEATHER_ARGS},
                    },
                    {
                        "id": "call_X7",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"tz": "Europe/Paris"}'},
                    },
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        },
        {
            "index": 1,
            "message": {"role": "assistant", "content": "Let me check.", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        },
        {
            "index": 2,
            "message": {"role": "assistant", "content": None, "refusal": "I can't help with that."},
            "logprobs": None,
            "finish_reason": "content_filter",
        },
    ],
    "usage": {"prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99},
    "service_tier": "default",
    "system_fingerprint": "fp_a1b2c3",
}


def test_chat_output_from_sdk_object() -> None:
    """Each ChatCompletion choice is one output message with parts and a mapped finish reason."""
    completion = ChatCompletion.model_validate(CHAT_COMPLETION)
    result = openai_chat_output(completion.choices)
    assert result == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_9Ab3",
                    "name": "get_weather",
                    "arguments": {"location": "Paris, France", "unit": "celsius"},
                },
                {
                    "type": "tool_call",
                    "id": "call_X7",
                    "name": "get_time",
                    "arguments": {"tz": "Europe/Paris"},
                },
            ],
            "finish_reason": "tool_call",
        },
        {"role": "assistant", "parts": [text_part("Let me check.")], "finish_reason": "stop"},
        {
            "role": "assistant",
            "parts": [{"type": "refusal", "content": "I can't help with that."}],
            "finish_reason": "content_filter",
        },
    ]
    assert_valid(OUTPUT, result)
    assert openai_chat_output(CHAT_COMPLETION["choices"]) == result  # plain dicts read the same


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("content_filter", "content_filter"),
        ("tool_calls", "tool_call"),
        ("function_call", "tool_call"),
        (None, "error"),
        ("something_new", "something_new"),
    ],
)
def test_openai_finish_reason(reason: str | None, expected: str) -> None:
    """OpenAI finish reasons map to upstream values; None is an error, unknown ones pass through."""
    assert openai_finish_reason(reason) == expected


def test_openai_tool_definitions() -> None:
    """Chat (nested) and Responses (flat) function tools, plus built-ins named by their type."""
    parameters = {"type": "object", "properties": {"location": {"type": "string"}}}
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather", "parameters": parameters},
        },
        {"type": "function", "name": "get_time", "parameters": parameters, "strict": True},
        {"type": "web_search"},
        {"type": "custom", "custom": {"name": "sql", "description": "Run SQL"}},
    ]
    result = openai_tool_definitions(tools)
    assert result == [
        {"type": "function", "name": "get_weather", "description": "Weather"},
        {"type": "function", "name": "get_time"},
        {"type": "web_search", "name": "web_search"},
        {"type": "custom", "name": "sql", "description": "Run SQL"},
    ]
    assert_valid(TOOLS, result)


# --- OpenAI Responses --------------------------------------------------------------------------
def test_responses_input_string() -> None:
    """A plain string input is one user message."""
    result = openai_responses_input("Tell me a joke")
    assert result == [{"role": "user", "parts": [text_part("Tell me a joke")]}]
    assert_valid(INPUT, result)


def test_responses_input_items() -> None:
    """Messages, images, function_call and function_call_output items keep their order and ids."""
    items = [
        {"role": "developer", "content": "Be brief."},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is in this image, and the weather?"},
                {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "auto"},
                {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
            ],
        },
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Need the weather tool."}],
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": WEATHER_ARGS,
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
        {"type": "item_reference", "id": "msg_old"},
    ]
    result = openai_responses_input(items)
    assert result == [
        {"role": "developer", "parts": [text_part("Be brief.")]},
        {
            "role": "user",
            "parts": [
                text_part("What is in this image, and the weather?"),
                {"type": "uri", "modality": "image", "uri": "https://example.com/a.png"},
                {"type": "blob", "modality": "image", "content": PNG, "mime_type": "image/png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Need the weather tool."},
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"location": "Paris, France", "unit": "celsius"},
                },
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18C"}],
        },
    ]
    assert_valid(INPUT, result)


def test_responses_system() -> None:
    """Instructions become text parts; a message list is flattened; empty means None."""
    assert openai_responses_system("Be terse.") == [text_part("Be terse.")]
    listed = [{"role": "developer", "content": [{"type": "input_text", "text": "Rule 1"}]}]
    assert openai_responses_system(listed) == [text_part("Rule 1")]
    assert openai_responses_system(None) is None
    assert openai_responses_system("") is None
    assert_valid(SYSTEM, openai_responses_system(listed))


RESPONSE: dict[str, Any] = {
    "id": "resp_67ccd2bed1ec8190b14f964abc054267",
    "object": "response",
    "created_at": 1741476542,
    "status": "completed",
    "model": "o4-mini-2025-04-16",
    "output": [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "The user wants Paris weather."}],
        },
        {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Checking now.", "annotations": []}],
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": WEATHER_ARGS,
            "status": "completed",
        },
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search", "query": "paris weather"},
        },
    ],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather",
            "parameters": {"type": "object", "properties": {}},
            "strict": True,
        },
        {"type": "web_search"},
    ],
    "incomplete_details": None,
}


def test_responses_output_from_sdk_object() -> None:
    """All output items form ONE assistant message; a function call makes it finish as tool_call."""
    response = Response.model_validate(RESPONSE)
    result = openai_responses_output(response)
    assert result == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "The user wants Paris weather."},
                text_part("Checking now."),
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"location": "Paris, France", "unit": "celsius"},
                },
                {"type": "web_search_call", "id": "ws_1"},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert_valid(OUTPUT, result)
    tools = openai_tool_definitions(response.tools)
    assert tools == [
        {"type": "function", "name": "get_weather", "description": "Current weather"},
        {"type": "web_search", "name": "web_search"},
    ]
    assert_valid(TOOLS, tools)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"output": RESPONSE["output"][1:2]}, "stop"),
        ({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}, "length"),
        (
            {"status": "incomplete", "incomplete_details": {"reason": "content_filter"}},
            "content_filter",
        ),
        ({"status": "failed"}, "error"),
    ],
)
def test_responses_output_finish_reason(changes: dict[str, Any], expected: str) -> None:
    """Text-only output stops; max_output_tokens is length; a failed response is an error."""
    response = Response.model_validate({**RESPONSE, **changes})
    assert openai_responses_output(response)[0]["finish_reason"] == expected


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
    result = anthropic_input(messages)
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
    result = anthropic_input(messages)
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
    assert anthropic_system("You are Claude.") == [text_part("You are Claude.")]
    blocks = [{"type": "text", "text": "Rule A", "cache_control": {"type": "ephemeral"}}]
    assert anthropic_system(blocks) == [text_part("Rule A")]
    assert anthropic_system(None) is None
    assert anthropic_system([]) is None
    assert_valid(SYSTEM, anthropic_system(blocks))


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
    result = anthropic_output(message)
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
    assert anthropic_finish_reason(reason) == expected


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
    result = anthropic_tool_definitions(tools)
    assert result == [
        {"type": "function", "name": "get_weather", "description": "Get the current weather"},
        {"type": "web_search_20250305", "name": "web_search"},
    ]
    assert_valid(TOOLS, result)


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
    openai_chat_input,
    openai_responses_input,
    anthropic_input,
]


@pytest.mark.parametrize("convert", INPUT_CONVERTERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", ODD_INPUTS)
def test_odd_input_never_raises(convert: Callable[[Any], Any], value: Any) -> None:
    """Odd input (None fields, wrong types, unknown parts) converts without raising, validly."""
    assert_valid(INPUT, convert(value))


@pytest.mark.parametrize("value", ODD_INPUTS)
def test_odd_output_and_tools_never_raise(value: Any) -> None:
    """Output, system and tool converters also accept odd input and stay schema-valid."""
    assert_valid(OUTPUT, openai_chat_output(value))
    assert_valid(OUTPUT, openai_responses_output({"output": value}))
    assert_valid(OUTPUT, anthropic_output({"content": value}))
    assert_valid(TOOLS, openai_tool_definitions(value))
    assert_valid(TOOLS, anthropic_tool_definitions(value))
    for system in (openai_responses_system(value), anthropic_system(value)):
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
    result = openai_chat_input(messages)
    assert result[0]["parts"] == [{"type": "video_url"}]
    assert result[1]["parts"] == [
        {"type": "tool_call", "id": "c1", "name": "f", "arguments": "{oops"}
    ]
    assert_valid(INPUT, result)


def test_empty_assistant_content_and_none_choices() -> None:
    """Empty or None content gives no parts; a choice without finish_reason is an error."""
    assert openai_chat_input([{"role": "assistant", "content": ""}]) == [
        {"role": "assistant", "parts": []}
    ]
    result = openai_chat_output([{"message": None, "finish_reason": None}])
    assert result == [{"role": "assistant", "parts": [], "finish_reason": "error"}]
    assert anthropic_input([{"role": "user", "content": []}]) == [{"role": "user", "parts": []}]


# --- Budget ------------------------------------------------------------------------------------
def conversation(length: int, text_bytes: int) -> list[dict[str, Any]]:
    """Input messages alternating user and assistant, each with one text part of about that size."""
    roles = ("user", "assistant")
    return [
        {"role": roles[i % 2], "parts": [text_part(f"message {i} " + "x" * text_bytes)]}
        for i in range(length)
    ]


TRUNCATED = "…[truncated "


def test_value_that_fits_is_unchanged_at_the_exact_budget() -> None:
    """A value exactly at the budget is returned as compact JSON; one byte less cuts it."""
    value = conversation(3, 200)
    exact = size(compact(value))
    assert fit_json(value, exact) == compact(value)
    assert fit_json_structured(value, exact) == value
    smaller = fit_json(value, exact - 1)
    assert size(smaller) <= exact - 1
    assert TRUNCATED in smaller


def test_cut_string_keeps_prefix_and_original_size() -> None:
    """A cut string keeps a prefix of the original and ends with the original UTF-8 size."""
    original = "The quick brown fox. " * 500
    value = [{"role": "user", "parts": [text_part(original)]}]
    result = fit_json_structured(value, 1000)
    content = result[0]["parts"][0]["content"]
    marker = f"…[truncated {size(original)} bytes]"
    assert content.endswith(marker)
    assert original.startswith(content.removesuffix(marker))
    assert len(content) > 900  # the budget is used, not just the marker
    assert size(fit_json(value, 1000)) <= 1000
    assert_valid(INPUT, result)


@pytest.mark.parametrize("char", ["é", "€", "😀", '"', "\n", "\x01"])
def test_multibyte_and_escaped_characters_are_never_split(char: str) -> None:
    """Multi-byte and JSON-escaped characters are cut whole, and the result fits every budget."""
    original = "ab" + char * 3000
    value = [{"role": "user", "parts": [text_part(original)]}]
    for budget in range(256, 600, 7):
        text = fit_json(value, budget)
        assert size(text) <= budget
        content = json.loads(text)[0]["parts"][0]["content"]
        prefix = content.removesuffix(f"…[truncated {size(original)} bytes]")
        assert prefix != content
        assert original.startswith(prefix)  # whole characters only: no replacement char


def test_longest_strings_are_cut_first() -> None:
    """Short strings survive while the longest ones absorb the cut."""
    short = "a short system-like instruction that should survive intact, " * 2
    value = [
        {"role": "user", "parts": [text_part(short), text_part("L" * 20_000)]},
        {"role": "assistant", "parts": [text_part("M" * 10_000)]},
    ]
    result = fit_json_structured(value, 4000)
    assert result[0]["parts"][0]["content"] == short
    long_one = result[0]["parts"][1]["content"]
    medium = result[1]["parts"][0]["content"]
    assert long_one.endswith("…[truncated 20000 bytes]")
    assert medium.endswith("…[truncated 10000 bytes]")
    assert abs(size(long_one) - size(medium)) < 8  # one common cap
    assert size(fit_json(value, 4000)) <= 4000


def test_tool_arguments_and_responses_are_cut_too() -> None:
    """Strings inside parsed tool arguments and tool responses are cut like text."""
    value = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "c", "name": "f", "arguments": {"q": "q" * 5000}}
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "c", "response": "r" * 5000}],
        },
    ]
    result = fit_json_structured(value, 1500)
    assert result[0]["parts"][0]["arguments"]["q"].endswith("…[truncated 5000 bytes]")
    assert result[1]["parts"][0]["response"].endswith("…[truncated 5000 bytes]")
    assert result[0]["parts"][0]["name"] == "f"
    assert_valid(INPUT, result)


def test_middle_messages_are_dropped() -> None:
    """When cutting strings is not enough, middle messages give way to a marker message."""
    value = conversation(200, 100)
    result = fit_json_structured(value, 4096)
    assert size(fit_json(value, 4096)) <= 4096
    markers = [m for m in result if m["role"] == "otel_llm"]
    assert len(markers) == 1
    marker_at = result.index(markers[0])
    dropped = markers[0]["parts"][0]["messages_dropped"]
    assert markers[0]["parts"] == [{"type": "truncated", "messages_dropped": dropped}]
    assert len(result) - 1 + dropped == 200
    head = result[:marker_at]
    tail = result[marker_at + 1 :]
    assert head[0]["parts"][0]["content"].startswith("message 0 ")
    assert tail[-1]["parts"][0]["content"].startswith("message 199 ")
    assert abs(len(head) - len(tail)) <= 1
    assert_valid(INPUT, result)


def test_dropping_keeps_what_fits_then_spends_the_rest() -> None:
    """After dropping, kept messages are re-cut from their full text with the room left over."""
    value = conversation(100, 3000)
    text = fit_json(value, 8192)
    assert 8192 - 100 < size(text) <= 8192
    assert_valid(INPUT, json.loads(text))


def test_last_resort_marker() -> None:
    """If even one message cannot fit, the result is a single marker with the original size."""
    value = [{"role": "user", "parts": [text_part("p") for _ in range(500)]}]
    original = size(compact(value))
    assert fit_json_structured(value, 256) == [
        {"role": "otel_llm", "parts": [{"type": "truncated", "original_bytes": original}]}
    ]
    assert size(fit_json(value, 256)) <= 256
    assert_valid(INPUT, fit_json_structured(value, 256))


def test_output_messages_stay_schema_valid_when_shrunk() -> None:
    """Shrunk output messages (dropped choices, last resort) still carry a finish_reason."""
    choices = [
        {"role": "assistant", "parts": [text_part("answer " * 200)], "finish_reason": "stop"}
        for _ in range(40)
    ]
    for budget in (256, 300, 1000, 5000):
        result = fit_json_structured(choices, budget)
        assert size(fit_json(choices, budget)) <= budget
        assert_valid(OUTPUT, result)
    one = [
        {
            "role": "assistant",
            "parts": [text_part("x") for _ in range(300)],
            "finish_reason": "stop",
        }
    ]
    assert fit_json_structured(one, 256)[0]["finish_reason"] == "truncated"
    assert_valid(OUTPUT, fit_json_structured(one, 256))


def test_system_instructions_and_tool_definitions_last_resort_valid() -> None:
    """Lists of parts or tool definitions shrink to a marker that their schemas still accept."""
    system = [text_part("rule") for _ in range(200)]
    tools = [{"type": "function", "name": f"tool_{i}"} for i in range(200)]
    assert_valid(SYSTEM, fit_json_structured(system, 256))
    assert_valid(TOOLS, fit_json_structured(tools, 256))
    assert size(fit_json(tools, 256)) <= 256


def test_realistic_conversation_fits_every_budget_and_stays_valid() -> None:
    """Converted provider data fits each budget from 256 bytes up and stays schema-valid."""
    messages = anthropic_input(
        [
            {"role": "user", "content": "Describe Paris in detail. " * 80},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Long musing… " * 100},
                    {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "ü" * 900}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "Ω" * 2000}],
            },
            {"role": "user", "content": [{"type": "text", "text": "Thanks! " * 50}]},
        ]
    )
    for budget in range(256, 12_000, 331):
        text = fit_json(messages, budget)
        assert size(text) <= budget
        assert json.loads(text) == fit_json_structured(messages, budget)
        assert_valid(INPUT, json.loads(text))


def test_five_megabyte_prompt_fits_sixteen_kib() -> None:
    """A 5 MB prompt with a 16 KiB budget yields at most 16 KiB that keeps the prompt's start."""
    prompt = "Summarise the following log.\n" + "2026-01-01 INFO request served in 12ms\n" * 130_000
    assert size(prompt) > 5_000_000
    messages = openai_chat_input(
        [{"role": "system", "content": "You summarise logs."}, {"role": "user", "content": prompt}]
    )
    text = fit_json(messages, 16 * 1024)
    assert size(text) <= 16 * 1024
    result = json.loads(text)
    assert result[0]["parts"][0]["content"] == "You summarise logs."
    assert result[1]["parts"][0]["content"].startswith("Summarise the following log.\n")
    assert result[1]["parts"][0]["content"].endswith(f"…[truncated {size(prompt)} bytes]")
    assert_valid(INPUT, result)


def test_thousands_of_strings_fit() -> None:
    """Many thousands of strings are cut in one pass and the result fits."""
    value = conversation(5000, 300)
    text = fit_json(value, 16 * 1024)
    assert size(text) <= 16 * 1024
    assert_valid(INPUT, json.loads(text))


def test_non_json_values_are_sanitised() -> None:
    """NaN, objects, tuples, non-string keys and lone surrogates become valid JSON, not errors."""
    value = [
        {
            "role": "user",
            "parts": [
                {
                    "type": "tool_call",
                    "name": "f",
                    "arguments": {1: float("nan"), "o": object(), "t": (1, 2), "s": "bad \ud800"},
                }
            ],
        }
    ]
    text = fit_json(value, 1024)
    args = json.loads(text)[0]["parts"][0]["arguments"]
    assert args["1"] == "nan"
    assert args["t"] == [1, 2]
    assert args["s"] == "bad ?"
    assert args["o"].startswith("<object object")
    assert fit_json("plain string", 256) == '"plain string"'
    assert size(fit_json("é" * 10_000, 256)) <= 256


def test_structures_nested_past_the_depth_limit_become_a_marker() -> None:
    """A 3,000-deep list (a pathological tool result) is cut with a marker, not a RecursionError."""
    deep: list[Any] = []
    node = deep
    for _ in range(3000):
        node.append([])
        node = node[0]
    text = fit_json({"role": "tool", "content": deep}, 16384)
    assert "nested deeper than 64 levels" in text
    json.loads(text)


def test_an_object_whose_str_fails_is_recorded_by_type() -> None:
    """A user object with a raising __str__ is named by its type instead of failing the span."""

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert "<unprintable Hostile>" in fit_json({"content": Hostile()}, 1024)


class _Text(str):
    """A str subclass: the fast path leaves it to the full path."""


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities included
    st.text(),  # lone surrogates included
    st.builds(_Text, st.text(max_size=5)),
)
_keys = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.floats())
_json_like = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(value=_json_like, budget=st.sampled_from([256, 4096, 1 << 20]))
def test_fast_path_gives_the_text_of_the_full_path(value: Any, budget: int) -> None:
    """Plain values skip the cleaning walk; whatever the value, the text is the full path's."""
    assert fit_json(value, budget) == _fit(value, budget)[1]


def test_fast_path_respects_the_depth_limit() -> None:
    """A plain structure nested exactly past the limit still gets the marker, not its contents."""
    for depth in (62, 63, 64, 65):
        value: Any = "leaf"
        for _ in range(depth):
            value = [value]
        assert fit_json(value, 1 << 20) == _fit(value, 1 << 20)[1]
    assert "nested deeper" in fit_json(value, 1 << 20)


# --- Redact before cutting ---------------------------------------------------------------------
def kept_chars(value_for: Callable[[str], Any], total: int, budget: int) -> int:
    """How many characters of a `total`-character filler string a cut to `budget` keeps."""
    fitted = fit_json_structured(value_for(FILLER * total), budget)
    return len(json.dumps(fitted, ensure_ascii=False).split(TRUNCATED)[0].rsplit('"', 1)[1])


def messages_of(text: str) -> Any:
    """One user message holding `text`, as the content converters produce it."""
    return [{"role": "user", "parts": [text_part(text)]}]


def _tool_result(text: str) -> Any:
    return {"rows": [{"note": text, "id": 7}]}


@pytest.mark.parametrize("value_for", [messages_of, _tool_result], ids=["messages", "tool_result"])
@pytest.mark.parametrize(("prefix", "secret"), FINDINGS, ids=["aws_secret", "email", "card"])
def test_json_cut_never_exports_part_of_a_finding(
    value_for: Callable[[str], Any], prefix: str, secret: str
) -> None:
    """At every cut position around a finding in a JSON string, no piece of it is exported."""
    budget, total = 512, 2000
    room = kept_chars(value_for, total, budget)
    redact = redactor_text()
    exporter = Redactor()
    for start, text in straddling_texts(prefix, secret, room, total):
        for fitted in (
            fit_json(value_for(text), budget, redact),
            compact(fit_json_structured(value_for(text), budget, redact)),
        ):
            assert size(fitted) <= budget
            exported, _ = exporter.redact_value("gen_ai.input.messages", fitted)
            assert isinstance(exported, str)
            assert leaked_fragment(exported, secret) is None, (start, exported)


# The AWS secret is left out: its label alone now marks any value after it as a secret.
@pytest.mark.parametrize(("prefix", "secret"), FINDINGS[1:], ids=["email", "card"])
def test_json_cut_without_redaction_would_leak(prefix: str, secret: str) -> None:
    """The same cuts without a redactor leave most of the finding for nothing to catch."""
    budget, total = 512, 2000
    room = kept_chars(messages_of, total, budget)
    exporter = Redactor()
    leaks = []
    for _, text in straddling_texts(prefix, secret, room, total):
        exported, _ = exporter.redact_value("x", fit_json(messages_of(text), budget))
        leaks.append(leaked_fragment(str(exported), secret))
    assert any(leak is not None and len(leak) >= len(secret) - 6 for leak in leaks)


def test_values_that_fit_are_not_redacted_here() -> None:
    """Only a value that must be cut is redacted here; the rest is left to the processor."""
    calls: list[str] = []
    redact = recording(calls)
    value = messages_of(f"write to {EMAIL}")
    assert fit_json(value, 4096, redact) == compact(value)
    assert fit_json_structured(value, 4096, redact) == value
    assert calls == []


def test_each_cut_string_is_redacted_once_even_when_messages_are_dropped() -> None:
    """A string cut, restored and cut again (middle messages dropped) is redacted only once."""
    calls: list[str] = []

    def redact(text: str, start: int, stop: int, margin: int) -> tuple[str, int, int]:
        calls.append(text)
        return text[start:stop].replace(EMAIL, "[REDACTED:email]"), start, stop

    value = conversation(40, 600)
    value[0]["parts"][0]["content"] = EMAIL + "x" * 2000
    text = fit_json(value, 2048, redact)
    assert size(text) <= 2048
    assert EMAIL not in text
    assert len(calls) == len(set(calls))


def test_redaction_that_makes_a_string_fit_leaves_it_uncut() -> None:
    """A string that fits its cap once redacted is kept whole, without a truncation marker."""
    key = "-----BEGIN PRIVATE KEY-----" + "A" * 3000 + "-----END PRIVATE KEY-----"
    value = messages_of("my key: " + key)
    fitted = fit_json_structured(value, 512, redactor_text())
    assert fitted[0]["parts"][0]["content"] == "my key: [REDACTED:secret]"
