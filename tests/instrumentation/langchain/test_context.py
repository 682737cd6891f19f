"""Inside LangChain's child contexts the run's span is current; the caller's context is not."""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.callbacks import CallbackManager
from langchain_core.runnables import config as runnable_config
from langgraph._internal import _runnable
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from otel_llm.instrumentation.langchain import _context


def test_a_child_context_carries_the_parent_runs_span() -> None:
    """set_config_context(child config) makes the parent run's span current in the copy only."""
    span = TracerProvider().get_tracer("t").start_span("run")
    parent_id = uuid.uuid4()
    known: dict[object, Any] = {parent_id: trace.set_span_in_context(span)}
    done = _context.patch(known.get, runnable_config) + _context.patch(known.get, _runnable)
    try:
        config: Any = {"callbacks": CallbackManager(handlers=[], parent_run_id=parent_id)}
        with runnable_config.set_config_context(config) as context:
            seen = context.run(trace.get_current_span)
        assert seen is span
        assert trace.get_current_span() is not span
    finally:
        _context.unpatch(done)
    assert len(done) == 2  # langchain-core's and LangGraph's were both found


def test_an_unknown_parent_changes_nothing() -> None:
    """A child config whose parent run has no span leaves the context as it was."""
    done = _context.patch(lambda run_id: None, runnable_config)
    try:
        with runnable_config.set_config_context({"callbacks": None}) as context:
            seen = context.run(trace.get_current_span)
        assert seen is trace.get_current_span()
    finally:
        _context.unpatch(done)
