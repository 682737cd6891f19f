"""Session, tenant and conversation ids carried in OpenTelemetry baggage across services."""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable
from contextvars import Token
from types import TracebackType
from typing import ParamSpec, TypeVar, cast

from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation.hooks import CallHook, CallRecord
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol

_P = ParamSpec("_P")
_R = TypeVar("_R")

CONTEXT_KEYS: tuple[str, ...] = (
    ol.OTEL_LLM_SESSION_ID,
    ol.OTEL_LLM_TENANT_ID,
    ga.GEN_AI_CONVERSATION_ID,
)
"""The baggage keys session() sets and context_span_attributes() reads back."""


_open: contextvars.ContextVar[tuple[tuple[int, Token[Context]], ...]] = contextvars.ContextVar(
    "otel_llm_open_sessions", default=()
)


class Session:
    """Session, tenant and conversation ids to put into OpenTelemetry baggage; see session().

    session() builds one; use it as a context manager (``with session(session_id="s1"):``)
    or as a decorator of a sync or async function (``@session(tenant_id="acme")``: the ids
    are set for each call, inside the coroutine for async functions). The ids go into baggage
    under ``otel_llm.session.id``, ``otel_llm.tenant.id`` and ``gen_ai.conversation.id``, so
    the standard W3C ``baggage`` propagator carries them to downstream services, where
    otel-llm reads them back with context_span_attributes().

    An id left as None keeps whatever value the enclosing context has; leaving the block
    restores the enclosing values. The ids become span attributes only, never metric
    dimensions (they are unbounded). Baggage is sent in clear to every downstream service, so
    do not put secrets or personal data in it.
    """

    def __init__(
        self,
        *,
        session_id: str | None = None,
        tenant_id: str | None = None,
        conversation_id: str | None = None,
    ) -> None:
        values = zip(CONTEXT_KEYS, (session_id, tenant_id, conversation_id), strict=True)
        # Ids are strings in baggage; other types (an int id, say) are converted, not dropped.
        self._values = {key: str(value).strip() for key, value in values if value is not None}

    def _with_values(self) -> Session:
        clone = Session.__new__(Session)
        clone._values = self._values
        return clone

    def __enter__(self) -> None:
        """Attach a context whose baggage carries the ids."""
        ctx = otel_context.get_current()
        for key, value in self._values.items():
            ctx = baggage.set_baggage(key, value, ctx)
        # Tokens live in a ContextVar keyed by this object, not on it: one Session shared by
        # interleaved tasks or threads must restore each block's own context.
        stack = _open.get()
        _open.set((*stack, (id(self), otel_context.attach(ctx))))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Restore the enclosing context."""
        stack = _open.get()
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == id(self):
                token = stack[index][1]
                _open.set(stack[:index] + stack[index + 1 :])
                otel_context.detach(token)
                return

    def __call__(self, function: Callable[_P, _R]) -> Callable[_P, _R]:
        """Decorate `function` so each call (each await, for async functions) runs inside it."""
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(*args: _P.args, **kwargs: _P.kwargs) -> object:
                with self._with_values():
                    return await cast("Awaitable[object]", function(*args, **kwargs))

            return cast("Callable[_P, _R]", async_wrapper)

        @functools.wraps(function)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            with self._with_values():
                return function(*args, **kwargs)

        return wrapper


def session(
    *,
    session_id: str | None = None,
    tenant_id: str | None = None,
    conversation_id: str | None = None,
) -> Session:
    """Carry these ids in baggage for a ``with`` block or each call of a decorated function.

    ``with session(session_id="s1", tenant_id="acme"): ...`` or ``@session(tenant_id="acme")``
    on a sync or async function. See Session for propagation, nesting and the span-only rule.
    """
    return Session(session_id=session_id, tenant_id=tenant_id, conversation_id=conversation_id)


def context_span_attributes() -> dict[str, AttributeValue]:
    """The session, tenant and conversation ids in the current baggage, as span attributes.

    Cheap enough for every LLM call (one baggage lookup). For spans only: these ids are
    unbounded and must never become metric dimensions.
    """
    entries = baggage.get_all()
    if not entries:
        return {}
    attributes: dict[str, AttributeValue] = {}
    for key in CONTEXT_KEYS:
        value = entries.get(key)
        if isinstance(value, str) and value:
            attributes[key] = value
    return attributes


class BaggageHook(CallHook):
    """Puts the session, tenant and conversation ids in baggage on every LLM call's span."""

    __slots__ = ()

    def start(self, call: CallRecord) -> bool:
        """Add the ids as span attributes (never as metric dimensions: they are unbounded)."""
        call.attributes.update(context_span_attributes())
        return False
