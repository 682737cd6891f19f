"""Provider-neutral wrapping: one span and one set of metric points per GenAI call."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Span, SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import Redact
from otel_llm._errors import error_type, guarded, internal_errors
from otel_llm._failure import failure_attributes, record_failure
from otel_llm._prompt import current_prompt, prompt_metric_attributes, prompt_span_attributes
from otel_llm._telemetry import Telemetry, get_telemetry
from otel_llm.context import context_span_attributes
from otel_llm.evaluations import Sample, get_online, in_evaluation
from otel_llm.instrumentation._content import fit_json, fit_json_structured
from otel_llm.instrumentation._model import Content, Endpoint, ResponseInfo, StreamState, Usage
from otel_llm.semconv.attributes import error as error_attrs
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.attributes import server
from otel_llm.semconv.events import gen_ai as ge
from otel_llm.spans import last_retrieved_ids

if TYPE_CHECKING:
    from otel_llm.processors.cost import Pricer

_in_call: contextvars.ContextVar[bool] = contextvars.ContextVar("otel_llm_in_call", default=False)
"""True while one of our wrappers runs; nested instrumented calls (and the SDK's own spans) pass."""

_stream_collector: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "otel_llm_stream_collector", default=None
)
"""Set by SDK stream helpers' proxies so they can end the streams their `with` block opened."""

_NO_SPAN = Context()
"""A context with no span: a metric point recorded in it offers no exemplar."""

_SPAN_METRIC_KEYS = (
    ga.GEN_AI_OPERATION_NAME,
    ga.GEN_AI_PROVIDER_NAME,
    ga.GEN_AI_REQUEST_MODEL,
    server.SERVER_ADDRESS,
    server.SERVER_PORT,
)
_UNKNOWN = {ga.GEN_AI_TOKEN_MODALITY: ga.GenAiTokenModalityValues.UNKNOWN.value}
_OUTCOME = ol.OtelLlmRequestOutcomeValues
_NO_USAGE = Usage()


def in_instrumented_call() -> bool:
    """Whether the current context is inside a call otel-llm is already recording."""
    return _in_call.get()


