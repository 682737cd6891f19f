"""One recorded call: metrics by operation, provider error classes, and the features' hooks."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, InMemoryLogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics._internal.measurement_consumer import (
    SynchronousMeasurementConsumer,
)
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from otel_llm._sums import Sums
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.cost import PriceBook
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._engine import wrap_sync
from otel_llm.instrumentation.endpoint import Endpoint, ErrorClass, RequestInfo
from otel_llm.instrumentation.hooks import CallHook, CallRecord
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.instrumentation.types import Content, ResponseInfo, Usage
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline
from otel_llm.redaction import Redactor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes


class Throttled(Exception):
    """One exception class for every failure, told apart by a code (as botocore's)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _raise(error: BaseException) -> Any:
    def create(**kwargs: Any) -> Any:
        raise error

    return create


def _reply(**kwargs: Any) -> str:
    return "reply"


def _endpoint(operation: str = "chat", **fields: Any) -> Endpoint:
    return Endpoint(
        operation=operation,
        provider="aws.bedrock",
        request=lambda instance, args, kwargs: RequestInfo(model="m"),
        response=lambda result, capture: ResponseInfo(
            model="m-1", usage=Usage(input_tokens=7, output_tokens=3)
        ),
        **fields,
    )


def _run(endpoint: Endpoint, method: Any = _reply, recorder: Recorder | None = None) -> Any:
    return wrap_sync(endpoint, recorder)(method, object(), (), {})


def _outcome(captured: Captured) -> str:
    (point,) = captured.metric_points("otel_llm.client.requests")
    return str(point.attributes["otel_llm.request.outcome"])


@pytest.mark.parametrize("operation", ["chat", "text_completion", "generate_content"])
def test_every_inference_operation_gets_the_inference_metrics(
    captured: Captured, operation: str
) -> None:
    """chat, text_completion and generate_content all record duration and token usage."""
    _run(_endpoint(operation))
    (duration,) = captured.metric_points("gen_ai.client.inference.duration")
    assert duration.attributes["gen_ai.operation.name"] == operation
    (output,) = captured.metric_points("gen_ai.client.inference.usage.output_tokens")
    assert output.value == 3
    assert captured.metric_points("gen_ai.client.inference.operation.input_tokens")
    assert not captured.metric_points("gen_ai.client.operation.duration")


def test_embeddings_get_the_operation_duration_and_their_input_tokens(captured: Captured) -> None:
    """Embeddings: operation duration, and input tokens on the usage counter by operation."""
    _run(_endpoint("embeddings"))
    (duration,) = captured.metric_points("gen_ai.client.operation.duration")
    assert duration.attributes["gen_ai.operation.name"] == "embeddings"
    (tokens,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert (tokens.value, tokens.attributes["gen_ai.operation.name"]) == (7, "embeddings")
    assert not captured.metric_points("gen_ai.client.inference.usage.output_tokens")
    assert not captured.metric_points("gen_ai.client.inference.duration")


def test_a_failed_embeddings_call_counts_zero_tokens(captured: Captured) -> None:
    """A failed embeddings call adds 0 input tokens, as failed inference calls do."""
    with pytest.raises(ValueError, match="bad"):
        _run(_endpoint("embeddings"), _raise(ValueError("bad")))
    (tokens,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == 0
    assert "error.type" not in tokens.attributes


def test_provider_classifies_its_errors_with_their_error_type(captured: Captured) -> None:
    """A provider's classifier sets the outcome and error.type on the span and metrics."""

    def classify(exc: BaseException) -> ErrorClass | None:
        if isinstance(exc, Throttled) and exc.code == "ThrottlingException":
            return ErrorClass("rate_limited", "ThrottlingException")
        return None

    endpoint = _endpoint(classify=classify)
    with pytest.raises(Throttled):
        _run(endpoint, _raise(Throttled("ThrottlingException")))
    (span,) = captured.finished_spans()
    assert span.attributes["error.type"] == "ThrottlingException"
    assert span.status.status_code is StatusCode.ERROR
    assert _outcome(captured) == "rate_limited"
    (duration,) = captured.metric_points("gen_ai.client.inference.duration")
    assert duration.attributes["error.type"] == "ThrottlingException"


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (Throttled("ValidationException"), "error"),
        (TimeoutError("read"), "timeout"),
        (KeyboardInterrupt(), "cancelled"),
    ],
)
def test_unclassified_errors_fall_back_to_the_generic_outcome(
    captured: Captured, error: BaseException, outcome: str
) -> None:
    """What the provider does not classify is a timeout, cancelled, or else an error."""
    endpoint = _endpoint(classify=lambda exc: None)
    with pytest.raises(type(error)):
        _run(endpoint, _raise(error))
    assert _outcome(captured) == outcome


class Recording(CallHook):
    """A hook that records what it saw, adding one attribute at each point."""

    def __init__(self, wants_end: bool = True) -> None:
        self.wants_end = wants_end
        self.seen: list[str] = []

    def start(self, call: CallRecord) -> bool:
        self.seen.append("start")
        call.attributes["test.start"] = "yes"
        call.metric_attributes["gen_ai.prompt.name"] = "p"
        return self.wants_end

    def end(
        self, call: CallRecord, info: ResponseInfo, response: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        self.seen.append(f"end {response['gen_ai.response.model']}")
        return {"test.end": "yes"}

    def after(self, call: CallRecord, info: ResponseInfo, outcome: str) -> None:
        assert not call.span.is_recording()  # the span has ended
        self.seen.append(f"after {outcome}")


def test_hooks_add_start_and_end_attributes_then_act_after_the_span(captured: Captured) -> None:
    """start() attributes are on the span from its start, end() adds more, after() runs last."""
    hook = Recording()
    _run(_endpoint(), recorder=Recorder(captured.telemetry, (hook,)))
    (span,) = captured.finished_spans()
    assert span.attributes["test.start"] == "yes"
    assert span.attributes["test.end"] == "yes"
    assert hook.seen == ["start", "end m-1", "after success"]
    (duration,) = captured.metric_points("gen_ai.client.inference.duration")
    assert duration.attributes["gen_ai.prompt.name"] == "p"


def test_a_hook_that_declines_the_end_is_not_called_there(captured: Captured) -> None:
    """A hook whose start() returns False sees neither end() nor after() for that call."""
    hook = Recording(wants_end=False)
    _run(_endpoint(), recorder=Recorder(captured.telemetry, (hook,)))
    assert hook.seen == ["start"]


def test_a_hook_that_needs_content_gets_it_without_recording_it(captured: Captured) -> None:
    """needs_content builds the request's content for the hook; capture off keeps it off spans."""
    seen: list[Any] = []

    class Reader(CallHook):
        def start(self, call: CallRecord) -> bool:
            call.needs_content = True
            return True

        def after(self, call: CallRecord, info: ResponseInfo, outcome: str) -> None:
            seen.append(call.content)

    question = Content(input_messages=[{"role": "user", "parts": []}])
    endpoint = _endpoint(content=lambda params: question)
    _run(endpoint, recorder=Recorder(captured.telemetry, (Reader(),)))
    assert seen == [question]
    (span,) = captured.finished_spans()
    assert "gen_ai.input.messages" not in span.attributes


def test_the_details_event_is_for_inference_only() -> None:
    """With events captured, chat emits the details event and embeddings do not."""
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY))
    recorder = Recorder(captured.telemetry)
    _run(_endpoint("chat"), recorder=recorder)
    _run(_endpoint("embeddings"), recorder=recorder)
    events = captured.events("gen_ai.client.inference.operation.details")
    assert [e.attributes["gen_ai.operation.name"] for e in events] == ["chat"]


