"""Metrics from other instrumentations' GenAI spans, for calls none of ours recorded.

pydantic-ai, Google ADK, Strands, LiteLLM, the MCP SDK, OpenLLMetry, OpenInference and OpenLIT
make spans but not the metrics our dashboards and alerts read (inference duration, token usage,
requests by outcome; cost is the cost processor's). This step, after the convention upgrade,
derives them from each such span once:

- never for our own spans (the instrumentation records its metrics as each call ends);
- never for a foreign span that one of our recorded calls covers: a child of our inference
  span (another instrumentation of the same SDK, nested in ours), or the parent of our
  inference span (pydantic-ai's or LiteLLM's span around the openai call we recorded);
- a tool execution directly inside another (a framework's tool span around an
  `otel_llm.tool()` function, the MCP SDK's server span inside the caller's tool span) is one
  tool call: only the outermost counts, and ours when ours is one of them;
- never for the official OpenTelemetry GenAI instrumentations' upstream metrics, which they
  record themselves (only our request counter is derived from their spans);
- once per span however many exporters' chains it passes through (`LEDGER` is shared).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from otel_llm._errors import log_internal_error
from otel_llm._instruments import SCOPE_NAME, active_instruments
from otel_llm._steps import SPAN_RUNS, AgentRun, current_run
from otel_llm.processors._base import SpanData, WrappingSpanProcessor
from otel_llm.processors._ledger import LEDGER, SpanLedger
from otel_llm.processors._rollup import ROLLUP
from otel_llm.processors._span_metrics import INFERENCE, exception_type, record_span_metrics
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes.error import ERROR_TYPE

__all__ = ["DerivedMetricsSpanProcessor", "started_operation"]

_OP = ga.GenAiOperationNameValues
_TOOL, _AGENT, _WORKFLOW = _OP.EXECUTE_TOOL.value, _OP.INVOKE_AGENT.value, _OP.INVOKE_WORKFLOW.value
_DERIVED = INFERENCE | {_TOOL, _AGENT, _WORKFLOW}


def is_ours(span: ReadableSpan) -> bool:
    """Whether otel-llm made the span (its metrics were recorded when the call ended)."""
    scope = span.instrumentation_scope
    return scope is not None and scope.name == SCOPE_NAME


def started_operation(span: ReadableSpan | trace.Span) -> str | None:
    """The span's gen_ai.operation.name, or, before it is set, the operation its name starts with.

    Some frameworks (Google ADK) set their attributes only after starting the span; upstream
    names GenAI spans `{gen_ai.operation.name} {target}`, so the name says it from the start.
    """
    attributes = getattr(span, "attributes", None) or {}
    operation = attributes.get(ga.GEN_AI_OPERATION_NAME)
    if operation is not None:
        return operation if isinstance(operation, str) else None
    first = str(getattr(span, "name", "") or "").split(" ", 1)[0]
    return first if first in _DERIVED else None


class DerivedMetricsSpanProcessor(WrappingSpanProcessor):
    """Records the inference, tool and agent metrics of foreign GenAI spans; spans pass unchanged.

    Runs after the convention upgrade, so it reads current names whatever emitted the span.
    """

    def __init__(
        self,
        next_processor: SpanProcessor,
        ledger: SpanLedger = LEDGER,
        normalise: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
    ) -> None:
        """`normalise` reads foreign names as current ones (when no upgrade step runs first)."""
        super().__init__(next_processor)
        self._ledger = ledger
        self._normalise = normalise

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Note a foreign span that starts inside a call we record, or is an agent's model step.

        A foreign span inside one of our calls is that call's (its metrics are ours). Our own
        calls count their agent steps in a call hook (instrumentation._agent_steps). Another
        instrumentation's span around or inside our inference span may be a second recorder
        of the SDK: looked for once (_check_for_twin).
        """
        try:
            if is_ours(span):
                if (span.attributes or {}).get(ga.GEN_AI_OPERATION_NAME) in INFERENCE:
                    _check_for_twin(trace.get_current_span(parent_context))
            elif _inside_counted_call(span, parent_context):
                self._ledger.nested.add(span.get_span_context().span_id)
                _check_for_twin(span)
            else:
                self._note_run(span, parent_context)
                run = current_run(parent_context)
                if run is not None:
                    self._note_step(run, span, parent_context)
        except Exception:
            log_internal_error(type(self).__name__)
        self.next.on_start(span, parent_context=parent_context)

    def _note_run(self, span: Span, parent_context: Context | None) -> None:
        """Map the span to the foreign agent run it is part of, or open one for an agent span."""
        span_id = span.get_span_context().span_id
        if len(SPAN_RUNS):
            parent_id = trace.get_current_span(parent_context).get_span_context().span_id
            inherited = SPAN_RUNS.get(parent_id)
            if inherited is not None:
                SPAN_RUNS.add(span_id, inherited)
        attributes = span.attributes or {}
        if started_operation(span) == _AGENT and self._ledger.claim(span, "run"):
            name = attributes.get(ga.GEN_AI_AGENT_NAME)
            if name is None:  # named `invoke_agent {gen_ai.agent.name}` before it is set
                name = span.name.partition(" ")[2] or None
            run = AgentRun(
                name if isinstance(name, str) else None,
                parent=current_run(parent_context),
                owner=span_id,
            )
            SPAN_RUNS.add(span_id, run)

    def _note_step(self, run: AgentRun, span: Span, parent_context: Context | None) -> None:
        parent = trace.get_current_span(parent_context)
        if _tool_step(span, parent):
            if self._ledger.claim(span, "step"):
                run.tool_calls += 1
            return
        model_call = _model_step(span, parent) and self._ledger.claim(span, "step")
        run.note_foreign_span(
            span.get_span_context().span_id, parent.get_span_context().span_id, model_call
        )

    def on_end(self, span: ReadableSpan) -> None:
        """Derive the span's metrics (once across chains), then hand the span on unchanged.

        Inline, on the thread that ended the span: for our own spans (most of them) it only
        notes which foreign span an inference call covers.
        """
        try:
            if is_ours(span):
                self._note_covered(span)
                context = span.get_span_context()
                if context is not None and len(ROLLUP):
                    ROLLUP.discard(context.span_id)
            else:
                self._observe(span)
                self._end_steps(span)
        except Exception:
            log_internal_error(type(self).__name__)
        self.next.on_end(span)

    def _end_steps(self, span: ReadableSpan) -> None:
        """End the span's part in a run: counted as it started, or handed up as it ends."""
        context = span.get_span_context()
        if context is None:
            return
        span_id = context.span_id
        mapped = len(SPAN_RUNS) > 0 and SPAN_RUNS.get(span_id) is not None
        if mapped:
            _end_run(span)
        if mapped or span_id in self._ledger.nested:
            ROLLUP.discard(span_id)
        elif self._ledger.claim(span, "rollup"):
            attributes = span.attributes or {}
            if self._normalise is not None:
                attributes = self._normalise(attributes)
            ROLLUP.end(span, attributes.get(ga.GEN_AI_OPERATION_NAME), _run_error(span))

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Never rewrites a span (on_end hands the original on)."""
        return None

    def _note_covered(self, span: ReadableSpan) -> None:
        """Our span's parent, when a framework's span around the same call, is covered by it."""
        parent = span.parent
        kind = call_kind((span.attributes or {}).get(ga.GEN_AI_OPERATION_NAME))
        if parent is not None and kind is not None:
            self._ledger.covered.add((parent.span_id, kind))

    def _observe(self, span: ReadableSpan) -> None:
        """Record a foreign span's metrics, unless another chain did or our call covers it."""
        attributes = span.attributes or {}
        if self._normalise is not None:
            attributes = self._normalise(attributes)
        operation = attributes.get(ga.GEN_AI_OPERATION_NAME)
        if operation not in _DERIVED or span.end_time is None or span.start_time is None:
            return
        if not self._ledger.claim(span, "metrics"):
            return
        if self._ledger.covered_by_ours(span, call_kind(operation)):
            return
        record_span_metrics(span, attributes, str(operation), active_instruments())


