"""What otel-llm's instrumentation would have recorded for a call, read from another's span.

The metrics the dashboards and alerts read (requests by outcome, inference duration, token
usage, time to first chunk; tool, agent and workflow durations), recorded from a finished
foreign GenAI span by the derived-metrics step (processors.foreign), which decides when.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_llm._instruments import Instruments
from otel_llm._steps import invalid_arguments_error_name
from otel_llm._usage_metrics import record_token_usage, usage_from_attributes
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import openai as oa
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.attributes import server
from otel_llm.semconv.attributes.error import ERROR_TYPE

__all__ = [
    "INFERENCE",
    "SELF_RECORDING_SCOPES",
    "derived_outcome",
    "exception_type",
    "record_span_metrics",
    "records_own_durations",
]

_OP = ga.GenAiOperationNameValues
INFERENCE = frozenset(
    {_OP.CHAT.value, _OP.TEXT_COMPLETION.value, _OP.GENERATE_CONTENT.value, _OP.EMBEDDINGS.value}
)
"""Operations that are one call to a model (embeddings included)."""
_TOOL, _AGENT, _WORKFLOW = _OP.EXECUTE_TOOL.value, _OP.INVOKE_AGENT.value, _OP.INVOKE_WORKFLOW.value

_CALL_KEYS = (
    ga.GEN_AI_OPERATION_NAME,
    ga.GEN_AI_PROVIDER_NAME,
    ga.GEN_AI_REQUEST_MODEL,
    ga.GEN_AI_RESPONSE_MODEL,
    server.SERVER_ADDRESS,
    server.SERVER_PORT,
    oa.OPENAI_RESPONSE_SERVICE_TIER,
    ga.GEN_AI_PROMPT_NAME,
    ga.GEN_AI_PROMPT_VERSION,
)
_TOOL_KEYS = (ga.GEN_AI_TOOL_NAME, ga.GEN_AI_TOOL_TYPE, ga.GEN_AI_AGENT_NAME)
_UNKNOWN_MODALITY = ga.GenAiTokenModalityValues.UNKNOWN.value
_OUTCOME = ol.OtelLlmRequestOutcomeValues
_HTTP_STATUS = "http.response.status_code"

SELF_RECORDING_SCOPES = ("opentelemetry.instrumentation.genai.", "opentelemetry.util.genai")
"""Instrumentation scopes (prefixes) that record the upstream GenAI metrics themselves
(opentelemetry-util-genai >= 1.3, current names): from their spans only our request counter
is derived, or Prometheus would sum two series for every call."""

SELF_RECORDED_DURATIONS = (("gcp.vertex.agent", (2, 4)),)
"""(instrumentation scope, first version): emitters that record the upstream tool, agent and
workflow duration histograms themselves, under the current names, from that version on, so
those are not derived from their spans again (their inference metrics still are: they record
them under names our dashboards do not read). Google ADK since 2.4 (before, it named them
gen_ai.tool.execution.duration and gen_ai.agent.invocation.duration)."""


def _version(text: str | None) -> tuple[int, ...]:
    numbers = []
    for part in (text or "").split("."):
        digits = "".join(itertools.takewhile(str.isdigit, part))
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


def records_own_durations(scope: InstrumentationScope | None) -> bool:
    """Whether the emitter records its tool, agent and workflow durations itself (see above)."""
    if scope is None:
        return False
    return any(
        scope.name == name and _version(scope.version) >= first
        for name, first in SELF_RECORDED_DURATIONS
    )


def derived_outcome(attributes: Mapping[str, Any], failed: bool) -> str:
    """The request outcome a foreign span's error.type and HTTP status say, as ours classifies."""
    if not failed:
        return _OUTCOME.SUCCESS.value
    # Google's status names too: RESOURCE_EXHAUSTED is its 429, DEADLINE_EXCEEDED its 504.
    error = str(attributes.get(ERROR_TYPE, "")).lower().replace("_", "")
    if "timeout" in error or "timedout" in error or "deadlineexceeded" in error:
        return _OUTCOME.TIMEOUT.value
    # AWS says throttled for a 429 (ThrottlingException; Strands' ModelThrottledException).
    words = ("ratelimit", "throttl", "resourceexhausted", "toomanyrequests")
    limited = error == "429" or any(word in error for word in words)
    if attributes.get(_HTTP_STATUS) == 429 or limited:
        return _OUTCOME.RATE_LIMITED.value
    if "cancel" in error:
        return _OUTCOME.CANCELLED.value
    return _OUTCOME.ERROR.value


