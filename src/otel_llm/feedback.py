"""End-user feedback, recorded later (or elsewhere) as a span linked to the response's span."""

from __future__ import annotations

import logging
import math
import secrets

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import LABEL_MAX_BYTES, fit_text
from otel_llm._errors import guarded
from otel_llm._telemetry import get_telemetry
from otel_llm.context import context_span_attributes
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.attributes.otel_llm import OtelLlmFeedbackSentimentValues as Sentiment

_logger = logging.getLogger(__name__)

SPAN_NAME = "user_feedback"
"""The name of the feedback span (`otel_llm.feedback.internal`)."""

LINK_SCOPE = ol.OTEL_LLM_FEEDBACK_LINK_SCOPE
"""Link attribute saying what the link's span id means: `span` (the exact span that produced
the response, from a token) or `trace` (only the trace is known; the span id is synthetic)."""

_POSITIVE_LABELS = frozenset({"thumbs_up", "positive", "good"})
_NEGATIVE_LABELS = frozenset({"thumbs_down", "negative", "bad"})
_HEX = frozenset("0123456789abcdef")
_TRACEPARENT = TraceContextTextMapPropagator()


def _current_context() -> SpanContext | None:
    context = trace.get_current_span().get_span_context()
    return context if context.is_valid else None


@guarded(None)
def current_trace_id() -> str | None:
    """The current span's trace id as 32 lowercase hex digits, or None without a valid span."""
    context = _current_context()
    return None if context is None else trace.format_trace_id(context.trace_id)


@guarded(None)
def feedback_token() -> str | None:
    """The current span as a W3C traceparent (``00-<trace>-<span>-<flags>``), or None.

    Hand it to the client with the response (a header, a field in the JSON) and pass it back
    to record_feedback(token=...) so the feedback links to this exact span, from any process.
    """
    context = _current_context()
    if context is None:
        return None
    return (
        f"00-{trace.format_trace_id(context.trace_id)}-"
        f"{trace.format_span_id(context.span_id)}-{int(context.trace_flags):02x}"
    )


def response_headers() -> dict[str, str]:
    """``X-Trace-Id`` and ``traceparent`` headers for the current span (empty without one)."""
    trace_id = current_trace_id()
    token = feedback_token()
    if trace_id is None or token is None:
        return {}
    return {"X-Trace-Id": trace_id, "traceparent": token}


def _parse_token(token: str) -> SpanContext | None:
    carrier = {"traceparent": token.strip()}
    context = trace.get_current_span(_TRACEPARENT.extract(carrier)).get_span_context()
    if not context.is_valid:
        _logger.warning("otel-llm: ignoring invalid feedback token %r (not a traceparent)", token)
        return None
    return context


def _parse_trace_id(trace_id: str) -> int | None:
    text = trace_id.strip().lower()
    if len(text) != 32 or not set(text) <= _HEX or int(text, 16) == 0:
        _logger.warning("otel-llm: ignoring invalid feedback trace id %r (not 32 hex)", trace_id)
        return None
    return int(text, 16)


def _synthetic_span_id() -> int:
    while True:
        span_id = secrets.randbits(64)
        if span_id:
            return span_id