def call_kind(operation: object) -> str | None:
    """Which kind of call an operation is, for telling the same call's spans apart."""
    if operation in INFERENCE:
        return "inference"
    return "tool" if operation == _TOOL else None


def _inside_counted_call(span: Span, parent_context: Context | None) -> bool:
    """Whether a foreign span starting here is part of a call another span counts.

    Another instrumentation of the same SDK (OpenInference wraps the client's `request`
    inside the `create` we wrap) starts its span under our inference span: the call is ours.
    A tool execution directly inside another one (ours or not) is that tool call.
    """
    parent = trace.get_current_span(parent_context)
    parent_operation = started_operation(parent)
    if parent_operation == _TOOL:
        return started_operation(span) == _TOOL
    scope = getattr(parent, "instrumentation_scope", None)
    return scope is not None and scope.name == SCOPE_NAME and parent_operation in INFERENCE


_TWINS_CHECKED: set[str] = set()
"""Instrumentation scopes whose inference spans were seen around or inside one of ours."""


def _check_for_twin(span: object) -> None:
    """Report another instrumentation of the SDK, whose span is around or inside our call.

    Its wrappers may have come after instrumentation was reported on (openlit.init() in the
    application's code, after `opentelemetry-instrument` set ours up), so it is looked for
    again, once per instrumentation scope (report_duplicates warns only about SDK methods
    both wrap: an agent framework's span around our call is no duplicate).
    """
    name = getattr(getattr(span, "instrumentation_scope", None), "name", None)
    if isinstance(name, str) and name != SCOPE_NAME and name not in _TWINS_CHECKED:
        _TWINS_CHECKED.add(name)
        # Imported here: needed once per other instrumentation seen.
        from otel_llm._duplicates import report_duplicates  # noqa: PLC0415

        report_duplicates()


def _model_step(span: Span, parent: trace.Span) -> bool:
    """An inference call starting inside an agent run, not nested in another one's span."""
    if started_operation(span) not in INFERENCE:
        return False
    return started_operation(parent) not in INFERENCE


def _end_run(span: ReadableSpan) -> None:
    """Forget a span of a foreign agent run; the run's own agent span records its steps."""
    context = span.get_span_context()
    if context is None:
        return
    run = SPAN_RUNS.pop(context.span_id)  # popped once: the first chain to see the end
    if run is None or run.owner != context.span_id:
        return
    run.record(_run_error(span))


def _run_error(span: ReadableSpan) -> str | None:
    error = (span.attributes or {}).get(ERROR_TYPE)
    if error is None and span.status.status_code is StatusCode.ERROR:
        error = exception_type(span.events) or "_OTHER"
    return None if error is None else str(error)


def _tool_step(span: Span, parent: trace.Span) -> bool:
    """A tool execution starting inside an agent run, not inside another tool span.

    The MCP SDK's server span for a `tools/call` inside the caller's tool span (ours, or an
    agent framework's) is the same tool call.
    """
    if started_operation(span) != _TOOL:
        return False
    return started_operation(parent) != _TOOL
