"""otel-llm: OpenTelemetry-native monitoring for LLM applications."""

from otel_llm._fallbacks import record_fallback
from otel_llm._prompt import prompt
from otel_llm._setup import configure, instrument, uninstrument
from otel_llm._version import __version__
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
