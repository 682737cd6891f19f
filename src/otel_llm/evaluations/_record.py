"""record_evaluation: one evaluation result as a `gen_ai.evaluation.result` event and metrics."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import LABEL_MAX_BYTES, capture_mode, fit_text
from otel_llm._errors import guarded
from otel_llm._prompt import current_prompt
from otel_llm._telemetry import get_telemetry
from otel_llm.semconv.attributes import error as error_attrs
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as oa
from otel_llm.semconv.events import gen_ai as ge
from otel_llm.semconv.metrics import otel_llm as om

__all__ = ["OperationDefaults", "operation_defaults", "record_evaluation"]

_logger = logging.getLogger("otel_llm")


@dataclass(frozen=True)
class OperationDefaults:
    """Provider, model and prompt of an evaluated operation, read from its span or context."""

    provider: str | None = None
    model: str | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None


def _text(attributes: Mapping[str, object], key: str) -> str | None:
    value = attributes.get(key)
    return value if isinstance(value, str) and value else None


def _span_attributes(span: Span) -> Mapping[str, object]:
    # SDK spans expose their attributes (also after end); API and no-op spans do not.
    attributes = getattr(span, "attributes", None)
    return attributes if isinstance(attributes, Mapping) else {}


def operation_defaults(span_context: SpanContext | None = None) -> OperationDefaults:
    """Defaults from the current span when it is recording (and is `span_context`, if given).

    The request model is preferred to the response model: it is what the metric dimension
    `gen_ai.request.model` means and what the other request metrics are keyed by. Without a
    matching recording span, the prompt comes from `current_prompt()` only when no other span
    was named.
    """
    span = trace.get_current_span()
    attributes: Mapping[str, object] = {}
    if span.is_recording():
        current = span.get_span_context()
        if span_context is None or (
            current.trace_id == span_context.trace_id and current.span_id == span_context.span_id
        ):
            attributes = _span_attributes(span)
    prompt_name = _text(attributes, ga.GEN_AI_PROMPT_NAME)
    prompt_version = _text(attributes, ga.GEN_AI_PROMPT_VERSION)
    matches = span_context is None or bool(attributes)
    if prompt_name is None and matches:
        # The surrounding prompt block describes the evaluated call only when that call is the
        # current one; an evaluation of an older span must not borrow today's prompt.
        info = current_prompt()
        if info is not None:
            prompt_name, prompt_version = info.name, info.version
    return OperationDefaults(
        provider=_text(attributes, ga.GEN_AI_PROVIDER_NAME),
        model=_text(attributes, ga.GEN_AI_REQUEST_MODEL)
        or _text(attributes, ga.GEN_AI_RESPONSE_MODEL),
        prompt_name=prompt_name,
        prompt_version=prompt_version,
    )


def _only(
    attributes: dict[str, AttributeValue], allowed: frozenset[str]
) -> dict[str, AttributeValue]:
    return {key: value for key, value in attributes.items() if key in allowed}


def _event_attributes(
    name: str,
    *,
    score: float | None,
    label: str | None,
    passed: bool | None,
    explanation: str | None,
    response_id: str | None,
    error_type: str | None,
) -> dict[str, AttributeValue]:
    event: dict[str, AttributeValue] = {ga.GEN_AI_EVALUATION_NAME: name}
    optional: tuple[tuple[str, AttributeValue | None], ...] = (
        (ga.GEN_AI_EVALUATION_SCORE_VALUE, None if score is None else float(score)),
        (ga.GEN_AI_EVALUATION_SCORE_LABEL, label),
        (ga.GEN_AI_EVALUATION_EXPLANATION, explanation),
        (ga.GEN_AI_RESPONSE_ID, response_id),
        (oa.OTEL_LLM_EVALUATION_PASSED, None if passed is None else bool(passed)),
        (error_attrs.ERROR_TYPE, error_type),
    )
    for key, value in optional:
        if value is not None:
            event[key] = value
    return event


@guarded(None)
def record_evaluation(
    name: str,
    *,
    score: float | None = None,
    label: str | None = None,
    passed: bool | None = None,
    explanation: str | None = None,
    span_context: SpanContext | None = None,
    response_id: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    prompt_name: str | None = None,
    prompt_version: str | None = None,
    error_type: str | None = None,
) -> None:
    """Record the result of evaluating one GenAI response: an event plus score/pass metrics.

    The `gen_ai.evaluation.result` event is parented to the evaluated span: `span_context` when
    given (it may have ended, even in another process), else the current span. `response_id`
    ties it to the response as well. Provider, model and prompt default to the current recording
    span's (or the current prompt); they and the evaluation name are the only metric dimensions.
    `explanation` is content (it is derived from the reply): recorded only when content capture
    covers events (EVENT_ONLY, SPAN_AND_EVENT), cut to OTEL_LLM_MAX_CONTENT_BYTES (redacted
    before it is cut). `label` is recorded in any mode, cut to 256 bytes (redacted first) and
    scanned by the redaction processor. Never raises: a bad argument is logged and the result
    dropped.
    """
    if not isinstance(name, str) or not name:
        _logger.warning("otel-llm: record_evaluation needs a non-empty name; result dropped")
        return
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score)
    ):
        _logger.warning(
            "otel-llm: evaluation %r score %r is not a finite number; score dropped", name, score
        )
        score = None
    if provider is None or model is None or prompt_name is None or prompt_version is None:
        defaults = operation_defaults(span_context)
        provider = provider if provider is not None else defaults.provider
        model = model if model is not None else defaults.model
        if prompt_name is None or prompt_name == defaults.prompt_name:
            prompt_name = defaults.prompt_name
            prompt_version = (
                prompt_version if prompt_version is not None else defaults.prompt_version
            )

    telemetry = get_telemetry()
    budget = telemetry.settings.max_content_bytes
    if label is not None:
        # Any string is accepted (a judge's words): scanned by the processor, and budgeted.
        label = fit_text(str(label), min(LABEL_MAX_BYTES, budget), telemetry.redact_part)
    if explanation is not None:
        # Derived from the reply (a judge may quote it): content, so recorded only where the
        # capture mode lets content go, the event; cut to the content budget, redacted first.
        explanation = (
            fit_text(str(explanation), budget, telemetry.redact_part)
            if capture_mode(telemetry).on_events
            else None
        )
    event = _event_attributes(
        name,
        score=score,
        label=label,
        passed=passed,
        explanation=explanation,
        response_id=response_id,
        error_type=error_type,
    )
    context = (
        trace.set_span_in_context(NonRecordingSpan(span_context))
        if span_context is not None
        else otel_context.get_current()
    )
    telemetry.logger.emit(
        event_name=ge.GEN_AI_EVALUATION_RESULT,
        severity_number=SeverityNumber(ge.GEN_AI_EVALUATION_RESULT_SEVERITY_NUMBER),
        context=context,
        attributes=_only(event, ge.GEN_AI_EVALUATION_RESULT_ATTRIBUTES),
    )

    _roll_up(trace.get_current_span(), score=score, passed=passed)

    dimensions: dict[str, AttributeValue] = {ga.GEN_AI_EVALUATION_NAME: name}
    for key, value in (
        (ga.GEN_AI_PROVIDER_NAME, provider),
        (ga.GEN_AI_REQUEST_MODEL, model),
        (ga.GEN_AI_PROMPT_NAME, prompt_name),
        (ga.GEN_AI_PROMPT_VERSION, prompt_version),
    ):
        if value is not None:
            dimensions[key] = value
    instruments = telemetry.instruments
    if score is not None:
        # Its exemplar points at the evaluated span, as the event does.
        instruments.evaluation_score.record(
            float(score), _only(dimensions, om.OTEL_LLM_EVALUATION_SCORE_ATTRIBUTES), context
        )
    if passed is not None:
        # Not by label: labels are open-ended (a judge's words, PiiInOutput's kinds joined), so
        # the label stays on the event and the verdict is the dimension.
        verdict = {**dimensions, oa.OTEL_LLM_EVALUATION_PASSED: bool(passed)}
        instruments.evaluation_results.add(
            1, _only(verdict, om.OTEL_LLM_EVALUATION_RESULTS_ATTRIBUTES)
        )


def _roll_up(span: Span, *, score: float | None, passed: bool | None) -> None:
    """Count a failure and keep the lowest score on the open current span (a workflow, say).

    Tail samplers see spans, not evaluation events: this lets one keep every trace with a
    failed or low-scoring evaluation recorded while its root was still open.
    """
    if (passed is not False and score is None) or not span.is_recording():
        return
    attributes = _span_attributes(span)
    if passed is False:
        failures = attributes.get(oa.OTEL_LLM_EVALUATION_FAILURES)
        count = failures if isinstance(failures, int) and not isinstance(failures, bool) else 0
        span.set_attribute(oa.OTEL_LLM_EVALUATION_FAILURES, count + 1)
    if score is not None:
        lowest = attributes.get(oa.OTEL_LLM_EVALUATION_MIN_SCORE)
        if not isinstance(lowest, float) or score < lowest:
            span.set_attribute(oa.OTEL_LLM_EVALUATION_MIN_SCORE, float(score))
