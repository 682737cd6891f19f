"""The Agents SDK tracing processor: its traces and spans as GenAI spans, metrics and events.

The SDK calls a processor synchronously where each of its spans starts and ends, in the task
that runs it. The processor starts an OpenTelemetry span there, parented under the span of
the SDK span's parent (or of its trace), and makes it current until the SDK span ends, so an
SDK call, an HTTP request or a manual span inside a tool or a guardrail joins the same trace.
Handoffs stay in one trace: each agent's span is a child of the workflow span of the run.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents.tracing import Span as AgentsSpan
from agents.tracing import Trace, TracingProcessor
from agents.tracing.span_data import (
    AgentSpanData,
    FunctionSpanData,
    GenerationSpanData,
    GuardrailSpanData,
    HandoffSpanData,
    ResponseSpanData,
)
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import Histogram
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import fit_text
from otel_llm._errors import error_type, log_internal_error
from otel_llm._failure import failure_attributes, record_failure
from otel_llm._steps import AgentRun, note_tool_call, start_framework_run
from otel_llm.context import context_span_attributes
from otel_llm.evaluations import record_evaluation
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._frameworks import ModelRun, attach, detach, leave
from otel_llm.instrumentation.endpoint import RequestInfo
from otel_llm.instrumentation.openai_agents import _data
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes.error import ERROR_TYPE
from otel_llm.spans import ToolHandle

__all__ = ["OtelTracingProcessor"]

_WORKFLOW = ga.GenAiOperationNameValues.INVOKE_WORKFLOW.value
_AGENT = ga.GenAiOperationNameValues.INVOKE_AGENT.value
_TOOL = ga.GenAiOperationNameValues.EXECUTE_TOOL.value
_CHAT = ga.GenAiOperationNameValues.CHAT.value
_OTHER = "_OTHER"
_TOOL_ERROR = "tool_error"
"""`error.type` of a tool whose failure the SDK handed to the model as its result."""
_TOOL_METRIC_KEYS = (ga.GEN_AI_TOOL_NAME, ga.GEN_AI_TOOL_TYPE, ga.GEN_AI_AGENT_NAME)


@dataclass(eq=False)
class _Open:
    """One SDK span (or trace) in progress."""

    context: Context
    """Where its children are parented: its span's context, or its recorded ancestor's."""
    trace_id: str
    parent: Context | None = None
    """The context it was started in (its parent's)."""
    span: Span | None = None
    attached: object = None
    started: float = 0.0
    start_ns: int = 0
    metric: tuple[Histogram, dict[str, AttributeValue]] | None = None
    agent: str | None = None
    conversation: str | None = None
    model: ModelRun | None = None
    model_token: Any = None
    tool: ToolHandle | None = None
    run: AgentRun | None = None
    """An agent's steps, recorded when it ends."""


class OtelTracingProcessor(TracingProcessor):
    """Maps the Agents SDK's traces and spans onto the GenAI conventions."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()
        self.enabled = True
        """False once uninstrumented (the SDK has no way to remove a processor)."""

    # --- traces --------------------------------------------------------------------------------
    def on_trace_start(self, trace_: Trace) -> None:
        """A run (or the application's own `trace(...)` block) starts: `invoke_workflow`."""
        if not self.enabled:
            return
        try:
            name = trace_.name or "Agent workflow"
            conversation = _data.conversation_id(trace_)
            attributes: dict[str, AttributeValue] = {
                ga.GEN_AI_OPERATION_NAME: _WORKFLOW,
                ga.GEN_AI_WORKFLOW_NAME: name,
                **context_span_attributes(),
            }
            opened = _Open(otel_context.get_current(), trace_.trace_id, conversation=conversation)
            self._start(opened, f"{_WORKFLOW} {name}", SpanKind.INTERNAL, attributes)
            opened.metric = (
                self._recorder.telemetry.instruments.invoke_workflow_duration,
                {ga.GEN_AI_WORKFLOW_NAME: name},
            )
            opened.attached = attach(opened.context)
            self._open[trace_.trace_id] = opened
        except Exception:
            log_internal_error("openai_agents.on_trace_start")

    def on_trace_end(self, trace_: Trace) -> None:
        """The run ended; spans it left open end now, so every span ends exactly once."""
        try:
            opened = self._open.pop(trace_.trace_id, None)
            if opened is None:
                return
            with self._lock:
                left = [k for k, v in self._open.items() if v.trace_id == trace_.trace_id]
            for key in left:
                child = self._open.pop(key, None)
                if child is not None:
                    self._close(child, None, abandoned=True)
            self._close(opened, None)
        except Exception:
            log_internal_error("openai_agents.on_trace_end")

    # --- spans ---------------------------------------------------------------------------------
    def _parent(self, span: AgentsSpan[Any]) -> _Open | None:
        parent_id = span.parent_id
        found = self._open.get(parent_id) if parent_id else None
        return found or self._open.get(span.trace_id)

    def _start(
        self, opened: _Open, name: str, kind: SpanKind, attributes: dict[str, AttributeValue]
    ) -> None:
        span = self._recorder.telemetry.tracer.start_span(
            name, context=opened.context, kind=kind, attributes=attributes
        )
        opened.span = span
        opened.parent = opened.context
        opened.context = trace.set_span_in_context(span, opened.context)
        opened.started = time.perf_counter()

    def on_span_start(self, span: AgentsSpan[Any]) -> None:
        """An SDK span starts: an agent, a tool, a guardrail, a model call (others are steps)."""
        if not self.enabled:
            return
        try:
            parent = self._parent(span)
            context = parent.context if parent is not None else otel_context.get_current()
            opened = _Open(
                context,
                span.trace_id,
                agent=parent.agent if parent else None,
                conversation=parent.conversation if parent else None,
                start_ns=time.time_ns(),
                started=time.perf_counter(),
            )
            data = span.span_data
            if isinstance(data, AgentSpanData):
                self._agent(opened, data)
            elif isinstance(data, FunctionSpanData):
                self._function(opened, data)
            elif isinstance(data, GuardrailSpanData):
                self._start(opened, f"guardrail {data.name}", SpanKind.INTERNAL, {})
            elif isinstance(data, ResponseSpanData | GenerationSpanData):
                self._model(opened, data)
            if opened.span is not None:
                opened.attached = attach(opened.context)
            self._open[span.span_id] = opened
        except Exception:
            log_internal_error("openai_agents.on_span_start")

    def _agent(self, opened: _Open, data: AgentSpanData) -> None:
        opened.agent = data.name
        attributes: dict[str, AttributeValue] = {
            ga.GEN_AI_OPERATION_NAME: _AGENT,
            ga.GEN_AI_AGENT_NAME: data.name,
            **context_span_attributes(),
        }
        if opened.conversation:
            attributes[ga.GEN_AI_CONVERSATION_ID] = opened.conversation
        self._start(opened, f"{_AGENT} {data.name}", SpanKind.INTERNAL, attributes)
        instruments = self._recorder.telemetry.instruments
        opened.metric = (instruments.invoke_agent_duration, {ga.GEN_AI_AGENT_NAME: data.name})
        # Its model and tool calls are its steps (otel_llm.agent.steps), wherever they run.
        opened.run, opened.context = start_framework_run(data.name, opened.context)

    def _function(self, opened: _Open, data: FunctionSpanData) -> None:
        attributes = _data.tool_attributes(data.name, "function", opened.agent)
        self._start(opened, f"{_TOOL} {data.name}", SpanKind.INTERNAL, attributes)
        telemetry = self._recorder.telemetry
        opened.metric = (telemetry.instruments.execute_tool_duration, _tool_metric(attributes))
        note_tool_call(opened.context)  # a step of the agent run it belongs to
        if opened.span is not None:
            capture = telemetry.content_mode().on_spans
            opened.tool = ToolHandle(opened.span, capture, telemetry)

    def _model(self, opened: _Open, data: ResponseSpanData | GenerationSpanData) -> None:
        model = data.model if isinstance(data, GenerationSpanData) else None
        extra = {ga.GEN_AI_CONVERSATION_ID: opened.conversation} if opened.conversation else None
        opened.model = ModelRun(
            self._recorder,
            _CHAT,
            _data.provider_name(data),
            RequestInfo(model=model if isinstance(model, str) else None),
            extra,
        )
        # Open while the model runs: the openai call beneath it, if ours, is its record.
        opened.model_token = opened.model.enter()

    def on_span_end(self, span: AgentsSpan[Any]) -> None:
        """An SDK span ended (exactly once, whichever of the SDK's exits ends it)."""
        try:
            opened = self._open.pop(span.span_id, None)
            if opened is None:
                return
            data = span.span_data
            if isinstance(data, HandoffSpanData):
                self._handoff(opened, data, span)
            self._close(opened, span, error=_live_exception() if span.error else None)
        except Exception:
            log_internal_error("openai_agents.on_span_end")

    def shutdown(self) -> None:
        """Nothing buffered here: spans go to OpenTelemetry's processors as they end."""

    def force_flush(self) -> None:
        """Nothing buffered here."""

    # --- ending --------------------------------------------------------------------------------
    def _handoff(self, opened: _Open, data: HandoffSpanData, span: AgentsSpan[Any]) -> None:
        # Recorded as it ends, when the target agent is known: the handoff is the tool call
        # the model made to transfer the conversation (`transfer_to_<agent>`).
        target = data.to_agent or ""
        name = _data.handoff_tool_name(target)
        attributes = _data.tool_attributes(name, "handoff", data.from_agent or opened.agent)
        tracer = self._recorder.telemetry.tracer
        opened.span = tracer.start_span(
            f"{_TOOL} {name}",
            context=opened.context,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            start_time=opened.start_ns,
        )
        opened.metric = (
            self._recorder.telemetry.instruments.execute_tool_duration,
            _tool_metric(attributes),
        )

    def _close(
        self,
        opened: _Open,
        span: AgentsSpan[Any] | None,
        *,
        error: BaseException | None = None,
        abandoned: bool = False,
    ) -> None:
        if opened.attached is not None:
            detach(opened.attached)
        data = span.span_data if span is not None else None
        if opened.model is not None:
            leave(opened.model_token)
            opened.model.finish(
                opened.context,
                lambda capturing: _data.response_info(data, capturing),
                lambda: _data.content(data),
                asyncio.CancelledError() if abandoned else error,
                request_model=_data.request_model(data),
            )
            return
        otel_span = opened.span
        if otel_span is None:
            return
        kind: str | None = None
        try:
            if span is not None and span.error and not abandoned:
                kind = self._failed(otel_span, span, error)
            elif isinstance(data, FunctionSpanData) and opened.tool is not None:
                if data.input is not None:
                    opened.tool.set_arguments(data.input)
                if data.output is not None:
                    opened.tool.set_result(data.output)
            elif isinstance(data, GuardrailSpanData):
                self._guardrail(opened, data)
        finally:
            otel_span.end()
        if opened.metric is not None:
            histogram, attributes = opened.metric
            if kind is not None:
                attributes = {**attributes, ERROR_TYPE: kind}
            histogram.record(time.perf_counter() - opened.started, attributes)
        if opened.run is not None:
            opened.run.record(kind)

    def _failed(self, otel_span: Span, span: AgentsSpan[Any], error: BaseException | None) -> str:
        telemetry = self._recorder.telemetry
        if error is not None:
            otel_span.set_attributes(failure_attributes(error))
            record_failure(otel_span, error, telemetry)
            return error_type(error)
        # The SDK recorded a failure it handled (a tool error handed to the model): only its
        # message, which may quote content, so recorded only with content capture on spans.
        kind = _TOOL_ERROR if isinstance(span.span_data, FunctionSpanData) else _OTHER
        otel_span.set_attribute(ERROR_TYPE, kind)
        description = None
        if telemetry.content_mode().on_spans:
            message = span.error.get("message") if span.error else None
            if isinstance(message, str) and message:
                description = fit_text(
                    message, telemetry.settings.max_content_bytes, telemetry.redact_part
                )
        otel_span.set_status(Status(StatusCode.ERROR, description))
        return kind

    def _guardrail(self, opened: _Open, data: GuardrailSpanData) -> None:
        # A guardrail is an evaluation of the agent's input or output: its result is the
        # upstream evaluation event on the agent's span (pass: the tripwire did not trigger).
        triggered = bool(data.triggered)
        parent = trace.get_current_span(opened.parent or opened.context).get_span_context()
        record_evaluation(
            data.name,
            passed=not triggered,
            label="fail" if triggered else "pass",
            span_context=parent if parent.is_valid else None,
        )


def _tool_metric(attributes: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    return {k: attributes[k] for k in _TOOL_METRIC_KEYS if k in attributes}


def _live_exception() -> BaseException | None:
    """The exception propagating where the SDK ends its span (`with ...span():` exits)."""
    return sys.exc_info()[1]
