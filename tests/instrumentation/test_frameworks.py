"""Framework model runs: recorded once, by the SDK call beneath or from the framework's report."""

from __future__ import annotations

import contextvars

import openai
from opentelemetry import context as otel_context
from opentelemetry import trace

from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._frameworks import ModelRun, attach, detach, leave
from otel_llm.instrumentation.endpoint import RequestInfo
from otel_llm.instrumentation.instrumentor import call_hooks
from otel_llm.instrumentation.types import ResponseInfo, Usage
from tests.conftest import Captured
from tests.instrumentation._frameworks_app import Scripted, answer, instrumented


def _run(recorder: Recorder, extra: dict[str, str] | None = None) -> ModelRun:
    return ModelRun(recorder, "chat", "acme", RequestInfo(model="m-1"), extra)


def _recorder(captured: Captured) -> Recorder:
    return Recorder(captured.telemetry, call_hooks(captured.telemetry))


def _ask(script: Scripted) -> None:
    client = openai.OpenAI(api_key="k", max_retries=0, http_client=script.clients()[0])
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )


def test_an_sdk_call_inside_the_run_is_its_record() -> None:
    """The openai call made while the run is open covers it: finish() records nothing more."""
    with instrumented() as captured:
        run = _run(_recorder(captured), {"gen_ai.conversation.id": "c-1"})
        token = run.enter()
        _ask(Scripted([answer()]))
        leave(token)
        run.finish(None, lambda capturing: ResponseInfo())
    (span,) = captured.finished_spans()
    assert run.covered
    assert span.name == "chat gpt-4o-mini"
    assert span.attributes["gen_ai.conversation.id"] == "c-1"  # the run's extra, merged


def test_a_run_no_sdk_call_covered_is_recorded_from_its_report() -> None:
    """No SDK call inside: an inference span under the given parent, with usage and metrics."""
    with instrumented(openai_sdk=False) as captured:
        tracer = captured.providers["tracer_provider"].get_tracer("app")
        with tracer.start_as_current_span("parent") as parent:
            context = otel_context.get_current()
        run = _run(_recorder(captured))
        run.chunk()
        run.finish(
            context,
            lambda capturing: ResponseInfo(
                model="m-1b", usage=Usage(input_tokens=3, output_tokens=2)
            ),
        )
    spans = {s.name: s for s in captured.finished_spans()}
    span = spans["chat m-1"]
    assert span.parent.span_id == parent.get_span_context().span_id
    assert span.kind is trace.SpanKind.CLIENT
    assert span.attributes["gen_ai.provider.name"] == "acme"
    assert span.attributes["gen_ai.usage.input_tokens"] == 3
    assert span.attributes["gen_ai.request.stream"] is True
    (point,) = captured.metric_points("gen_ai.client.inference.duration")
    assert point.count == 1


def test_an_ended_run_left_open_is_not_covered_by_a_later_call() -> None:
    """A run ended in another context (an async end callback) is ignored by later SDK calls."""
    with instrumented() as captured:
        run = _run(_recorder(captured), {"gen_ai.conversation.id": "stale"})
        run.enter()  # never left: its end ran in a copy of this context
        run.finish(None, lambda capturing: ResponseInfo())
        _ask(Scripted([answer()]))
    sdk = [s for s in captured.finished_spans() if s.name == "chat gpt-4o-mini"]
    assert len(sdk) == 1
    assert "gen_ai.conversation.id" not in sdk[0].attributes


def test_leave_and_detach_from_another_context_do_nothing() -> None:
    """Undoing in a copy of the context is quiet (no error logged or raised), and harmless."""
    with instrumented(openai_sdk=False) as captured:
        run = _run(_recorder(captured))
        token = run.enter()
        marker = attach(trace.set_span_in_context(trace.INVALID_SPAN))
        copy = contextvars.copy_context()
        copy.run(leave, token)
        copy.run(detach, marker)
        detach(marker)
        leave(token)