def test_the_calling_thread_makes_the_span_and_no_metric_point_price_or_redaction_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call's own thread leaves every metric point, price and redaction check to others.

    The full default pipeline (content captured, pricing, redaction behind batch processors):
    the calling thread records no SDK measurement, no in-process sum, no price and no
    redaction check; all of them happen once the providers flush and collect.
    """
    seen: dict[str, list[str]] = {}

    def noting(kind: str, method: Any) -> Any:
        def noted(*args: Any, **kwargs: Any) -> Any:
            seen.setdefault(kind, []).append(threading.current_thread().name)
            return method(*args, **kwargs)

        return noted

    for owner, name, kind in (
        (SynchronousMeasurementConsumer, "consume_measurement", "metric point"),
        (Sums, "add", "in-process sum"),
        (PriceBook, "price", "price"),
        (Redactor, "is_clean", "redaction check"),
        (Redactor, "redact_mapping", "redaction"),
    ):
        monkeypatch.setattr(owner, name, noting(kind, getattr(owner, name)))
    settings = Settings(capture_message_content=ContentCapturingMode.SPAN_AND_EVENT)
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(build_span_pipeline(BatchSpanProcessor(spans), settings))
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(
        build_log_pipeline(BatchLogRecordProcessor(logs), settings)
    )
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=logger_provider,
        settings=settings,
        skip_dep_check=True,
    )
    messages: Any = [{"role": "user", "content": "Mail me at bob.smith@example.com"}]

    def application() -> None:
        reply = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        words = [f" w{i}" for i in range(20)]
        stream = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks(words))))
        for _ in range(3):
            reply.chat.completions.create(model="gpt-4o-mini", messages=messages)
            for _ in stream.chat.completions.create(
                model="gpt-4o-mini", messages=messages, stream=True
            ):
                pass

    app = threading.Thread(target=application, name="application")
    try:
        app.start()
        app.join(120)
        assert not app.is_alive()
        tracer_provider.force_flush()
        logger_provider.force_flush()
        reader.collect()
    finally:
        instrumentor.uninstrument()
        for provider in (tracer_provider, logger_provider, meter_provider):
            provider.shutdown()
    assert {"metric point", "in-process sum", "price", "redaction check"} <= set(seen)
    assert not {kind for kind, threads in seen.items() if "application" in threads}
    exported = spans.get_finished_spans()
    assert len(exported) == 6
    assert all("bob.smith@example.com" not in str(span.attributes) for span in exported)
    assert all("otel_llm.cost.total" in (span.attributes or {}) for span in exported)
