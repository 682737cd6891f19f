"""Tests for the semconv generator in scripts/semconvgen."""
