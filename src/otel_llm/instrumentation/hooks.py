"""How product features attach to every GenAI call the engine records, without it knowing them.

The engine records spans, metrics and events. Prompt attribution, session and tenant baggage,
pricing and online evaluation are `CallHook`s, assembled where instrumentation is set up
(`otel_llm.instrumentation.instrumentor.call_hooks`): each adds attributes when a call starts,
attributes when it ends, or an action after its span ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from opentelemetry.context import Context
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from otel_llm._telemetry import Telemetry
from otel_llm.config import ContentCapturingMode
from otel_llm.instrumentation.types import Content, ResponseInfo

__all__ = ["CallHook", "CallRecord"]


class CallRecord(Protocol):
    """What a hook sees of one call (the engine's Call)."""

    attributes: dict[str, AttributeValue]
    """The span's start attributes; hooks add theirs in `start` (also kept for events)."""
    metric_attributes: dict[str, AttributeValue]
    """The metric dimensions; hooks add low-cardinality ones only, in `start`."""
    content_attributes: dict[str, AttributeValue]
    """Captured content for the span (prompt variables), added in `start`: set once the span
    has started, so that no sampler or span processor's `on_start` sees raw content."""
    needs_content: bool
    """Set in `start` when the hook reads the request and response content even if it is
    not captured (an online evaluator reads the question and the answer)."""
    content: Content | None
    """The request's content, once built (when captured or needed)."""

    @property
    def telemetry(self) -> Telemetry:
        """What the call is recorded with (settings, instruments, redaction)."""

    @property
    def capture(self) -> ContentCapturingMode:
        """The content capture mode in force for this call."""

    @property
    def span(self) -> Span:
        """The call's span (after `start`)."""

    @property
    def context(self) -> Context:
        """A context holding the call's span context, for metric exemplars (at the end only)."""


class CallHook:
    """A feature attached to every recorded call; override what it needs, the rest do nothing.

    Hooks run on every LLM call: keep them cheap, and keep per-call state on the call's
    attributes rather than on the hook (one hook serves concurrent calls).
    """

    __slots__ = ()

    def start(self, call: CallRecord) -> bool:
        """Before the span starts: add to `call.attributes` / `call.metric_attributes`.

        Captured content (prompt variables) goes to `call.content_attributes`. Return True to
        get `end` and `after` for this call.
        """
        return False

    def end(
        self, call: CallRecord, info: ResponseInfo, response: Mapping[str, AttributeValue]
    ) -> Mapping[str, AttributeValue] | None:
        """Before the span ends (sampled or not): attributes to add to it.

        `response` holds the response attributes recorded so far (model, usage...).
        """
        return None

    def after(self, call: CallRecord, info: ResponseInfo, outcome: str) -> None:
        """After the span ended, with the call's outcome (an `otel_llm.request.outcome`)."""
