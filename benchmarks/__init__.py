"""Benchmarks of otel-llm against its peers; `python -m benchmarks` runs them all."""
