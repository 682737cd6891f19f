"""Recorded-shape provider payloads: one source for the simulated provider, tests, benchmarks."""
