"""otel-llm: OpenTelemetry-native monitoring for LLM applications."""

__version__ = "0.1.0.dev0"

from otel_llm._prompt import prompt
from otel_llm._setup import configure, instrument, uninstrument
from otel_llm.spans import agent, retrieval, tool, workflow

__all__ = [
    "__version__",
    "agent",
    "configure",
    "instrument",
    "prompt",
    "retrieval",
    "tool",
    "uninstrument",
    "workflow",
]
