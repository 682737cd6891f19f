"""Tests for record_evaluation: the gen_ai.evaluation.result event and the evaluation metrics."""

import logging
from collections.abc import Iterator

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import INVALID_SPAN_ID

from otel_llm import prompt
from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.evaluations import record_evaluation
from otel_llm.semconv.events import gen_ai as ge
from otel_llm.semconv.metrics import otel_llm as om
from tests.conftest import Captured, make_captured

_LLM_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.id": "chatcmpl-1",
    "gen_ai.prompt.name": "support",
    "gen_ai.prompt.version": "v3",
}
_DIMENSIONS = {
    "gen_ai.evaluation.name": "helpful",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.prompt.name": "support",
    "gen_ai.prompt.version": "v3",
}


@pytest.fixture
def events_on() -> Iterator[Captured]:
    """An in-memory Telemetry whose content capture covers events (EVENT_ONLY), installed."""
    result = make_captured(Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY))
    set_telemetry(result.telemetry)
    try:
        yield result
    finally:
        set_telemetry(None)


def test_event_on_current_span_with_metrics(events_on: Captured) -> None:
    """Inside the evaluated span the event is parented to it and metrics take its dimensions."""
    captured = events_on
    tracer = captured.telemetry.tracer
    with tracer.start_as_current_span("chat gpt-4o", attributes=_LLM_ATTRIBUTES) as span:
        record_evaluation(
            "helpful",
            score=0.8,
            label="good",
            passed=True,
            explanation="answers the question",
            response_id="chatcmpl-1",
        )
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    assert event.severity_number == SeverityNumber(9)
    assert event.span_id == span.get_span_context().span_id
    assert event.trace_id == span.get_span_context().trace_id
    assert dict(event.attributes) == {
        "gen_ai.evaluation.name": "helpful",
        "gen_ai.evaluation.score.value": 0.8,
        "gen_ai.evaluation.score.label": "good",
        "gen_ai.evaluation.explanation": "answers the question",
        "gen_ai.response.id": "chatcmpl-1",
        "otel_llm.evaluation.passed": True,
    }
    [score] = captured.metric_points(om.OTEL_LLM_EVALUATION_SCORE)
    assert dict(score.attributes) == _DIMENSIONS
    assert (score.count, score.sum) == (1, 0.8)
    [verdict] = captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)
    # The label is on the event only: labels are open-ended, the verdict is the dimension.
    assert dict(verdict.attributes) == {**_DIMENSIONS, "otel_llm.evaluation.passed": True}
    assert verdict.value == 1


def test_event_for_ended_span_by_span_context(captured: Captured) -> None:
    """A span context given after the span ended still parents the event; explicit dims win."""
    tracer = captured.telemetry.tracer
    with tracer.start_as_current_span("chat", attributes=_LLM_ATTRIBUTES) as span:
        span_context = span.get_span_context()
    with tracer.start_as_current_span("unrelated", attributes={"gen_ai.provider.name": "x"}):
        record_evaluation(
            "helpful",
            passed=False,
            span_context=span_context,
            provider="anthropic",
            model="claude",
            prompt_name="support",
            prompt_version="v4",
        )
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    assert (event.trace_id, event.span_id) == (span_context.trace_id, span_context.span_id)
    assert dict(event.attributes) == {
        "gen_ai.evaluation.name": "helpful",
        "otel_llm.evaluation.passed": False,
    }
    [verdict] = captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)
    assert dict(verdict.attributes) == {
        "gen_ai.evaluation.name": "helpful",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude",
        "gen_ai.prompt.name": "support",
        "gen_ai.prompt.version": "v4",
        "otel_llm.evaluation.passed": False,
    }
    assert captured.metric_points(om.OTEL_LLM_EVALUATION_SCORE) == []


def test_response_id_only(captured: Captured) -> None:
    """Without any span the event has no parent and is tied to the response by its id only."""
    record_evaluation("helpful", score=3.0, response_id="resp-9", error_type="timeout")
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    assert event.span_id in (None, INVALID_SPAN_ID)
    assert dict(event.attributes) == {
        "gen_ai.evaluation.name": "helpful",
        "gen_ai.evaluation.score.value": 3.0,
        "gen_ai.response.id": "resp-9",
        "error.type": "timeout",
    }
    [score] = captured.metric_points(om.OTEL_LLM_EVALUATION_SCORE)
    assert dict(score.attributes) == {"gen_ai.evaluation.name": "helpful"}
    assert captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS) == []


