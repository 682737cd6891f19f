"""LiteLLM's Router: a retried or fallen-back call is its attempts' spans under one route span."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litellm.exceptions import InternalServerError
from litellm.router import Router
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm.demo.provider import Behaviour, SimulatedProvider
from tests.instrumentation.litellm.conftest import FAST, MESSAGES, Instrumented


def _router(primary: SimulatedProvider, backup: SimulatedProvider, **options: Any) -> Any:
    return Router(
        model_list=[
            {
                "model_name": "primary",
                "litellm_params": {
                    "model": "openai/gpt-4o-mini",
                    "api_base": primary.base_url_openai,
                    "api_key": "sk-test",
                    "max_retries": 0,
                },
            },
            {
                "model_name": "backup",
                "litellm_params": {
                    "model": "anthropic/claude-sonnet-4-6",
                    "api_base": backup.base_url_anthropic,
                    "api_key": "sk-ant-test",
                },
            },
        ],
        retry_after=0,
        **options,
    )


def _route(spans: list[Any]) -> Any:
    (route,) = [s for s in spans if s.name.startswith("route ")]
    return route


def test_retried_then_fallen_back_call_is_one_route_over_its_attempts(
    instrumented: Instrumented, provider: SimulatedProvider, failing: SimulatedProvider
) -> None:
    """A retried then fallen-back call: its attempts' spans under one route counting 1 and 1."""
    router = _router(failing, provider, num_retries=1, fallbacks=[{"primary": ["backup"]}])
    with instrumented() as captured:
        result = asyncio.run(router.acompletion(model="primary", messages=MESSAGES))
    spans = captured.finished_spans()
    route = _route(spans)
    attempts = [s for s in spans if s is not route]
    assert route.kind is SpanKind.INTERNAL
    assert [a.parent.span_id for a in attempts] == [route.context.span_id] * len(attempts)
    assert [a.attributes["gen_ai.provider.name"] for a in attempts] == [
        "openai",
        "openai",
        "anthropic",
    ]
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    assert route.attributes["otel_llm.retry.count"] == 1
    assert route.attributes["otel_llm.fallback.count"] == 1
    assert route.attributes["gen_ai.request.model"] == "primary"
    assert route.attributes["gen_ai.response.model"] == result.model
    assert route.status.status_code is StatusCode.UNSET
    # The route is no inference: the requests counter counts the three attempts only.
    outcomes = sorted(
        (p.attributes["otel_llm.request.outcome"], p.value)
        for p in captured.metric_points("otel_llm.client.requests")
    )
    assert outcomes == [("error", 2), ("success", 1)]
    assert "gen_ai.usage.input_tokens" not in route.attributes
    # The fallback is counted against the model given up, for the fallback-rate rules.
    (fallback,) = captured.metric_points("otel_llm.client.fallbacks")
    assert fallback.value == 1
    assert dict(fallback.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "otel_llm.fallback.reason": "error",
    }


def test_a_fallback_after_rate_limits_is_counted_with_that_reason(
    instrumented: Instrumented, provider: SimulatedProvider
) -> None:
    """A group that answers 429 and is given up for another: one fallback, `rate_limited`."""
    limited = Behaviour(rate_limit_rate=1.0, **FAST)  # type: ignore[arg-type]
    with SimulatedProvider(limited) as throttled:
        router = _router(throttled, provider, fallbacks=[{"primary": ["backup"]}])
        with instrumented() as captured:
            router.completion(model="primary", messages=MESSAGES)
    (fallback,) = captured.metric_points("otel_llm.client.fallbacks")
    assert fallback.value == 1
    assert fallback.attributes["otel_llm.fallback.reason"] == "rate_limited"
    assert fallback.attributes["gen_ai.provider.name"] == "openai"
    assert _route(captured.finished_spans()).attributes["otel_llm.fallback.count"] == 1


def test_call_that_succeeds_first_counts_no_retry(
    instrumented: Instrumented, provider: SimulatedProvider
) -> None:
    """A routed call answered at once: one inference span, no retries or fallbacks counted."""
    router = _router(provider, provider)
    with instrumented() as captured:
        router.completion(model="primary", messages=MESSAGES)
    spans = captured.finished_spans()
    route = _route(spans)
    (attempt,) = [s for s in spans if s is not route]
    assert attempt.parent.span_id == route.context.span_id
    assert attempt.context.trace_id == route.context.trace_id
    assert route.attributes["otel_llm.retry.count"] == 0
    assert route.attributes["otel_llm.fallback.count"] == 0


def test_route_that_fails_everywhere_fails_by_type_only(
    instrumented: Instrumented, failing: SimulatedProvider
) -> None:
    """When every attempt fails the route span fails too, with the error's type and no text."""
    router = _router(failing, failing, num_retries=1)
    with instrumented() as captured, pytest.raises(InternalServerError):
        asyncio.run(router.acompletion(model="primary", messages=MESSAGES))
    route = _route(captured.finished_spans())
    assert route.status.status_code is StatusCode.ERROR
    assert route.status.description is None
    assert route.attributes["error.type"] == "litellm.InternalServerError"
    assert route.attributes["otel_llm.retry.count"] == 1
    assert route.attributes["otel_llm.fallback.count"] == 0
    assert captured.metric_points("otel_llm.client.fallbacks") == []


def test_routed_embeddings_nest_under_the_route(
    instrumented: Instrumented, provider: SimulatedProvider
) -> None:
    """Router.aembedding: one embeddings span under the route span."""
    router = Router(
        model_list=[
            {
                "model_name": "embed",
                "litellm_params": {
                    "model": "openai/text-embedding-3-small",
                    "api_base": provider.base_url_openai,
                    "api_key": "sk-test",
                },
            }
        ]
    )
    with instrumented() as captured:
        asyncio.run(router.aembedding(model="embed", input=["order 1042"]))
    spans = captured.finished_spans()
    route = _route(spans)
    (attempt,) = [s for s in spans if s is not route]
    assert attempt.name == "embeddings text-embedding-3-small"
    assert attempt.parent.span_id == route.context.span_id
