"""Tests for the OpenAI payloads: valid for the SDK's types and read back by a real client."""

from __future__ import annotations

import base64
import struct
from typing import Any

import openai
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from otel_llm.payloads import openai as payloads
from otel_llm.payloads import sse
from tests.instrumentation import _fakes as fakes
from tests.payloads._sdk import unknown_fields

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]
TOOLS = [payloads.tool_call(), payloads.tool_call("refund", {"order_id": "A-1"}, id="call_2")]


def _stream(chunks: list[dict[str, Any]], client: Any = None) -> Any:
    """The final completion the SDK's stream helper assembles from `chunks`."""
    body = sse.encode(chunks, done=True)
    client = client or fakes.openai_client(fakes.respond_sse(body))
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        return stream.get_final_completion()


@pytest.mark.parametrize(
    "body",
    [payloads.chat_completion(), payloads.chat_completion(None, tool_calls=TOOLS, choices=2)],
    ids=["text", "tools"],
)
def test_chat_completion_has_every_field_the_sdk_knows_and_no_other(body: dict[str, Any]) -> None:
    """The body validates as a ChatCompletion and every field in it is one the SDK declares."""
    assert unknown_fields(ChatCompletion.model_validate(body)) == []


def test_a_completion_calling_tools_finishes_with_tool_calls() -> None:
    """Tool calls mean a null content and finish_reason tool_calls unless told otherwise."""
    body = payloads.chat_completion(None, tool_calls=TOOLS)
    completion = fakes.openai_client(fakes.respond_json(body)).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = [call.model_dump() for call in choice.message.tool_calls or []]
    assert [(call["id"], call["function"]["name"]) for call in calls] == [
        ("call_Qx9bTq3lN7pR2vW8yZ1aC4dE", "get_order_status"),
        ("call_2", "refund"),
    ]


def test_usage_counts_cached_and_reasoning_tokens() -> None:
    """Usage totals prompt and completion tokens and details the cached and reasoning ones."""
    usage = payloads.usage(100, 20, cached_tokens=64, reasoning_tokens=12)
    assert usage["total_tokens"] == 120
    assert usage["prompt_tokens_details"]["cached_tokens"] == 64
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 12


def test_chunks_stream_the_same_reply_as_the_completion() -> None:
    """The SDK's stream helper builds from the chunks the message the completion body holds."""
    final = _stream(payloads.chat_chunks())
    whole = ChatCompletion.model_validate(payloads.chat_completion())
    assert final.choices[0].message.content == whole.choices[0].message.content
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.completion_tokens == len(payloads.chat_chunks()) - 3


def test_chunks_stream_tool_call_arguments_in_fragments() -> None:
    """Each tool call streams a header and argument fragments that add up to its arguments."""
    chunks = payloads.chat_chunks(tool_calls=TOOLS)
    final = _stream(chunks)
    calls = final.choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        (t["id"], t["function"]["name"], t["function"]["arguments"]) for t in TOOLS
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert len(chunks) > len(TOOLS) + 3  # the arguments came in several pieces


def test_include_usage_shapes_every_chunk() -> None:
    """With include_usage each chunk says usage null and a last, choiceless one has the usage."""
    chunks = payloads.chat_chunks()
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 42
    assert all("usage" not in chunk for chunk in payloads.chat_chunks(include_usage=False))


def test_chunks_follow_the_recorded_order() -> None:
    """A role chunk opens, content pieces follow, and a finish chunk with an empty delta closes."""
    chunks = payloads.chat_chunks(["Your", " order"], include_usage=False)
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": "", "refusal": None},
        {"content": "Your"},
        {"content": " order"},
        {},
    ]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, "stop"]
    for chunk in chunks:
        assert unknown_fields(ChatCompletionChunk.model_validate(chunk)) == []


