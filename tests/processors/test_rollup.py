"""Agent steps handed up the span tree as foreign spans end (attributes set after start)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from otel_llm.processors._rollup import StepRollup
from tests.conftest import Captured


def _span(span_id: int, parent: int | None, **attributes: Any) -> ReadableSpan:
    def context(found: int) -> SpanContext:
        return SpanContext(0x1, found, is_remote=False, trace_flags=TraceFlags(1))

    return ReadableSpan(
        name="span",
        context=context(span_id),
        parent=None if parent is None else context(parent),
        attributes=attributes,
    )


def _steps(captured: Captured) -> dict[str, tuple[int, float]]:
    return {
        p.attributes["otel_llm.agent.step.kind"]: (p.count, p.sum)
        for p in captured.metric_points("otel_llm.agent.steps")
    }


def test_an_agent_records_the_model_and_tool_calls_of_its_subtree(captured: Captured) -> None:
    """Nested inference spans count once, an MCP span in a tool is that tool, in any depth."""
    rollup = StepRollup()
    ends = [
        (_span(10, 3), None),  # our SDK span inside the framework's chat span: not an extra call
        (_span(3, 2), "chat"),
        (_span(11, 4), "execute_tool"),  # an MCP server span inside the tool span
        (_span(4, 2), "execute_tool"),
        (_span(2, 1), "execute_event_loop_cycle"),
        (_span(5, 1), "chat"),
        (_span(1, None, **{"gen_ai.agent.name": "support"}), "invoke_agent"),
    ]
    for span, operation in ends:
        rollup.end(span, operation, None)
    assert _steps(captured) == {"model_call": (1, 2), "tool_call": (1, 1)}
    assert len(rollup) == 0


def test_a_discarded_span_hands_nothing_up(captured: Captured) -> None:
    """A span counted another way (a run opened at start) forgets what its children handed up."""
    rollup = StepRollup()
    rollup.end(_span(3, 2), "chat", None)
    rollup.discard(2)
    rollup.end(_span(2, 1), None, None)
    rollup.end(_span(1, None), "invoke_agent", "TimeoutError")
    points = captured.metric_points("otel_llm.agent.steps")
    assert {(p.attributes["error.type"], p.sum) for p in points} == {("TimeoutError", 0)}


def test_the_open_spans_are_bounded() -> None:
    """Counts for spans that never end are forgotten, oldest first."""
    rollup = StepRollup(size=2)
    for parent in range(100, 105):
        rollup.end(_span(parent + 1000, parent), "chat", None)
    assert len(rollup) == 2
