"""The OpenAI Agents SDK: its runs, agents, tools, handoffs and guardrails as GenAI spans.

`OpenAIAgentsInstrumentor` adds a tracing processor to the SDK (`agents.add_trace_processor`,
next to the SDK's own exporter, which keeps working). It records:

- each trace (a `Runner.run`, or the application's `trace(...)` block) as
  `invoke_workflow {name}`, its `group_id` as `gen_ai.conversation.id`;
- each agent as `invoke_agent {name}`, a child of the workflow span, so a handoff from one
  agent to the next stays in one trace; each function tool as `execute_tool {name}`, each
  handoff as `execute_tool transfer_to_{agent}` (tool type `handoff`), both with the
  execution duration metric and `error.type`;
- each guardrail as a `guardrail {name}` span and a `gen_ai.evaluation.result` event on the
  guarded agent's span (pass: the tripwire did not trigger), with the evaluation metrics;
- model calls once: the span of the openai client call beneath, when otel-llm instruments the
  openai SDK, parented under the agent; else an inference span built from the SDK's
  generation or response span, with usage.
"""

from __future__ import annotations

from collections.abc import Collection
from types import ModuleType
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from otel_llm._errors import log_internal_error
from otel_llm.instrumentation.instrumentor import install

__all__ = ["SUPPORTED", "OpenAIAgentsInstrumentor"]

SUPPORTED = "openai-agents >= 0.24, < 1"


class OpenAIAgentsInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # untyped base class
    """Adds otel-llm's tracing processor to the OpenAI Agents SDK."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """The openai-agents versions supported."""
        return (SUPPORTED,)

    def _instrument(self, **kwargs: Any) -> None:
        recorder = install(kwargs)
        state: dict[str, Any] = {"active": True, "processor": None}
        self._state = state

        def on_import(module: ModuleType) -> None:
            # Added when the application imports the SDK (now, if it already has): one that
            # has it installed but never uses it pays nothing at start-up.
            if not state["active"]:
                return  # uninstrumented before the application imported it
            try:
                from agents import add_trace_processor  # noqa: PLC0415

                from otel_llm.instrumentation.openai_agents._processor import (  # noqa: PLC0415
                    OtelTracingProcessor,
                )

                state["processor"] = processor = OtelTracingProcessor(recorder)
                add_trace_processor(processor)
            except Exception:
                log_internal_error("openai_agents.on_import")

        wrapt.register_post_import_hook(on_import, "agents")

    def _uninstrument(self, **kwargs: Any) -> None:
        state = getattr(self, "_state", None)
        if state is None:
            return
        state["active"] = False
        processor = state["processor"]
        if processor is None:
            return
        processor.enabled = False  # inert even if it cannot be removed below
        try:
            from agents.tracing import get_trace_provider  # noqa: PLC0415

            # The SDK has no call to remove one processor: set the list without ours.
            multi = get_trace_provider()._multi_processor  # type: ignore[attr-defined]
            kept = [p for p in multi._processors if p is not processor]
            get_trace_provider().set_processors(kept)
        except Exception:
            log_internal_error("openai_agents.uninstrument")
