"""The provider-neutral engine, driven through a fake SDK method and a fake endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

import otel_llm._errors
from otel_llm._prompt import prompt
from otel_llm.config import Settings
from otel_llm.instrumentation._engine import in_instrumented_call, wrap_async, wrap_sync
from otel_llm.instrumentation._model import Endpoint, RequestInfo, ResponseInfo, Usage
from tests.conftest import Captured, make_captured


class FakeResource:
    """Stands in for an SDK resource such as `client.chat.completions`."""

    def __init__(self, answer: Any = "reply") -> None:
        self.answer = answer
        self.calls = 0

    def create(self, **kwargs: Any) -> Any:
        self.calls += 1
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    async def acreate(self, **kwargs: Any) -> Any:
        return self.create(**kwargs)


def _request(resource: Any, kwargs: Mapping[str, Any]) -> RequestInfo:
    return RequestInfo(model=kwargs.get("model"), attributes={"gen_ai.request.max_tokens": 10})


def _response(result: Any, capture: bool) -> ResponseInfo:
    return ResponseInfo(
        response_id="r-1", model="m-2024", usage=Usage(input_tokens=3, output_tokens=2)
    )


ENDPOINT = Endpoint(
    operation="chat", provider=lambda _: "openai", request=_request, response=_response
)


def _call(resource: FakeResource, **kwargs: Any) -> Any:
    wrapper = wrap_sync(ENDPOINT)
    return wrapper(resource.create, resource, (), {"model": "m", **kwargs})


def test_records_one_span_and_returns_the_result(captured: Captured) -> None:
    """The wrapped method's return value passes through untouched and one span is recorded."""
    sentinel = object()
    assert _call(FakeResource(sentinel)) is sentinel
    (span,) = captured.finished_spans()
    assert span.name == "chat m"
    assert span.attributes["gen_ai.response.model"] == "m-2024"


def test_nested_calls_are_recorded_once(captured: Captured) -> None:
    """An instrumented call made while another is being recorded is not recorded again."""
    inner = FakeResource()
    wrapper = wrap_sync(ENDPOINT)

    class Outer(FakeResource):
        def create(self, **kwargs: Any) -> Any:
            assert in_instrumented_call()
            return wrapper(inner.create, inner, (), {"model": "inner"})

    outer = Outer()
    wrapper(outer.create, outer, (), {"model": "outer"})
    assert [s.name for s in captured.finished_spans()] == ["chat outer"]
    assert inner.calls == 1


def test_suppressed_instrumentation_records_nothing(captured: Captured) -> None:
    """Inside OpenTelemetry's suppress_instrumentation() the call runs unrecorded."""
    with suppress_instrumentation():
        assert _call(FakeResource()) == "reply"
    assert captured.finished_spans() == []


def test_user_exception_is_the_same_object(captured: Captured) -> None:
    """The exception the SDK raised reaches the caller as the very same object."""
    error = ValueError("bad request")
    with pytest.raises(ValueError, match="bad request") as excinfo:
        _call(FakeResource(error))
    assert excinfo.value is error
    (span,) = captured.finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description is None  # content capture is off: no exception text
    assert span.attributes["error.type"] == "ValueError"


def test_broken_extractor_never_breaks_the_call(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside pytest, a bug in a provider module is logged once and the call still succeeds."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    def broken(resource: Any, kwargs: Mapping[str, Any]) -> RequestInfo:
        raise RuntimeError("extractor bug")

    endpoint = Endpoint(
        operation="chat", provider=lambda _: "openai", request=broken, response=_response
    )
    resource = FakeResource()
    assert wrap_sync(endpoint)(resource.create, resource, (), {"model": "m"}) == "reply"
    assert captured.finished_spans() == []


def test_a_failing_price_costs_the_span_only_its_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside pytest, a pricing bug leaves the call, its response attributes and metrics."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)
    # No cost processor in front of the exporter: the engine's own pricing is under test.
    captured = make_captured(Settings(cost_enabled=False))

    def broken(
        attributes: Mapping[str, Any], usage: Usage | None, context: Context | None
    ) -> dict[str, Any]:
        raise RuntimeError("pricing bug")

    telemetry = dataclasses.replace(captured.telemetry, price=broken)
    resource = FakeResource()
    wrapper = wrap_sync(ENDPOINT, telemetry)
    assert wrapper(resource.create, resource, (), {"model": "m"}) == "reply"
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.usage.input_tokens"] == 3
    assert not any(key.startswith("otel_llm.cost") for key in span.attributes)
    assert captured.metric_points("gen_ai.client.inference.duration")


def test_broken_extractor_is_visible_under_pytest(captured: Captured) -> None:
    """Under pytest the same bug surfaces, so tests catch telemetry bugs."""

    def broken(result: Any, capture: bool) -> ResponseInfo:
        raise RuntimeError("response bug")

    endpoint = Endpoint(
        operation="chat", provider=lambda _: "openai", request=_request, response=broken
    )
    resource = FakeResource()
    with pytest.raises(RuntimeError, match="response bug"):
        wrap_sync(endpoint)(resource.create, resource, (), {"model": "m"})


def test_prompt_context_stamps_spans_and_metrics(captured: Captured) -> None:
    """Inside otel_llm.prompt(), spans and metric points carry the prompt name and version."""
    with prompt("support_answer", version="v42", variables={"tier": "gold"}):
        _call(FakeResource())
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.prompt.name"] == "support_answer"
    assert span.attributes["gen_ai.prompt.version"] == "v42"
    assert "gen_ai.prompt.variable.tier" not in span.attributes  # content capture is off
    (point,) = captured.metric_points("gen_ai.client.inference.duration")
    assert point.attributes["gen_ai.prompt.version"] == "v42"


def test_span_is_current_during_the_call(captured: Captured) -> None:
    """Spans started by the SDK during the call (e.g. HTTP) become children of the GenAI span."""
    seen: list[Any] = []

    class Recording(FakeResource):
        def create(self, **kwargs: Any) -> Any:
            seen.append(trace.get_current_span().get_span_context())
            return "reply"

    resource = Recording()
    wrap_sync(ENDPOINT)(resource.create, resource, (), {"model": "m"})
    (span,) = captured.finished_spans()
    assert seen == [span.context]


def test_threads_and_gather_keep_parents(captured: Captured) -> None:
    """Calls from threads and from asyncio.gather each get the right parent span."""
    tracer = captured.telemetry.tracer
    wrapper = wrap_async(ENDPOINT)

    def in_thread(index: int) -> None:
        with tracer.start_as_current_span(f"request {index}"):
            _call(FakeResource())

    threads = [threading.Thread(target=in_thread, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def one(index: int) -> None:
        with tracer.start_as_current_span(f"task {index}"):
            resource = FakeResource()
            await wrapper(resource.acreate, resource, (), {"model": "m"})

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(8)))

    asyncio.run(main())
    spans = captured.finished_spans()
    parents = {s.context.span_id: s for s in spans if not s.name.startswith("chat")}
    chats = [s for s in spans if s.name.startswith("chat")]
    assert len(chats) == 16
    for chat in chats:
        parent = parents[chat.parent.span_id]
        assert parent.context.trace_id == chat.context.trace_id
    assert len({c.parent.span_id for c in chats}) == 16
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left attached
