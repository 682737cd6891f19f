"""What the framework instrumentations share: model calls recorded once, contexts across callbacks.

Frameworks (LangChain, the OpenAI Agents SDK) report each model call they make. When the call
goes through a provider SDK otel-llm instruments, that SDK's span is the inference span, with
the provider's exact request and response; the framework's report must then add nothing. When
it does not (a LangChain-only model, a custom Agents SDK model), the framework's report is all
there is, and it is recorded as an inference span with the same metrics, hooks and content
rules as an SDK call.

A framework opens a `ModelRun` where its model call starts (`enter`) and closes it where the
call ends (`leave`, then `finish`). `ModelRunHook`, attached to every SDK call the engine
records, marks the run open in the calling context as covered and hands the SDK span the
run's extra attributes (the conversation id the framework knows and the SDK does not).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm._errors import log_internal_error
from otel_llm.instrumentation._call import Call, Recorder
from otel_llm.instrumentation._engine import _content_attributes
from otel_llm.instrumentation.endpoint import Endpoint, RequestInfo
from otel_llm.instrumentation.hooks import CallHook, CallRecord
from otel_llm.instrumentation.types import Content, ResponseInfo
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import server

__all__ = ["ModelRun", "ModelRunHook", "attach", "detach", "leave"]

_METRIC_KEYS = (
    ga.GEN_AI_OPERATION_NAME,
    ga.GEN_AI_PROVIDER_NAME,
    ga.GEN_AI_REQUEST_MODEL,
    server.SERVER_ADDRESS,
    server.SERVER_PORT,
)

_open: contextvars.ContextVar[ModelRun | None] = contextvars.ContextVar(
    "otel_llm_model_run", default=None
)


class _Chunks:
    """The stream state of a framework's stream: only the chunk timings count."""

    __slots__ = ()

    def on_chunk(self, chunk: Any) -> None:
        """Nothing to read: the framework hands over its result at the end."""

    def result(self) -> ResponseInfo:
        """Nothing was read."""
        return ResponseInfo()


_CHUNKS = _Chunks()


