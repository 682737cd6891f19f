"""Zero-code: opentelemetry-instrument finds the MCP instrumentor; the SDK's spans are replaced."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.instrumentation.mcp._servers import SECRET
from tests.test_distro import _spans


def test_opentelemetry_instrument_records_mcp_once(repo_root: Path) -> None:
    """Under opentelemetry-instrument each tool call is one client and one server span of ours."""
    instrument = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert instrument is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        PYTHONPATH=str(repo_root),
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="mcp-zero-code",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="openai",
    )
    app = str(repo_root / "tests/instrumentation/mcp/_zero_code_app.py")
    result = subprocess.run(
        [instrument, sys.executable, app],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo_root,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "app done" in result.stdout
    spans = _spans(result.stdout)
    assert not [s for s in spans if s["name"].startswith("MCP send")]
    for tool in ("lookup", "explode"):
        found = [s for s in spans if s["name"] == f"tools/call {tool}"]
        assert sorted(s["kind"] for s in found) == ["SpanKind.CLIENT", "SpanKind.SERVER"]
        client, server = sorted(found, key=lambda s: s["kind"])
        assert server["parent_id"] == client["context"]["span_id"]
        assert server["context"]["trace_id"] == client["context"]["trace_id"]
    assert SECRET not in result.stdout