def exception_type(events: Iterable[Event]) -> str | None:
    """The type of the last exception recorded in `events`, if one says."""
    for event in reversed(list(events)):
        found = (event.attributes or {}).get("exception.type")
        if event.name == "exception" and isinstance(found, str) and found:
            return found
    return None


def record_span_metrics(
    span: ReadableSpan, attributes: Mapping[str, Any], operation: str, instruments: Instruments
) -> None:
    """Record what our instrumentation would have for this call, from its span."""
    duration = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
    failed = span.status.status_code is StatusCode.ERROR or ERROR_TYPE in attributes
    error: AttributeValue | None = attributes.get(ERROR_TYPE)
    if failed and error is None:
        # Some frameworks (pydantic-ai) record the exception event but no error.type.
        error = exception_type(span.events) or "_OTHER"
    attributes = {**attributes, ERROR_TYPE: error} if error is not None else attributes
    scope = span.instrumentation_scope
    self_recording = scope is not None and scope.name.startswith(SELF_RECORDING_SCOPES)
    context = None
    span_context = span.get_span_context()
    if span_context is not None:
        context = trace.set_span_in_context(NonRecordingSpan(span_context))
    if operation in (_TOOL, _AGENT, _WORKFLOW):
        if not self_recording:
            durations = not records_own_durations(scope)
            _record_run(instruments, attributes, operation, duration, error, durations=durations)
        return
    call = {key: attributes[key] for key in _CALL_KEYS if key in attributes}
    outcome = derived_outcome(attributes, failed)
    with_error = dict(call) if error is None else {**call, ERROR_TYPE: error}
    instruments.requests.add(1, {**with_error, ol.OTEL_LLM_REQUEST_OUTCOME: outcome})
    if self_recording:
        return
    if operation == _OP.EMBEDDINGS.value:
        instruments.operation_duration.record(duration, with_error, context)
        return
    instruments.inference_duration.record(duration, with_error, context)
    _record_usage(instruments, attributes, call, with_error, context)
    first_chunk = attributes.get(ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
    if isinstance(first_chunk, int | float) and not isinstance(first_chunk, bool):
        instruments.time_to_first_chunk.record(float(first_chunk), call, context)


def _record_usage(
    instruments: Instruments,
    attributes: Mapping[str, Any],
    call: Mapping[str, AttributeValue],
    with_error: Mapping[str, AttributeValue],
    context: Context | None,
) -> None:
    usage = usage_from_attributes(attributes)
    counter = {**call, ga.GEN_AI_TOKEN_MODALITY: _UNKNOWN_MODALITY}
    record_token_usage(instruments, usage, counter, with_error, context)  # as the engine


def _record_run(
    instruments: Instruments,
    attributes: Mapping[str, Any],
    operation: str,
    duration: float,
    error: AttributeValue | None,
    *,
    durations: bool = True,
) -> None:
    """The tool, agent or workflow duration, and the tool's argument validation failures.

    `durations` False: the emitter records the durations itself (records_own_durations).
    """
    if operation == _TOOL:
        chosen = {key: attributes[key] for key in _TOOL_KEYS if key in attributes}
        if ga.GEN_AI_TOOL_NAME not in chosen:
            return  # upstream requires the name; a nameless tool series helps no one
        if error is not None and invalid_arguments_error_name(str(error)):
            instruments.tool_invalid_arguments.add(
                1, {k: v for k, v in chosen.items() if k != ga.GEN_AI_TOOL_TYPE}
            )
        histogram = instruments.execute_tool_duration
    elif not durations:
        return
    else:
        key = ga.GEN_AI_AGENT_NAME if operation == _AGENT else ga.GEN_AI_WORKFLOW_NAME
        chosen = {key: attributes[key]} if key in attributes else {}
        histogram = (
            instruments.invoke_agent_duration
            if operation == _AGENT
            else instruments.invoke_workflow_duration
        )
    if error is not None:
        chosen[ERROR_TYPE] = error
    if durations:
        histogram.record(duration, chosen)
