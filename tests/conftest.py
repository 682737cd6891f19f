"""Shared fixtures: the repository root and the loaded semconv registry."""

from pathlib import Path

import pytest

from semconvgen.model import Registry, load_registry

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The semconv/ registry, loaded and validated once per session."""
    return load_registry(REPO_ROOT / "semconv")
