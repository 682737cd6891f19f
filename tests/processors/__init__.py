"""Tests for otel_llm.processors."""
