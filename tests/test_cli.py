"""Tests for the otel-llm command line."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otel_llm import __version__
from otel_llm.cli import main


def test_example_prints_span_and_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    """`otel-llm example` exits 0 and prints the chat span and the inference metrics."""
    assert main(["example"]) == 0
    out = capsys.readouterr().out
    assert "span  'chat gpt-4o-mini'  kind=CLIENT" in out
    assert "metric gen_ai.client.inference.duration" in out
    assert "metric gen_ai.client.inference.usage.input_tokens  value=42" in out


def test_config_shows_effective_values_and_origin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`otel-llm config` prints every variable with its parsed value and whether it was set."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "span_only")
    monkeypatch.delenv("OTEL_LLM_MAX_CONTENT_BYTES", raising=False)
    assert main(["config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY  (set)" in lines
    assert "OTEL_LLM_MAX_CONTENT_BYTES=16384  (default)" in lines


def test_bad_configuration_exits_2_with_message(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A malformed variable stops the command with exit code 2 and names the variable."""
    monkeypatch.setenv("OTEL_LLM_MAX_CONTENT_BYTES", "lots")
    assert main(["example"]) == 2
    err = capsys.readouterr().err
    assert "configuration error: OTEL_LLM_MAX_CONTENT_BYTES='lots'" in err


def test_console_script_runs_as_module() -> None:
    """`python -m otel_llm.cli --version` works in a fresh interpreter and prints the version."""
    result = subprocess.run(
        [sys.executable, "-m", "otel_llm.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"otel-llm {__version__}"


def test_config_masks_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`otel-llm config` never prints the redaction key."""
    monkeypatch.setenv("OTEL_LLM_REDACTION_HMAC_KEY", "super-secret")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "super-secret" not in out
    assert "OTEL_LLM_REDACTION_HMAC_KEY=***  (set)" in out


def _demo(*args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, "-m", "otel_llm.cli", "demo", "--quiet", "--seed", "1", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_demo_runs_and_prints_every_report_section(tmp_path: Path) -> None:
    """`otel-llm demo --requests N` serves, drives, reports and writes OTLP/JSON, then exits 0."""
    process = _demo("--requests", "12", "--concurrency", "4", "--output-dir", str(tmp_path))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    for section in (
        "== Summary ==",
        "== Slowest request ==",
        "== Prompt versions ==",
        "== Outliers ==",
    ):
        assert section in out
    assert "requests 12 (failed: none)" in out
    assert f"traces written to {tmp_path / 'traces.jsonl'}" in out
    assert (tmp_path / "traces.jsonl").stat().st_size > 0


def test_demo_stops_on_sigterm_and_still_reports(tmp_path: Path) -> None:
    """`--forever` runs until SIGTERM (docker stop), finishes in-flight requests and reports."""
    process = _demo("--forever", "--no-files", "--concurrency", "2")
    assert process.stdout is not None
    while "running:" not in process.stdout.readline():
        assert process.poll() is None
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "== Prompt versions ==" in out
    assert "traces written" not in out


def test_demo_rejects_a_bad_fault(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown fault switch exits 2 with a message listing the known ones."""
    assert main(["demo", "--fault", "meteor=1"]) == 2
    err = capsys.readouterr().err
    assert "unknown fault 'meteor'" in err
    assert "tool_failures" in err