def _link(token: str | None, trace_id: str | None) -> Link | None:
    from_token = _parse_token(token) if token is not None else None
    parsed_trace_id = _parse_trace_id(trace_id) if trace_id is not None else None
    if from_token is not None:
        if parsed_trace_id is not None and parsed_trace_id != from_token.trace_id:
            _logger.warning("otel-llm: feedback trace id differs from its token; using the token")
        return Link(from_token, {LINK_SCOPE: ol.OtelLlmFeedbackLinkScopeValues.SPAN.value})
    if parsed_trace_id is None:
        return None
    context = SpanContext(
        trace_id=parsed_trace_id,
        span_id=_synthetic_span_id(),
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return Link(context, {LINK_SCOPE: ol.OtelLlmFeedbackLinkScopeValues.TRACE.value})


def _normalised_score(score: float | None) -> float | None:
    if score is None:
        return None
    value = float(score)
    if math.isnan(value):
        _logger.warning("otel-llm: ignoring feedback score NaN")
        return None
    if not -1.0 <= value <= 1.0:
        _logger.warning("otel-llm: feedback score %r is outside [-1, 1]; clamped", score)
        value = min(1.0, max(-1.0, value))
    return value


def _sentiment(score: float | None, label: str | None) -> Sentiment:
    if score is not None:
        if score > 0:
            return Sentiment.POSITIVE
        return Sentiment.NEGATIVE if score < 0 else Sentiment.NEUTRAL
    normalised = (label or "").strip().lower()
    if normalised in _POSITIVE_LABELS:
        return Sentiment.POSITIVE
    if normalised in _NEGATIVE_LABELS:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


@guarded(None)
def record_feedback(
    *,
    trace_id: str | None = None,
    token: str | None = None,
    response_id: str | None = None,
    score: float | None = None,
    label: str | None = None,
    comment: str | None = None,
    prompt_name: str | None = None,
    prompt_version: str | None = None,
) -> None:
    """Record end-user feedback on an earlier response, in this or any other process.

    Emits an INTERNAL span ``user_feedback`` (a child of the current span, e.g. the feedback
    request's server span) with the ``otel_llm.feedback.*`` attributes, and counts it on
    ``otel_llm.feedback.received`` by sentiment and prompt name/version (never ids, and not
    by label: a label is free text, recorded on the span only).

    The span carries a span link to the response's span:

    - ``token`` (from feedback_token()): the link points at that exact trace and span.
    - ``trace_id`` alone: the link points at that trace with a synthetic span id, and the link
      attribute ``otel_llm.feedback.link_scope`` is ``trace`` (``span`` for token links) so
      nobody mistakes it for a real span. Jaeger and Tempo open a linked trace by its trace
      id, so the link still leads to the right trace; the span id only selects nothing. We
      deliberately do not parent the feedback span into the foreign trace under an invented
      parent: backends flag that as a missing parent ("invalid parent span IDs"), the trace's
      duration would stretch to the feedback's arrival, and an invented sampled flag would
      drive parent-based sampling.

    An invalid token or trace id (not hex, wrong length, all zeros) is logged and the feedback
    recorded without a link. ``score`` is normalised to [-1, 1]: out-of-range values are
    logged and clamped, NaN dropped. Sentiment is the score's sign (0 or none: neutral), or,
    without a score, from ``label`` (thumbs_up/positive/good, thumbs_down/negative/bad).
    ``comment`` is message content: recorded only when content capture on spans is enabled
    (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT), cut to the content byte budget with a
    ``…[truncated N bytes]`` marker, after redaction when it has to be cut. ``label`` is
    recorded in any mode but cut to 256 bytes the same way, and scanned before export.
    Session, tenant and conversation ids in the current baggage go on the span too.
    """
    telemetry = get_telemetry()
    settings = telemetry.settings
    normalised = _normalised_score(score)
    sentiment = _sentiment(normalised, label).value

    attributes: dict[str, AttributeValue] = dict(context_span_attributes())
    attributes[ol.OTEL_LLM_FEEDBACK_SENTIMENT] = sentiment
    metric_attributes: dict[str, AttributeValue] = {ol.OTEL_LLM_FEEDBACK_SENTIMENT: sentiment}
    if normalised is not None:
        attributes[ol.OTEL_LLM_FEEDBACK_SCORE] = normalised
    if prompt_name is not None:
        attributes[ga.GEN_AI_PROMPT_NAME] = prompt_name
        metric_attributes[ga.GEN_AI_PROMPT_NAME] = prompt_name
    if prompt_version is not None:
        attributes[ga.GEN_AI_PROMPT_VERSION] = prompt_version
        metric_attributes[ga.GEN_AI_PROMPT_VERSION] = prompt_version
    if response_id is not None:
        attributes[ga.GEN_AI_RESPONSE_ID] = response_id

    link = _link(token, trace_id)
    span = telemetry.tracer.start_span(
        SPAN_NAME,
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        links=[link] if link is not None else None,
    )
    # Free text goes on after the span started, never as a start attribute: a sampler or a
    # processor's on_start would see it before the redaction processor runs at span end.
    if label is not None:
        # Span only: any string is accepted, so as a metric dimension it would be unbounded;
        # for the same reason it is scanned by the redaction processor and budgeted.
        span.set_attribute(
            ol.OTEL_LLM_FEEDBACK_LABEL,
            fit_text(
                str(label), min(LABEL_MAX_BYTES, settings.max_content_bytes), telemetry.redact_part
            ),
        )
    if comment is not None and telemetry.content_mode().on_spans:
        # Redacted before it is cut, so a finding is never exported in part.
        span.set_attribute(
            ol.OTEL_LLM_FEEDBACK_COMMENT,
            fit_text(comment, settings.max_content_bytes, telemetry.redact_part),
        )
    span.end()
    telemetry.instruments.feedback_received.add(1, metric_attributes)
