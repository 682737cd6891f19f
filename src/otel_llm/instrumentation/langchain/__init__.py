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
from types import ModuleType
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from otel_llm._errors import log_internal_error
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation.instrumentor import install
from otel_llm.instrumentation.langchain import _context

__all__ = ["SUPPORTED", "LangChainInstrumentor"]

SUPPORTED = "langchain-core >= 1.0, < 2"


class _Installed:
    """What one instrument() call set up, done when the application imports LangChain.

    Nothing is imported before the application does: an application that has LangChain
    installed but never uses it pays nothing at start-up.
    """

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.active = True
        self.handler: Any = None
        self.variable: contextvars.ContextVar[Any] | None = None
        self.patched: list[tuple[Any, str]] = []

    def _handler(self) -> Any:
        if self.handler is None:
            from otel_llm.instrumentation.langchain._handler import (  # noqa: PLC0415
                OtelCallbackHandler,
            )

            self.handler = OtelCallbackHandler(self.recorder)
        return self.handler

    def on_import(self, module: ModuleType) -> None:
        """langchain_core, or a module of `_context.TARGETS`, was imported: hook in there."""
        if not self.active:
            return  # uninstrumented before the application imported it
        try:
            handler = self._handler()
            if module.__name__ == "langchain_core":
                from langchain_core.tracers.context import (  # noqa: PLC0415
                    register_configure_hook,
                )

                # The variable's default is the handler, so every thread and task sees it:
                # LangChain adds it to each callback manager it configures, inheritable.
                self.variable = contextvars.ContextVar("otel_llm_langchain", default=handler)
                register_configure_hook(self.variable, True)
            self.patched += _context.patch(handler.context_for, module)
        except Exception:
            log_internal_error("langchain.on_import")

    def remove(self) -> None:
        """Undo what was set up; hooks still waiting for an import will do nothing."""
        self.active = False
        _context.unpatch(self.patched)
        self.patched = []
        variable, self.variable = self.variable, None
        if variable is None:
            return
        try:
            from langchain_core.tracers import context  # noqa: PLC0415

            # langchain-core has no way to unregister a hook: drop ours from its list.
            hooks = context._configure_hooks
            hooks[:] = [hook for hook in hooks if hook[0] is not variable]
        except Exception:
            log_internal_error("langchain.uninstrument")


class LangChainInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # untyped base class
    """Records LangChain and LangGraph runs through a globally registered callback handler."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """The langchain-core versions supported (LangGraph 1.x runs on them)."""
        return (SUPPORTED,)

    def _instrument(self, **kwargs: Any) -> None:
        installed = _Installed(install(kwargs))
        self._installed: _Installed | None = installed
        # Done now if the application already imported them, else when it does.
        for module in ("langchain_core", *_context.TARGETS):
            wrapt.register_post_import_hook(installed.on_import, module)

    def _uninstrument(self, **kwargs: Any) -> None:
        installed = getattr(self, "_installed", None)
        if installed is not None:
            installed.remove()
        self._installed = None
