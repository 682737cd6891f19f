"""Tests for the demo helpers."""
