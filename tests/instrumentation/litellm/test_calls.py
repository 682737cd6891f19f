"""LiteLLM calls against the demo's simulated provider: one span each, the provider it routed to."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import litellm
import pytest
from litellm.exceptions import InternalServerError
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm._settings import load_settings
from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode
from otel_llm.demo.provider import SimulatedProvider
from otel_llm.instrumentation.litellm import LiteLLMInstrumentor, _calls
from tests.conftest import make_captured
from tests.instrumentation.litellm.conftest import MESSAGES, Instrumented

SECRET = "order 1042"


def _openai(provider: SimulatedProvider, **kwargs: Any) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o-mini",
        "messages": MESSAGES,
        "api_base": provider.base_url_openai,
        "api_key": "sk-test",
        **kwargs,
    }


def _anthropic(provider: SimulatedProvider, **kwargs: Any) -> dict[str, Any]:
    return {
        "model": "anthropic/claude-sonnet-4-6",
        "messages": MESSAGES,
        "api_base": provider.base_url_anthropic,
        "api_key": "sk-ant-test",
        **kwargs,
    }


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("openai/gpt-4o-mini", ("gpt-4o-mini", "openai")),
        ("gpt-4o-mini", ("gpt-4o-mini", "openai")),
        ("anthropic/claude-sonnet-4-6", ("claude-sonnet-4-6", "anthropic")),
        (
            "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            ("anthropic.claude-3-haiku-20240307-v1:0", "aws.bedrock"),
        ),
        ("gemini/gemini-2.5-flash", ("gemini-2.5-flash", "gcp.gemini")),
        ("vertex_ai/gemini-2.5-pro", ("gemini-2.5-pro", "gcp.vertex_ai")),
        ("azure/my-deployment", ("my-deployment", "azure.ai.openai")),
        ("mistral/mistral-large-latest", ("mistral-large-latest", "mistral_ai")),
        ("xai/grok-4", ("grok-4", "x_ai")),
        ("ollama/llama3", ("llama3", "ollama")),
    ],
)
def test_models_map_to_upstream_provider_names(model: str, expected: tuple[str, str]) -> None:
    """A LiteLLM model string gives the model the provider sees and upstream's provider name."""
    assert _calls.provider_of(model, {}) == expected


