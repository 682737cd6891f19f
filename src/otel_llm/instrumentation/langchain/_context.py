"""The current span inside a LangChain run: its span made current where its children run.

LangChain runs a run's children (a sequence's steps, a LangGraph node's function, a tool's
body) in a fresh copy of the context, made by `_set_config_context` in langchain-core and
LangGraph, which sets the child's config there. Wrapping those two functions makes the run's
span current in that copy as well, so anything the children do (an SDK call, an HTTP request,
a manual span) is parented under the run, in whichever thread or task it runs. The copy is
thrown away when the children are done, so there is nothing to detach, and a consumer that
stops reading a stream halfway leaves no span current behind.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from otel_llm._errors import log_internal_error

__all__ = ["TARGETS", "patch", "unpatch"]

TARGETS = ("langchain_core.runnables.config", "langgraph._internal._runnable")
"""Where LangChain and LangGraph set a child's config in the context copy it runs in (each
module's `_set_config_context`)."""
_NAME = "_set_config_context"

ContextFor = Callable[[object], Context | None]


def _wrapper(context_for: ContextFor) -> Callable[..., Any]:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            config = args[0] if args else kwargs.get("config")
            callbacks = config.get("callbacks") if isinstance(config, dict) else None
            # A child's callback manager names its parent run: the run whose span to make
            # current for the child (or its nearest ancestor with a span).
            context = context_for(getattr(callbacks, "parent_run_id", None))
            if context is not None:
                otel_context.attach(context)  # in the copy LangChain made for the child
        except Exception:
            log_internal_error("langchain._set_config_context")
        return result

    return wrapper


def patch(context_for: ContextFor, module: ModuleType) -> list[tuple[Any, str]]:
    """Wrap `module`'s `_set_config_context` (one of TARGETS); returns what to unwrap."""
    if module.__name__ not in TARGETS or not callable(getattr(module, _NAME, None)):
        return []  # a release that moved it: children are then parented by run only
    wrap_function_wrapper(module, _NAME, _wrapper(context_for))
    return [(module, _NAME)]


def unpatch(done: list[tuple[Any, str]]) -> None:
    """Undo `patch`."""
    for module, name in done:
        unwrap(module, name)
