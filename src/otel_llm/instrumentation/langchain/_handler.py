"""The callback handler: LangChain runs as GenAI spans and metrics, one trace per request.

LangChain calls it for every run, from whichever thread or task runs it. Each run is parented to
the nearest run recorded as a span (LangChain gives every run its parent's id), so the spans
of a request form one trace whatever thread a LangGraph node ran in. The handler never
attaches a context that it would have to detach from another one: LangChain runs a run's
children in a copy of the context (`_context.py` makes the run's span current there), and ends
async runs in copies of their own.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import Histogram
from opentelemetry.trace import Span, SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm import _errors
from otel_llm._errors import error_type, log_internal_error
from otel_llm._failure import failure_attributes, record_failure
from otel_llm._steps import AgentRun, note_tool_call, start_framework_run
from otel_llm.context import context_span_attributes
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._fit import fit_json
from otel_llm.instrumentation._frameworks import ModelRun, attach, detach, leave
from otel_llm.instrumentation.langchain import _messages, _runs
from otel_llm.instrumentation.langchain._runs import Kind
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes.error import ERROR_TYPE
from otel_llm.spans import ToolHandle

__all__ = ["OtelCallbackHandler"]

_CHAT = ga.GenAiOperationNameValues.CHAT.value
_TEXT_COMPLETION = ga.GenAiOperationNameValues.TEXT_COMPLETION.value
_TOOL_METRIC_KEYS = (ga.GEN_AI_TOOL_NAME, ga.GEN_AI_TOOL_TYPE, ga.GEN_AI_AGENT_NAME)
_SCORE_KEYS = ("score", "relevance_score", "similarity_score")
_ID_KEYS = ("id", "doc_id", "document_id")
_TOOL_ERROR = "tool_error"
"""`error.type` of a tool whose error LangChain turned into its result (`handle_tool_error`)."""


def _cancellations() -> tuple[type[BaseException], ...]:
    # A consumer that stops reading a stream, a cancelled task and LangGraph's interrupts and
    # parent commands end a run without it failing.
    found: list[type[BaseException]] = [GeneratorExit, asyncio.CancelledError, KeyboardInterrupt]
    try:
        from langgraph.errors import GraphBubbleUp  # noqa: PLC0415 - LangGraph is optional

        found.append(GraphBubbleUp)
    except ImportError:
        pass
    return tuple(found)


@dataclass(eq=False)
class _Run:
    """One LangChain run in progress."""

    kind: Kind
    context: Context | None
    """The context its children are parented in: its span's, or its nearest recorded
    ancestor's (None: whatever is current where the child starts)."""
    root: _Run | None
    """The outermost run of the request (None: this one)."""
    agent: str | None = None
    """The agent it runs in (its own name for an agent)."""
    marker: tuple[str, ...] | None = None
    conversation: str | None = None
    span: Span | None = None
    started: float = field(default_factory=time.perf_counter)
    metric: tuple[Histogram, dict[str, AttributeValue]] | None = None
    model: ModelRun | None = None
    model_token: Any = None
    content: Callable[[], Any] | None = None
    attached: object = None
    tool: ToolHandle | None = None
    steps: AgentRun | None = None
    """An agent's steps, recorded when it ends."""
    open: dict[UUID, _Run] = field(default_factory=dict)
    """For a root: its descendants still running, ended with it if they never end."""


