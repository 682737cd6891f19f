"""google-genai contents, parts and candidates in the upstream shapes (google_genai._convert)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from google.genai import types

from otel_llm.instrumentation.google_genai._convert import (
    field,
    finish_reason,
    input_messages,
    output_messages,
    system_instructions,
    to_part,
    tool_definitions,
)
from otel_llm.payloads import gemini as g
from tests.instrumentation._schemas import INPUT, OUTPUT, SYSTEM, TOOLS, assert_valid

PNG = base64.b64decode(g.PNG_BASE64)
UPSTREAM_FINISH = {"stop", "length", "content_filter", "tool_call", "error"}


def text(content: str) -> dict[str, Any]:
    """An upstream text part."""
    return {"type": "text", "content": content}


# --- Reading -------------------------------------------------------------------------------------
def test_field_reads_sdk_objects_and_dicts_in_both_cases() -> None:
    """SDK models by attribute; user dicts by snake_case or camelCase key, as the SDK accepts."""
    assert field(types.GenerateContentConfig(max_output_tokens=5), "max_output_tokens") == 5
    assert field({"max_output_tokens": 5}, "max_output_tokens") == 5
    assert field({"maxOutputTokens": 5}, "max_output_tokens") == 5
    assert field(None, "text") is None
    assert field("a string", "text") is None


# --- Input messages ------------------------------------------------------------------------------
def test_a_string_is_one_user_message() -> None:
    """`contents="..."` is a single user message with one text part."""
    result = input_messages("Where is my order A-1042?")
    assert result == [{"role": "user", "parts": [text("Where is my order A-1042?")]}]
    assert_valid(INPUT, result)


def test_loose_parts_group_into_turns_like_the_sdk() -> None:
    """Consecutive bare parts form one user turn; function calls among them form a model turn."""
    call = types.Part.from_function_call(name="get_order_status", args={"order_id": "A-1042"})
    contents: list[Any] = ["Where is", types.Part.from_text(text="my order?"), call, "Thanks"]
    result = input_messages(contents)
    assert [(m["role"], len(m["parts"])) for m in result] == [
        ("user", 2),
        ("assistant", 1),
        ("user", 1),
    ]
    assert_valid(INPUT, result)


def test_function_call_round_trip_puts_the_result_in_a_tool_message() -> None:
    """A model function call is a tool_call; the user's function response a tool message."""
    contents = [
        types.Content(role="user", parts=[types.Part.from_text(text="Where is A-1042?")]),
        types.Content(
            role="model",
            parts=[
                types.Part(
                    function_call=types.FunctionCall(
                        id="fc_1", name="get_order_status", args={"order_id": "A-1042"}
                    )
                )
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part(
                    function_response=types.FunctionResponse(
                        id="fc_1", name="get_order_status", response={"status": "shipped"}
                    )
                ),
                types.Part.from_text(text="And when does it arrive?"),
            ],
        ),
    ]
    result = input_messages(contents)
    assert result == [
        {"role": "user", "parts": [text("Where is A-1042?")]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "fc_1",
                    "name": "get_order_status",
                    "arguments": {"order_id": "A-1042"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [
                {"type": "tool_call_response", "id": "fc_1", "response": {"status": "shipped"}}
            ],
        },
        {"role": "user", "parts": [text("And when does it arrive?")]},
    ]
    assert_valid(INPUT, result)


def test_inline_data_is_referred_to_never_recorded_and_file_data_is_a_uri() -> None:
    """Inline bytes become a reference (MIME type, modality, size), never the bytes; files uris."""
    contents = [
        types.Part.from_bytes(data=PNG, mime_type="image/png"),
        types.Part.from_uri(file_uri="gs://support-docs/returns.pdf", mime_type="application/pdf"),
        types.Part.from_bytes(data=b"RIFF....WAVE", mime_type="audio/wav"),
        "What do these say?",
    ]
    result = input_messages(contents)
    assert result[0]["parts"][:3] == [
        {"type": "inline_data", "modality": "image", "mime_type": "image/png", "size": len(PNG)},
        {
            "type": "uri",
            "modality": "document",
            "uri": "gs://support-docs/returns.pdf",
            "mime_type": "application/pdf",
        },
        {"type": "inline_data", "modality": "audio", "mime_type": "audio/wav", "size": 12},
    ]
    assert g.PNG_BASE64 not in str(result)
    assert_valid(INPUT, result)


def test_dict_contents_in_camel_case_convert_like_sdk_objects() -> None:
    """Raw dict contents (camelCase, base64 strings) give the same parts as SDK objects."""
    contents = [
        {
            "role": "user",
            "parts": [{"inlineData": {"mimeType": "image/png", "data": g.PNG_BASE64}}],
        },
        {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"q": "A-1042"}}}]},
    ]
    result = input_messages(contents)
    assert result[0]["parts"][0] == to_part(types.Part.from_bytes(data=PNG, mime_type="image/png"))
    assert result[1] == {
        "role": "assistant",
        "parts": [
            {"type": "tool_call", "id": None, "name": "lookup", "arguments": {"q": "A-1042"}}
        ],
    }
    assert_valid(INPUT, result)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 100])
