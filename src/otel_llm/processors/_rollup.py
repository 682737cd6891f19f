"""Agent steps of foreign runs whose spans say what they are only after they start.

The derived-metrics step counts a foreign agent run's steps as its spans start, which needs
`gen_ai.operation.name` on the span at start. Some frameworks set their attributes after
starting the span (Strands: `tracer.start_span(...)` then `span.set_attributes(...)`): their
`invoke_agent` span opens no run then. For those the steps are counted as the spans end, each
span handing its count up to its parent, and the agent span records them
(`otel_llm.agent.steps`) when it ends:

- an inference span is one model call, however many spans (ours, another SDK
  instrumentation's) ran inside it;
- a tool span is one tool call (an MCP server's span inside it is the same call), plus the
  model calls made inside it;
- an agent span records what it collected and hands nothing up (a sub-agent's steps are its own).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.util.types import AttributeValue

from otel_llm._steps import AgentRun
from otel_llm.processors._span_metrics import INFERENCE
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = ["StepRollup"]

_OP = ga.GenAiOperationNameValues


@dataclass
class _Tally:
    model_calls: int = 0
    tool_calls: int = 0


class StepRollup:
    """Step counts of open spans, handed up as their children end. Bounded, thread-safe."""

    def __init__(self, size: int = 4096) -> None:
        self._open: dict[int, _Tally] = {}
        self._size = size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many open spans hold counts from their ended children."""
        return len(self._open)

    def discard(self, span_id: int) -> None:
        """Forget what the span's children handed up (its run is counted another way)."""
        if self._open:
            with self._lock:
                self._open.pop(span_id, None)

    def end(self, span: ReadableSpan, operation: object, error: str | None) -> None:
        """Hand the ended span's steps to its parent; an agent span records its run's steps."""
        context = span.get_span_context()
        if context is None:
            return
        with self._lock:
            tally = self._open.pop(context.span_id, None) or _Tally()
        if operation in INFERENCE:
            tally = _Tally(model_calls=1)
        elif operation == _OP.EXECUTE_TOOL.value:
            tally.tool_calls = 1
        elif operation == _OP.INVOKE_AGENT.value:
            name: AttributeValue | None = (span.attributes or {}).get(ga.GEN_AI_AGENT_NAME)
            AgentRun(name, model_calls=tally.model_calls, tool_calls=tally.tool_calls).record(error)
            return
        parent = span.parent
        if parent is None or not (tally.model_calls or tally.tool_calls):
            return
        with self._lock:
            found = self._open.get(parent.span_id)
            if found is None:
                found = self._open[parent.span_id] = _Tally()
                if len(self._open) > self._size:
                    del self._open[next(iter(self._open))]
            found.model_calls += tally.model_calls
            found.tool_calls += tally.tool_calls


ROLLUP = StepRollup()
"""Shared by every exporter's chain (each span is handed up once: the ledger claims it)."""
