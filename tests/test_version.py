"""The package version: one definition, exported as otel_llm.__version__ and built from."""

import re
from pathlib import Path

import otel_llm
from otel_llm import _version


def test_the_package_exports_the_one_version() -> None:
    """otel_llm.__version__ is the _version module's, a PEP 440 version."""
    assert otel_llm.__version__ is _version.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|a\d+|b\d+|rc\d+)?", otel_llm.__version__)


def test_the_build_reads_the_version_from_there(repo_root: Path) -> None:
    """The dynamic version in pyproject.toml points at the module that defines it."""
    pyproject = (repo_root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'path = "src/otel_llm/_version.py"' in pyproject
