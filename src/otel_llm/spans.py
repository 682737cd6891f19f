"""Manual spans for the non-LLM steps of an LLM app: workflows, agents, tool calls and retrieval.

Each function returns a `SpanScope`, usable as `with`/`async with` block or as a decorator on a
sync or async function. The span is current inside, so LLM calls made there become its children.

    with otel_llm.spans.tool("get_weather", call_id=call.id) as t:
        t.set_arguments(call.arguments)
        t.set_result(get_weather(**json.loads(call.arguments)))

An exception from the block marks the span as failed and propagates unchanged; a failure in
otel-llm's own bookkeeping is logged and never reaches the application.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import Histogram
from opentelemetry.trace import Span, SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import Redact, fit_text, utf8_size
from otel_llm._errors import error_type, guarded, internal_errors, log_internal_error
from otel_llm._failure import failure_attributes, record_failure
from otel_llm._steps import (
    AgentRun,
    end_run,
    invalid_arguments_error,
    note_tool_call,
    record_invalid_arguments,
    start_run,
)
from otel_llm._telemetry import Instruments, Telemetry, get_telemetry
from otel_llm.context import context_span_attributes
from otel_llm.instrumentation._fit import fit_json
from otel_llm.semconv.attributes import gen_ai
from otel_llm.semconv.attributes.error import ERROR_TYPE

__all__ = [
    "RetrievalHandle",
    "SpanHandle",
    "SpanScope",
    "ToolHandle",
    "agent",
    "error_type",
    "retrieval",
    "tool",
    "workflow",
]

_GEN_AI_WORKFLOW_NAME = gen_ai.GEN_AI_WORKFLOW_NAME
_GEN_AI_AGENT_ID = gen_ai.GEN_AI_AGENT_ID
_GEN_AI_AGENT_DESCRIPTION = gen_ai.GEN_AI_AGENT_DESCRIPTION
_GEN_AI_DATA_SOURCE_ID = gen_ai.GEN_AI_DATA_SOURCE_ID
_GEN_AI_RETRIEVAL_TOP_K = gen_ai.GEN_AI_RETRIEVAL_TOP_K
_GEN_AI_RETRIEVAL_DOCUMENTS = gen_ai.GEN_AI_RETRIEVAL_DOCUMENTS
_INVOKE_WORKFLOW = gen_ai.GenAiOperationNameValues.INVOKE_WORKFLOW.value
_INVOKE_AGENT = gen_ai.GenAiOperationNameValues.INVOKE_AGENT.value
_RETRIEVAL = gen_ai.GenAiOperationNameValues.RETRIEVAL.value
_EXECUTE_TOOL = gen_ai.GenAiOperationNameValues.EXECUTE_TOOL.value

_TOOL_METRIC_KEYS = (gen_ai.GEN_AI_TOOL_NAME, gen_ai.GEN_AI_TOOL_TYPE, gen_ai.GEN_AI_AGENT_NAME)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _content_json(value: object, max_bytes: int, redact: Redact | None) -> str:
    # A string is kept as is: tool arguments usually arrive from the model already JSON-encoded,
    # and encoding them again would bury them in escapes. Anything else is encoded, falling back
    # to str() for values JSON cannot represent.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= max_bytes // 4 or utf8_size(text) <= max_bytes:
        return text
    # Over budget (a 50 MB tool result): JSON stays valid JSON, cut inside its strings.
    if isinstance(value, str):
        parsed = _json_container(value)
        if parsed is None:
            return fit_text(value, max_bytes, redact)
        value = parsed
    return fit_json(value, max_bytes, redact)


def _json_container(text: str) -> object | None:
    """`text` parsed when it is a JSON object or array, else None."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        parsed: object = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict | list) else None


class SpanHandle:
    """What entering a scope gives you: the live span, for attributes of your own."""

    __slots__ = ("_capture_content", "_span", "_telemetry")

    def __init__(
        self, span: Span, capture_content: bool, telemetry: Telemetry | None = None
    ) -> None:
        self._span = span
        self._capture_content = capture_content
        self._telemetry = telemetry

    @property
    def span(self) -> Span:
        """The span of this scope (a non-recording one when telemetry could not start it)."""
        return self._span

    @property
    def capture_content(self) -> bool:
        """Whether content (tool arguments and results) is recorded on this span."""
        return self._capture_content


