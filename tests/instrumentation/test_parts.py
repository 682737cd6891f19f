"""Message parts: the builders, and every provider's converter on odd input stays valid."""

from collections.abc import Callable
from typing import Any

import pytest

from otel_llm.instrumentation import parts
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


# --- the builders ------------------------------------------------------------------------------
def test_builders_give_schema_valid_parts() -> None:
    """Every builder's part, in a message, validates against the upstream input schema."""
    built = [
        parts.text("hi"),
        parts.blob("image", b"\x89PNG", "image/png"),
        parts.uri("https://example.com/cat.png", "image"),
        parts.file("file-123", "document"),
        parts.tool_call("c1", "lookup", '{"id": 7}'),
        parts.tool_call_response("c1", {"plan": "gold"}),
        parts.reasoning("thinking..."),
        parts.generic("server_tool_use", id="s1", name="web_search"),
    ]
    assert_valid(INPUT, [{"role": "user", "parts": built}])


def test_blob_encodes_bytes_and_keeps_base64_text() -> None:
    """Bytes become base64 text; text is taken as already encoded; a bad mime type is left out."""
    assert parts.blob("audio", b"\x00\x01")["content"] == "AAE="
    assert parts.blob("audio", "AAE=", mime_type=5) == {
        "type": "blob",
        "modality": "audio",
        "content": "AAE=",
    }


def test_a_base64_data_url_is_a_blob_and_a_missing_url_a_generic_part() -> None:
    """`data:` URLs carry the data itself (a blob); no URL at all keeps the provider's kind."""
    assert parts.uri("data:image/png;base64,iVBO", "image") == {
        "type": "blob",
        "modality": "image",
        "content": "iVBO",
        "mime_type": "image/png",
    }
    assert parts.uri(None, "image", "image_url") == {"type": "image_url"}
    assert parts.uri(None, "image") == {"type": "unknown"}


def test_tool_call_arguments_are_parsed_only_when_json() -> None:
    """JSON arguments become data; other strings and non-strings are kept as given."""
    assert parts.tool_call("c", "f", '{"a": 1}')["arguments"] == {"a": 1}
    assert parts.tool_call("c", "f", "{oops")["arguments"] == "{oops"
    assert parts.tool_call("c", "f", '{"a": 1}', parse=False)["arguments"] == '{"a": 1}'
    assert parts.tool_call(7, None, None) == {
        "type": "tool_call",
        "id": None,
        "name": "",
        "arguments": None,
    }


def test_append_joins_consecutive_parts_of_one_role() -> None:
    """Parts of the same role in a row form one message; a new role starts another."""
    messages: list[Any] = []
    parts.append(messages, "assistant", parts.text("a"))
    parts.append(messages, "assistant", parts.text("b"))
    parts.append(messages, "tool", parts.tool_call_response("c", "ok"))
    assert [(m["role"], len(m["parts"])) for m in messages] == [("assistant", 2), ("tool", 1)]


def test_finish_reason_maps_known_names_and_passes_others() -> None:
    """Known reasons are renamed, unknown ones pass through, a missing one is an error."""
    names = {"end_turn": "stop"}
    assert parts.finish_reason("end_turn", names) == "stop"
    assert parts.finish_reason("pause_turn", names) == "pause_turn"
    assert parts.finish_reason(None, names) == "error"


def test_tool_definition_names_a_nameless_tool_by_its_kind() -> None:
    """A built-in tool without a name is named by its type; a description only if a string."""
    assert parts.tool_definition("web_search", None, 3) == {
        "type": "web_search",
        "name": "web_search",
    }


def test_readers_never_consume_or_raise() -> None:
    """sequence() ignores iterators (the user's request stays intact), string() non-strings."""
    consumed = iter([1, 2])
    assert parts.sequence(consumed) == ()
    assert list(consumed) == [1, 2]
    assert (parts.string(5), parts.optional_string(5), parts.optional_string("x")) == (
        "",
        None,
        "x",
    )
