"""Zero-code: `opentelemetry-instrument` finds the LiteLLM instrumentor beside the SDKs' ones."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.test_distro import _spans


def test_opentelemetry_instrument_records_litellm_once(repo_root: Path) -> None:
    """Each LiteLLM call is one inference span, the routed call a route span over its attempts."""
    instrument = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert instrument is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        PYTHONPATH=str(repo_root),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="litellm-zero-code",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="openai",  # the official one; ours records
    )
    app = str(repo_root / "tests/instrumentation/litellm/_zero_code_app.py")
    result = subprocess.run(
        [instrument, sys.executable, app],
        capture_output=True,
        text=True,
        env=env,
        cwd=repo_root,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "app done" in result.stdout
    spans = _spans(result.stdout)
    (route,) = [s for s in spans if s["name"] == "route primary"]
    attempts = [s for s in spans if s["parent_id"] == route["context"]["span_id"]]
    direct = [s for s in spans if s is not route and s not in attempts]
    assert [s["name"] for s in direct] == ["chat gpt-4o-mini"]
    counts = route["attributes"]
    assert counts["otel_llm.fallback.count"] == 1
    # Every attempt (the router's default retries included) is one span, counted on the route.
    assert len(attempts) == counts["otel_llm.retry.count"] + counts["otel_llm.fallback.count"] + 1
    assert [s["attributes"]["gen_ai.provider.name"] for s in attempts][-1] == "anthropic"
    # Priced by the pipeline, as any other call.
    assert result.stdout.count('"otel_llm.cost.total"') >= 2