def test_inline_data_size_of_base64_text_is_the_decoded_size(size: int) -> None:
    """Base64 text (a user dict) counts the bytes it decodes to, padding or not."""
    data = base64.b64encode(bytes(size)).decode()
    assert to_part({"inline_data": {"data": data}}) == {
        "type": "inline_data",
        "modality": "document",
        "size": size,
    }
    assert to_part({"inline_data": {"data": memoryview(bytes(size))}})["size"] == size  # type: ignore[index]
    assert "size" not in to_part({"inline_data": {"data": 7}})  # type: ignore[operator]


def test_thoughts_are_reasoning_and_signature_only_parts_are_dropped() -> None:
    """A `thought` text part is reasoning; a part with only a signature (or "" text) is dropped."""
    assert to_part(types.Part(text="Let me think.", thought=True)) == {
        "type": "reasoning",
        "content": "Let me think.",
    }
    assert to_part(types.Part(thought_signature=b"\x01\x02")) is None
    assert to_part(types.Part(text="", thought_signature=b"\x01\x02")) is None
    assert to_part({"text": ""}) == {"type": "text", "content": ""}


def test_code_execution_parts_are_server_tool_calls() -> None:
    """Executable code and its result are server tool call and response parts."""
    parts = [
        types.Part(
            executable_code=types.ExecutableCode(code="print(6*7)", language=types.Language.PYTHON)
        ),
        types.Part(
            code_execution_result=types.CodeExecutionResult(
                outcome=types.Outcome.OUTCOME_OK, output="42\n"
            )
        ),
    ]
    result = output_messages(
        [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]
    )
    assert result[0]["parts"][0]["server_tool_call"] == {
        "type": "code_execution",
        "code": "print(6*7)",
        "language": "PYTHON",
    }
    assert result[0]["parts"][1]["server_tool_call_response"]["output"] == "42\n"
    assert_valid(OUTPUT, result)


def test_uploaded_files_pil_images_and_gemini_3_tool_parts() -> None:
    """A File is a uri, a PIL-like image a bare image part, Gemini 3 tool parts server calls."""
    uploaded = types.File(
        name="files/abc",
        uri="https://generativelanguage.googleapis.com/v1beta/files/abc",
        mime_type="video/mp4",
    )
    assert to_part(uploaded) == {
        "type": "uri",
        "modality": "video",
        "uri": "https://generativelanguage.googleapis.com/v1beta/files/abc",
        "mime_type": "video/mp4",
    }

    class PngImageFile:
        """Stands for PIL's image class (its bytes are encoded only when the SDK sends it)."""

    assert to_part(PngImageFile()) == {"type": "image", "modality": "image"}
    call = {"tool_call": {"id": "t1", "tool_type": "GOOGLE_SEARCH_WEB", "args": {"q": "A-1042"}}}
    assert to_part(call) == {
        "type": "server_tool_call",
        "id": "t1",
        "name": "google_search_web",
        "server_tool_call": {"type": "google_search_web", "arguments": {"q": "A-1042"}},
    }
    assert to_part({"toolResponse": {"response": {"hits": 2}}})["id"] is None  # type: ignore[index]
    assert to_part({"file_data": {}}) == {"type": "file_data"}


