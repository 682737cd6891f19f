"""Smoke tests of the benchmarks: each runs in a tiny configuration."""
