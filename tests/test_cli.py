"""Tests for the otel-llm command line."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from otel_llm import __version__
from otel_llm.cli import main
from otel_llm.config import ENV_VARS


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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--canary-percent", "150"], "--canary-percent: expected a percentage from 0 to 100"),
        (["--canary-percent", "-1"], "--canary-percent: expected a percentage from 0 to 100"),
        (["--requests", "abc"], "--requests: expected a whole number of at least 1, got 'abc'"),
        (["--requests", "0"], "--requests: expected a whole number of at least 1, got '0'"),
        (["--duration", "nan"], "--duration: expected a number above 0, got 'nan'"),
        (["--faults-after", "-5"], "--faults-after: expected a number of seconds, 0 or more"),
        (["--prometheus-port", "99999"], "--prometheus-port: expected a port number"),
        (["--forever", "--requests", "5"], "--forever runs until Ctrl-C or SIGTERM"),
        (["--forever", "--duration", "5"], "--forever runs until Ctrl-C or SIGTERM"),
    ],
)
def test_demo_refuses_bad_options_with_a_clear_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value the demo cannot use stops it before it starts, with exit 2 and what is expected."""
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--no-files", *args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "invalid" not in err


def _run_demo(env: dict[str, str], *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "otel_llm.cli", "demo", "--quiet", "--no-files", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def test_demo_reports_a_missing_prices_file_in_one_line(tmp_path: Path) -> None:
    """A prices file that cannot be read is one line naming variable, file and fix; exit 2."""
    missing = tmp_path / "prices.yaml"
    result = _run_demo({"OTEL_LLM_PRICES_FILE": str(missing)}, "--requests", "1")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("otel-llm: configuration error: OTEL_LLM_PRICES_FILE: ")
    assert str(missing) in line
    assert "fix: " in line
    assert result.stdout == ""


def test_demo_warns_once_about_an_unknown_capture_value() -> None:
    """An unknown content-capture value is warned about once per run, not once per read."""
    capture = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    result = _run_demo(capture, "--requests", "1", "--concurrency", "1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT='true'") == 1


def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ENV_VARS:
        monkeypatch.delenv(var.name, raising=False)


def test_config_check_says_ok_and_exits_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`otel-llm config --check` with a sound configuration prints one OK line and exits 0."""
    _clean_environment(monkeypatch, tmp_path)
    (tmp_path / "prices.yaml").write_text("models:\n  m: {input: 1, output: 1}\n")
    monkeypatch.setenv("OTEL_LLM_PRICES_FILE", str(tmp_path / "prices.yaml"))
    assert main(["config", "--check"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"otel-llm config: OK ({len(ENV_VARS)} variables; redaction (default detectors); "
        f"prices file {tmp_path / 'prices.yaml'})"
    ]
    assert captured.err == ""


def test_config_check_lists_every_problem_and_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each bad variable or file is listed with its fix, the warning only there; exit 1."""
    _clean_environment(monkeypatch, tmp_path)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "p.yaml").write_text('name: p\nversion: "1"\n')
    monkeypatch.setenv("OTEL_LLM_MAX_CONTENT_BYTES", "lots")
    monkeypatch.setenv("OTEL_LLM_PRICES_FILE", str(tmp_path / "missing.yaml"))
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "yes please")
    assert main(["config", "--check"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "otel-llm config: 4 problems"
    assert len(lines) == 1 + 2 * 4
    assert lines[1].startswith("  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT='yes please'")
    assert lines[3].startswith("  OTEL_LLM_MAX_CONTENT_BYTES='lots'")
    assert lines[5].startswith(f"  OTEL_LLM_PRICES_FILE: prices file {tmp_path / 'missing.yaml'}")
    assert lines[7].startswith(f"  OTEL_LLM_PROMPTS_DIR: prompt file {tmp_path / 'prompts/p.yaml'}")
    assert all(line.startswith("    fix: ") for line in lines[2::2])


def test_readme_config_check_example_is_what_the_command_prints(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The README's `otel-llm config --check` example shows the command's real output."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    example = readme.split("```sh\n$ OTEL_LLM_PRICES_FILE=", 1)[1].split("```", 1)[0]
    command, *expected = example.splitlines()
    path = command.split(" ", 1)[0]
    assert command == f"{path} otel-llm config --check"
    monkeypatch.chdir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "otel_llm.cli", "config", "--check"],
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
            "OTEL_LLM_PRICES_FILE": path,
        },
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == expected


def test_runs_ignore_a_redaction_config_they_would_not_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With redaction off, `example` runs despite a bad unused redaction file; --check flags it."""
    (tmp_path / "r.yaml").write_text("nonsense: 1\n")
    monkeypatch.setenv("OTEL_LLM_REDACTION_ENABLED", "false")
    monkeypatch.setenv("OTEL_LLM_REDACTION_CONFIG", str(tmp_path / "r.yaml"))
    monkeypatch.delenv("OTEL_LLM_PRICES_FILE", raising=False)
    assert main(["example"]) == 0
    assert main(["config", "--check"]) == 1
    assert "OTEL_LLM_REDACTION_CONFIG" in capsys.readouterr().err