class Call:
    """The telemetry of one GenAI call: its span, timings and metric dimensions."""

    __slots__ = (
        "_chunk_gaps",
        "_ended",
        "_first_chunk",
        "_last_chunk",
        "_lock",
        "attributes",
        "content",
        "endpoint",
        "evaluate",
        "metric_attributes",
        "span",
        "start",
        "stream",
        "strip_usage",
        "telemetry",
    )

    def __init__(
        self,
        telemetry: Telemetry,
        endpoint: Endpoint,
        span: Span,
        metric_attributes: dict[str, AttributeValue],
        *,
        attributes: dict[str, AttributeValue],
        content: Content | None,
        stream: bool,
        evaluate: bool = False,
    ) -> None:
        self.telemetry = telemetry
        self.endpoint = endpoint
        self.span = span
        self.metric_attributes = metric_attributes
        self.attributes = attributes
        """The span's start attributes (kept for the details event, even when not sampled)."""
        self.content = content
        self.stream = stream
        self.evaluate = evaluate
        """Whether online evaluators are configured for this call's prompt."""
        self.strip_usage: Callable[[Any], bool] | None = None
        """Set when otel-llm asked for the stream's usage: hides it from the caller."""
        self.start = time.perf_counter()
        self._first_chunk: float | None = None
        self._last_chunk = 0.0
        self._chunk_gaps: list[float] = []
        self._ended = False
        self._lock = threading.Lock()

    # --- streams ---------------------------------------------------------------------------
    def on_chunk(self, state: StreamState, chunk: Any) -> None:
        """Note one stream chunk: timing, and the provider's accumulator (cheap, per chunk)."""
        now = time.perf_counter()
        if self._first_chunk is None:
            self._first_chunk = now
        else:
            self._chunk_gaps.append(now - self._last_chunk)
        self._last_chunk = now
        state.on_chunk(chunk)

    # --- endings ---------------------------------------------------------------------------
    def _claim(self) -> bool:
        # A stream may be closed by the caller while a finaliser runs in another thread.
        with self._lock:
            if self._ended:
                return False
            self._ended = True
            return True

    def succeed(self, info: ResponseInfo) -> None:
        """End the call with the provider's response (or a stream's full result)."""
        if not self._claim():
            return
        with internal_errors("ending a GenAI span"):
            self._finish(info, None, _OUTCOME.SUCCESS.value)

    def fail(self, exc: BaseException, info: ResponseInfo | None = None) -> None:
        """End the call with the exception that ended it; the caller re-raises it."""
        if isinstance(exc, asyncio.CancelledError | GeneratorExit):
            # The caller gave up on the call; that is not the provider failing.
            self.abandon(info or ResponseInfo())
            return
        if not self._claim():
            return
        with internal_errors("ending a failed GenAI span"):
            self._finish(info or ResponseInfo(), exc, _outcome(exc))

    def abandon(self, info: ResponseInfo) -> None:
        """End a stream the caller closed or dropped before it finished: not an error."""
        if not self._claim():
            return
        with internal_errors("ending an abandoned GenAI stream"):
            self._finish(info, None, _OUTCOME.CANCELLED.value)

    def _finish(self, info: ResponseInfo, exc: BaseException | None, outcome: str) -> None:
        try:
            self._record(info, exc, outcome)
        finally:
            self.span.end()  # whatever failed above, the span must not stay open

    def _record(self, info: ResponseInfo, exc: BaseException | None, outcome: str) -> None:
        span = self.span
        attributes = self.metric_attributes
        end = time.perf_counter()
        if info.model:
            attributes[ga.GEN_AI_RESPONSE_MODEL] = info.model
        for key in self.endpoint.metric_attributes:
            if key in info.attributes:
                attributes[key] = info.attributes[key]
        if exc is not None:
            attributes[error_attrs.ERROR_TYPE] = error_type(exc)
        recording = span.is_recording()
        price = self.telemetry.price
        # The histograms' exemplars point at this call's span: not at the caller's span, and
        # not at nothing when the call is a root span (the current context holds neither).
        context = trace.set_span_in_context(span)
        if recording or price is not None:
            values = _response_attributes(info)
            # Priced here, sampled or not: the cost metrics must not depend on trace sampling,
            # and a span that carries its cost is passed on by the cost processor uncopied.
            cost = None
            if price is not None:
                cost = _cost(price, {**self.attributes, **values}, info.usage, context)
            if recording:
                self._set_response_attributes(info, exc, {**values, **cost} if cost else values)
        self._record_metrics(info.usage, end - self.start, outcome, context)
        if self.evaluate and outcome == _OUTCOME.SUCCESS.value:
            _submit_evaluation(self, info)
        # The details event describes inference calls; embeddings have no messages to carry.
        capture = self.telemetry.content_mode()
        if capture.on_events and self.endpoint.content is not None:
            self._emit_details_event(info, exc)

    def _set_response_attributes(
        self, info: ResponseInfo, exc: BaseException | None, values: dict[str, AttributeValue]
    ) -> None:
        span = self.span
        if self._first_chunk is not None:
            values[ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = self._first_chunk - self.start
        telemetry = self.telemetry
        settings = telemetry.settings
        if telemetry.content_mode().on_spans and info.output is not None:
            values[ga.GEN_AI_OUTPUT_MESSAGES] = fit_json(
                info.output, settings.max_content_bytes, telemetry.redact_part
            )
        if exc is not None:
            # Identifiers only; the exception's text only when content is captured on spans.
            values.update(failure_attributes(exc))
            record_failure(span, exc, telemetry)
        span.set_attributes(values)

    def _record_metrics(
        self, usage: Usage | None, duration: float, outcome: str, context: Context
    ) -> None:
        instruments = self.telemetry.instruments
        attributes = self.metric_attributes
        instruments.requests.add(1, {**attributes, ol.OTEL_LLM_REQUEST_OUTCOME: outcome})
        if self.endpoint.operation != ga.GenAiOperationNameValues.CHAT.value:
            instruments.operation_duration.record(duration, attributes, context)
            return
        instruments.inference_duration.record(duration, attributes, context)
        usage = usage or _NO_USAGE
        counter_attributes = {**attributes, **_UNKNOWN}
        counter_attributes.pop(error_attrs.ERROR_TYPE, None)  # not a dimension of the counters
        # Input and output are counted for every call, as 0 when no usage arrived (upstream
        # #536). The cache and reasoning counters only when the provider reported a non-zero
        # count (OpenAI reports 0 cached and 0 reasoning tokens on most calls): adding 0 changes
        # no total and would only open an all-zero series.
        instruments.usage_input_tokens.add(usage.input_tokens or 0, counter_attributes)
        instruments.usage_output_tokens.add(usage.output_tokens or 0, counter_attributes)
        if usage.cache_read_tokens:
            instruments.usage_cache_read_tokens.add(usage.cache_read_tokens, counter_attributes)
        if usage.cache_write_tokens:
            instruments.usage_cache_write_tokens.add(usage.cache_write_tokens, counter_attributes)
        if usage.reasoning_tokens:
            instruments.usage_reasoning_tokens.add(usage.reasoning_tokens, counter_attributes)
        # Percentile histograms: a missing count is not a zero-token call, so it is skipped.
        if usage.input_tokens is not None:
            instruments.operation_input_tokens.record(usage.input_tokens, attributes, context)
        if usage.output_tokens is not None:
            instruments.operation_output_tokens.record(usage.output_tokens, attributes, context)
        if self._first_chunk is not None:
            stream_attributes = {k: v for k, v in attributes.items() if k != error_attrs.ERROR_TYPE}
            instruments.time_to_first_chunk.record(
                self._first_chunk - self.start, stream_attributes, context
            )
            # One record per gap, made here rather than per chunk so chunk delivery stays fast,
            # and without exemplars (an empty context): offering one per chunk would cost every
            # chunk, and the stream's span is linked from its duration and first-chunk points.
            for gap in self._chunk_gaps:
                instruments.time_per_output_chunk.record(gap, stream_attributes, _NO_SPAN)

    def _emit_details_event(self, info: ResponseInfo, exc: BaseException | None) -> None:
        span = self.span
        # Built from what we recorded, not read back from the span: a span that was sampled
        # out records nothing, but the event must still carry the full attribute set.
        attributes: dict[str, Any] = {**self.attributes, **_response_attributes(info)}
        if exc is not None:
            attributes.update(failure_attributes(exc))
        if self._first_chunk is not None:
            attributes[ga.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = self._first_chunk - self.start
        budget = self.telemetry.settings.max_content_bytes
        redact = self.telemetry.redact_part
        for key in (ga.GEN_AI_INPUT_MESSAGES, ga.GEN_AI_OUTPUT_MESSAGES):
            attributes.pop(key, None)  # replaced by structured values below
        attributes.pop(ga.GEN_AI_SYSTEM_INSTRUCTIONS, None)
        attributes.pop(ga.GEN_AI_TOOL_DEFINITIONS, None)
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
        self.telemetry.logger.emit(
            event_name=ge.GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS,
            severity_number=SeverityNumber(
                ge.GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS_SEVERITY_NUMBER
            ),
            context=trace.set_span_in_context(span),
            attributes=attributes,
        )


@guarded(default=None)
def _cost(
    price: Pricer, attributes: Mapping[str, Any], usage: Usage | None, context: Context
) -> dict[str, AttributeValue] | None:
    # A pricing failure costs the call its cost attributes, never its response attributes.
    return price(attributes, usage, context)


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


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | GeneratorExit):
        return _OUTCOME.CANCELLED.value
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return _OUTCOME.TIMEOUT.value
    if getattr(exc, "status_code", None) == 429:
        return _OUTCOME.RATE_LIMITED.value
    return _OUTCOME.ERROR.value


@guarded(default=None)
def start_call(
    endpoint: Endpoint,
    instance: Any,
    kwargs: Mapping[str, Any],
    telemetry: Telemetry | None = None,
) -> Call | None:
    """Start recording a call (None: record nothing, e.g. instrumentation suppressed)."""
    if not is_instrumentation_enabled():
        return None
    telemetry = telemetry or get_telemetry()
    settings = telemetry.settings
    request = endpoint.request(instance, kwargs)
    operation = endpoint.operation
    attributes: dict[str, AttributeValue] = {
        ga.GEN_AI_OPERATION_NAME: operation,
        ga.GEN_AI_PROVIDER_NAME: endpoint.provider(instance),
    }
    if request.model:
        attributes[ga.GEN_AI_REQUEST_MODEL] = request.model
    attributes.update(request.attributes)
    metric_attributes = {k: attributes[k] for k in _SPAN_METRIC_KEYS if k in attributes}
    prompt = current_prompt()
    capture = telemetry.content_mode()
    if prompt is not None:
        attributes.update(
            prompt_span_attributes(
                prompt, capture.on_spans, settings.max_content_bytes, telemetry.redact_part
            )
        )
        metric_attributes.update(prompt_metric_attributes(prompt))
    # Session, tenant and conversation ids travel in baggage; span attributes only, never metrics.
    attributes.update(context_span_attributes())
    online = get_online()
    evaluate = (
        online is not None
        and online.has_evaluators(prompt.name if prompt else None)
        and not in_evaluation()  # a judge's own LLM calls are not judged again
    )
    content = None
    # Evaluators (judges) read the question too; it is recorded only if capture says so.
    if (capture.on_spans or capture.on_events or evaluate) and endpoint.content is not None:
        content = endpoint.content(kwargs)
        if capture.on_spans:
            attributes.update(
                _content_attributes(content, settings.max_content_bytes, telemetry.redact_part)
            )
    name = f"{operation} {request.model}" if request.model else operation
    span = telemetry.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
    return Call(
        telemetry,
        endpoint,
        span,
        metric_attributes,
        attributes=attributes,
        content=content,
        stream=request.stream,
        evaluate=evaluate,
    )


def _content_attributes(
    content: Content, budget: int, redact: Redact | None
) -> dict[str, AttributeValue]:
    values: dict[str, AttributeValue] = {}
    for key, value in (
        (ga.GEN_AI_INPUT_MESSAGES, content.input_messages),
        (ga.GEN_AI_SYSTEM_INSTRUCTIONS, content.system_instructions),
        (ga.GEN_AI_TOOL_DEFINITIONS, content.tool_definitions),
    ):
        if value:
            values[key] = fit_json(value, budget, redact)
    return values


_Tokens = tuple[object, "contextvars.Token[bool]"]


def enter_call(call: Call) -> _Tokens:
    """Make the call's span current and mark the context as inside a recorded call."""
    # The span is current while the SDK sends the request, so HTTP-level spans nest under it.
    return otel_context.attach(trace.set_span_in_context(call.span)), _in_call.set(True)


def exit_call(tokens: _Tokens) -> None:
    """Undo enter_call."""
    context_token, flag_token = tokens
    _in_call.reset(flag_token)
    otel_context.detach(context_token)  # type: ignore[arg-type]


def wrap_sync(endpoint: Endpoint, telemetry: Telemetry | None = None) -> Callable[..., Any]:
    """A wrapt wrapper recording every call of a synchronous SDK method (to `telemetry`)."""
    from otel_llm.instrumentation._streams import SyncStreamProxy  # noqa: PLC0415 - import cycle

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if _in_call.get():
            return wrapped(*args, **kwargs)
        call = start_call(endpoint, instance, kwargs, telemetry)
        if call is None:
            return wrapped(*args, **kwargs)
        if call.stream and endpoint.stream_usage is not None:
            kwargs = _with_stream_usage(call, endpoint, kwargs) or kwargs
        token = enter_call(call)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            exit_call(token)
        return _finish_result(call, endpoint, result, SyncStreamProxy)

    return wrapper


def wrap_async(endpoint: Endpoint, telemetry: Telemetry | None = None) -> Callable[..., Any]:
    """A wrapt wrapper recording every call of an asynchronous SDK method (to `telemetry`)."""
    from otel_llm.instrumentation._streams import AsyncStreamProxy  # noqa: PLC0415 - import cycle

    def wrapper(
        wrapped: Callable[..., Awaitable[Any]], instance: Any, args: Any, kwargs: Any
    ) -> Any:
        async def run() -> Any:
            if _in_call.get():
                return await wrapped(*args, **kwargs)
            call = start_call(endpoint, instance, kwargs, telemetry)
            if call is None:
                return await wrapped(*args, **kwargs)
            call_kwargs = kwargs
            if call.stream and endpoint.stream_usage is not None:
                call_kwargs = _with_stream_usage(call, endpoint, kwargs) or kwargs
            token = enter_call(call)
            try:
                result = await wrapped(*args, **call_kwargs)
            except BaseException as exc:
                call.fail(exc)
                raise
            finally:
                exit_call(token)
            return _finish_result(call, endpoint, result, AsyncStreamProxy)

        return run()

    return wrapper


def _finish_result(call: Call, endpoint: Endpoint, result: Any, proxy: Callable[..., Any]) -> Any:
    capture = call.telemetry.content_mode()
    # Output is also needed (but never recorded unless captured) when evaluators will read it.
    capturing = capture.on_spans or capture.on_events or call.evaluate
    if endpoint.stream_types and isinstance(result, endpoint.stream_types):
        state = _new_state(endpoint, capturing)
        if state is not None:
            wrapped = proxy(result, call, state)
            collector = _stream_collector.get()
            if collector is not None:
                collector.append(wrapped)
            return wrapped
    if endpoint.raw_types and isinstance(result, endpoint.raw_types):
        from otel_llm.instrumentation._raw import observe_raw  # noqa: PLC0415 - import cycle

        # Never `result.parse()`: it can raise (a reply that fails the caller's response_format)
        # and it caches what the caller's own parse() returns. The body is read instead, now
        # or as the caller reads it; the raw response keeps its type.
        if not observe_raw(call, endpoint, result, capturing):
            call.succeed(ResponseInfo())
        return result
    info = _response_info(endpoint, result, capturing)
    call.succeed(info)
    return result


@guarded(default=None)
def _with_stream_usage(call: Call, endpoint: Endpoint, kwargs: Any) -> Any:
    # Opt-in: ask for the stream's usage so the call can be counted and priced.
    if not call.telemetry.settings.stream_usage or endpoint.stream_usage is None:
        return None
    changed = endpoint.stream_usage(kwargs)
    if changed is not None:
        call.strip_usage = endpoint.strip_usage
    return changed


@guarded(default=None)
def _new_state(endpoint: Endpoint, capturing: bool) -> StreamState | None:
    return endpoint.stream_state(capturing) if endpoint.stream_state else None


@guarded(default=ResponseInfo())
def _response_info(endpoint: Endpoint, result: Any, capturing: bool) -> ResponseInfo:
    return endpoint.response(result, capturing)


_MAX_EVALUATED_CHARS = 1_000_000


def _output_text(output: Any) -> str:
    """The text parts of structured messages, joined: what evaluators read."""
    texts = []
    for message in output or ():
        for part in message.get("parts", ()) if isinstance(message, dict) else ():
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("content", "")))
    return "\n".join(texts)


@guarded(default=None)
def _submit_evaluation(call: Call, info: ResponseInfo) -> None:
    online = get_online()
    if online is None:
        return
    attributes = call.attributes
    prompt_name = attributes.get(ga.GEN_AI_PROMPT_NAME)
    prompt_version = attributes.get(ga.GEN_AI_PROMPT_VERSION)
    question = _output_text(call.content.input_messages) if call.content is not None else ""
    sample = Sample(
        # Bounded, so a queue of pending evaluations cannot hold huge replies in memory.
        output=_output_text(info.output)[:_MAX_EVALUATED_CHARS],
        input=question[-_MAX_EVALUATED_CHARS:] or None,
        prompt_name=str(prompt_name) if prompt_name is not None else None,
        retrieved_ids=last_retrieved_ids(),
    )
    # The request model, like every other request metric, so evaluation metrics join them.
    model = attributes.get(ga.GEN_AI_REQUEST_MODEL) or info.model
    online.submit(
        sample,
        span_context=call.span.get_span_context(),
        response_id=info.response_id,
        provider=str(attributes.get(ga.GEN_AI_PROVIDER_NAME, "")) or None,
        model=str(model) if model else None,
        prompt_version=str(prompt_version) if prompt_version is not None else None,
    )
