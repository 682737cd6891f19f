"""The Agents SDK's span data in the conventions' terms."""

from __future__ import annotations

import pytest

pytest.importorskip("agents")  # needs openai 3.x: absent from the openai 2.x virtualenv

from agents.tracing.span_data import GenerationSpanData, ResponseSpanData

from otel_llm.instrumentation.openai_agents import _data


def test_providers_handoff_tools_and_conversations() -> None:
    """LiteLLM-style model names name their provider; handoffs are named as the SDK names them."""
    assert _data.provider_name(GenerationSpanData(model="gpt-4o")) == "openai"
    assert _data.provider_name(GenerationSpanData(model="anthropic/claude-x")) == "anthropic"
    assert _data.provider_name(ResponseSpanData()) == "openai"
    assert _data.handoff_tool_name("Refund Agent") == "transfer_to_refund_agent"

    class Trace:
        group_id = "thread-1"

    assert _data.conversation_id(Trace()) == "thread-1"
    assert _data.conversation_id(object()) is None


def test_a_generation_without_a_response_gives_its_usage_and_output() -> None:
    """A custom model's generation span: usage from its dict, output messages when captured."""
    data = GenerationSpanData(
        model="m",
        output=[{"role": "assistant", "content": "hi"}],
        usage={"input_tokens": 3, "output_tokens": 1},
    )
    info = _data.response_info(data, capturing=True)
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.output_tokens) == (3, 1)
    assert info.output == [
        {"role": "assistant", "parts": [{"type": "text", "content": "hi"}], "finish_reason": "stop"}
    ]
    assert _data.response_info(data, capturing=False).output is None
    assert _data.request_model(data) == "m"