class OtelCallbackHandler(BaseCallbackHandler):
    """Records LangChain runs; added to every callback manager by a configure hook."""

    run_inline = True
    """Called in the run's own context (not in a thread pool), in order."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self._recorder = recorder
        self._runs: dict[UUID, _Run] = {}
        self._lock = threading.Lock()
        self._cancellations = _cancellations()

    @property
    def raise_error(self) -> bool:  # type: ignore[override]  # an attribute in the base class
        """Only otel-llm's own tests see the handler's bugs; LangChain logs them otherwise."""
        return _errors._under_pytest()

    def context_for(self, run_id: object) -> Context | None:
        """The context a child of run `run_id` is parented in (None: not a run we know)."""
        run = self._runs.get(run_id) if isinstance(run_id, UUID) else None
        return run.context if run is not None else None

    # --- starting ------------------------------------------------------------------------------
    def _parent(self, parent_run_id: UUID | None) -> _Run | None:
        return self._runs.get(parent_run_id) if parent_run_id is not None else None

    def _add(self, run_id: UUID, run: _Run) -> None:
        self._runs[run_id] = run
        if run.root is not None:
            run.root.open[run_id] = run

    def _child(self, kind: Kind, parent: _Run | None, metadata: Mapping[str, Any]) -> _Run:
        conversation = _runs.conversation_id(metadata)
        if parent is None:
            return _Run(kind, None, None, conversation=conversation)
        return _Run(
            kind,
            parent.context,
            parent.root or parent,
            agent=parent.agent,
            marker=parent.marker,
            conversation=conversation or parent.conversation,
        )

    def _start_span(
        self,
        run: _Run,
        name: str,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
    ) -> None:
        attributes.update(context_span_attributes())
        telemetry = self._recorder.telemetry
        span = telemetry.tracer.start_span(
            name, context=run.context, kind=kind, attributes=attributes
        )
        run.span = span
        run.context = trace.set_span_in_context(span, run.context)

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A chain, graph, agent or LangGraph node starts."""
        try:
            metadata = metadata or {}
            parent = self._parent(parent_run_id)
            name = _runs.run_name(serialized, kwargs, "chain")
            marker = _runs.agent_marker(metadata)
            kind = _runs.chain_kind(
                name,
                tags,
                metadata,
                marker=marker,
                parent_marker=parent.marker if parent else None,
                is_root=parent is None,
            )
            run = self._child(kind, parent, metadata)
            run.marker = marker
            instruments = self._recorder.telemetry.instruments
            if kind is Kind.AGENT:
                run.agent = agent = _runs.agent_name(name, marker)
                self._start_span(
                    run,
                    f"{kind.value} {agent}",
                    SpanKind.INTERNAL,
                    {
                        ga.GEN_AI_OPERATION_NAME: kind.value,
                        ga.GEN_AI_AGENT_NAME: agent,
                        **_runs.conversation_attributes(run.conversation),
                    },
                )
                run.metric = (instruments.invoke_agent_duration, {ga.GEN_AI_AGENT_NAME: agent})
                # Its model and tool calls are its steps (otel_llm.agent.steps).
                run.steps, run.context = start_framework_run(agent, run.context)
            elif kind is Kind.WORKFLOW:
                self._start_span(
                    run,
                    f"{kind.value} {name}",
                    SpanKind.INTERNAL,
                    {ga.GEN_AI_OPERATION_NAME: kind.value, ga.GEN_AI_WORKFLOW_NAME: name},
                )
                run.metric = (instruments.invoke_workflow_duration, {ga.GEN_AI_WORKFLOW_NAME: name})
            elif kind is Kind.NODE:
                self._start_span(run, name, SpanKind.INTERNAL, {})
            self._add(run_id, run)
        except Exception:
            log_internal_error("langchain.on_chain_start")

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A chat model call starts (one run per message list of a batch)."""
        params = kwargs.get("invocation_params") or {}
        batch = messages[0] if messages else []
        self._model_start(
            _CHAT,
            run_id,
            parent_run_id,
            metadata=metadata or {},
            params=params,
            content=lambda: _messages.content(batch, params),
        )

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A completion (non-chat) model call starts."""
        params = kwargs.get("invocation_params") or {}
        self._model_start(
            _TEXT_COMPLETION,
            run_id,
            parent_run_id,
            metadata=metadata or {},
            params=params,
            content=lambda: _messages.text_content(prompts),
        )

    def _model_start(
        self,
        operation: str,
        run_id: UUID,
        parent_run_id: UUID | None,
        *,
        metadata: Mapping[str, Any],
        params: Mapping[str, Any],
        content: Callable[[], Any],
    ) -> None:
        try:
            parent = self._parent(parent_run_id)
            run = self._child(Kind.MODEL, parent, metadata)
            if parent is None:
                run.context = otel_context.get_current()
            request = _messages.request_info(metadata, params, params.get("stream") is True)
            run.model = ModelRun(
                self._recorder,
                operation,
                _messages.provider_name(metadata, params),
                request,
                _runs.conversation_attributes(run.conversation),
            )
            run.content = content
            # Open while the model runs: the SDK call beneath it, if ours, is its record.
            run.model_token = run.model.enter()
            self._add(run_id, run)
        except Exception:
            log_internal_error("langchain.on_model_start")

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A streamed chunk: timed for a model call the handler records itself."""
        run = self._runs.get(run_id)
        if run is not None and run.model is not None and not run.model.covered:
            run.model.chunk()

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A tool starts running (a model's tool call, or a direct call)."""
        try:
            parent = self._parent(parent_run_id)
            run = self._child(Kind.TOOL, parent, metadata or {})
            name = _runs.run_name(serialized, {}, "tool")
            attributes: dict[str, AttributeValue] = {
                ga.GEN_AI_OPERATION_NAME: Kind.TOOL.value,
                ga.GEN_AI_TOOL_NAME: name,
                ga.GEN_AI_TOOL_TYPE: "function",
            }
            call_id = kwargs.get("tool_call_id")
            if isinstance(call_id, str) and call_id:
                attributes[ga.GEN_AI_TOOL_CALL_ID] = call_id
            description = serialized.get("description") if isinstance(serialized, dict) else None
            on_spans = self._recorder.telemetry.content_mode().on_spans
            if on_spans and isinstance(description, str) and description:  # content, as prompts
                attributes[ga.GEN_AI_TOOL_DESCRIPTION] = description
            if run.agent:
                attributes[ga.GEN_AI_AGENT_NAME] = run.agent
            metric = {k: attributes[k] for k in _TOOL_METRIC_KEYS if k in attributes}
            self._start_span(run, f"{Kind.TOOL.value} {name}", SpanKind.INTERNAL, attributes)
            run.metric = (self._recorder.telemetry.instruments.execute_tool_duration, metric)
            note_tool_call(run.context)  # a step of the agent run it belongs to, if any
            if run.span is not None:
                telemetry = self._recorder.telemetry
                run.tool = ToolHandle(run.span, telemetry.content_mode().on_spans, telemetry)
                run.tool.set_arguments(inputs if inputs is not None else input_str)
            self._add(run_id, run)
        except Exception:
            log_internal_error("langchain.on_tool_start")

    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A retriever starts searching."""
        try:
            parent = self._parent(parent_run_id)
            run = self._child(Kind.RETRIEVAL, parent, metadata or {})
            name = _runs.run_name(serialized, kwargs, "retriever")
            attributes: dict[str, AttributeValue] = {
                ga.GEN_AI_OPERATION_NAME: Kind.RETRIEVAL.value,
                ga.GEN_AI_DATA_SOURCE_ID: name,
            }
            telemetry = self._recorder.telemetry
            self._start_span(run, f"{Kind.RETRIEVAL.value} {name}", SpanKind.CLIENT, attributes)
            run.metric = (
                telemetry.instruments.operation_duration,
                {ga.GEN_AI_OPERATION_NAME: Kind.RETRIEVAL.value},
            )
            if run.context is not None and asyncio._get_running_loop() is None:
                # A retriever runs in its caller's context (LangChain makes no child context
                # for it). Made current only when synchronous: its end callback then runs in
                # this same context; an async end runs in a copy and could not undo it.
                run.attached = attach(run.context)
            self._add(run_id, run)
        except Exception:
            log_internal_error("langchain.on_retriever_start")

    # --- ending --------------------------------------------------------------------------------
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A chain run ended."""
        self._end(run_id, None, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A chain run failed (or its consumer stopped reading it)."""
        self._end(run_id, error, None)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A model call ended."""
        self._end(run_id, None, response)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A model call failed."""
        self._end(run_id, error, kwargs.get("response"))

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """A tool returned."""
        self._end(run_id, None, output)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A tool raised."""
        self._end(run_id, error, None)

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        """A retriever returned its documents."""
        self._end(run_id, None, documents)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """A retriever raised."""
        self._end(run_id, error, None)

    def _end(self, run_id: UUID, error: BaseException | None, result: Any) -> None:
        try:
            # Popped once: a run is ended exactly once, whichever thread gets here first.
            run = self._runs.pop(run_id, None)
            if run is None:
                return
            self._close(run, error, result)
            if run.root is not None:
                run.root.open.pop(run_id, None)
                return
            # The request is over: runs it left behind (a stream closed early, a node still
            # running in another thread) end now, as cancelled, rather than never.
            with self._lock:
                left = list(run.open.items())
                run.open.clear()
            for child_id, child in left:
                if self._runs.pop(child_id, None) is not None:
                    self._close(child, asyncio.CancelledError(), None)
        except Exception:
            log_internal_error("langchain.on_end")

    def _close(self, run: _Run, error: BaseException | None, result: Any) -> None:
        if run.attached is not None:
            detach(run.attached)
        model = run.model
        if model is not None:
            leave(run.model_token)
            parent = run.context
            model.finish(
                parent,
                lambda capturing: _messages.response_info(result, capturing),
                run.content,
                error,
            )
            return
        span = run.span
        if span is None:
            return
        kind: str | None = None
        try:
            if error is not None and not isinstance(error, self._cancellations):
                kind = error_type(error)
                span.set_attributes(failure_attributes(error))
                record_failure(span, error, self._recorder.telemetry)
            elif error is None and run.kind is Kind.TOOL:
                kind = self._tool_result(run, result)
            elif error is None and run.kind is Kind.RETRIEVAL:
                self._documents(span, result)
        finally:
            span.end()
        if run.metric is not None:
            histogram, attributes = run.metric
            if kind is not None:
                attributes = {**attributes, ERROR_TYPE: kind}
            histogram.record(time.perf_counter() - run.started, attributes)
        if run.steps is not None:
            run.steps.record(kind)

    def _tool_result(self, run: _Run, output: Any) -> str | None:
        result = getattr(output, "content", output)
        if run.tool is not None and output is not None:
            run.tool.set_result(result)
        if getattr(output, "status", None) == "error" and run.span is not None:
            # The tool failed and LangChain handed its error to the model as the result.
            run.span.set_attribute(ERROR_TYPE, _TOOL_ERROR)
            return _TOOL_ERROR
        return None

    def _documents(self, span: Span, documents: Any) -> None:
        telemetry = self._recorder.telemetry
        capture = telemetry.content_mode().on_spans
        found: list[dict[str, Any]] = []
        for document in documents if isinstance(documents, list | tuple) else ():
            metadata = getattr(document, "metadata", None)
            metadata = metadata if isinstance(metadata, Mapping) else {}
            entry: dict[str, Any] = {}
            doc_id = getattr(document, "id", None)
            for key in _ID_KEYS:
                if doc_id is not None:
                    break
                doc_id = metadata.get(key)
            if isinstance(doc_id, str | int) and not isinstance(doc_id, bool):
                entry["id"] = str(doc_id)
            for key in _SCORE_KEYS:
                score = metadata.get(key)
                if isinstance(score, int | float) and not isinstance(score, bool):
                    entry["score"] = float(score)
                    break
            if capture:
                entry["content"] = getattr(document, "page_content", None)
            found.append(entry)
        if not capture:
            span.set_attribute(ga.GEN_AI_RETRIEVAL_DOCUMENTS, json.dumps(found))
            return
        span.set_attribute(
            ga.GEN_AI_RETRIEVAL_DOCUMENTS,
            fit_json(found, telemetry.settings.max_content_bytes, telemetry.redact_part),
        )
