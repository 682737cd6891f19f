"""Tests for the generated otel_llm.semconv package."""
