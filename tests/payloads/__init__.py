"""Tests for the provider payloads: their shapes, read back by the providers' own SDKs."""
