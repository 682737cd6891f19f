"""Reliability tests: collector faults, concurrency, fuzzed provider payloads, adversarial input.

Not a mirror of any src/ module: these tests exercise the package as a whole.
"""
