"""OpenAI content in the upstream shapes: Chat Completions and Responses, requests and replies."""

from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from otel_llm.instrumentation.openai._convert import (
    chat_input,
    chat_output,
    finish_reason,
    responses_input,
    responses_output,
    responses_system,
    tool_definitions,
)
from tests.instrumentation._schemas import (
    INPUT,
    OUTPUT,
    PNG,
    SYSTEM,
    TOOLS,
    WEATHER_ARGS,
    assert_valid,
    text_part,
)


# --- OpenAI Chat Completions -------------------------------------------------------------------
def test_chat_input_keeps_system_developer_and_names() -> None:
    """System and developer messages stay in the input list with their roles; `name` is kept."""
    messages = [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        {"role": "user", "name": "alice", "content": "What's the capital of France?"},
    ]
    result = chat_input(messages)
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
    result = chat_input(messages)
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
    result = chat_input(messages)
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
    result = chat_output(completion.choices)
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
    assert chat_output(CHAT_COMPLETION["choices"]) == result  # plain dicts read the same


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
    assert finish_reason(reason) == expected


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
    result = tool_definitions(tools)
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
    result = responses_input("Tell me a joke")
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
    result = responses_input(items)
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
    assert responses_system("Be terse.") == [text_part("Be terse.")]
    listed = [{"role": "developer", "content": [{"type": "input_text", "text": "Rule 1"}]}]
    assert responses_system(listed) == [text_part("Rule 1")]
    assert responses_system(None) is None
    assert responses_system("") is None
    assert_valid(SYSTEM, responses_system(listed))


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
    result = responses_output(response)
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
    tools = tool_definitions(response.tools)
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
    assert responses_output(response)[0]["finish_reason"] == expected
