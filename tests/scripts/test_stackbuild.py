"""scripts/stackbuild.sh: a missing Go or npm is named, and no step can hang a cold `make test`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "scripts/stackbuild.sh"
DEFINITIONS = (
    SCRIPT,
    "collector-config/otelcol/builder-config.yaml",
    "collector-config/jaeger/go.mod",
    "collector-config/jaeger/go.sum",
    "collector-config/grafana/typecheck/package.json",
    "collector-config/grafana/typecheck/package-lock.json",
)
"""What the script reads; it runs from a copy, so it never links into this checkout's build/."""
BASH = shutil.which("bash") or "/bin/bash"
LIMIT_MINUTES = "0.03"
"""About two seconds: the fake tools below sleep far longer, so only the limit can end them."""


def _fake(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def _repo_copy(tmp_path: Path) -> Path:
    """The script and the files that define each build, in a copy: its build/ is the copy's."""
    root = tmp_path / "repo"
    for relative in DEFINITIONS:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / relative, target)
    return root


def _run(tmp_path: Path, what: str, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    root = tmp_path / "repo"
    if not root.exists():
        _repo_copy(tmp_path)
    environ = {
        **os.environ,
        "OTEL_LLM_CACHE": str(tmp_path / "cache"),
        "STACKBUILD_FETCH_MINUTES": LIMIT_MINUTES,
        "STACKBUILD_BUILD_MINUTES": LIMIT_MINUTES,
        **env,
    }
    return subprocess.run(
        [BASH, str(root / SCRIPT), *flags, what],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def hanging_go(tmp_path: Path) -> Path:
    """A `go` that reports a version, starts its output file, then never answers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = """[ "$1" = env ] && { echo go1.26.8; exit 0; }
while [ $# -gt 0 ]; do [ "$1" = -o ] && : > "$2" && chmod +x "$2"; shift; done
exec sleep 300"""
    return _fake(bin_dir, "go", script)


@pytest.mark.parametrize("what", ["otelcol", "jaeger"])
def test_a_go_step_that_hangs_is_stopped_with_an_error(
    what: str, hanging_go: Path, tmp_path: Path
) -> None:
    """A Go step that never ends is stopped at its limit, exits 1, says why, and is not cached."""
    for _ in range(2):  # the second run must not take a half-built binary for a cached one
        result = _run(tmp_path, what, GO=str(hanging_go))
        assert result.returncode == 1
        assert f"did not finish within {LIMIT_MINUTES} minutes and was stopped" in result.stderr
        assert "STACKBUILD_BUILD_MINUTES" in result.stderr
        assert "cached" not in result.stderr


def test_npm_that_hangs_is_stopped_and_not_cached(tmp_path: Path) -> None:
    """An npm ci that never ends is stopped with an error, and the next run does not reuse it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = _fake(
        bin_dir,
        "npm",
        "mkdir -p node_modules/.bin && touch node_modules/.bin/tsc\n"
        "chmod +x node_modules/.bin/tsc\nexec sleep 300",
    )
    first = _run(tmp_path, "grafana-schema", NPM=str(npm))
    assert first.returncode == 1
    assert "npm ci did not finish within" in first.stderr
    second = _run(tmp_path, "grafana-schema", NPM=str(npm))
    assert "cached" not in second.stderr
    assert "npm ci did not finish within" in second.stderr


def test_missing_go_is_named_and_optional_skips(tmp_path: Path) -> None:
    """Without Go the script names what to install: an error in CI, a skip with --optional."""
    absent = str(tmp_path / "no-such-go")
    required = _run(tmp_path, "otelcol", GO=absent)
    assert required.returncode == 1
    assert "install Go 1.26 or later" in required.stderr
    optional = _run(tmp_path, "otelcol", "--optional", GO=absent)
    assert optional.returncode == 0
    assert "skipped" in optional.stderr