@pytest.mark.parametrize("route", ["openai", "anthropic"])
def test_completion_is_one_span_with_full_usage(
    instrumented: Instrumented, provider: SimulatedProvider, route: str
) -> None:
    """completion() is one CLIENT span (the SDKs beneath add none) with its usage and metrics."""
    kwargs = _openai(provider) if route == "openai" else _anthropic(provider)
    with instrumented() as captured:
        result = litellm.completion(**kwargs)
    (span,) = captured.finished_spans()
    assert span.kind is SpanKind.CLIENT
    model = "gpt-4o-mini" if route == "openai" else "claude-sonnet-4-6"
    assert span.name == f"chat {model}"
    attributes = span.attributes
    assert attributes["gen_ai.provider.name"] == route
    assert attributes["gen_ai.request.model"] == model
    assert attributes["gen_ai.response.id"] == result.id
    usage: Any = result.usage
    assert attributes["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert attributes["server.address"] == "127.0.0.1"
    assert "openai.api.type" not in attributes
    (requests,) = captured.metric_points("otel_llm.client.requests")
    assert requests.value == 1
    assert requests.attributes["gen_ai.provider.name"] == route
    (duration,) = captured.metric_points("gen_ai.client.inference.duration")
    assert duration.count == 1
    (output,) = captured.metric_points("gen_ai.client.inference.usage.output_tokens")
    assert output.value == usage.completion_tokens


def test_embeddings_are_recorded_once_though_the_openai_sdk_is_instrumented(
    instrumented: Instrumented, provider: SimulatedProvider
) -> None:
    """LiteLLM's embedding() calls openai's embeddings (instrumented too): still one span."""
    with instrumented() as captured:
        result = litellm.embedding(
            model="openai/text-embedding-3-small",
            input=[SECRET],
            api_base=provider.base_url_openai,
            api_key="sk-test",
        )

        async def aembed() -> None:
            await litellm.aembedding(
                model="openai/text-embedding-3-small",
                input=[SECRET],
                api_base=provider.base_url_openai,
                api_key="sk-test",
            )

        asyncio.run(aembed())
    spans = captured.finished_spans()
    assert [s.name for s in spans] == ["embeddings text-embedding-3-small"] * 2
    usage: Any = result.usage
    assert spans[0].attributes["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert spans[0].attributes["gen_ai.operation.name"] == "embeddings"


@pytest.mark.parametrize("route", ["openai", "anthropic"])
def test_acompletion_streams_end_their_span_once(
    instrumented: Instrumented, provider: SimulatedProvider, route: str
) -> None:
    """An async stream read to the end is one span, ended once, with usage when asked for."""
    options = {"stream": True, "stream_options": {"include_usage": True}}
    kwargs = _openai(provider, **options) if route == "openai" else _anthropic(provider, **options)

    async def read() -> list[Any]:
        stream = await litellm.acompletion(**kwargs)
        assert isinstance(stream, litellm.CustomStreamWrapper)
        return [chunk async for chunk in stream]

    with instrumented() as captured:
        chunks = asyncio.run(read())
    (span,) = captured.finished_spans()
    usage: Any = next(c.usage for c in reversed(chunks) if getattr(c, "usage", None))
    assert span.attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert span.attributes["gen_ai.request.stream"] is True
    assert "gen_ai.response.time_to_first_chunk" in span.attributes
    (requests,) = captured.metric_points("otel_llm.client.requests")
    assert (requests.attributes["otel_llm.request.outcome"], requests.value) == ("success", 1)


def test_stream_left_early_is_cancelled_once(
    instrumented: Instrumented, provider: SimulatedProvider
) -> None:
    """Breaking out of a sync stream ends its span once, as cancelled."""
    with instrumented() as captured:
        stream = litellm.completion(**_anthropic(provider, stream=True))
        for _ in stream:
            break
        stream.close() if hasattr(stream, "close") else None
        del stream
        import gc  # noqa: PLC0415 - only this test drops a stream

        gc.collect()
    (span,) = captured.finished_spans()
    (requests,) = captured.metric_points("otel_llm.client.requests")
    assert requests.attributes["otel_llm.request.outcome"] == "cancelled"
    assert span.status.status_code is not StatusCode.ERROR


@pytest.mark.parametrize("mode", [ContentCapturingMode.NO_CONTENT, ContentCapturingMode.EVENT_ONLY])
def test_failure_is_recorded_by_identifiers_only(
    instrumented: Instrumented, failing: SimulatedProvider, mode: ContentCapturingMode
) -> None:
    """A 500 is re-raised unchanged and recorded by type and status, its text (the body) nowhere."""
    with instrumented(mode) as captured, pytest.raises(InternalServerError):
        litellm.completion(**_openai(failing, max_retries=0))
    (span,) = captured.finished_spans()
    assert span.attributes["error.type"] == "litellm.InternalServerError"
    assert span.attributes["http.response.status_code"] == 500
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None
    (event,) = span.events
    assert set(event.attributes) == {"exception.type", "exception.stacktrace"}
    (requests,) = captured.metric_points("otel_llm.client.requests")
    assert requests.attributes["otel_llm.request.outcome"] == "error"


def test_content_only_with_capture(instrumented: Instrumented, provider: SimulatedProvider) -> None:
    """Messages are on the span only with SPAN_ONLY; with capture off nothing of them is."""
    with instrumented() as captured:
        litellm.completion(**_anthropic(provider))
    (span,) = captured.finished_spans()
    assert SECRET not in json.dumps(dict(span.attributes))
    with instrumented(ContentCapturingMode.SPAN_ONLY) as captured:
        litellm.completion(**_anthropic(provider))
    (span,) = captured.finished_spans()
    (message,) = json.loads(span.attributes["gen_ai.input.messages"])
    assert message["parts"][0]["content"] == MESSAGES[0]["content"]
    assert json.loads(span.attributes["gen_ai.output.messages"])[0]["role"] == "assistant"


def test_stream_usage_setting_asks_for_usage_and_hides_its_chunk(
    provider: SimulatedProvider,
) -> None:
    """OTEL_LLM_STREAM_USAGE=true gets an Anthropic stream its usage, hiding the extra chunk."""
    captured = make_captured(load_settings({"OTEL_LLM_STREAM_USAGE": "true"}))
    instrumentor = LiteLLMInstrumentor()
    instrumentor.instrument(
        **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    try:
        chunks = list(litellm.completion(**_anthropic(provider, stream=True)))
    finally:
        instrumentor.uninstrument()
        set_telemetry(None)
    # The usage-only chunk asked for is not passed on: every chunk the caller sees has choices.
    assert chunks
    assert all(getattr(c, "choices", None) for c in chunks)
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.usage.output_tokens"] > 0
