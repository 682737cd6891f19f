"""Cost processor: GenAI spans from any instrumentation are priced before export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_llm import _telemetry
from otel_llm.config import Settings
from otel_llm.cost import CostBreakdown, PriceBook
from otel_llm.instrumentation.types import Usage
from otel_llm.processors.cost import CostSpanProcessor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes


@pytest.fixture
def pipeline() -> Iterator[tuple[TracerProvider, InMemorySpanExporter, Captured]]:
    """A tracer provider whose only exporter sits behind the cost processor."""
    captured = make_captured()
    _telemetry.set_telemetry(captured.telemetry)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        CostSpanProcessor(SimpleSpanProcessor(exporter), PriceBook.from_settings(Settings()))
    )
    yield provider, exporter, captured
    _telemetry.set_telemetry(None)


def _span(
    provider: TracerProvider, exporter: InMemorySpanExporter, attributes: dict[str, Any]
) -> Any:
    with provider.get_tracer("any").start_as_current_span("chat", attributes=attributes):
        pass
    (span,) = exporter.get_finished_spans()
    return span


CHAT_SPAN: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 200,
}
"""A chat span from another instrumentation, with the usage the cost processor prices."""


def test_priced_span_matches_the_price_book(
    pipeline: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """A chat span gets the same total the price book computes, and the spend metrics record it."""
    provider, exporter, captured = pipeline
    span = _span(provider, exporter, CHAT_SPAN)
    expected = PriceBook.from_settings(Settings()).price(
        "openai", "gpt-4o-mini", Usage(input_tokens=1000, output_tokens=200)
    )
    assert span.attributes["otel_llm.cost.total"] == pytest.approx(expected.total)  # type: ignore[union-attr]
    assert span.attributes["otel_llm.cost.currency"] == "USD"
    (spent,) = captured.metric_points("otel_llm.client.cost")
    assert spent.value == pytest.approx(span.attributes["otel_llm.cost.total"])
    assert spent.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    (per_request,) = captured.metric_points("otel_llm.client.request.cost")
    assert per_request.count == 1


def test_unknown_model_is_marked_unpriced(
    pipeline: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """An unknown model gets no amount, an explicit unpriced marker and an unpriced count."""
    provider, exporter, captured = pipeline
    span = _span(
        provider,
        exporter,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "totally-made-up-model-9000",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 5,
        },
    )
    assert "otel_llm.cost.total" not in span.attributes
    assert span.attributes["otel_llm.cost.unpriced"] is True
    assert span.attributes["otel_llm.cost.unpriced_reason"] == "unknown_model"
    (unpriced,) = captured.metric_points("otel_llm.client.unpriced")
    assert unpriced.attributes["otel_llm.cost.unpriced_reason"] == "unknown_model"
    assert captured.metric_points("otel_llm.client.cost") == []


def _price(model: str, usage: Usage) -> float:
    found = PriceBook.from_settings(Settings()).price("aws.bedrock", model, usage)
    assert isinstance(found, CostBreakdown), found
    return found.total


def test_bedrock_is_priced_by_the_model_id_the_request_named(
    pipeline: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """A global inference profile is priced as one, not as the model its reply body names."""
    provider, exporter, _ = pipeline
    profile = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": profile,
        "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
    }
    span = _span(provider, exporter, attributes)
    usage = Usage(input_tokens=1000, output_tokens=200)
    global_price = _price(profile, usage)
    assert global_price < _price("claude-sonnet-4-5-20250929", usage)  # regional costs more
    assert span.attributes["otel_llm.cost.total"] == pytest.approx(global_price)


def test_a_model_name_the_price_data_lacks_falls_back_to_the_other_name(
    pipeline: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """An opaque Bedrock ARN is unpriced, so the model the reply named prices the call."""
    provider, exporter, _ = pipeline
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x1y2z3"
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": arn,
        "gen_ai.response.model": "claude-3-5-haiku-20241022",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 200,
    }
    span = _span(provider, exporter, attributes)
    expected = _price("claude-3-5-haiku-20241022", Usage(input_tokens=1000, output_tokens=200))
    assert span.attributes["otel_llm.cost.total"] == pytest.approx(expected)


def test_the_cost_exemplar_points_at_the_priced_span(
    pipeline: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """A span priced at export links its cost point to itself (it is no longer current)."""
    provider, exporter, captured = pipeline
    span = _span(provider, exporter, CHAT_SPAN)
    (point,) = captured.metric_points("otel_llm.client.request.cost")
    (exemplar,) = point.exemplars
    assert (exemplar.trace_id, exemplar.span_id) == (span.context.trace_id, span.context.span_id)


def test_non_genai_spans_are_untouched(
    pipeline: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """HTTP or database spans pass through without cost attributes."""
    provider, exporter, _ = pipeline
    span = _span(provider, exporter, {"http.request.method": "GET"})
    assert dict(span.attributes) == {"http.request.method": "GET"}


def test_official_instrumentation_spans_are_priced(
    pipeline: tuple[TracerProvider, InMemorySpanExporter, Captured],
) -> None:
    """Spans made by the official OTel GenAI OpenAI instrumentation are priced too."""
    from opentelemetry.instrumentation.genai.openai import (  # noqa: PLC0415
        OpenAIInstrumentor as OfficialInstrumentor,
    )

    provider, exporter, _ = pipeline
    OfficialInstrumentor().instrument(tracer_provider=provider)
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    finally:
        OfficialInstrumentor().uninstrument()
    (span,) = exporter.get_finished_spans()
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name != "otel_llm"
    assert span.attributes is not None
    total = span.attributes["otel_llm.cost.total"]
    assert isinstance(total, float)
    assert total > 0


def _instrumented_call(captured: Captured, settings: Settings | None = None) -> None:
    """One chat call through otel-llm's own OpenAI instrumentation on `captured`'s providers."""
    from otel_llm.instrumentation.openai import OpenAIInstrumentor  # noqa: PLC0415

    OpenAIInstrumentor().instrument(
        **captured.providers, settings=settings or Settings(), skip_dep_check=True
    )
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    finally:
        OpenAIInstrumentor().uninstrument()


def _usage_of_the_fake_completion() -> Usage:
    return Usage(input_tokens=42, output_tokens=9, cache_read_tokens=32, reasoning_tokens=4)


def test_instrumented_calls_are_priced_when_the_span_is_not_sampled() -> None:
    """The engine prices our own calls: the spend metrics count every call, sampled or not."""
    captured = make_captured()
    unsampled = TracerProvider(sampler=ALWAYS_OFF)
    unsampled.add_span_processor(SimpleSpanProcessor(captured.spans))
    captured.providers["tracer_provider"] = unsampled
    _instrumented_call(captured)
    assert captured.finished_spans() == []
    expected = PriceBook.from_settings(Settings()).price(
        "openai", "gpt-4o-mini-2024-07-18", _usage_of_the_fake_completion()
    )
    assert isinstance(expected, CostBreakdown)
    (spent,) = captured.metric_points("otel_llm.client.cost")
    assert spent.value == pytest.approx(expected.total)
    (per_request,) = captured.metric_points("otel_llm.client.request.cost")
    assert per_request.count == 1


def test_our_calls_are_priced_on_the_span_by_the_processor_and_counted_once() -> None:
    """The cost processor adds the price to our span; the spend is counted once, by the engine.

    One spend point and one request-cost point, with the price on the exported span.
    """
    captured = make_captured()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        CostSpanProcessor(SimpleSpanProcessor(exporter), PriceBook.from_settings(Settings()))
    )
    captured.providers["tracer_provider"] = provider
    _instrumented_call(captured)
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None
    expected = PriceBook.from_settings(Settings()).price(
        "openai", "gpt-4o-mini-2024-07-18", _usage_of_the_fake_completion()
    )
    assert isinstance(expected, CostBreakdown)
    assert dict(span.attributes).items() >= expected.attributes().items()
    (spent,) = captured.metric_points("otel_llm.client.cost")
    assert spent.value == pytest.approx(expected.total)
    (per_request,) = captured.metric_points("otel_llm.client.request.cost")
    assert per_request.count == 1


def test_cost_disabled_leaves_instrumented_calls_unpriced() -> None:
    """OTEL_LLM_COST_ENABLED=false: no cost attributes and no spend metrics from the engine."""
    settings = Settings(cost_enabled=False)
    captured = make_captured(settings)  # its pipeline (put in front when built) has no cost
    _instrumented_call(captured, settings)
    (span,) = captured.finished_spans()
    assert not any(key.startswith("otel_llm.cost") for key in span.attributes)
    assert captured.metric_points("otel_llm.client.cost") == []
