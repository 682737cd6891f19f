"""otel-llm: OpenTelemetry-native monitoring for LLM applications."""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
