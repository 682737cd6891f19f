"""Runs tests/instrumentation/_zero_code_app.py under `opentelemetry-instrument`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_under_opentelemetry_instrument(repo_root: Path, app: str) -> list[dict[str, Any]]:
    """Run the app with only standard variables and console exporters; the spans it printed."""
    instrument = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert instrument is not None
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "PYTHONPATH": str(repo_root),
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "zero-code-frameworks",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai",  # the official one, as a user would
    }
    env.pop("OPENAI_API_KEY", None)
    result = subprocess.run(
        [instrument, sys.executable, "-m", "tests.instrumentation._zero_code_app", app],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo_root,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "app done" in result.stdout
    decoder = json.JSONDecoder()
    found, index = [], 0
    while (start := result.stdout.find("{", index)) != -1:
        try:
            value, index = decoder.raw_decode(result.stdout, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        if isinstance(value, dict) and "name" in value and "context" in value:
            found.append(value)
    return found


def parents(spans: list[dict[str, Any]]) -> dict[str, str | None]:
    """Each span's name -> its parent's name (None for the root)."""
    names = {span["context"]["span_id"]: span["name"] for span in spans}
    return {span["name"]: names.get(span.get("parent_id") or "") for span in spans}