class ToolHandle(SpanHandle):
    """The handle of a `tool(...)` scope: records the call's arguments and result."""

    __slots__ = ("_invalid_arguments",)

    def __init__(
        self, span: Span, capture_content: bool, telemetry: Telemetry | None = None
    ) -> None:
        super().__init__(span, capture_content, telemetry)
        self._invalid_arguments = False

    def reject_arguments(self) -> None:
        """Count this call in `otel_llm.tool.invalid_arguments`: its arguments failed validation.

        A decorated tool needs no call: arguments that do not bind to its signature, JSON that
        does not parse and any `ValidationError` (pydantic, jsonschema) are recognised.
        """
        self._invalid_arguments = True

    @guarded(None)
    def set_arguments(self, value: object) -> None:
        """Record the tool's arguments (JSON) when message content capture on spans is on.

        Like every content value, cut to OTEL_LLM_MAX_CONTENT_BYTES (redacted before the cut).
        """
        if self._capture_content:
            self._span.set_attribute(gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS, self._json(value))

    @guarded(None)
    def set_result(self, value: object) -> None:
        """Record what the tool returned (JSON) when message content capture on spans is on.

        Like every content value, cut to OTEL_LLM_MAX_CONTENT_BYTES (redacted before the cut).
        """
        if self._capture_content:
            self._span.set_attribute(gen_ai.GEN_AI_TOOL_CALL_RESULT, self._json(value))

    def _json(self, value: object) -> str:
        telemetry = self._telemetry or get_telemetry()
        return _content_json(value, telemetry.settings.max_content_bytes, telemetry.redact_part)


class RetrievalHandle(SpanHandle):
    """The handle of a `retrieval(...)` scope: records which documents came back."""

    __slots__ = ()

    @guarded(None)
    def record_documents(self, docs: Iterable[tuple[str, float]]) -> None:
        """Record the retrieved documents as JSON `[{"id": ..., "score": ...}]`.

        Ids and scores identify documents without revealing them, so they are recorded
        whatever the content capture setting.
        """
        pairs = [(str(doc_id), float(score)) for doc_id, score in docs]
        documents = [{"id": doc_id, "score": score} for doc_id, score in pairs]
        self._span.set_attribute(_GEN_AI_RETRIEVAL_DOCUMENTS, json.dumps(documents))
        # Left set after the retrieval block on purpose: the LLM call that follows in the same
        # context hands these ids to online evaluators (the citation check).
        _last_retrieved.set(tuple(doc_id for doc_id, _ in pairs))


_last_retrieved: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "otel_llm_last_retrieved", default=()
)


def last_retrieved_ids() -> tuple[str, ...]:
    """Ids of the documents last recorded by a retrieval() in this context (for evaluators)."""
    return _last_retrieved.get()


_H = TypeVar("_H", bound=SpanHandle)


@dataclass(eq=False)
class _Open:
    """One entered scope: what its exit needs to end the span and restore the context."""

    scope: SpanScope[Any]
    handle: SpanHandle
    attributes: Mapping[str, AttributeValue]
    telemetry: Telemetry | None = None
    """What the span was started with (its settings decide how a failure is recorded); None
    when the span could not be started, and the exit then has nothing to record."""
    started: float = field(default_factory=time.perf_counter)
    context_token: Token[Context] | None = None
    open_token: Token[tuple[_Open, ...]] | None = None
    run: AgentRun | None = None
    """An agent scope's run, counting the steps made inside it."""
    run_token: object = None
    step: Context | None = None
    """A tool scope's context before its span: the agent step is counted in that context's run
    (None: directly inside another tool span, the same tool call, already counted)."""


# Scopes entered in this context, innermost last. Keeping them in a ContextVar rather than on
# the scope object lets one scope (say a module-level `SEARCH = tool("search")`) be entered from
# many tasks or threads at once, and lets a tool find the agent it runs under.
_open_scopes: ContextVar[tuple[_Open, ...]] = ContextVar("otel_llm_open_spans", default=())


