"""Agent-run step counts and tool argument validation failures, as metrics."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.util.types import AttributeValue

from otel_llm._instruments import active_instruments
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol

__all__ = [
    "SPAN_RUNS",
    "AgentRun",
    "SpanRuns",
    "current_run",
    "invalid_arguments_error",
    "invalid_arguments_error_name",
    "note_model_call",
    "note_tool_call",
    "start_framework_run",
]

_MODEL_CALL = ol.OtelLlmAgentStepKindValues.MODEL_CALL.value
_TOOL_CALL = ol.OtelLlmAgentStepKindValues.TOOL_CALL.value


@dataclass
class AgentRun:
    """The steps of one open agent run (otel_llm.agent), counted as they start.

    Counted from several threads or tasks when a run fans out; `+=` on an int attribute is
    not atomic, but a lost increment only undercounts one step of a runaway.
    """

    agent_name: AttributeValue | None
    model_calls: int = 0
    tool_calls: int = 0
    parent: AgentRun | None = field(default=None, repr=False)
    owner: int | None = field(default=None, repr=False)
    """For another library's agent run: the span id of its agent span (it ends the run)."""
    foreign_model_spans: set[int] = field(default_factory=set, repr=False)
    """Span ids of the model calls other instrumentations' spans counted in this run, and of
    the spans started under them: an instrumented SDK call inside one is the same step."""

    def note_foreign_span(self, span_id: int, parent_id: int, model_call: bool) -> bool:
        """Note another library's span starting in this run; True when it is a new model step.

        A span under a model call already counted (our own SDK call under pydantic-ai's `chat`
        span, a transport span) is part of that step, and so is everything under it.
        """
        if parent_id in self.foreign_model_spans:
            self.foreign_model_spans.add(span_id)
            return False
        if not model_call:
            return False
        self.foreign_model_spans.add(span_id)
        self.model_calls += 1
        return True

    def inside_foreign_model_call(self, parent_id: int) -> bool:
        """Whether a call whose parent span is `parent_id` is part of a model step counted."""
        return parent_id in self.foreign_model_spans

    def record(self, error: str | None) -> None:
        """Record the run's step counts on `otel_llm.agent.steps`, once, when it ends."""
        attributes: dict[str, AttributeValue] = {}
        if self.agent_name is not None:
            attributes[ga.GEN_AI_AGENT_NAME] = self.agent_name
        if error is not None:
            attributes[ERROR_TYPE] = error
        histogram = active_instruments().agent_steps
        histogram.record(self.model_calls, {**attributes, ol.OTEL_LLM_AGENT_STEP_KIND: _MODEL_CALL})
        histogram.record(self.tool_calls, {**attributes, ol.OTEL_LLM_AGENT_STEP_KIND: _TOOL_CALL})


_current: ContextVar[AgentRun | None] = ContextVar("otel_llm_agent_run", default=None)
_FRAMEWORK_RUN = otel_context.create_key("otel_llm.agent_run")
"""Where a framework's agent run (LangChain's, the Agents SDK's) travels: in the OpenTelemetry
context its agent span is current in, which the framework instrumentations carry to every
step of the run across threads and tasks, as they carry the span."""


