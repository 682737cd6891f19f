"""Tests for otel_llm.instrumentation: the engine and the provider modules."""
