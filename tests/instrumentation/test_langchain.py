"""The LangChain instrumentor: found by entry point, registered and removed exactly, zero-code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from langchain_core.runnables import config as runnable_config
from langchain_core.tracers import context as tracer_context
from langgraph._internal import _runnable

from otel_llm.instrumentation.langchain import SUPPORTED, LangChainInstrumentor
from tests.instrumentation._frameworks_app import instrumented
from tests.instrumentation._zero_code import parents, run_under_opentelemetry_instrument


def test_it_supports_langchain_core_1() -> None:
    """The requirement `opentelemetry-instrument` checks before loading it."""
    assert LangChainInstrumentor().instrumentation_dependencies() == (SUPPORTED,)
    assert SUPPORTED == "langchain-core >= 1.0, < 2"


def test_uninstrument_removes_the_hook_and_restores_the_context_functions() -> None:
    """instrument() adds one configure hook and wraps two functions; uninstrument() undoes both."""
    hooks = list(tracer_context._configure_hooks)
    originals = (runnable_config._set_config_context, _runnable._set_config_context)
    with instrumented(LangChainInstrumentor(), openai_sdk=False):
        assert len(tracer_context._configure_hooks) == len(hooks) + 1
        assert runnable_config._set_config_context is not originals[0]
        assert _runnable._set_config_context is not originals[1]
    assert tracer_context._configure_hooks == hooks
    assert (runnable_config._set_config_context, _runnable._set_config_context) == originals


def test_opentelemetry_instrument_records_a_langchain_agent(repo_root: Path) -> None:
    """Zero-code: the agent, its nodes, tool and the SDK's chat spans, in one trace."""
    spans = run_under_opentelemetry_instrument(repo_root, "langchain")
    assert {s["context"]["trace_id"] for s in spans} == {spans[0]["context"]["trace_id"]}
    names = sorted(s["name"] for s in spans)
    assert names == [
        "chat gpt-4o-mini",
        "chat gpt-4o-mini",
        "execute_tool lookup",
        "invoke_agent support",
        "model",
        "model",
        "tools",
    ]
    found = parents(spans)
    assert found["invoke_agent support"] is None
    assert found["chat gpt-4o-mini"] == "model"
    assert found["execute_tool lookup"] == "tools"
    (agent,) = [s for s in spans if s["name"] == "invoke_agent support"]
    assert agent["attributes"]["gen_ai.conversation.id"] == "t-9"


def test_instrumenting_imports_no_framework_until_the_application_does() -> None:
    """Start-up pays nothing for frameworks the application has installed but never imports."""
    code = (
        "import sys\n"
        "from otel_llm.instrumentation.langchain import LangChainInstrumentor\n"
        "from otel_llm.instrumentation.openai_agents import OpenAIAgentsInstrumentor\n"
        "LangChainInstrumentor().instrument(skip_dep_check=True)\n"
        "OpenAIAgentsInstrumentor().instrument(skip_dep_check=True)\n"
        "print([m for m in ('langchain_core', 'langgraph', 'agents') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
