"""Pricing as a hook: each recorded call is priced in the spend metrics, sampled or not."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from otel_llm.cost import PriceBook
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._engine import wrap_sync
from otel_llm.instrumentation._pricing import PricingHook
from otel_llm.instrumentation.endpoint import Endpoint, RequestInfo
from otel_llm.instrumentation.types import ResponseInfo, Usage
from tests.conftest import Captured

BOOK = PriceBook()


def _endpoint(operation: str = "chat") -> Endpoint:
    return Endpoint(
        operation=operation,
        provider="openai",
        request=lambda instance, args, kwargs: RequestInfo(model="gpt-4o-mini"),
        response=lambda result, capture: ResponseInfo(
            model="gpt-4o-mini-2024-07-18", usage=Usage(input_tokens=1000, output_tokens=100)
        ),
    )


def _run(recorder: Recorder, operation: str = "chat") -> None:
    def create(**kwargs: Any) -> str:
        return "reply"

    wrap_sync(_endpoint(operation), recorder)(create, object(), (), {})


def test_a_call_is_priced_in_the_spend_metrics_as_on_its_span(captured: Captured) -> None:
    """The spend metrics hold the price the cost processor puts on the span, counted once.

    The hook prices off the calling thread; the span is priced by the cost processor otel-llm
    put in front of the exporter, which leaves the spend of otel-llm's own calls to the hook.
    """
    hook = PricingHook(BOOK, captured.telemetry.instruments)
    _run(Recorder(captured.telemetry, (hook,)))
    (span,) = captured.finished_spans()
    total = span.attributes["otel_llm.cost.total"]
    assert total == pytest.approx(0.00021)
    (spend,) = captured.metric_points("otel_llm.client.cost")
    assert spend.value == total
    (per_request,) = captured.metric_points("otel_llm.client.request.cost")
    assert (per_request.count, per_request.sum) == (1, total)


def test_a_sampled_out_call_is_priced_all_the_same(captured: Captured) -> None:
    """The spend metrics do not depend on trace sampling."""
    unsampled = TracerProvider(sampler=ALWAYS_OFF).get_tracer("test")
    telemetry = dataclasses.replace(captured.telemetry, tracer=unsampled)
    _run(Recorder(telemetry, (PricingHook(BOOK, telemetry.instruments),)))
    assert captured.finished_spans() == []
    (spend,) = captured.metric_points("otel_llm.client.cost")
    assert spend.value == pytest.approx(0.00021)


def test_operations_not_billed_by_tokens_are_not_priced(captured: Captured) -> None:
    """A call whose operation is not token-billed gets no cost attributes and no spend."""
    hook = PricingHook(BOOK, captured.telemetry.instruments)
    _run(Recorder(captured.telemetry, (hook,)), operation="retrieval")
    (span,) = captured.finished_spans()
    assert not any(key.startswith("otel_llm.cost") for key in span.attributes)
    assert captured.metric_points("otel_llm.client.cost") == []
