"""LangChain messages, parameters and results in the conventions' terms."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from otel_llm.instrumentation.langchain import _messages


def test_providers_are_named_as_upstream_names_them() -> None:
    """LangChain's ls_provider values map onto gen_ai.provider.name; unknown ones pass."""
    assert _messages.provider_name({"ls_provider": "openai"}, {}) == "openai"
    assert _messages.provider_name({"ls_provider": "azure"}, {}) == "azure.ai.openai"
    assert _messages.provider_name({"ls_provider": "google_genai"}, {}) == "gcp.gen_ai"
    assert _messages.provider_name({"ls_provider": "bedrock_converse"}, {}) == "aws.bedrock"
    assert _messages.provider_name({"ls_provider": "ollama"}, {}) == "ollama"
    assert _messages.provider_name({}, {}) == "langchain"


def test_request_parameters_become_request_attributes() -> None:
    """Model and parameters from invocation_params, else LangChain's ls_* metadata."""
    request = _messages.request_info(
        {"ls_model_name": "gpt-4o-mini", "ls_temperature": 0.2, "ls_stop": ["END"]},
        {"max_tokens": 100, "top_p": 0.9, "seed": 1.5, "n": 2},
        False,
    )
    assert request.model == "gpt-4o-mini"
    assert request.attributes == {
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.choice.count": 2,
    }  # a float seed is not a seed
    assert not request.stream


def test_messages_convert_with_roles_tool_calls_and_system_instructions_apart() -> None:
    """System messages are instructions; tool calls and tool results are parts; tools defined."""
    content = _messages.content(
        [
            SystemMessage("Be brief."),
            HumanMessage(
                [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
                ]
            ),
            AIMessage("", tool_calls=[{"name": "lookup", "args": {"q": 1}, "id": "c1"}]),
            ToolMessage("found", tool_call_id="c1"),
            ("user", "thanks"),
        ],
        {"tools": [{"type": "function", "function": {"name": "lookup", "description": "Find."}}]},
    )
    assert content.system_instructions == [{"type": "text", "content": "Be brief."}]
    assert content.input_messages == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is this?"},
                {"type": "uri", "modality": "image", "uri": "https://x/cat.png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "c1", "name": "lookup", "arguments": {"q": 1}}],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "c1", "response": "found"}],
        },
        {"role": "user", "parts": [{"type": "text", "content": "thanks"}]},
    ]
    assert content.tool_definitions == [
        {"type": "function", "name": "lookup", "description": "Find."}
    ]


def test_results_give_usage_finish_reasons_and_output() -> None:
    """Usage is summed over generations; reasons in upstream terms; output only if asked."""
    message = AIMessage(
        "Done.",
        usage_metadata={
            "input_tokens": 10,
            "output_tokens": 4,
            "total_tokens": 14,
            "input_token_details": {"cache_read": 6},
            "output_token_details": {"reasoning": 2},
        },
        response_metadata={"model_name": "claude-x", "stop_reason": "end_turn", "id": "msg_1"},
    )
    result = LLMResult(generations=[[ChatGeneration(message=message)]])
    info = _messages.response_info(result, capturing=False)
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.output_tokens) == (10, 4)
    assert (info.usage.cache_read_tokens, info.usage.reasoning_tokens) == (6, 2)
    assert info.finish_reasons == ("stop",)
    assert info.model == "claude-x"
    assert info.response_id == "msg_1"
    assert info.output is None
    output = _messages.response_info(result, capturing=True).output
    assert output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Done."}],
            "finish_reason": "stop",
        }
    ]


def test_results_without_usage_metadata_read_llm_output() -> None:
    """Integrations that report OpenAI-style token_usage in llm_output still give usage."""
    result = LLMResult(
        generations=[[ChatGeneration(message=AIMessage("x"))]],
        llm_output={"token_usage": {"prompt_tokens": 5, "completion_tokens": 1}},
    )
    info = _messages.response_info(result, capturing=False)
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.output_tokens) == (5, 1)
    assert info.finish_reasons == ()  # none reported: unknown, not a failure
    assert _messages.response_info(None, capturing=True).usage is None
