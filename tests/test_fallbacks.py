"""Fallbacks, as recorded: against the call given up, with its prompt release."""

from __future__ import annotations

import pytest

import otel_llm
from tests.conftest import Captured


def test_fallbacks_are_counted_by_the_call_given_up(captured: Captured) -> None:
    """record_fallback counts against the provider and model given up, with the prompt."""
    with otel_llm.prompt("support_answer", version="v41"):
        otel_llm.record_fallback("openai", "gpt-4o-mini", reason="rate_limited")
    (point,) = captured.metric_points("otel_llm.client.fallbacks")
    assert dict(point.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "otel_llm.fallback.reason": "rate_limited",
        "gen_ai.prompt.name": "support_answer",
        "gen_ai.prompt.version": "v41",
    }
    with pytest.raises(ValueError, match="reason"):
        otel_llm.record_fallback("openai", reason="because")
