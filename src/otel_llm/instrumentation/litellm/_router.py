"""LiteLLM's Router: one `route {model}` span over the attempts a call took.

Each attempt the router makes (a retry on the same model group, a fallback to another) is a
`litellm.completion`/`acompletion` call, recorded as its own inference span; they nest under
the route span, which counts them (`otel_llm.retry.count`, `otel_llm.fallback.count`). The
route span is no inference: it carries no usage and feeds no inference metric, so a retried
call is never counted once more for the route. Each fallback is also counted in
`otel_llm.client.fallbacks` against the model given up, with the reason its last attempt
failed (`rate_limited`, `timeout`, else `error`): the fallback-rate rules and panels read it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Span, SpanKind

from otel_llm._errors import guarded, internal_errors
from otel_llm._failure import failure_attributes, record_failure
from otel_llm._fallbacks import record_fallback
from otel_llm._telemetry import Telemetry
from otel_llm.context import context_span_attributes
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation.endpoint import Endpoint
from otel_llm.instrumentation.types import get_field
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol

__all__ = ["note_attempt", "note_failure", "route_async", "route_sync"]

_REASONS = frozenset({"rate_limited", "timeout"})
"""Outcomes of a failed attempt that are fallback reasons of their own; any other is `error`."""


class _Route:
    """One routed call: the span, the model group asked for, each attempt's model group."""

    __slots__ = ("groups", "last", "reason", "requested", "span")

    def __init__(self, span: Span, requested: str) -> None:
        self.span = span
        self.requested = requested
        self.groups: list[str] = []
        self.last: tuple[str, str | None, str] | None = None
        """The last attempt's provider, model and operation: what a fallback gives up."""
        self.reason = "error"
        """Why the last attempt failed, as a fallback reason."""

    def counts(self) -> dict[str, int]:
        """Retries (attempts on a group already tried) and fallbacks (other groups tried)."""
        distinct = list(dict.fromkeys(self.groups))
        return {
            ol.OTEL_LLM_RETRY_COUNT: len(self.groups) - len(distinct),
            ol.OTEL_LLM_FALLBACK_COUNT: len([g for g in distinct if g != self.requested]),
        }


_current: contextvars.ContextVar[_Route | None] = contextvars.ContextVar(
    "otel_llm_litellm_route", default=None
)


def note_attempt(
    params: Mapping[str, Any], provider: str, model: str | None, operation: str
) -> None:
    """Count one attempt of the routed call in progress (if any), by its model group.

    An attempt on a group not tried before, after another, is a fallback: one
    `otel_llm.client.fallbacks` for the provider and model of the attempt before it.
    """
    route = _current.get()
    if route is None:
        return
    group = None
    for key in ("metadata", "litellm_metadata"):
        group = get_field(params.get(key), "model_group")
        if isinstance(group, str):
            break
    if not isinstance(group, str):
        deployment = params.get("model")
        group = deployment if isinstance(deployment, str) else route.requested
    if route.last is not None and group not in route.groups:
        given_up, given_up_model, given_up_operation = route.last
        record_fallback(given_up, given_up_model, reason=route.reason, operation=given_up_operation)
    route.groups.append(group)
    route.last = (provider, model, operation)
    route.reason = "error"


def note_failure(outcome: str) -> None:
    """Note how the routed call's current attempt failed (its request outcome), if routed."""
    route = _current.get()
    if route is not None:
        route.reason = outcome if outcome in _REASONS else "error"


@guarded(default=None)
def _start(telemetry: Telemetry, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> _Route | None:
    model = kwargs.get("model", args[0] if args else None)
    if not isinstance(model, str):
        return None
    attributes = {ga.GEN_AI_REQUEST_MODEL: model, **context_span_attributes()}
    span = telemetry.tracer.start_span(
        f"route {model}", kind=SpanKind.INTERNAL, attributes=attributes
    )
    return _Route(span, model)


def _end(route: _Route, telemetry: Telemetry, result: Any, exc: BaseException | None) -> None:
    span = route.span
    with internal_errors("ending a LiteLLM route span"):
        try:
            span.set_attributes(route.counts())
            if exc is not None:
                span.set_attributes(failure_attributes(exc))
                record_failure(span, exc, telemetry)
            else:
                model = get_field(result, "model")
                if isinstance(model, str):
                    span.set_attribute(ga.GEN_AI_RESPONSE_MODEL, model)
        finally:
            span.end()


def route_sync(endpoint: Endpoint | None, recorder: Recorder) -> Callable[..., Any]:
    """A wrapper factory for Router.completion / embedding."""
    telemetry = recorder.telemetry

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if _current.get() is not None or not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        route = _start(telemetry, args, kwargs)
        if route is None:
            return wrapped(*args, **kwargs)
        tokens = _enter(route)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as exc:
            _end(route, telemetry, None, exc)
            raise
        finally:
            _exit(tokens)
        _end(route, telemetry, result, None)
        return result

    return wrapper


def route_async(endpoint: Endpoint | None, recorder: Recorder) -> Callable[..., Any]:
    """A wrapper factory for Router.acompletion / aembedding."""
    telemetry = recorder.telemetry

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        async def run() -> Any:
            if _current.get() is not None or not is_instrumentation_enabled():
                return await wrapped(*args, **kwargs)
            route = _start(telemetry, args, kwargs)
            if route is None:
                return await wrapped(*args, **kwargs)
            tokens = _enter(route)
            try:
                result = await wrapped(*args, **kwargs)
            except BaseException as exc:
                _end(route, telemetry, None, exc)
                raise
            finally:
                _exit(tokens)
            _end(route, telemetry, result, None)
            return result

        return run()

    return wrapper


_Tokens = tuple[object, "contextvars.Token[_Route | None]"]


def _enter(route: _Route) -> _Tokens:
    return otel_context.attach(trace.set_span_in_context(route.span)), _current.set(route)


def _exit(tokens: _Tokens) -> None:
    context_token, route_token = tokens
    _current.reset(route_token)
    otel_context.detach(context_token)  # type: ignore[arg-type]
