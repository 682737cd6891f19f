"""Tests for otel-llm; the layout mirrors src/ (and scripts/ for the generator)."""
