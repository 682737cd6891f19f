"""Tests for otel_llm.redaction; `load_corpus` imports the benchmark's corpus generator."""

import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_corpus() -> ModuleType:
    """The benchmarks/_corpus.py module (Faker-based), importable without packaging benchmarks."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    return importlib.import_module("_corpus")
