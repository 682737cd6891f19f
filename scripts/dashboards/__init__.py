"""Grafana dashboards for otel-llm, kept as code: `python -m dashboards [--check]`."""
