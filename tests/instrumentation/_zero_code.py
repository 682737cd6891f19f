"""Runs a test application as a user would, under `opentelemetry-instrument`, and reads its output.

The application prints its telemetry with the console exporters; `printed` reads back every
JSON object in that output (spans, log records, metric exports).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any


def run_app(
    repo_root: Path,
    module: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    *,
    instrument: bool = True,
    drop: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run `python -m module args` (under opentelemetry-instrument unless `instrument` is False).

    The environment is this one without any OTEL_ variable (and without those starting with
    `drop`) or OpenAI key, plus `env`; the app must exit 0 and print "app done".
    """
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", *drop))}
    variables.pop("OPENAI_API_KEY", None)
    variables.update({"PYTHONPATH": str(repo_root), **(env or {})})
    command = [sys.executable, "-m", module, *args]
    if instrument:
        found = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
        assert found is not None
        command = [found, *command]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=variables,
        cwd=repo_root,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "app done" in result.stdout, result.stderr
    return result


def printed(output: str) -> Iterator[dict[str, Any]]:
    """Every JSON object printed in `output` (the console exporters' spans, logs, metrics)."""
    decoder = json.JSONDecoder()
    index = 0
    while (start := output.find("{", index)) != -1:
        try:
            value, index = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        if isinstance(value, dict):
            yield value


def printed_spans(output: str) -> list[dict[str, Any]]:
    """The spans the console span exporter printed in `output`."""
    return [value for value in printed(output) if "name" in value and "context" in value]


def run_under_opentelemetry_instrument(repo_root: Path, app: str) -> list[dict[str, Any]]:
    """Run _zero_code_app.py's `app` with only standard variables; the spans it printed."""
    result = run_app(
        repo_root,
        "tests.instrumentation._zero_code_app",
        [app],
        {
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_SERVICE_NAME": "zero-code-frameworks",
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai",  # the official one, as a user would
        },
    )
    return printed_spans(result.stdout)


def parents(spans: list[dict[str, Any]]) -> dict[str, str | None]:
    """Each span's name -> its parent's name (None for the root)."""
    names = {span["context"]["span_id"]: span["name"] for span in spans}
    return {span["name"]: names.get(span.get("parent_id") or "") for span in spans}
