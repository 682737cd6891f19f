"""Which LangChain runs become which spans, and the names and attributes they carry.

A LangChain app reports a run for every runnable: a LangGraph step alone reports the node, the
function inside it, each sequence, prompt template and routing function. Only the runs a
reader of a trace looks for become spans: the outermost run (`invoke_workflow`, or
`invoke_agent` for an agent), agents, LangGraph nodes, tools, retrievers and model calls. The
rest are steps: their children are parented to the nearest run that has a span.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.semconv.attributes import gen_ai as ga

__all__ = ["Kind", "agent_marker", "chain_kind", "conversation_id", "run_name"]

_CREATE_AGENT = "langchain_create_agent"
"""The `ls_integration` LangChain's `create_agent` puts in its graph's metadata."""
_AGENT_EXECUTORS = frozenset({"AgentExecutor"})
"""The legacy agent runtime (`langchain_classic.agents.AgentExecutor`)."""
_GRAPH_STEP = "graph:step:"
"""The tag LangGraph gives each node's run."""
_CONVERSATION_KEYS = ("thread_id", "conversation_id")
"""Metadata keys holding an id the application gave the conversation (LangGraph's thread)."""


class Kind(enum.Enum):
    """What a LangChain run is recorded as."""

    WORKFLOW = ga.GenAiOperationNameValues.INVOKE_WORKFLOW.value
    AGENT = ga.GenAiOperationNameValues.INVOKE_AGENT.value
    NODE = "node"
    """A LangGraph node: a span named after the node, with no GenAI operation of its own."""
    TOOL = ga.GenAiOperationNameValues.EXECUTE_TOOL.value
    RETRIEVAL = ga.GenAiOperationNameValues.RETRIEVAL.value
    MODEL = "model"
    """A model call: the SDK beneath records it, or the handler does (see _frameworks)."""
    STEP = "step"
    """Recorded by no span of its own."""


def run_name(serialized: object, kwargs: Mapping[str, Any], default: str) -> str:
    """The run's name: the one given to the run, else its class's, else `default`."""
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if isinstance(serialized, Mapping):
        name = serialized.get("name")
        if isinstance(name, str) and name:
            return name
        path = serialized.get("id")
        if isinstance(path, list) and path and isinstance(path[-1], str):
            return path[-1]
    return default


def agent_marker(metadata: Mapping[str, Any]) -> tuple[str, ...] | None:
    """What marks the runs of a `create_agent` agent (its metadata, inherited by its children)."""
    if metadata.get("ls_integration") != _CREATE_AGENT:
        return None
    name = metadata.get("lc_agent_name")
    return (_CREATE_AGENT, name if isinstance(name, str) else "")


def chain_kind(
    name: str,
    tags: Sequence[str] | None,
    metadata: Mapping[str, Any],
    *,
    marker: tuple[str, ...] | None,
    parent_marker: tuple[str, ...] | None,
    is_root: bool,
) -> Kind:
    """How a chain run is recorded: see the module docstring."""
    if (marker is not None and marker != parent_marker) or name in _AGENT_EXECUTORS:
        return Kind.AGENT
    if is_root:
        return Kind.WORKFLOW
    if metadata.get("langgraph_node") == name and any(
        isinstance(tag, str) and tag.startswith(_GRAPH_STEP) for tag in tags or ()
    ):
        return Kind.NODE
    return Kind.STEP


def agent_name(name: str, marker: tuple[str, ...] | None) -> str:
    """The `gen_ai.agent.name` of an agent run: the name given to `create_agent`, else the run's."""
    if marker is not None and len(marker) > 1 and marker[1]:
        return marker[1]
    return name


def conversation_id(metadata: Mapping[str, Any]) -> str | None:
    """The conversation id the application gave the run (never made up: upstream forbids it)."""
    for key in _CONVERSATION_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
        if type(value) is int:
            return str(value)
    return None


def conversation_attributes(conversation: str | None) -> dict[str, AttributeValue]:
    """`gen_ai.conversation.id`, when there is one."""
    return {ga.GEN_AI_CONVERSATION_ID: conversation} if conversation else {}
