"""Zero-code setup: `opentelemetry-instrument python app.py` records both providers' calls."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from otel_llm.config import EXPORTER_DEFAULTS, apply_exporter_defaults


def _span_names(console_output: str) -> list[str]:
    """Names of the spans the console exporter printed (one JSON object per span)."""
    decoder = json.JSONDecoder()
    names, index = [], 0
    while (start := console_output.find("{", index)) != -1:
        try:
            value, index = decoder.raw_decode(console_output, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        if isinstance(value, dict) and "name" in value and "context" in value:
            names.append(value["name"])
    return names


def _run(
    command: list[str], env: dict[str, str], repo_root: Path
) -> subprocess.CompletedProcess[str]:
    """Run `command` from the repository root with `env`; it must exit 0 (stderr shown if not)."""
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=repo_root, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def test_opentelemetry_instrument_records_openai_and_anthropic(repo_root: Path) -> None:
    """With only standard OTEL_* variables, both SDKs' calls become GenAI spans, once each."""
    instrument = shutil.which("opentelemetry-instrument", path=str(Path(sys.executable).parent))
    assert instrument is not None
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root),
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "zero-code-test",
        # The official OpenAI instrumentation is installed for the processor tests; like a user
        # with both installed, switch it off by its entry-point name so calls are recorded once.
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
    }
    result = _run([instrument, sys.executable, str(repo_root / "tests/_app.py")], env, repo_root)
    assert "app done" in result.stdout
    assert sorted(_span_names(result.stdout)) == ["chat claude-sonnet-4-6", "chat gpt-4o-mini"]
    # The processors sit in front of the exporter: content is redacted and calls are priced.
    assert "gen_ai.input.messages" in result.stdout
    assert "jane.doe@example.com" not in result.stdout
    assert "[REDACTED:email]" in result.stdout
    assert result.stdout.count('"otel_llm.cost.total"') == 2


def test_exporter_defaults_only_fill_gaps() -> None:
    """The distro defaults exporters to OTLP but never overrides what the user set."""
    environ = {"OTEL_TRACES_EXPORTER": "console"}
    apply_exporter_defaults(environ)
    assert environ == {**EXPORTER_DEFAULTS, "OTEL_TRACES_EXPORTER": "console"}


@pytest.mark.parametrize("disabled", [False, True])
def test_configure_sets_up_sdk_and_instruments(repo_root: Path, disabled: bool) -> None:
    """otel_llm.configure() does what opentelemetry-instrument does; OTEL_SDK_DISABLED stops it."""
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root),
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SDK_DISABLED": "true" if disabled else "false",
    }
    result = _run([sys.executable, str(repo_root / "tests/_app.py"), "configure"], env, repo_root)
    names = _span_names(result.stdout)
    if disabled:
        assert names == []
    else:
        assert sorted(names) == ["chat claude-sonnet-4-6", "chat gpt-4o-mini"]


_SHOW_PIPELINE = """
import os
import otel_llm
from opentelemetry import metrics, trace
otel_llm.configure()
chain, processor = [], trace.get_tracer_provider()._active_span_processor._span_processors[0]
while hasattr(processor, "next"):
    chain.append(type(processor).__name__)
    processor = processor.next
chain.append(type(processor._batch_processor._exporter).__name__)
print(chain)
print([type(r._exporter).__name__ for r in metrics.get_meter_provider()._metric_readers])
os._exit(0)  # no shutdown flush to the closed port
"""


def test_configure_defaults_every_exporter_to_otlp_behind_the_processors(repo_root: Path) -> None:
    """With no OTEL_*_EXPORTER set, configure() exports OTLP as opentelemetry-instrument does.

    Spans go through redaction and cost on their way to the OTLP exporter.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(PYTHONPATH=str(repo_root), OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    result = _run([sys.executable, "-c", _SHOW_PIPELINE], env, repo_root)
    spans, readers = result.stdout.splitlines()
    assert spans == str(["RedactionSpanProcessor", "CostSpanProcessor", "OTLPSpanExporter"])
    assert readers == str(["OTLPMetricExporter"])
