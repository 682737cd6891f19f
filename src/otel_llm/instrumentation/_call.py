"""One recorded GenAI call: its span, timings, metric points, details event and hooks.

The application's thread starts and ends the span; the call's metric points (histograms,
counters, time to first chunk, the gap after every chunk) are handed to the meter's deferred
buffer as one record and made off the thread (otel_llm._deferred), with the same values.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.trace import INVALID_SPAN, NonRecordingSpan, Span
from opentelemetry.util.types import AttributeValue

from otel_llm._aggregation import Gaps, takes_gaps
from otel_llm._errors import guarded, internal_errors
from otel_llm._failure import failure_attributes, record_failure
from otel_llm._instruments import Instruments
from otel_llm._reaper import Moment
from otel_llm._telemetry import Telemetry
from otel_llm._usage_metrics import record_token_usage
from otel_llm.config import ContentCapturingMode
from otel_llm.instrumentation._fit import fit_json, fit_json_structured
from otel_llm.instrumentation._streams import proxy_for
from otel_llm.instrumentation.endpoint import Endpoint, ErrorClass, Outcome, default_error_class
from otel_llm.instrumentation.hooks import CallHook
from otel_llm.instrumentation.types import Content, ResponseInfo, StreamState, Usage
from otel_llm.semconv.attributes import error as error_attrs
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.events import gen_ai as ge

INFERENCE_OPERATIONS = frozenset(
    {
        ga.GenAiOperationNameValues.CHAT.value,
        ga.GenAiOperationNameValues.TEXT_COMPLETION.value,
        ga.GenAiOperationNameValues.GENERATE_CONTENT.value,
    }
)
"""Operations that get the inference metrics and the details event."""
_EMBEDDINGS = ga.GenAiOperationNameValues.EMBEDDINGS.value

_NO_SPAN = trace.set_span_in_context(INVALID_SPAN)
"""A context with an invalid span: a metric point recorded in it offers no exemplar (an empty
Context would not do: the SDK takes the current context in its place)."""
_UNKNOWN = {ga.GEN_AI_TOKEN_MODALITY: ga.GenAiTokenModalityValues.UNKNOWN.value}
_NO_USAGE = Usage()
_SUCCESS = Outcome.SUCCESS.value
_CANCELLED = Outcome.CANCELLED.value
_CONTENT_KEYS = (
    ga.GEN_AI_INPUT_MESSAGES,
    ga.GEN_AI_SYSTEM_INSTRUCTIONS,
    ga.GEN_AI_TOOL_DEFINITIONS,
    ga.GEN_AI_OUTPUT_MESSAGES,
)


@dataclass(frozen=True)
class Recorder:
    """What an instrumentor records its calls with: the telemetry and the features' hooks."""

    telemetry: Telemetry
    hooks: tuple[CallHook, ...] = ()
    ending: frozenset[CallHook] = field(init=False, repr=False, compare=False)
    """The hooks that override `end` (the others are not called there)."""
    after: frozenset[CallHook] = field(init=False, repr=False, compare=False)
    """The hooks that override `after`."""

    def __post_init__(self) -> None:
        """Note which hooks act at the end, so the rest cost nothing there."""
        hooks = self.hooks
        ending = frozenset(hook for hook in hooks if type(hook).end is not CallHook.end)
        after = frozenset(hook for hook in hooks if type(hook).after is not CallHook.after)
        object.__setattr__(self, "ending", ending)  # frozen dataclass: set once, here
        object.__setattr__(self, "after", after)


class _NoState:
    """The stream state of an endpoint that reads nothing from chunks."""

    __slots__ = ()

    def on_chunk(self, chunk: Any) -> None:
        """Ignore the chunk."""

    def result(self) -> ResponseInfo:
        """Nothing was read."""
        return ResponseInfo()


