"""Agent steps counted from otel-llm's own model calls: one call hook, one context read per call."""

from __future__ import annotations

from opentelemetry import trace

from otel_llm._steps import current_run
from otel_llm.instrumentation.hooks import CallHook, CallRecord

__all__ = ["AgentStepHook"]


class AgentStepHook(CallHook):
    """Counts each recorded model call as a `model_call` step of the agent run it is made in.

    A hook, not a span processor: the count then holds when head sampling drops the call's
    span (processors never see it start) and whatever processors the application set up.
    Other libraries' model spans are counted by the derived-metrics processor as they start;
    a call of ours made under one of them (pydantic-ai's `chat` span around the openai call
    we record) is the same step and is not counted again.
    """

    __slots__ = ()

    def start(self, call: CallRecord) -> bool:
        """Count the call in the innermost open run, if any (nothing to do at its end)."""
        run = current_run()
        if run is None:
            return False
        if run.foreign_model_spans:
            parent = trace.get_current_span().get_span_context()
            if run.inside_foreign_model_call(parent.span_id):
                return False
        run.model_calls += 1
        return False