def test_azure_streams_open_with_a_prompt_filter_chunk() -> None:
    """Azure's first chunk has no id, model or choices; later choices carry filter verdicts."""
    chunks = payloads.azure_chat_chunks()
    first, rest = chunks[0], chunks[1:]
    assert (first["id"], first["model"], first["object"], first["choices"]) == ("", "", "", [])
    assert first["prompt_filter_results"][0]["content_filter_results"]["hate"] == {
        "filtered": False,
        "severity": "safe",
    }
    assert all("service_tier" not in chunk for chunk in rest)
    assert rest[1]["choices"][0]["content_filter_results"]["violence"]["severity"] == "safe"
    for chunk in rest:
        assert unknown_fields(ChatCompletionChunk.model_validate(chunk)) == [
            "choices[].content_filter_results"
        ] * len(chunk["choices"])
    client = fakes.azure_client(fakes.respond_sse(sse.encode(chunks, done=True)))
    assert _stream(chunks, client).choices[0].message.content == payloads.TEXT


@pytest.mark.parametrize(
    ("status", "exception", "kind", "code"),
    [
        (400, openai.BadRequestError, "invalid_request_error", None),
        (401, openai.AuthenticationError, "invalid_request_error", "invalid_api_key"),
        (
            403,
            openai.PermissionDeniedError,
            "request_forbidden",
            "unsupported_country_region_territory",
        ),
        (404, openai.NotFoundError, "invalid_request_error", "model_not_found"),
        (429, openai.RateLimitError, "requests", "rate_limit_exceeded"),
        (500, openai.InternalServerError, "server_error", None),
        (503, openai.InternalServerError, "server_error", None),
        (502, openai.InternalServerError, "server_error", None),
        (409, openai.ConflictError, "invalid_request_error", None),
    ],
)
def test_error_bodies_are_what_the_sdk_raises_from(
    status: int, exception: type[openai.APIStatusError], kind: str, code: str | None
) -> None:
    """Each status gets OpenAI's recorded error type and code, which the SDK's exception exposes."""
    client = fakes.openai_client(fakes.respond_json(payloads.error(status), status))
    with pytest.raises(exception) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raised.value.type == kind
    assert raised.value.code == code
    assert raised.value.message.startswith(f"Error code: {status}")


def test_error_fields_can_be_overridden() -> None:
    """A caller's message, type, code and param replace the recorded ones."""
    body = payloads.error(429, "Out of credit.", kind="insufficient_quota", code="quota", param="x")
    assert body == {
        "error": {
            "message": "Out of credit.",
            "type": "insufficient_quota",
            "param": "x",
            "code": "quota",
        }
    }


def test_azure_content_filter_error_names_the_blocked_category() -> None:
    """Azure's filter error is a 400 with code content_filter and the per-category verdicts."""
    client = fakes.azure_client(
        fakes.respond_json(payloads.azure_content_filter_error("self_harm"), 400)
    )
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="my-deployment", messages=MESSAGES)
    assert raised.value.code == "content_filter"
    assert raised.value.type is None
    body: Any = raised.value.body
    verdicts = body["innererror"]["content_filter_result"]
    assert verdicts["self_harm"] == {"filtered": True, "severity": "medium"}
    assert verdicts["hate"]["filtered"] is False


def test_embeddings_read_back_as_floats_from_either_encoding() -> None:
    """Float lists and base64 float32 strings both come out of the SDK as the same vector."""
    vector = [0.5, -0.25, 0.125]
    assert struct.unpack("<3f", base64.b64decode(payloads.base64_vector(vector))) == (
        0.5,
        -0.25,
        0.125,
    )
    body = payloads.embeddings([vector, payloads.base64_vector(vector)], prompt_tokens=6)
    result = fakes.openai_client(fakes.respond_json(body)).embeddings.create(
        model="text-embedding-3-small", input=["a", "b"]
    )
    assert unknown_fields(CreateEmbeddingResponse.model_validate(payloads.embeddings())) == []
    assert result.data[0].embedding == vector
    assert [d.index for d in result.data] == [0, 1]
    assert result.usage.prompt_tokens == result.usage.total_tokens == 6