class SpanRuns:
    """Other libraries' agent runs, by the span id of their agent span and of each span under it.

    Their `invoke_agent` spans (pydantic-ai's) open a run that no context variable carries;
    the derived-metrics processor maps each span started under one to its run as it starts
    and forgets it as it ends. Bounded: spans that never end are forgotten oldest first.
    """

    def __init__(self, size: int = 4096) -> None:
        self._runs: dict[int, AgentRun] = {}
        self._size = size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many spans are mapped to a run."""
        return len(self._runs)

    def get(self, span_id: int) -> AgentRun | None:
        """The run the span `span_id` belongs to, if any."""
        return self._runs.get(span_id)

    def add(self, span_id: int, run: AgentRun) -> None:
        """Map the span `span_id` to `run`."""
        with self._lock:
            self._runs[span_id] = run
            if len(self._runs) > self._size:
                del self._runs[next(iter(self._runs))]

    def pop(self, span_id: int) -> AgentRun | None:
        """Forget the span `span_id`; the run it was mapped to, if any."""
        with self._lock:
            return self._runs.pop(span_id, None)


SPAN_RUNS = SpanRuns()


def _depth(run: AgentRun) -> int:
    depth = 0
    parent = run.parent
    while parent is not None:
        depth += 1
        parent = parent.parent
    return depth


def current_run(context: Context | None = None) -> AgentRun | None:
    """The innermost agent run open in this context (or `context`), if any.

    otel_llm.agent() runs are in a context variable, frameworks' runs in the OpenTelemetry
    context, other libraries' runs mapped from the current span (`SPAN_RUNS`); when several
    are open, the one opened inside the others (its parent chain the longest) is the innermost.
    """
    local = _current.get()
    framework = otel_context.get_value(_FRAMEWORK_RUN, context)
    foreign = None
    if len(SPAN_RUNS):
        span_id = trace.get_current_span(context).get_span_context().span_id
        foreign = SPAN_RUNS.get(span_id)
    found = [run for run in (local, framework, foreign) if isinstance(run, AgentRun)]
    if len(found) < 2:
        return found[0] if found else None
    return max(found, key=_depth)


def start_run(agent_name: AttributeValue | None) -> tuple[AgentRun, object]:
    """Open a run nested in the current one; returns it and the token that `end_run` needs."""
    run = AgentRun(agent_name, parent=current_run())
    return run, _current.set(run)


def start_framework_run(
    agent_name: AttributeValue | None, context: Context | None
) -> tuple[AgentRun, Context]:
    """Open a framework's agent run in `context`: the run, and the context its steps run in.

    Its end is the framework's: it calls `AgentRun.record` when the agent's span ends.
    """
    run = AgentRun(agent_name, parent=current_run(context))
    return run, otel_context.set_value(_FRAMEWORK_RUN, run, context)


def end_run(token: object) -> None:
    """Make the run that was current before `start_run` current again."""
    _current.reset(token)  # type: ignore[arg-type]


def note_model_call() -> None:
    """Count one inference call in the innermost open agent run (nothing outside a run).

    otel-llm's own calls are counted by the instrumentation's call hook as each starts
    (otel_llm.instrumentation._agent_steps), sampled or not; other libraries' spans by the
    derived-metrics processor as they start (AgentRun.note_foreign_span).
    """
    run = current_run()
    if run is not None:
        run.model_calls += 1


def note_tool_call(context: Context | None = None) -> None:
    """Count one tool execution in the innermost agent run open in this context (or `context`)."""
    run = current_run(context)
    if run is not None:
        run.tool_calls += 1


def invalid_arguments_error(exc: BaseException) -> bool:
    """Whether `exc` says a tool's arguments failed validation (not that the tool failed).

    JSON that does not parse, and the validation errors of pydantic, jsonschema and
    marshmallow (all named `ValidationError`); a TypeError from binding arguments to the
    tool's signature is recognised where the binding happens (otel_llm.spans).
    """
    if isinstance(exc, json.JSONDecodeError):
        return True
    return any(klass.__name__ == "ValidationError" for klass in type(exc).__mro__)


def invalid_arguments_error_name(error_type: str) -> bool:
    """Whether an `error.type` (a class name, qualified or not) names such a failure.

    For other instrumentations' tool spans, which carry the name and not the exception.
    """
    name = error_type.rsplit(".", 1)[-1]
    return name in ("ValidationError", "JSONDecodeError", "ToolArgumentsError")


def record_invalid_arguments(attributes: Mapping[str, AttributeValue]) -> None:
    """Count one tool call rejected for its arguments (tool and agent names only)."""
    chosen = {
        key: attributes[key]
        for key in (ga.GEN_AI_TOOL_NAME, ga.GEN_AI_AGENT_NAME)
        if key in attributes
    }
    active_instruments().tool_invalid_arguments.add(1, chosen)
