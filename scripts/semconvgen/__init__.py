"""Code and docs generator for the semconv/ registry (run as `python -m semconvgen`)."""
