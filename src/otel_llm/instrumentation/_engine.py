"""Provider-neutral wrapping: one span and one set of metric points per GenAI call."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import Redact
from otel_llm._errors import guarded, log_internal_error
from otel_llm._telemetry import get_telemetry
from otel_llm.instrumentation._call import Call, Recorder
from otel_llm.instrumentation._fit import fit_json
from otel_llm.instrumentation.endpoint import Arguments, Endpoint
from otel_llm.instrumentation.hooks import CallHook
from otel_llm.instrumentation.types import Content, ResponseInfo
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import server

_in_call: contextvars.ContextVar[bool] = contextvars.ContextVar("otel_llm_in_call", default=False)
"""True while one of our wrappers runs; nested instrumented calls (and the SDK's own spans) pass."""

_SPAN_METRIC_KEYS = (
    ga.GEN_AI_OPERATION_NAME,
    ga.GEN_AI_PROVIDER_NAME,
    ga.GEN_AI_REQUEST_MODEL,
    server.SERVER_ADDRESS,
    server.SERVER_PORT,
)

Wrapper = Callable[[Callable[..., Any], Any, Any, Any], Any]
"""A wrapt wrapper: (wrapped, instance, args, kwargs) -> what the wrapped method returns."""


def in_instrumented_call() -> bool:
    """Whether the current context is inside a call otel-llm is already recording."""
    return _in_call.get()


@guarded(default=None)
def start_call(
    endpoint: Endpoint,
    instance: Any,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    recorder: Recorder | None = None,
) -> Call | None:
    """Start recording a call (None: record nothing, e.g. not a GenAI call, or suppressed)."""
    if not is_instrumentation_enabled():
        return None
    request = endpoint.request(instance, args, kwargs)
    if request is None:
        return None
    endpoint = request.endpoint or endpoint
    recorder = recorder or Recorder(get_telemetry())
    telemetry = recorder.telemetry
    operation = endpoint.operation
    provider = endpoint.provider
    attributes: dict[str, AttributeValue] = {
        ga.GEN_AI_OPERATION_NAME: operation,
        ga.GEN_AI_PROVIDER_NAME: provider if isinstance(provider, str) else provider(instance),
    }
    if request.model:
        attributes[ga.GEN_AI_REQUEST_MODEL] = request.model
    if endpoint.server is not None:
        attributes.update(endpoint.server(instance))
    attributes.update(request.attributes)
    metric_attributes = {k: attributes[k] for k in _SPAN_METRIC_KEYS if k in attributes}
    capture = telemetry.content_mode()
    on_spans = capture.on_spans
    call = Call(recorder, endpoint, attributes, metric_attributes, capture, stream=request.stream)
    if recorder.hooks:
        call.hooks = _start_hooks(recorder.hooks, call)
    # Hooks (an online evaluator) may read the question too; it is recorded only if captured.
    if (on_spans or capture.on_events or call.needs_content) and endpoint.content:
        params = request.params if request.params is not None else kwargs
        call.content = endpoint.content(params)
    name = f"{operation} {request.model}" if request.model else operation
    call.span = span = telemetry.tracer.start_span(
        name, kind=SpanKind.CLIENT, attributes=attributes
    )
    # Captured content goes on once the span has started, never as a start attribute: a
    # sampler or a span processor's on_start must not see raw content (redaction runs on end).
    if (on_spans or call.content_attributes) and span.is_recording():
        # Guarded apart from start_call (inline: this runs on every captured call): once the
        # span has started, a failure here costs the span its content, not the call its span.
        try:
            _set_content(call, on_spans)
        except Exception:
            log_internal_error("setting a GenAI span's content")
    return call


def _set_content(call: Call, on_spans: bool) -> None:
    values = call.content_attributes
    content = call.content
    if on_spans and content is not None:
        telemetry = call.telemetry
        values = {
            **values,
            **_content_attributes(
                content, telemetry.settings.max_content_bytes, telemetry.redact_part
            ),
        }
    if values:
        call.span.set_attributes(values)


def _start_hooks(hooks: tuple[CallHook, ...], call: Call) -> tuple[CallHook, ...]:
    ending: tuple[CallHook, ...] = ()
    for hook in hooks:
        # Inline rather than `guarded`: this runs for every hook of every call. A failing hook
        # costs the call only that feature's attributes.
        try:
            if hook.start(call):
                ending = (*ending, hook)
        except Exception:
            log_internal_error(f"{type(hook).__qualname__}.start")
    return ending


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


def wrap_sync(endpoint: Endpoint, recorder: Recorder | None = None) -> Wrapper:
    """A wrapt wrapper recording every call of a synchronous SDK method."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if _in_call.get():
            return wrapped(*args, **kwargs)
        call = start_call(endpoint, instance, args, kwargs, recorder)
        if call is None:
            return wrapped(*args, **kwargs)
        if call.stream and call.endpoint.stream_usage is not None:
            args, kwargs = _with_stream_usage(call, args, kwargs) or (args, kwargs)
        token = enter_call(call)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            exit_call(token)
        return finish_result(call, result)

    return wrapper


def wrap_async(endpoint: Endpoint, recorder: Recorder | None = None) -> Wrapper:
    """A wrapt wrapper recording every call of an asynchronous SDK method (a coroutine)."""

    def wrapper(
        wrapped: Callable[..., Awaitable[Any]], instance: Any, args: Any, kwargs: Any
    ) -> Any:
        async def run() -> Any:
            if _in_call.get():
                return await wrapped(*args, **kwargs)
            call = start_call(endpoint, instance, args, kwargs, recorder)
            if call is None:
                return await wrapped(*args, **kwargs)
            call_args, call_kwargs = args, kwargs
            if call.stream and call.endpoint.stream_usage is not None:
                call_args, call_kwargs = _with_stream_usage(call, args, kwargs) or (args, kwargs)
            token = enter_call(call)
            try:
                result = await wrapped(*call_args, **call_kwargs)
            except BaseException as exc:
                call.fail(exc)
                raise
            finally:
                exit_call(token)
            return finish_result(call, result)

        return run()

    return wrapper


def finish_result(call: Call, result: Any) -> Any:
    """What the caller gets for `result`: its streams observed, or the call ended from it."""
    endpoint = call.endpoint
    streams = endpoint.streams
    if streams is not None:
        try:
            found = streams(result, call)
        except Exception:  # inline rather than `guarded`: this runs on every call
            log_internal_error("finding the streams of a result")
            found = None
        if found is not None:
            return found  # each stream ends the call (or the provider ended it itself)
    capture = call.capture
    call.succeed(
        _response_info(
            endpoint, result, capture.on_spans or capture.on_events or call.needs_content
        )
    )
    return result


@guarded(default=ResponseInfo())
def _response_info(endpoint: Endpoint, result: Any, capturing: bool) -> ResponseInfo:
    return endpoint.response(result, capturing)


@guarded(default=None)
def _with_stream_usage(
    call: Call, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Arguments | None:
    # Opt-in: ask for the stream's usage so the call can be counted and priced.
    endpoint = call.endpoint
    if not call.telemetry.settings.stream_usage or endpoint.stream_usage is None:
        return None
    changed = endpoint.stream_usage(args, kwargs)
    if changed is not None:
        call.strip_usage = endpoint.strip_usage
    return changed
