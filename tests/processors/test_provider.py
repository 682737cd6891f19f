"""The provider a foreign span's model names, where its provider name names none."""

from __future__ import annotations

from typing import Any

import pytest

from otel_llm.processors._provider import implied_provider, needs_provider
from otel_llm.processors.upgrade import upgraded_attributes


@pytest.mark.parametrize(
    ("attributes", "provider"),
    [
        (
            {"gen_ai.provider.name": "strands-agents", "gen_ai.request.model": "gpt-4o-mini"},
            "openai",
        ),
        (
            {"gen_ai.provider.name": "strands-agents", "gen_ai.request.model": "claude-sonnet-4-5"},
            "anthropic",
        ),
        (
            {"gen_ai.provider.name": "x", "gen_ai.request.model": "us.amazon.nova-lite-v1:0"},
            "aws.bedrock",
        ),
        ({"gen_ai.request.model": "anthropic.claude-3-5-haiku-20241022-v1:0"}, "aws.bedrock"),
        (
            {"gen_ai.request.model": "arn:aws:bedrock:us-east-1:1:inference-profile/x"},
            "aws.bedrock",
        ),
        # A custom provider serving a model a cloud provider lists is not that cloud provider.
        ({"gen_ai.provider.name": "ollama", "gen_ai.request.model": "gpt-4o-mini"}, None),
        ({"gen_ai.provider.name": "strands-agents", "gen_ai.request.model": "my-finetune"}, None),
        (
            {"gen_ai.provider.name": "strands-agents", "gen_ai.request.model": "gpt-4.1-mini"},
            "openai",
        ),
    ],
)
def test_the_model_names_the_provider_only_when_unambiguous(
    attributes: dict[str, Any], provider: str | None
) -> None:
    """Bedrock ids anywhere, genai-prices' listing only behind a framework's own name."""
    assert needs_provider(attributes)
    assert implied_provider(attributes) == provider


def test_a_known_provider_name_is_never_replaced() -> None:
    """A span naming one of our providers keeps it, whatever its model looks like."""
    attributes = {"gen_ai.provider.name": "gcp.vertex_ai", "gen_ai.request.model": "meta.llama3"}
    assert not needs_provider(attributes)
    assert upgraded_attributes(attributes) is attributes


def test_the_upgrade_names_the_provider_of_a_legacy_framework_span() -> None:
    """gen_ai.system = strands-agents is upgraded, then replaced by the model's provider."""
    upgraded = upgraded_attributes(
        {"gen_ai.system": "strands-agents", "gen_ai.request.model": "us.amazon.nova-lite-v1:0"}
    )
    assert upgraded["gen_ai.provider.name"] == "aws.bedrock"
    assert "gen_ai.system" not in upgraded
