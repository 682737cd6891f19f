"""Realistic provider payloads, shared by the tests, fuzzers, benchmarks and the demo."""
