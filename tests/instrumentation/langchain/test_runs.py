"""Which LangChain runs become which spans."""

from __future__ import annotations

from otel_llm.instrumentation.langchain._runs import (
    Kind,
    agent_marker,
    agent_name,
    chain_kind,
    conversation_id,
    run_name,
)

AGENT = {"ls_integration": "langchain_create_agent", "lc_agent_name": "support"}


def test_the_outermost_run_is_the_workflow_unless_an_agent() -> None:
    """A root chain is invoke_workflow; create_agent's graph and AgentExecutor invoke_agent."""
    assert chain_kind("LangGraph", [], {}, marker=None, parent_marker=None, is_root=True) is (
        Kind.WORKFLOW
    )
    marker = agent_marker(AGENT)
    assert chain_kind("support", [], AGENT, marker=marker, parent_marker=None, is_root=True) is (
        Kind.AGENT
    )
    assert chain_kind("AgentExecutor", [], {}, marker=None, parent_marker=None, is_root=False) is (
        Kind.AGENT
    )


def test_an_agents_own_runs_are_not_agents_again() -> None:
    """Metadata is inherited: only where the agent's marker first appears is the agent."""
    marker = agent_marker(AGENT)
    node = {**AGENT, "langgraph_node": "model"}
    tags = ["graph:step:1"]
    assert chain_kind("model", tags, node, marker=marker, parent_marker=marker, is_root=False) is (
        Kind.NODE
    )
    other = agent_marker({**AGENT, "lc_agent_name": "billing"})
    assert chain_kind("billing", [], AGENT, marker=other, parent_marker=marker, is_root=False) is (
        Kind.AGENT
    )


def test_nodes_are_runs_named_after_their_node_with_a_graph_step_tag() -> None:
    """The function inside a node, sequences and routers are steps."""
    node = {"langgraph_node": "agent"}
    assert (
        chain_kind("agent", ["graph:step:3"], node, marker=None, parent_marker=None, is_root=False)
        is Kind.NODE
    )
    assert (
        chain_kind("agent", ["seq:step:1"], node, marker=None, parent_marker=None, is_root=False)
        is Kind.STEP
    )
    assert (
        chain_kind(
            "call_model", ["graph:step:3"], node, marker=None, parent_marker=None, is_root=False
        )
        is Kind.STEP
    )


def test_names_and_conversation_ids() -> None:
    """Run names come from the run, then the class; thread ids are conversation ids."""
    assert run_name({"name": "Chat"}, {"name": "mine"}, "x") == "mine"
    assert run_name({"id": ["a", "Retriever"]}, {}, "x") == "Retriever"
    assert run_name(None, {}, "x") == "x"
    assert agent_name("LangGraph", agent_marker(AGENT)) == "support"
    assert agent_name("LangGraph", agent_marker({"ls_integration": "langchain_create_agent"})) == (
        "LangGraph"
    )
    assert conversation_id({"thread_id": "t-1"}) == "t-1"
    assert conversation_id({"thread_id": 7}) == "7"
    assert conversation_id({"thread_id": ""}) is None
    assert agent_marker({}) is None
