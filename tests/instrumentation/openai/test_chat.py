"""Chat Completions: request parameters, responses, stream chunks and the stream-usage ask."""

from __future__ import annotations

from typing import Any

import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from otel_llm.instrumentation.openai._chat import (
    ChatStreamState,
    chat_request,
    chat_response,
    provider_name,
    stream_usage,
    strip_stream_usage,
)
from tests.instrumentation import _fakes as fakes

ASK = stream_usage((openai.NotGiven, openai.Omit))


def test_request_parameters_become_attributes() -> None:
    """Typed parameters are kept; wrong types (a bool for a number) are dropped."""
    info = chat_request(
        None,
        (),
        {
            "model": "gpt-4o-mini",
            "temperature": 0.2,
            "max_tokens": 100,
            "max_completion_tokens": 50,
            "seed": True,
            "stop": "END",
            "n": 2,
            "response_format": {"type": "json_schema"},
            "service_tier": "flex",
            "stream": True,
        },
    )
    assert info.model == "gpt-4o-mini"
    assert info.stream is True
    assert info.attributes == {
        "openai.api.type": "chat_completions",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.choice.count": 2,
        "gen_ai.output.type": "json",
        "openai.request.service_tier": "flex",
        "gen_ai.request.stream": True,
    }


def test_azure_clients_are_told_apart() -> None:
    """An Azure OpenAI client's resource is azure.ai.openai; any other client is openai."""
    azure = fakes.azure_client(fakes.respond_json({}))
    plain = fakes.openai_client(fakes.respond_json({}))
    assert provider_name(azure.chat.completions) == "azure.ai.openai"
    assert provider_name(plain.chat.completions) == "openai"


def test_response_facts() -> None:
    """Id, model, finish reasons, usage with cache and reasoning counts, service tier."""
    result = ChatCompletion.model_validate(fakes.chat_completion(finish_reason="tool_calls"))
    info = chat_response(result, False)
    assert (info.response_id, info.model) == ("chatcmpl-AbC123", "gpt-4o-mini-2024-07-18")
    assert info.finish_reasons == ("tool_call",)
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.cache_read_tokens) == (42, 32)
    assert info.usage.reasoning_tokens == 4
    assert info.attributes["openai.response.service_tier"] == "default"
    assert info.output is None


def test_stream_state_accumulates_text_and_tool_calls_when_capturing() -> None:
    """Chunks add up to the reply's text, tool call arguments, finish reason and usage."""
    state = ChatStreamState(capture=True)
    for chunk in fakes.chat_chunks():
        state.on_chunk(ChatCompletionChunk.model_validate(chunk))
    info = state.result()
    assert info.finish_reasons == ("stop",)
    assert info.usage is not None
    assert info.usage.output_tokens == 4
    assert info.output[0]["parts"] == [{"type": "text", "content": "Your order ships today."}]


def test_stream_usage_is_asked_only_when_the_caller_chose_nothing() -> None:
    """stream_options is added unless the caller set it (even to None) or reads raw bytes."""
    args: tuple[Any, ...] = ()
    assert ASK(args, {"model": "m"}) == (
        (),
        {"model": "m", "stream_options": {"include_usage": True}},
    )
    assert ASK(args, {"stream_options": None}) is None
    assert ASK(args, {"extra_body": {"stream_options": {}}}) is None
    assert ASK(args, {"extra_headers": {"X-Stainless-Raw-Response": "stream"}}) is None
    asked = ASK(args, {"stream_options": openai.omit})
    assert asked is not None
    assert asked[1]["stream_options"] == {"include_usage": True}


def test_strip_hides_the_usage_chunk_it_asked_for() -> None:
    """Only the usage-only chunk is hidden; other chunks are left as they came, usage and all."""
    usage_only = ChatCompletionChunk.model_validate(fakes.chat_chunks()[-1])
    assert strip_stream_usage(usage_only) is True
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    finish = ChatCompletionChunk.model_validate({**fakes.chat_chunks()[-2], "usage": usage})
    null = ChatCompletionChunk.model_validate({**fakes.chat_chunks()[1], "usage": None})
    before = [chunk.model_dump(exclude_unset=True) for chunk in (finish, null)]
    assert strip_stream_usage(finish) is False
    assert strip_stream_usage(null) is False
    assert [chunk.model_dump(exclude_unset=True) for chunk in (finish, null)] == before
    assert finish.usage is not None
    assert "usage" in null.model_fields_set