def test_response_id_never_a_metric_dimension(captured: Captured) -> None:
    """Metric dimensions come only from the allow-lists, never response ids or explanations."""
    record_evaluation("x", score=0.5, passed=True, response_id="r", explanation="e", label="l")
    for name, allowed in (
        (om.OTEL_LLM_EVALUATION_SCORE, om.OTEL_LLM_EVALUATION_SCORE_ATTRIBUTES),
        (om.OTEL_LLM_EVALUATION_RESULTS, om.OTEL_LLM_EVALUATION_RESULTS_ATTRIBUTES),
    ):
        [point] = captured.metric_points(name)
        assert set(point.attributes) <= allowed
        assert "gen_ai.response.id" not in point.attributes


def test_prompt_defaults_from_current_prompt(captured: Captured) -> None:
    """Outside any recording span the prompt name and version come from current_prompt()."""
    with prompt("summarise", version="7"):
        record_evaluation("brevity", passed=True)
    [verdict] = captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)
    assert dict(verdict.attributes) == {
        "gen_ai.evaluation.name": "brevity",
        "gen_ai.prompt.name": "summarise",
        "gen_ai.prompt.version": "7",
        "otel_llm.evaluation.passed": True,
    }


def test_response_model_used_when_no_request_model(captured: Captured) -> None:
    """The model dimension falls back to the span's response model."""
    attributes = {"gen_ai.provider.name": "openai", "gen_ai.response.model": "gpt-x"}
    with captured.telemetry.tracer.start_as_current_span("chat", attributes=attributes):
        record_evaluation("m", passed=True)
    [verdict] = captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)
    assert verdict.attributes["gen_ai.request.model"] == "gpt-x"


def test_other_current_span_is_not_a_default_source(captured: Captured) -> None:
    """When span_context names another span, the current span's attributes are not used."""
    tracer = captured.telemetry.tracer
    with tracer.start_as_current_span("chat", attributes=_LLM_ATTRIBUTES) as span:
        evaluated = span.get_span_context()
    with tracer.start_as_current_span("other", attributes={"gen_ai.provider.name": "aws"}):
        record_evaluation("m", passed=True, span_context=evaluated)
    [verdict] = captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)
    assert "gen_ai.provider.name" not in verdict.attributes


def test_empty_name_is_logged_and_dropped(
    captured: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    """An empty evaluation name emits nothing and logs a warning instead of raising."""
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        record_evaluation("", score=1.0, passed=True)
    assert captured.events(ge.GEN_AI_EVALUATION_RESULT) == []
    assert captured.metric_points(om.OTEL_LLM_EVALUATION_SCORE) == []
    assert "non-empty name" in caplog.text


def test_non_finite_score_is_dropped(captured: Captured) -> None:
    """A NaN score is left out of the event and the histogram; the verdict is still recorded."""
    record_evaluation("nan", score=float("nan"), passed=False)
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    assert "gen_ai.evaluation.score.value" not in event.attributes
    assert captured.metric_points(om.OTEL_LLM_EVALUATION_SCORE) == []
    assert len(captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)) == 1


def test_evaluating_another_span_does_not_borrow_the_current_prompt(captured: Captured) -> None:
    """With an explicit span context, the surrounding prompt block is not attributed to it."""
    from opentelemetry.trace import SpanContext, TraceFlags  # noqa: PLC0415

    from otel_llm import prompt  # noqa: PLC0415

    other = SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(1))
    with prompt("checkout_bot", version="v9"):
        record_evaluation("relevance", passed=True, span_context=other)
    (point,) = captured.metric_points("otel_llm.evaluation.results")
    assert "gen_ai.prompt.name" not in point.attributes