class SpanScope(Generic[_H]):
    """A span around a block (`with`, `async with`) or around each call of a decorated function."""

    __slots__ = ("_attributes", "_handle_type", "_kind", "_name")

    def __init__(
        self,
        name: str,
        kind: SpanKind,
        attributes: Mapping[str, AttributeValue | None],
        handle_type: type[_H],
    ) -> None:
        self._name = name
        self._kind = kind
        # Unknown optional values are left out rather than recorded as empty.
        self._attributes: dict[str, AttributeValue] = {
            key: value for key, value in attributes.items() if value is not None
        }
        self._handle_type = handle_type

    def __repr__(self) -> str:
        """The kind of scope and its span name."""
        return f"{type(self).__name__}({self._name!r})"

    # Hooks for the kinds of scope.

    def _start_attributes(self) -> dict[str, AttributeValue]:
        """The span's attributes at start (all of them: samplers may decide on any).

        Session, tenant and conversation ids from the current baggage are included, as on
        LLM spans, so every span of a request can be searched by tenant or session.
        """
        attributes = dict(self._attributes)
        attributes.update(context_span_attributes())
        return attributes

    def _duration_metric(
        self, instruments: Instruments, attributes: Mapping[str, AttributeValue]
    ) -> tuple[Histogram, dict[str, AttributeValue]] | None:
        """The duration histogram to record and its low-cardinality attributes, if any."""
        return None

    def _on_call(
        self,
        handle: _H,
        signature: inspect.Signature | None,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> None:
        """Called before each call of a decorated function."""

    def _on_return(self, handle: _H, result: object) -> None:
        """Called after each successful call of a decorated function."""

    def _entered(self, opened: _Open) -> None:
        """Called once the span is open (or could not be), before the block runs."""

    def _exiting(self, opened: _Open, exc: BaseException | None) -> None:
        """Called when the block ends, after the span ended; must not raise."""

    # Starting and ending.

    def _start(self) -> _Open:
        opened = self._open_span()
        with internal_errors(f"{__name__}.{type(self).__name__}._entered"):
            self._entered(opened)
        # Recorded even when the span could not be started, so the matching exit pops this entry
        # and not an outer one.
        opened.open_token = _open_scopes.set((*_open_scopes.get(), opened))
        return opened

    def _open_span(self) -> _Open:
        # Telemetry is looked up on entry, not at import or decoration time, so instrumenting
        # (or re-instrumenting) after the application defined its scopes still takes effect.
        try:
            telemetry = get_telemetry()
            attributes = self._start_attributes()
            span = telemetry.tracer.start_span(self._name, kind=self._kind, attributes=attributes)
            handle = self._handle_type(span, telemetry.content_mode().on_spans, telemetry)
            opened = _Open(self, handle, attributes, telemetry)
            opened.context_token = otel_context.attach(trace.set_span_in_context(span))
        except Exception:
            log_internal_error(f"{__name__}.{type(self).__name__}._open_span")
            return _Open(self, self._handle_type(trace.INVALID_SPAN, False), {})
        return opened

    def _finish(self, opened: _Open, exc: BaseException | None) -> None:
        try:
            if opened.telemetry is not None:
                with internal_errors(f"{__name__}.{type(self).__name__}._finish"):
                    self._end_span(opened, opened.telemetry, exc)
        finally:
            with internal_errors(f"{__name__}.{type(self).__name__}._exiting"):
                self._exiting(opened, exc)
            # Restoring the context must happen even if ending the span failed, or every later
            # span in this context would get the wrong parent.
            with internal_errors(f"{__name__}.{type(self).__name__}._restore"):
                if opened.context_token is not None:
                    otel_context.detach(opened.context_token)
                if opened.open_token is not None:
                    _open_scopes.reset(opened.open_token)

    def _end_span(self, opened: _Open, telemetry: Telemetry, exc: BaseException | None) -> None:
        elapsed = time.perf_counter() - opened.started
        span = opened.handle.span
        error = None
        try:
            if exc is not None:
                error = error_type(exc)
                # Identifiers only; the exception's text only when content is captured on spans
                # (a tool's error routinely quotes its argument).
                span.set_attributes(failure_attributes(exc))
                record_failure(span, exc, telemetry)
        finally:
            # Even if describing the failure failed, the span must end.
            span.end()
        metric = self._duration_metric(telemetry.instruments, opened.attributes)
        if metric is not None:
            histogram, attributes = metric
            if error is not None:
                attributes[ERROR_TYPE] = error
            histogram.record(elapsed, attributes)

    # Context manager protocol.

    def __enter__(self) -> _H:
        """Start the span, make it current, and return its handle."""
        return cast(_H, self._start().handle)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """End the span (failed if `exc` is set); `exc` itself propagates unchanged."""
        # The innermost open entry of this scope; with `with` blocks that is the last one.
        for opened in reversed(_open_scopes.get()):
            if opened.scope is self:
                self._finish(opened, exc)
                return

    async def __aenter__(self) -> _H:
        """Same as `__enter__`, for `async with`."""
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Same as `__exit__`, for `async with`."""
        self.__exit__(exc_type, exc, traceback)

    # Decorator.

    def __call__(self, func: Callable[_P, _R]) -> Callable[_P, _R]:
        """Decorate a sync or async function so each call runs in its own span."""
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            # The span would end when the generator object is created, before any of its work.
            raise TypeError(
                f"{self!r} cannot decorate generator function {func.__qualname__}; "
                "use a `with` block inside it instead"
            )
        signature = _signature(func)

        if inspect.iscoroutinefunction(func):

            async def run_async(*args: _P.args, **kwargs: _P.kwargs) -> object:
                opened = self._start()
                handle = cast(_H, opened.handle)
                self._on_call(handle, signature, args, kwargs)
                try:
                    result = await func(*args, **kwargs)
                except BaseException as exc:
                    self._finish(opened, exc)
                    raise
                self._on_return(handle, result)
                self._finish(opened, None)
                return result

            return cast(Callable[_P, _R], functools.wraps(func)(run_async))

        @functools.wraps(func)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            opened = self._start()
            handle = cast(_H, opened.handle)
            self._on_call(handle, signature, args, kwargs)
            try:
                result = func(*args, **kwargs)
            except BaseException as exc:
                self._finish(opened, exc)
                raise
            self._on_return(handle, result)
            self._finish(opened, None)
            return result

        return run


def _signature(func: Callable[..., object]) -> inspect.Signature | None:
    # Some callables (builtins, C extensions) have no signature; they just get no arguments.
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


class _ToolScope(SpanScope[ToolHandle]):
    __slots__ = ()

    def _start_attributes(self) -> dict[str, AttributeValue]:
        attributes = super()._start_attributes()
        # A tool's description is written for the model (internal names, data it reaches): it
        # is content, as on every other library's spans.
        described = gen_ai.GEN_AI_TOOL_DESCRIPTION in attributes
        if described and not get_telemetry().content_mode().on_spans:
            del attributes[gen_ai.GEN_AI_TOOL_DESCRIPTION]
        # Upstream asks for the agent running the tool on both span and metric; inside an
        # agent(...) scope we know it without the application repeating it.
        for opened in reversed(_open_scopes.get()):
            if isinstance(opened.scope, _AgentScope):
                agent_name = opened.attributes.get(gen_ai.GEN_AI_AGENT_NAME)
                if agent_name is not None:
                    attributes[gen_ai.GEN_AI_AGENT_NAME] = agent_name
                break
        return attributes

    def _duration_metric(
        self, instruments: Instruments, attributes: Mapping[str, AttributeValue]
    ) -> tuple[Histogram, dict[str, AttributeValue]]:
        # Only the tool's name, type and agent: never the call id or description.
        chosen: dict[str, AttributeValue] = {
            key: attributes[key] for key in _TOOL_METRIC_KEYS if key in attributes
        }
        return instruments.execute_tool_duration, chosen

    def _open_span(self) -> _Open:
        # A tool span directly inside another (a framework's tool span around this function)
        # is the same tool call: that span counted the step already.
        before = otel_context.get_current()
        parent = getattr(trace.get_current_span(before), "attributes", None) or {}
        opened = super()._open_span()
        if parent.get(gen_ai.GEN_AI_OPERATION_NAME) != _EXECUTE_TOOL:
            opened.step = before
        return opened

    def _entered(self, opened: _Open) -> None:
        # Counted in the context around the tool: another library's agent run is found by the
        # span the tool starts under, not by ours.
        if opened.step is not None:
            note_tool_call(opened.step)

    def _exiting(self, opened: _Open, exc: BaseException | None) -> None:
        handle = cast(ToolHandle, opened.handle)
        if handle._invalid_arguments or (exc is not None and invalid_arguments_error(exc)):
            record_invalid_arguments(opened.attributes)

    @guarded(None)
    def _on_call(
        self,
        handle: ToolHandle,
        signature: inspect.Signature | None,
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> None:
        if signature is None:
            return
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            # The model's arguments do not fit the tool: the call is about to fail with the
            # user's own TypeError, counted as an argument validation failure.
            handle.reject_arguments()
            return
        if not handle.capture_content:
            return
        arguments = dict(bound.arguments)
        # A method's receiver is not an argument the model passed.
        first = next(iter(signature.parameters), None)
        if first in ("self", "cls"):
            arguments.pop(first, None)
        handle.set_arguments(arguments)

    def _on_return(self, handle: ToolHandle, result: object) -> None:
        handle.set_result(result)


class _NamedRunScope(SpanScope[SpanHandle]):
    """An agent or workflow run: its duration histogram is keyed by the run's name only."""

    __slots__ = ()
    _name_key: str
    _histogram: str

    def _duration_metric(
        self, instruments: Instruments, attributes: Mapping[str, AttributeValue]
    ) -> tuple[Histogram, dict[str, AttributeValue]]:
        chosen: dict[str, AttributeValue] = {}
        if self._name_key in attributes:
            chosen[self._name_key] = attributes[self._name_key]
        return getattr(instruments, self._histogram), chosen


class _AgentScope(_NamedRunScope):
    __slots__ = ()
    _name_key = gen_ai.GEN_AI_AGENT_NAME
    _histogram = "invoke_agent_duration"

    def _entered(self, opened: _Open) -> None:
        # Counted even when the span could not start: the steps still happen.
        opened.run, opened.run_token = start_run(self._attributes.get(gen_ai.GEN_AI_AGENT_NAME))

    def _exiting(self, opened: _Open, exc: BaseException | None) -> None:
        if opened.run is None:
            return
        try:
            if opened.telemetry is not None:
                opened.run.record(None if exc is None else error_type(exc))
        finally:
            end_run(opened.run_token)


class _WorkflowScope(_NamedRunScope):
    __slots__ = ()
    _name_key = _GEN_AI_WORKFLOW_NAME
    _histogram = "invoke_workflow_duration"


class _RetrievalScope(SpanScope[RetrievalHandle]):
    __slots__ = ()

    def _duration_metric(
        self, instruments: Instruments, attributes: Mapping[str, AttributeValue]
    ) -> tuple[Histogram, dict[str, AttributeValue]]:
        # The data source id is left out: it may be per-tenant or per-index, i.e. unbounded.
        return instruments.operation_duration, {gen_ai.GEN_AI_OPERATION_NAME: _RETRIEVAL}


def _span_name(operation: str, subject: str) -> str:
    # Upstream: `{operation} {subject}`, or the operation alone when the subject is unknown.
    return f"{operation} {subject}" if subject else operation


def workflow(name: str) -> SpanScope[SpanHandle]:
    """An INTERNAL `invoke_workflow {name}` span around a multi-step flow (a pipeline, a chain)."""
    return _WorkflowScope(
        _span_name(_INVOKE_WORKFLOW, name),
        SpanKind.INTERNAL,
        {gen_ai.GEN_AI_OPERATION_NAME: _INVOKE_WORKFLOW, _GEN_AI_WORKFLOW_NAME: name or None},
        SpanHandle,
    )


def tool(
    name: str,
    *,
    call_id: str | None = None,
    description: str | None = None,
    tool_type: str = "function",
) -> SpanScope[ToolHandle]:
    """An INTERNAL `execute_tool {name}` span around running one tool call, plus its duration.

    `call_id` is the id the model gave the call. As a decorator, the bound arguments and the
    return value are recorded as the call's arguments and result when content capture is on;
    so is `description` (text written for the model is content).
    """
    return _ToolScope(
        _span_name(_EXECUTE_TOOL, name),
        SpanKind.INTERNAL,
        {
            gen_ai.GEN_AI_OPERATION_NAME: _EXECUTE_TOOL,
            gen_ai.GEN_AI_TOOL_NAME: name,
            gen_ai.GEN_AI_TOOL_TYPE: tool_type,
            gen_ai.GEN_AI_TOOL_CALL_ID: call_id,
            gen_ai.GEN_AI_TOOL_DESCRIPTION: description,
        },
        ToolHandle,
    )


def retrieval(data_source: str, top_k: int | None = None) -> SpanScope[RetrievalHandle]:
    """A CLIENT `retrieval {data_source}` span around a vector-store or search query."""
    return _RetrievalScope(
        _span_name(_RETRIEVAL, data_source),
        SpanKind.CLIENT,
        {
            gen_ai.GEN_AI_OPERATION_NAME: _RETRIEVAL,
            _GEN_AI_DATA_SOURCE_ID: data_source or None,
            _GEN_AI_RETRIEVAL_TOP_K: top_k,
        },
        RetrievalHandle,
    )


def agent(
    name: str, *, agent_id: str | None = None, description: str | None = None
) -> SpanScope[SpanHandle]:
    """An INTERNAL `invoke_agent {name}` span around an in-process agent's run.

    Tool scopes entered inside it record this agent's name as `gen_ai.agent.name`.
    """
    return _AgentScope(
        _span_name(_INVOKE_AGENT, name),
        SpanKind.INTERNAL,
        {
            gen_ai.GEN_AI_OPERATION_NAME: _INVOKE_AGENT,
            gen_ai.GEN_AI_AGENT_NAME: name or None,
            _GEN_AI_AGENT_ID: agent_id,
            _GEN_AI_AGENT_DESCRIPTION: description,
        },
        SpanHandle,
    )
