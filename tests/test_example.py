"""Tests for otel_llm.example: the telemetry it records through a real SDK pipeline."""

import json

import pytest

from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.example import fit_to_budget, format_result, run_example
from otel_llm.semconv import SCHEMA_URL
from otel_llm.semconv.metrics import gen_ai as metrics


def test_records_one_client_span_named_per_convention() -> None:
    """The example emits one CLIENT span named `{operation} {model}` under our schema URL."""
    result = run_example(Settings())
    (span,) = result.spans
    assert span.name == "chat gpt-4o-mini"
    assert span.kind.name == "CLIENT"
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.schema_url == SCHEMA_URL
    assert span.attributes is not None
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.usage.input_tokens"] == 42


def test_no_content_by_default() -> None:
    """With the default NO_CONTENT mode no message content reaches the span."""
    (span,) = run_example(Settings()).spans
    assert span.attributes is not None
    assert "gen_ai.input.messages" not in span.attributes


def test_span_only_captures_schema_shaped_content() -> None:
    """With SPAN_ONLY the input messages are on the span as a JSON string in the upstream shape."""
    settings = Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY)
    (span,) = run_example(settings).spans
    assert span.attributes is not None
    messages = json.loads(str(span.attributes["gen_ai.input.messages"]))
    assert messages == [{"role": "user", "parts": [{"type": "text", "content": "Hi there!"}]}]


def test_long_content_is_truncated_inside_valid_json() -> None:
    """Over-budget content is cut inside the message, so the attribute is still valid JSON."""
    settings = Settings(
        capture_message_content=ContentCapturingMode.SPAN_AND_EVENT, max_content_bytes=256
    )
    (span,) = run_example(settings, prompt="x" * 5000).spans
    assert span.attributes is not None
    (message,) = json.loads(str(span.attributes["gen_ai.input.messages"]))
    content = message["parts"][0]["content"]
    assert content.endswith("…[truncated]")
    assert len(content.encode("utf-8")) <= 256


def test_metrics_carry_only_declared_attributes() -> None:
    """Every metric point uses only the low-cardinality keys the registry allows for it."""
    result = run_example(Settings())
    allowed = {
        metrics.GEN_AI_CLIENT_INFERENCE_DURATION: (
            metrics.GEN_AI_CLIENT_INFERENCE_DURATION_ATTRIBUTES
        ),
        metrics.GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS: (
            metrics.GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS_ATTRIBUTES
        ),
        metrics.GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS: (
            metrics.GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS_ATTRIBUTES
        ),
    }
    assert set(result.metrics) == set(allowed)
    for name, points in result.metrics.items():
        for attributes, _ in points:
            assert set(attributes) <= allowed[name], name


def test_duration_histogram_uses_advised_buckets() -> None:
    """The duration histogram's buckets are the upstream advice, passed by the generated factory."""
    result = run_example(Settings())
    ((_, description),) = result.metrics[metrics.GEN_AI_CLIENT_INFERENCE_DURATION]
    assert f"buckets={list(metrics.GEN_AI_CLIENT_INFERENCE_DURATION_BUCKETS)}" in description


@pytest.mark.parametrize(
    ("text", "budget"),
    [("a" * 1000, 300), ("é" * 400, 301), ("😀" * 200, 257), ("short", 300)],
)
def test_fit_to_budget_respects_bytes_and_characters(text: str, budget: int) -> None:
    """Truncated text fits the UTF-8 byte budget, never splits a character, and is marked."""
    cut = fit_to_budget(text, budget)
    assert len(cut.encode("utf-8")) <= budget
    if len(text.encode("utf-8")) <= budget:
        assert cut == text
    else:
        assert cut.endswith("…[truncated]")
        assert text.startswith(cut.removesuffix("…[truncated]"))


def test_format_result_lists_span_attributes() -> None:
    """The printed report shows the span and each metric name."""
    text = format_result(run_example(Settings()))
    assert "gen_ai.request.model = 'gpt-4o-mini'" in text
    assert "metric gen_ai.client.inference.usage.output_tokens  value=9" in text