def test_failures_and_lowest_score_roll_up_onto_the_open_enclosing_span(
    captured: Captured,
) -> None:
    """A workflow span open around evaluations of an ended call counts failures, keeps min score."""
    tracer = captured.telemetry.tracer
    with tracer.start_as_current_span("invoke_workflow support"):
        with tracer.start_as_current_span("chat gpt-4o", attributes=_LLM_ATTRIBUTES) as call:
            pass
        evaluated = call.get_span_context()
        record_evaluation("citation", passed=False, span_context=evaluated)
        record_evaluation("relevance", score=0.7, passed=True, span_context=evaluated)
        record_evaluation("tone", score=0.4, span_context=evaluated)
        record_evaluation("pii_in_output", passed=False, span_context=evaluated)
        record_evaluation("relevance", score=0.9, span_context=evaluated)
    spans = {s.name: s for s in captured.spans.get_finished_spans()}
    rolled = dict(spans["invoke_workflow support"].attributes or {})
    assert rolled["otel_llm.evaluation.failures"] == 2
    assert rolled["otel_llm.evaluation.min_score"] == 0.4
    assert "otel_llm.evaluation.failures" not in (spans["chat gpt-4o"].attributes or {})


def test_passing_unscored_evaluations_leave_the_enclosing_span_alone(captured: Captured) -> None:
    """Only failures and scores roll up: a passing verdict without a score adds no attribute."""
    tracer = captured.telemetry.tracer
    with tracer.start_as_current_span("invoke_workflow support"):
        record_evaluation("json_valid", passed=True)
    [span] = captured.spans.get_finished_spans()
    assert not {k for k in span.attributes or {} if k.startswith("otel_llm.evaluation")}


def test_the_score_exemplar_points_at_the_evaluated_span(captured: Captured) -> None:
    """A score recorded for an ended span, from inside another, links to the evaluated one."""
    tracer = captured.telemetry.tracer
    with tracer.start_as_current_span("chat", attributes=_LLM_ATTRIBUTES) as span:
        evaluated = span.get_span_context()
    with tracer.start_as_current_span("judge"):
        record_evaluation("helpful", score=0.4, span_context=evaluated)
    [score] = captured.metric_points(om.OTEL_LLM_EVALUATION_SCORE)
    [exemplar] = score.exemplars
    assert (exemplar.trace_id, exemplar.span_id) == (evaluated.trace_id, evaluated.span_id)


def test_long_explanation_is_cut_after_redaction(events_on: Captured) -> None:
    """An explanation over the content budget is cut with the marker, redacted before the cut."""
    captured = events_on
    budget = captured.telemetry.settings.max_content_bytes
    explanation = "~" * (budget - 40) + " quotes john.doe@example.com " + "~" * 50_000
    record_evaluation("judge", passed=False, explanation=explanation)
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    recorded = event.attributes["gen_ai.evaluation.explanation"]
    assert len(recorded.encode()) <= budget
    assert recorded.endswith(f"…[truncated {len(explanation)} bytes]")
    assert "john.doe@exa" not in recorded


def test_short_explanation_is_recorded_redacted(events_on: Captured) -> None:
    """An explanation within the budget is left to the processor, which redacts it."""
    record_evaluation("judge", passed=True, explanation="cites doc-1; mail jane@corp.example")
    [event] = events_on.events(ge.GEN_AI_EVALUATION_RESULT)
    assert event.attributes["gen_ai.evaluation.explanation"] == "cites doc-1; mail [REDACTED:email]"


@pytest.mark.parametrize("mode", list(ContentCapturingMode))
def test_an_explanation_is_content_recorded_only_where_events_carry_content(
    mode: ContentCapturingMode,
) -> None:
    """A judge's explanation quotes the reply: without content on events it is not recorded."""
    captured = make_captured(Settings(capture_message_content=mode))
    set_telemetry(captured.telemetry)
    try:
        record_evaluation("judge", passed=False, explanation="the reply said CANARY-123")
    finally:
        set_telemetry(None)
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    explanation = event.attributes.get("gen_ai.evaluation.explanation")
    assert explanation == ("the reply said CANARY-123" if mode.on_events else None)
    assert event.attributes["otel_llm.evaluation.passed"] is False


def test_a_label_is_scanned_and_budgeted(captured: Captured) -> None:
    """Any string is a label: an e-mail in it is redacted, 5 MB of it is cut to 256 bytes."""
    record_evaluation("judge", passed=False, label="jane.doe@example.com " + "x" * 5_000_000)
    record_evaluation("judge", passed=False, label="jane.doe@example.com")
    long, short = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    label = long.attributes["gen_ai.evaluation.score.label"]
    assert len(label.encode()) <= 256
    assert label.startswith("[REDACTED:email] xxx")
    assert label.endswith(f"…[truncated {5_000_021} bytes]")
    assert short.attributes["gen_ai.evaluation.score.label"] == "[REDACTED:email]"