def test_an_image_answer_is_a_reference_not_its_bytes() -> None:
    """The image an image model returns is recorded as inline data of its size, no base64."""
    response = types.GenerateContentResponse.model_validate(g.image_response())
    parts = output_messages(response.candidates)[0]["parts"]
    assert parts[1] == {
        "type": "inline_data",
        "modality": "image",
        "mime_type": "image/png",
        "size": len(PNG),
    }
    assert_valid(OUTPUT, output_messages(response.candidates))


def test_unknown_inputs_never_raise() -> None:
    """Odd values (numbers, None parts, wrong types) give empty or generic parts, not errors."""
    result = input_messages([{"role": 7, "parts": [None, 3]}, {}, types.Part()])
    assert result == [{"role": "user", "parts": []}] * 3  # the SDK sends all three turns
    assert input_messages(None) == []
    assert_valid(INPUT, result)


# --- System instructions and tools ---------------------------------------------------------------
@pytest.mark.parametrize(
    "instruction",
    [
        "You are a support agent.",
        types.Content(parts=[types.Part.from_text(text="You are a support agent.")]),
        {"parts": [{"text": "You are a support agent."}]},
        ["You are a support agent."],
        types.Part.from_text(text="You are a support agent."),
    ],
    ids=["str", "content", "dict", "list", "part"],
)
def test_system_instruction_in_every_form(instruction: Any) -> None:
    """A string, Content, dict, list or Part system instruction gives the same text part."""
    result = system_instructions(instruction)
    assert result == [text("You are a support agent.")]
    assert_valid(SYSTEM, result)
    assert system_instructions(None) is None
    assert system_instructions("") == [text("")]


def get_order_status(order_id: str) -> str:
    """Look up where an order is."""
    return order_id


def test_tool_definitions_for_declarations_callables_and_builtins() -> None:
    """Declarations and Python callables are functions; built-in tools are named by kind."""
    tools: list[Any] = [
        types.Tool(
            function_declarations=[
                types.FunctionDeclaration(name="cancel_order", description="Cancel an order.")
            ],
            google_search=types.GoogleSearch(),
        ),
        get_order_status,
        {"codeExecution": {}},
    ]
    result = tool_definitions(tools)
    assert result == [
        {"type": "function", "name": "cancel_order", "description": "Cancel an order."},
        {"type": "google_search", "name": "google_search"},
        {
            "type": "function",
            "name": "get_order_status",
            "description": "Look up where an order is.",
        },
        {"type": "code_execution", "name": "code_execution"},
    ]
    assert_valid(TOOLS, result)
    assert tool_definitions(None) is None
    assert tool_definitions([{}]) is None


# --- Output and finish reasons -------------------------------------------------------------------
def test_output_messages_of_recorded_responses_validate() -> None:
    """Every recorded-shape response converts to schema-valid output messages."""
    for body in (
        g.text_response(),
        g.function_call_response(),
        g.thinking_response(),
        g.image_response(vertex=True),
        g.safety_blocked_response(),
        g.max_tokens_response(None),
    ):
        response = types.GenerateContentResponse.model_validate(body)
        assert_valid(OUTPUT, output_messages(response.candidates))


@pytest.mark.parametrize("reason", list(types.FinishReason))
def test_every_sdk_finish_reason_maps_to_an_upstream_value(reason: types.FinishReason) -> None:
    """Each FinishReason the SDK knows maps to an upstream value (one documented pass-through)."""
    mapped = finish_reason(reason)
    if reason is types.FinishReason.TOO_MANY_TOOL_CALLS:
        assert mapped == "too_many_tool_calls"  # no upstream value says "tool loop cut short"
    else:
        assert mapped in UPSTREAM_FINISH


@pytest.mark.parametrize(
    ("reason", "called", "expected"),
    [
        ("STOP", False, "stop"),
        ("STOP", True, "tool_call"),
        ("MAX_TOKENS", True, "length"),
        ("SAFETY", False, "content_filter"),
        ("MALFORMED_FUNCTION_CALL", True, "error"),
        ("SOMETHING_NEW", False, "something_new"),
        (None, False, "error"),
        (42, False, "error"),
    ],
)
def test_finish_reason_mapping(reason: Any, called: bool, expected: str) -> None:
    """STOP with a function call is tool_call; unknown names pass through; none means error."""
    assert finish_reason(reason, called) == expected