def _no_request(instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    return None


@functools.lru_cache(maxsize=256)
def _endpoint(operation: str, provider: str) -> Endpoint:
    # Only what Call reads at the end: the operation, the provider, the default error classes.
    return Endpoint(operation=operation, provider=provider, request=_no_request)


class ModelRun:
    """One model call a framework reports, recorded by the SDK beneath it or, if none, by `finish`.

    Made where the framework's call starts, so the duration and chunk timings are the call's.
    """

    __slots__ = ("_call", "_start_ns", "_streamed", "covered", "ended", "extra")

    def __init__(
        self,
        recorder: Recorder,
        operation: str,
        provider: str,
        request: RequestInfo,
        extra: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        self.covered = False
        """Set when an instrumented SDK call ran inside this run: that call is its record."""
        self.ended = False
        self.extra: Mapping[str, AttributeValue] = extra or {}
        """Attributes the framework knows and the SDK call does not (the conversation id)."""
        attributes: dict[str, AttributeValue] = {
            ga.GEN_AI_OPERATION_NAME: operation,
            ga.GEN_AI_PROVIDER_NAME: provider,
        }
        if request.model:
            attributes[ga.GEN_AI_REQUEST_MODEL] = request.model
        attributes.update(request.attributes)
        attributes.update(self.extra)
        metric_attributes = {k: attributes[k] for k in _METRIC_KEYS if k in attributes}
        telemetry = recorder.telemetry
        self._call = Call(
            recorder,
            _endpoint(operation, provider),
            attributes,
            metric_attributes,
            telemetry.content_mode(),
            stream=request.stream,
        )
        self._start_ns = time.time_ns()
        self._streamed = request.stream

    def enter(self) -> contextvars.Token[ModelRun | None]:
        """Open this run in the current context, for the SDK call the framework makes next."""
        return _open.set(self)

    def chunk(self) -> None:
        """Note one streamed chunk (time to first chunk, time per chunk)."""
        self._streamed = True
        self._call.on_chunk(_CHUNKS, None)

    def finish(
        self,
        parent: Context | None,
        response: Callable[[bool], ResponseInfo],
        content: Callable[[], Content | None] | None = None,
        exc: BaseException | None = None,
        *,
        request_model: str | None = None,
    ) -> None:
        """End the run: recorded as an inference span under `parent`, unless the SDK recorded it.

        `response(capturing)` gives the response's facts, its output messages only when
        `capturing`; `content()` the request's content, called only when content is captured or
        a hook reads it. `exc` is the failure that ended the call (a cancellation is no error).
        `request_model` is the model asked for, when it was not known at the start.
        """
        self.ended = True
        if self.covered:
            return
        call = self._call
        if request_model and ga.GEN_AI_REQUEST_MODEL not in call.attributes:
            call.attributes[ga.GEN_AI_REQUEST_MODEL] = request_model
            call.metric_attributes[ga.GEN_AI_REQUEST_MODEL] = request_model
        if self._streamed:
            call.attributes[ga.GEN_AI_REQUEST_STREAM] = True
        call.hooks = _start_hooks(call)
        capture = call.capture
        capturing = capture.on_spans or capture.on_events or call.needs_content
        if content is not None and capturing:
            built = content()
            if built is not None:
                call.content = built
                if capture.on_spans:
                    telemetry = call.telemetry
                    call.attributes.update(
                        _content_attributes(
                            built, telemetry.settings.max_content_bytes, telemetry.redact_part
                        )
                    )
        info = response(capturing)
        attributes = call.attributes
        model = attributes.get(ga.GEN_AI_REQUEST_MODEL)
        operation = str(attributes[ga.GEN_AI_OPERATION_NAME])
        name = f"{operation} {model!s}" if isinstance(model, str) and model else operation
        call.span = call.telemetry.tracer.start_span(
            name,
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=self._start_ns,
        )
        if exc is None:
            call.succeed(info)
        else:
            call.fail(exc, info)


def _start_hooks(call: Call) -> tuple[CallHook, ...]:
    ending: tuple[CallHook, ...] = ()
    for hook in call.recorder.hooks:
        try:
            if hook.start(call):
                ending = (*ending, hook)
        except Exception:
            log_internal_error(f"{type(hook).__qualname__}.start")
    return ending


def leave(token: contextvars.Token[ModelRun | None]) -> None:
    """Close the run `enter` opened, when called in the same context (else nothing to undo).

    Async frameworks end a call in a copy of the context it started in (LangChain shields its
    end callbacks in a task of their own): the copy goes away, and the run left open in the
    original is ended, so the hook ignores it.
    """
    with contextlib.suppress(ValueError, RuntimeError):
        _open.reset(token)


def attach(context: Context) -> object:
    """Make `context` current from a framework's start callback; undo it with `detach`."""
    return otel_context.attach(context)


def detach(token: object) -> None:
    """Undo `attach` when called in the context it was made in; quietly nothing elsewhere.

    A framework's end callback may run in a copy of the context its start callback ran in
    (a task of its own, another thread): the copy is thrown away, so there is nothing to undo,
    and OpenTelemetry's own `detach` would log an error for it.
    """
    if isinstance(token, contextvars.Token):
        with contextlib.suppress(ValueError, RuntimeError):
            token.var.reset(token)
        return
    otel_context.detach(token)  # type: ignore[arg-type]  # another runtime context's token


class ModelRunHook(CallHook):
    """Marks the framework's model run open around an SDK call as covered by the call's span."""

    __slots__ = ()

    def start(self, call: CallRecord) -> bool:
        """One context variable read per SDK call: nothing else happens outside frameworks."""
        run = _open.get()
        if run is None or run.ended:
            return False
        run.covered = True
        attributes = call.attributes
        for key, value in run.extra.items():
            attributes.setdefault(key, value)
        return False