class Call:
    """The telemetry of one GenAI call: its span, timings and metric dimensions."""

    __slots__ = (
        "_ended",
        "_lock",
        "attributes",
        "capture",
        "chunk_times",
        "content",
        "content_attributes",
        "context",
        "endpoint",
        "hooks",
        "metric_attributes",
        "needs_content",
        "recorder",
        "span",
        "start",
        "stream",
        "strip_usage",
        "telemetry",
    )

    def __init__(
        self,
        recorder: Recorder,
        endpoint: Endpoint,
        attributes: dict[str, AttributeValue],
        metric_attributes: dict[str, AttributeValue],
        capture: ContentCapturingMode,
        *,
        stream: bool = False,
    ) -> None:
        self.recorder = recorder
        self.telemetry = recorder.telemetry
        """What the call is recorded with (its recorder's)."""
        self.endpoint = endpoint
        self.attributes = attributes
        """The span's start attributes (kept for the details event, even when not sampled)."""
        self.content_attributes: dict[str, AttributeValue] = {}
        """Captured content hooks add (prompt variables): set on the span after it started."""
        self.metric_attributes = metric_attributes
        self.capture = capture
        self.stream = stream
        self.span: Span = INVALID_SPAN
        """Set once the hooks have added their start attributes."""
        self.content: Content | None = None
        self.needs_content = False
        self.hooks: tuple[CallHook, ...] = ()
        """The hooks that asked to see this call end."""
        self.context = _NO_SPAN
        self.strip_usage: Callable[[Any], bool] | None = None
        """Set when otel-llm asked for the stream's usage: hides it from the caller."""
        self.start = time.perf_counter()
        self.chunk_times: list[float] = []
        """When each stream chunk arrived (perf_counter): the first chunk and every gap. The
        stream proxies append to it directly (one bound `append` per stream, no call frame per
        chunk)."""
        self._ended = False
        self._lock = threading.Lock()

    @property
    def capturing(self) -> bool:
        """Output content is wanted: captured, or read by a hook (an online evaluator)."""
        capture = self.capture
        return capture.on_spans or capture.on_events or self.needs_content

    # --- streams ---------------------------------------------------------------------------
    def observe(self, stream: Any, state: StreamState | None = None) -> Any:
        """A transparent proxy for `stream` that ends this call however the stream ends."""
        if state is None:
            state = _new_state(self.endpoint, self.capturing)
        return proxy_for(stream)(stream, self, state, self.strip_usage)

    def on_chunk(self, state: StreamState, chunk: Any) -> None:
        """Note one stream chunk: its time, and the provider's accumulator (cheap, per chunk)."""
        self.chunk_times.append(time.perf_counter())
        state.on_chunk(chunk)

    # --- endings ---------------------------------------------------------------------------
    def _claim(self) -> bool:
        # A stream may be closed by the caller while a finaliser runs in another thread.
        with self._lock:
            if self._ended:
                return False
            self._ended = True
            return True

    def succeed(self, info: ResponseInfo, *, at: Moment | None = None) -> None:
        """End the call with the provider's response (or a stream's full result).

        `at`: when the call ended, if not now (a dropped stream, ended later on a worker).
        """
        if not self._claim():
            return
        with internal_errors("ending a GenAI span"):
            self._finish(info, None, _SUCCESS, None, at)

    def fail(
        self, exc: BaseException, info: ResponseInfo | None = None, *, at: Moment | None = None
    ) -> None:
        """End the call with the exception that ended it; the caller re-raises it."""
        if isinstance(exc, asyncio.CancelledError | GeneratorExit):
            # The caller gave up on the call; that is not the provider failing.
            self.abandon(info or ResponseInfo(), at=at)
            return
        if not self._claim():
            return
        with internal_errors("ending a failed GenAI span"):
            error = _error_class(self.endpoint, exc)
            self._finish(info or ResponseInfo(), exc, error.outcome, error, at)

    def abandon(self, info: ResponseInfo, *, at: Moment | None = None) -> None:
        """End a stream the caller closed or dropped before it finished: not an error."""
        if not self._claim():
            return
        with internal_errors("ending an abandoned GenAI stream"):
            self._finish(info, None, _CANCELLED, None, at)

    def _finish(
        self,
        info: ResponseInfo,
        exc: BaseException | None,
        outcome: str,
        error: ErrorClass | None,
        at: Moment | None,
    ) -> None:
        try:
            self._record(info, exc, outcome, error, time.perf_counter() if at is None else at.perf)
        finally:
            # Whatever failed above, the span must not stay open.
            self.span.end(end_time=None if at is None else at.wall_ns)
        after = self.recorder.after
        for hook in self.hooks:
            if hook in after:
                _after(hook, self, info, outcome)

    def _record(
        self,
        info: ResponseInfo,
        exc: BaseException | None,
        outcome: str,
        error: ErrorClass | None,
        end: float,
    ) -> None:
        span = self.span
        attributes = self.metric_attributes
        # A copy: a chunk read after the end (a stream read on after close) is not the call's,
        # and a proxy may still hold the list's `append`.
        chunks = self.chunk_times.copy()
        first_chunk = chunks[0] - self.start if chunks else None
        if info.model:
            attributes[ga.GEN_AI_RESPONSE_MODEL] = info.model
        for key in self.endpoint.metric_attributes:
            if key in info.attributes:
                attributes[key] = info.attributes[key]
        failure: dict[str, AttributeValue] | None = None
        if exc is not None:
            failure = failure_attributes(exc)
            if error is not None and error.error_type is not None:
                failure[error_attrs.ERROR_TYPE] = error.error_type
            if error is not None and error.code is not None:
                failure[ol.OTEL_LLM_ERROR_CODE] = error.code
            attributes[error_attrs.ERROR_TYPE] = failure[error_attrs.ERROR_TYPE]
        recording = span.is_recording()
        # The histograms' exemplars point at this call's span: not at the caller's span, and
        # not at nothing when the call is a root span (the current context holds neither).
        # Its context only, not the span: the deferred records keep this until they are
        # replayed, and must not keep the span's attributes (its content) alive meanwhile.
        self.context = context = trace.set_span_in_context(
            NonRecordingSpan(span.get_span_context())
        )
        hooks = self.hooks
        if recording or hooks:
            values = _response_attributes(info)
            # Hooks (pricing) run here, sampled or not: the cost metrics must not depend on
            # trace sampling, and a span that carries its cost is passed on uncopied.
            extra: dict[str, AttributeValue] = {}
            ending = self.recorder.ending
            for hook in hooks:
                more = _end(hook, self, info, values) if hook in ending else None
                if more:
                    extra.update(more)
            if recording:
                values.update(extra)
                self._set_response_attributes(info, exc, failure, values, first_chunk)
        # One record for all the call's points, made off this thread (otel_llm._deferred).
        self.telemetry.instruments.deferred.add(
            record_metrics,
            (
                self.telemetry.instruments,
                self.endpoint.operation,
                attributes,
                info.usage,
                end - self.start,
                outcome,
                context,
                self.start,
                chunks,
            ),
        )
        if self.capture.on_events and self.endpoint.operation in INFERENCE_OPERATIONS:
            self._emit_details_event(info, failure, first_chunk)

    def _set_response_attributes(
        self,
        info: ResponseInfo,
        exc: BaseException | None,
        failure: dict[str, AttributeValue] | None,
        values: dict[str, AttributeValue],
        first_chunk: float | None,
    ) -> None:
        span = self.span
        if first_chunk is not None:
            values[ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = first_chunk
        telemetry = self.telemetry
        if self.capture.on_spans and info.output is not None:
            values[ga.GEN_AI_OUTPUT_MESSAGES] = fit_json(
                info.output, telemetry.settings.max_content_bytes, telemetry.redact_part
            )
        if exc is not None and failure is not None:
            # Identifiers only; the exception's text only when content is captured on spans.
            values.update(failure)
            record_failure(span, exc, telemetry)
        span.set_attributes(values)

    def _emit_details_event(
        self,
        info: ResponseInfo,
        failure: dict[str, AttributeValue] | None,
        first_chunk: float | None,
    ) -> None:
        # Built from what we recorded, not read back from the span: a span that was sampled
        # out records nothing, but the event must still carry the full attribute set.
        attributes: dict[str, Any] = {
            **self.attributes,
            **self.content_attributes,
            **_response_attributes(info),
        }
        if failure is not None:
            attributes.update(failure)
        if first_chunk is not None:
            attributes[ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = first_chunk
        telemetry = self.telemetry
        budget = telemetry.settings.max_content_bytes
        redact = telemetry.redact_part
        for key in _CONTENT_KEYS:
            attributes.pop(key, None)  # replaced by structured values below
        content = self.content
        if content is not None:
            for key, value in (
                (ga.GEN_AI_INPUT_MESSAGES, content.input_messages),
                (ga.GEN_AI_SYSTEM_INSTRUCTIONS, content.system_instructions),
                (ga.GEN_AI_TOOL_DEFINITIONS, content.tool_definitions),
            ):
                if value:
                    attributes[key] = fit_json_structured(value, budget, redact)
        if info.output is not None:
            attributes[ga.GEN_AI_OUTPUT_MESSAGES] = fit_json_structured(info.output, budget, redact)
        telemetry.logger.emit(
            event_name=ge.GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS,
            severity_number=SeverityNumber(
                ge.GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS_SEVERITY_NUMBER
            ),
            context=self.context,
            attributes=attributes,
        )


def record_metrics(  # noqa: PLR0917 - a replay gets its record's fields as one plain tuple
    instruments: Instruments,
    operation: str,
    attributes: Mapping[str, AttributeValue],
    usage: Usage | None,
    duration: float,
    outcome: str,
    context: Context,
    start: float,
    chunks: Sequence[float],
) -> None:
    """Make one call's metric points (replayed from the deferred buffer, off its thread).

    `context` holds the call's span, so the histograms' exemplars point at it: not at the
    caller's span, and not at nothing when the call is a root span. `chunks` are the times
    (perf_counter) the stream's chunks arrived, `start` the call's.
    """
    instruments.requests.add(1, {**attributes, ol.OTEL_LLM_REQUEST_OUTCOME: outcome})
    if operation not in INFERENCE_OPERATIONS:
        instruments.operation_duration.record(duration, attributes, context)
        if operation == _EMBEDDINGS:
            # Upstream has no embeddings token metric yet (semconv/manifest.yaml): the
            # input counter, split by operation, counts what embeddings bill.
            counted = {**attributes, **_UNKNOWN}
            counted.pop(error_attrs.ERROR_TYPE, None)
            tokens = usage.input_tokens if usage is not None else None
            instruments.usage_input_tokens.add(tokens or 0, counted)
        return
    instruments.inference_duration.record(duration, attributes, context)
    usage = usage or _NO_USAGE
    counter_attributes = {**attributes, **_UNKNOWN}
    counter_attributes.pop(error_attrs.ERROR_TYPE, None)  # not a dimension of the counters
    record_token_usage(instruments, usage, counter_attributes, attributes, context)
    if chunks:
        stream_attributes = {k: v for k, v in attributes.items() if k != error_attrs.ERROR_TYPE}
        instruments.time_to_first_chunk.record(chunks[0] - start, stream_attributes, context)
        # One point per gap, without exemplars: the stream's span is linked from its duration
        # and first-chunk points, and a thousand-chunk stream would offer a thousand.
        histogram = instruments.time_per_output_chunk
        gaps = [chunks[index] - chunks[index - 1] for index in range(1, len(chunks))]
        if gaps and takes_gaps(histogram):
            # otel-llm's own aggregation (otel_llm._aggregation): all gaps in one measurement.
            histogram.record(Gaps(gaps), stream_attributes, _NO_SPAN)
            return
        for gap in gaps:
            histogram.record(gap, stream_attributes, _NO_SPAN)


def _error_class(endpoint: Endpoint, exc: BaseException) -> ErrorClass:
    classify = endpoint.classify
    if classify is not None:
        known = _provider_class(classify, exc)
        if known is not None:
            return known
    return default_error_class(exc)


@guarded(default=None)
def _provider_class(
    classify: Callable[[BaseException], ErrorClass | None], exc: BaseException
) -> ErrorClass | None:
    return classify(exc)


@guarded(default=None)
def _end(
    hook: CallHook, call: Call, info: ResponseInfo, response: Mapping[str, AttributeValue]
) -> Mapping[str, AttributeValue] | None:
    # A failing hook (pricing) costs the span only that hook's attributes.
    return hook.end(call, info, response)


@guarded(default=None)
def _after(hook: CallHook, call: Call, info: ResponseInfo, outcome: str) -> None:
    hook.after(call, info, outcome)


@guarded(default=_NoState())
def _new_state(endpoint: Endpoint, capturing: bool) -> StreamState:
    factory = endpoint.stream_state
    return factory(capturing) if factory is not None else _NoState()


def _response_attributes(info: ResponseInfo) -> dict[str, AttributeValue]:
    values: dict[str, AttributeValue] = dict(info.attributes)
    if info.response_id:
        values[ga.GEN_AI_RESPONSE_ID] = info.response_id
    if info.model:
        values[ga.GEN_AI_RESPONSE_MODEL] = info.model
    if info.finish_reasons:
        values[ga.GEN_AI_RESPONSE_FINISH_REASONS] = info.finish_reasons
    values.update(_usage_attributes(info.usage))
    return values


def _usage_attributes(usage: Usage | None) -> dict[str, AttributeValue]:
    if usage is None:
        return {}
    pairs = (
        (ga.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens),
        (ga.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens),
        (ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_tokens),
        (ga.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, usage.cache_write_tokens),
        (ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_tokens),
    )
    return {key: value for key, value in pairs if value is not None}
