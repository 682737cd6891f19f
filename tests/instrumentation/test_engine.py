"""The provider-neutral engine, driven through a fake SDK method and a fake endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

import otel_llm._errors
import otel_llm.instrumentation._engine
from otel_llm._prompt import prompt
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._engine import in_instrumented_call, wrap_async, wrap_sync
from otel_llm.instrumentation.endpoint import Endpoint, ErrorClass, RequestInfo
from otel_llm.instrumentation.hooks import CallHook, CallRecord
from otel_llm.instrumentation.instrumentor import call_hooks
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage
from tests.conftest import Captured, make_captured
from tests.test_project import import_graph


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


def _request(resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RequestInfo:
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

    def broken(resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RequestInfo:
        raise RuntimeError("extractor bug")

    endpoint = Endpoint(
        operation="chat", provider=lambda _: "openai", request=broken, response=_response
    )
    resource = FakeResource()
    assert wrap_sync(endpoint)(resource.create, resource, (), {"model": "m"}) == "reply"
    assert captured.finished_spans() == []


def test_a_failing_price_costs_the_span_only_its_cost(
    captured: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside pytest, a pricing bug leaves the call, its response attributes and metrics."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    class Broken(CallHook):
        def start(self, call: CallRecord) -> bool:
            return True

        def end(
            self, call: CallRecord, info: ResponseInfo, response: Mapping[str, Any]
        ) -> Mapping[str, Any]:
            raise RuntimeError("pricing bug")

    resource = FakeResource()
    wrapper = wrap_sync(ENDPOINT, Recorder(captured.telemetry, (Broken(),)))
    assert wrapper(resource.create, resource, (), {"model": "m"}) == "reply"
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.usage.input_tokens"] == 3
    assert not any(key.startswith("otel_llm.cost") for key in span.attributes)
    assert captured.metric_points("gen_ai.client.inference.duration")


def test_a_failure_setting_content_costs_the_span_only_its_content(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside pytest, content that cannot be set after the span started leaves the span."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    def broken(*args: Any) -> Any:
        raise RuntimeError("content bug")

    monkeypatch.setattr(otel_llm.instrumentation._engine, "_content_attributes", broken)
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY))
    endpoint = dataclasses.replace(
        ENDPOINT, content=lambda params: Content(input_messages=[{"role": "user"}])
    )
    resource = FakeResource()
    wrapper = wrap_sync(endpoint, Recorder(captured.telemetry))
    assert wrapper(resource.create, resource, (), {"model": "m"}) == "reply"
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.usage.input_tokens"] == 3
    assert "gen_ai.input.messages" not in span.attributes


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
    recorder = Recorder(captured.telemetry, call_hooks(captured.telemetry))
    resource = FakeResource()
    with prompt("support_answer", version="v42", variables={"tier": "gold"}):
        wrap_sync(ENDPOINT, recorder)(resource.create, resource, (), {"model": "m"})
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


# --- the contract in the shapes of the SDKs to come ---------------------------------------
class ClientError(Exception):
    """One exception class for every service error, told apart by its code (as botocore's)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}}


class EventStream:
    """An iterable of events that is no iterator, with close() (as botocore's)."""

    def __init__(self, events: list[Any]) -> None:
        self._events = events

    def __iter__(self) -> Any:
        yield from self._events

    def close(self) -> None:
        pass


class RuntimeClient:
    """One method serving every operation, positional arguments (as botocore's client)."""

    def _make_api_call(self, operation_name: str, api_params: dict[str, Any]) -> Any:
        if api_params.get("modelId") == "throttled":
            raise ClientError("ThrottlingException")
        if operation_name == "ConverseStream":
            return {"ResponseMetadata": {}, "stream": EventStream([{"delta": "a"}, {"stop": 1}])}
        if operation_name == "InvokeModel":
            return {"body": b'{"embedding": [0.1], "inputTextTokenCount": 4}'}
        return {"Buckets": []}


class EventState:
    """Counts events; the stop event's presence says how the stream ended."""

    def __init__(self, capture: bool) -> None:
        self.events: list[Any] = []

    def on_chunk(self, chunk: Any) -> None:
        self.events.append(chunk)

    def result(self) -> ResponseInfo:
        stopped = any("stop" in event for event in self.events)
        return ResponseInfo(finish_reasons=("stop",) if stopped else ())


def _nested_stream(result: Any, call: Any) -> Any:
    result["stream"] = call.observe(result["stream"])
    return result


def _classify(exc: BaseException) -> ErrorClass | None:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code")
    return ErrorClass("rate_limited", code) if code == "ThrottlingException" else None


CONVERSE_STREAM = Endpoint(
    operation="chat",
    provider="aws.bedrock",
    request=lambda i, a, k: RequestInfo(model=None),
    streams=_nested_stream,
    stream_state=EventState,
    classify=_classify,
)
EMBED = Endpoint(
    operation="embeddings",
    provider="aws.bedrock",
    request=lambda i, a, k: RequestInfo(model=None),
    response=lambda result, capture: ResponseInfo(usage=Usage(input_tokens=4)),
    classify=_classify,
)


def _bedrock_request(instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    operation, params = args if len(args) == 2 else (kwargs["operation_name"], kwargs["api_params"])
    endpoint = {"ConverseStream": CONVERSE_STREAM, "InvokeModel": EMBED}.get(operation)
    if endpoint is None:
        return None  # any other AWS operation through the same hook: not a GenAI call
    return RequestInfo(model=params["modelId"], params=params, endpoint=endpoint)


HOOK = Endpoint(operation="chat", provider="aws.bedrock", request=_bedrock_request)


def _api_call(operation: str, params: dict[str, Any]) -> Any:
    client = RuntimeClient()
    return wrap_sync(HOOK)(client._make_api_call, client, (operation, params), {})


def test_one_positional_hook_serves_several_operations(captured: Captured) -> None:
    """The request sees positional arguments and picks the endpoint (operation) per call."""
    _api_call("InvokeModel", {"modelId": "amazon.titan-embed-text-v2:0"})
    assert _api_call("ListBuckets", {}) == {"Buckets": []}
    (span,) = captured.finished_spans()
    assert span.name == "embeddings amazon.titan-embed-text-v2:0"
    (tokens,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert (tokens.value, tokens.attributes["gen_ai.operation.name"]) == (4, "embeddings")


def test_a_stream_nested_in_the_result_is_observed_in_place(captured: Captured) -> None:
    """The result comes back with its stream proxied in place; reading it ends the call."""
    result = _api_call("ConverseStream", {"modelId": "anthropic.claude-v2"})
    assert isinstance(result["stream"], EventStream)
    assert captured.finished_spans() == []
    assert list(result["stream"]) == [{"delta": "a"}, {"stop": 1}]
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_a_provider_error_code_makes_the_outcome(captured: Captured) -> None:
    """A throttling error code counts as rate_limited, with the code as error.type."""
    with pytest.raises(ClientError):
        _api_call("ConverseStream", {"modelId": "throttled"})
    (span,) = captured.finished_spans()
    assert span.attributes["error.type"] == "ThrottlingException"
    (point,) = captured.metric_points("otel_llm.client.requests")
    assert point.attributes["otel_llm.request.outcome"] == "rate_limited"


def test_an_async_generator_stream_is_observed(captured: Captured) -> None:
    """A coroutine returning an async generator (google-genai's async stream) is proxied."""

    async def stream(**kwargs: Any) -> Any:
        async def chunks() -> Any:
            yield {"delta": "a"}
            yield {"stop": 1}

        return chunks()

    endpoint = Endpoint(
        operation="generate_content",
        provider="gcp.gemini",
        request=lambda i, a, k: RequestInfo(model=k["model"], stream=True),
        streams=lambda result, call: call.observe(result) if inspect.isasyncgen(result) else None,
        stream_state=EventState,
    )

    async def main() -> list[Any]:
        result = await wrap_async(endpoint)(stream, object(), (), {"model": "gemini-2.5-flash"})
        assert inspect.isasyncgen(result)
        return [chunk async for chunk in result]

    assert asyncio.run(main()) == [{"delta": "a"}, {"stop": 1}]
    (span,) = captured.finished_spans()
    assert span.name == "generate_content gemini-2.5-flash"
    assert captured.metric_points("gen_ai.client.inference.time_to_first_chunk")


def test_the_engine_imports_no_product_feature(repo_root: Path) -> None:
    """The engine's modules import none of prompts, baggage, evaluations, spans or pricing."""
    graph = import_graph(repo_root / "src/otel_llm")
    features = {
        "otel_llm._prompt",
        "otel_llm.context",
        "otel_llm.evaluations",
        "otel_llm.spans",
        "otel_llm.processors.cost",
        "otel_llm.cost",
    }
    for module in ("_engine", "_call", "_streams"):
        imported = graph[f"otel_llm.instrumentation.{module}"]
        assert not imported & features, (module, imported & features)
        assert not any(name.startswith("otel_llm.evaluations") for name in imported)
