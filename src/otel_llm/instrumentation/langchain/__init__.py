"""LangChain and LangGraph: chains, graphs, agents, tools, retrievers and models as GenAI spans.

`LangChainInstrumentor` registers a callback handler with langchain-core's configure hooks,
so every callback manager LangChain makes (every `invoke`, `stream`, `batch`, every LangGraph
run) calls it, with no change to the application. It records:

- the outermost run of a request as `invoke_workflow {name}` (a LangGraph graph, an LCEL chain),
  or `invoke_agent {name}` for an agent (`langchain.agents.create_agent`, the legacy
  `AgentExecutor`), agents nested in it too; each LangGraph node as a span of its own;
- tools as `execute_tool {name}` with the model's tool-call id, retrievers as
  `retrieval {name}` with the documents' ids and scores (their text only with content capture);
- model calls once: the span of the instrumented SDK call beneath (an OpenAI or Anthropic
  client), parented under the run that made it, or, for a model no SDK instrumentation of ours
  sees, an inference span built from LangChain's own report, with usage;
- LangGraph's `thread_id` as `gen_ai.conversation.id`, failures by identifiers only (their
  text with content capture), and the agent, workflow, tool and retrieval duration metrics.
"""

from __future__ import annotations

import contextvars
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from otel_llm._errors import log_internal_error
from otel_llm.instrumentation.instrumentor import install
from otel_llm.instrumentation.langchain import _context

__all__ = ["SUPPORTED", "LangChainInstrumentor"]

SUPPORTED = "langchain-core >= 1.0, < 2"


class LangChainInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # untyped base class
    """Records LangChain and LangGraph runs through a globally registered callback handler."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """The langchain-core versions supported (LangGraph 1.x runs on them)."""
        return (SUPPORTED,)

    def _instrument(self, **kwargs: Any) -> None:
        # Imported here: importing this module imports no LangChain.
        from langchain_core.tracers.context import register_configure_hook  # noqa: PLC0415

        from otel_llm.instrumentation.langchain._handler import (  # noqa: PLC0415
            OtelCallbackHandler,
        )

        handler = OtelCallbackHandler(install(kwargs))
        # The variable's default is the handler, so every thread and task sees it: LangChain
        # adds it to each callback manager it configures, inheritable by the children.
        self._variable: contextvars.ContextVar[Any] | None = contextvars.ContextVar(
            "otel_llm_langchain_handler", default=handler
        )
        register_configure_hook(self._variable, True)
        self._patched = _context.patch(handler.context_for)

    def _uninstrument(self, **kwargs: Any) -> None:
        _context.unpatch(getattr(self, "_patched", []))
        self._patched = []
        variable = getattr(self, "_variable", None)
        if variable is None:
            return
        try:
            from langchain_core.tracers import context  # noqa: PLC0415

            # langchain-core has no way to unregister a hook: drop ours from its list.
            hooks = context._configure_hooks
            hooks[:] = [hook for hook in hooks if hook[0] is not variable]
        except Exception:
            log_internal_error("langchain.uninstrument")
        self._variable = None
