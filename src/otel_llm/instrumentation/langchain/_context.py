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

import importlib
from collections.abc import Callable
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from otel_llm._errors import log_internal_error

__all__ = ["TARGETS", "patch", "unpatch"]

TARGETS = (
    ("langchain_core.runnables.config", "_set_config_context"),
    ("langgraph._internal._runnable", "_set_config_context"),
)
"""Where LangChain and LangGraph set a child's config in the context copy it runs in."""

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


def patch(context_for: ContextFor) -> list[tuple[Any, str]]:
    """Wrap the targets that are importable; returns what to unwrap."""
    done = []
    for module_name, name in TARGETS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # LangGraph is optional
        if not callable(getattr(module, name, None)):
            continue
        wrap_function_wrapper(module, name, _wrapper(context_for))
        done.append((module, name))
    return done


def unpatch(done: list[tuple[Any, str]]) -> None:
    """Undo `patch`."""
    for module, name in done:
        unwrap(module, name)
