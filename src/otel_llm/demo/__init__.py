"""Demo helpers: a simulated LLM provider for trying otel-llm without real API keys."""
