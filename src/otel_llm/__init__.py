"""otel-llm: OpenTelemetry-native monitoring for LLM applications."""

# Each name is imported from its module when first used (PEP 562): `import otel_llm` loads
# nothing but this table, so an application pays only for the features it touches (the
# telemetry, prompts, evaluations, feedback, manual spans and the setup each import their own
# dependencies, and configure() only what the settings turn on).

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from otel_llm._version import __version__

if TYPE_CHECKING:
    from otel_llm._aggregation import metric_views
    from otel_llm._fallbacks import record_fallback
    from otel_llm._prompt import prompt
    from otel_llm._setup import configure, instrument, uninstrument
    from otel_llm.context import session
    from otel_llm.evaluations import record_evaluation
    from otel_llm.feedback import (
        current_trace_id,
        feedback_token,
        record_feedback,
        response_headers,
    )
    from otel_llm.spans import agent, retrieval, tool, workflow

__all__ = [
    "__version__",
    "agent",
    "configure",
    "current_trace_id",
    "feedback_token",
    "instrument",
    "metric_views",
    "prompt",
    "record_evaluation",
    "record_fallback",
    "record_feedback",
    "response_headers",
    "retrieval",
    "session",
    "tool",
    "uninstrument",
    "workflow",
]

_HOMES = {
    "agent": "otel_llm.spans",
    "configure": "otel_llm._setup",
    "current_trace_id": "otel_llm.feedback",
    "feedback_token": "otel_llm.feedback",
    "instrument": "otel_llm._setup",
    "metric_views": "otel_llm._aggregation",
    "prompt": "otel_llm._prompt",
    "record_evaluation": "otel_llm.evaluations",
    "record_fallback": "otel_llm._fallbacks",
    "record_feedback": "otel_llm.feedback",
    "response_headers": "otel_llm.feedback",
    "retrieval": "otel_llm.spans",
    "session": "otel_llm.context",
    "tool": "otel_llm.spans",
    "uninstrument": "otel_llm._setup",
    "workflow": "otel_llm.spans",
}
"""Where each public name lives."""


def __getattr__(name: str) -> object:
    """The public name `name`, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'otel_llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    """The public names, loaded or not."""
    return sorted({*globals(), *__all__})
