"""The Agents SDK instrumentor: found by entry point, added and removed exactly, zero-code."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("agents")  # needs openai 3.x: absent from the openai 2.x virtualenv

from agents.tracing import get_trace_provider

from otel_llm.instrumentation.openai_agents import SUPPORTED, OpenAIAgentsInstrumentor
from tests.instrumentation._frameworks_app import instrumented
from tests.instrumentation._zero_code import parents, run_under_opentelemetry_instrument


def _processors() -> tuple[object, ...]:
    return tuple(get_trace_provider()._multi_processor._processors)  # type: ignore[attr-defined]


def test_it_supports_openai_agents_below_1() -> None:
    """The requirement `opentelemetry-instrument` checks before loading it."""
    assert OpenAIAgentsInstrumentor().instrumentation_dependencies() == (SUPPORTED,)


def test_uninstrument_removes_the_processor_and_keeps_the_sdks_own() -> None:
    """instrument() adds one processor next to the SDK's exporter; uninstrument() removes it."""
    before = _processors()
    with instrumented(OpenAIAgentsInstrumentor(), openai_sdk=False):
        during = _processors()
        assert during[: len(before)] == before
        assert len(during) == len(before) + 1
    assert _processors() == before


def test_opentelemetry_instrument_records_an_agents_sdk_run(repo_root: Path) -> None:
    """Zero-code: the workflow, the agent and the openai call beneath it, in one trace."""
    spans = run_under_opentelemetry_instrument(repo_root, "agents")
    assert {s["context"]["trace_id"] for s in spans} == {spans[0]["context"]["trace_id"]}
    assert parents(spans) == {
        "invoke_workflow Agent workflow": None,
        "invoke_agent Support": "invoke_workflow Agent workflow",
        "chat gpt-4o-mini": "invoke_agent Support",
    }
