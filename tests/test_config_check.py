"""`otel-llm config --check`: every variable and configured file loaded, every problem reported."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from otel_llm._config_check import check_configuration
from otel_llm._safe_mode import checked_settings
from otel_llm.cli import main
from otel_llm.config import ENV_VARS
from otel_llm.demo.chatbot import PROMPTS_DIR as DEMO_PROMPTS

PRICES = 'version: "2026-12"\nmodels:\n  my-finetune: {input: 3.0, output: 12.0}\n'
REDACTION = "disabled: [ip_address]\nextra_patterns:\n  ticket: 'TCK-[0-9]{4}'\n"
PROMPT = textwrap.dedent(
    """\
    name: greet
    version: "3"
    template: "Hello {name}"
    """
)


@pytest.fixture(autouse=True)
def _empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in an empty directory (no ./prompts)."""
    monkeypatch.chdir(tmp_path)


def _files(tmp_path: Path) -> dict[str, str]:
    """A valid prices file, redaction config and prompts directory, as variables."""
    (tmp_path / "prices.yaml").write_text(PRICES)
    (tmp_path / "redaction.yaml").write_text(REDACTION)
    (tmp_path / "my-prompts").mkdir()
    (tmp_path / "my-prompts" / "greet.yaml").write_text(PROMPT)
    return {
        "OTEL_LLM_PRICES_FILE": str(tmp_path / "prices.yaml"),
        "OTEL_LLM_REDACTION_CONFIG": str(tmp_path / "redaction.yaml"),
        "OTEL_LLM_PROMPTS_DIR": str(tmp_path / "my-prompts"),
    }


def test_nothing_configured_is_ok() -> None:
    """With no variable set and no ./prompts, the check finds nothing and loads the defaults."""
    result = check_configuration({})
    assert result.problems == []
    assert result.checked == [f"{len(ENV_VARS)} variables", "redaction (default detectors)"]


def test_valid_files_are_loaded_and_named(tmp_path: Path) -> None:
    """A valid prices file, redaction config and prompts directory are each loaded and named."""
    env = _files(tmp_path)
    result = check_configuration(env)
    assert result.problems == []
    assert result.settings.prices_file == env["OTEL_LLM_PRICES_FILE"]
    assert result.checked[1:] == [
        f"redaction config {env['OTEL_LLM_REDACTION_CONFIG']}",
        f"prices file {env['OTEL_LLM_PRICES_FILE']}",
        f"prompts in {tmp_path / 'my-prompts'}",
    ]


def test_every_problem_is_reported_with_its_variable_and_fix(tmp_path: Path) -> None:
    """Bad variables and bad files are all reported, each naming the variable, file and fix."""
    env = _files(tmp_path)
    (tmp_path / "redaction.yaml").write_text("disabled: [emails]\n")
    (tmp_path / "my-prompts" / "bad.yaml").write_text('name: bad\nversion: "1"\n')
    env |= {
        "OTEL_LLM_PRICES_FILE": str(tmp_path / "missing.yaml"),
        "OTEL_LLM_MAX_CONTENT_BYTES": "lots",
        "OTEL_LLM_COST_ENABLED": "maybe",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
    }
    problems = {p.source: p for p in check_configuration(env).problems}
    assert sorted(problems) == sorted(
        [
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
            "OTEL_LLM_MAX_CONTENT_BYTES",
            "OTEL_LLM_COST_ENABLED",
            "OTEL_LLM_REDACTION_CONFIG",
            "OTEL_LLM_PRICES_FILE",
            "OTEL_LLM_PROMPTS_DIR",
        ]
    )
    capture = problems["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"]
    assert "'true'" in capture.message
    assert "SPAN_AND_EVENT" in capture.fix
    assert "lots" in problems["OTEL_LLM_MAX_CONTENT_BYTES"].message
    assert problems["OTEL_LLM_MAX_CONTENT_BYTES"].fix == (
        "OTEL_LLM_MAX_CONTENT_BYTES accepts whole number of bytes, at least 256: change it, "
        "or unset it for the default (16384)"
    )
    assert "emails" in problems["OTEL_LLM_REDACTION_CONFIG"].message
    assert str(tmp_path / "redaction.yaml") in problems["OTEL_LLM_REDACTION_CONFIG"].message
    assert str(tmp_path / "missing.yaml") in problems["OTEL_LLM_PRICES_FILE"].message
    assert str(tmp_path / "my-prompts" / "bad.yaml") in problems["OTEL_LLM_PROMPTS_DIR"].message
    for problem in problems.values():
        assert problem.one_line().startswith(problem.source)
        assert f"; fix: {problem.fix}" in problem.one_line()
        assert "\n" not in problem.one_line()


def test_a_missing_prompts_directory_is_a_problem_only_when_configured(tmp_path: Path) -> None:
    """OTEL_LLM_PROMPTS_DIR naming no directory is reported; no ./prompts by default is fine."""
    [problem] = check_configuration({"OTEL_LLM_PROMPTS_DIR": str(tmp_path / "nope")}).problems
    assert problem.source == "OTEL_LLM_PROMPTS_DIR"
    assert "does not exist" in problem.message


def test_the_default_prompts_directory_is_checked_when_present(tmp_path: Path) -> None:
    """Without OTEL_LLM_PROMPTS_DIR, ./prompts is what the application loads, so it is checked."""
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "x.yaml").write_text("name: x\n")
    [problem] = check_configuration({}).problems
    assert str(tmp_path / "prompts" / "x.yaml") in problem.message


def test_a_redaction_config_is_checked_while_redaction_is_off(tmp_path: Path) -> None:
    """A configured redaction file is loaded even with redaction off: it is used once on."""
    (tmp_path / "r.yaml").write_text("nonsense: 1\n")
    env = {"OTEL_LLM_REDACTION_ENABLED": "false", "OTEL_LLM_REDACTION_CONFIG": "r.yaml"}
    [problem] = check_configuration(env).problems
    assert problem.source == "OTEL_LLM_REDACTION_CONFIG"
    assert check_configuration({"OTEL_LLM_REDACTION_ENABLED": "false"}).checked == [
        f"{len(ENV_VARS)} variables"
    ]


def test_the_demo_prompts_pass() -> None:
    """The shipped demo prompt files load cleanly through the same check."""
    result = check_configuration({"OTEL_LLM_PROMPTS_DIR": str(DEMO_PROMPTS)})
    assert result.problems == []


BAD_PRICES = (
    "models:\n"
    "  a: &p1 {input: 1.0, output: 2.0}\n"
    "  b: &p2 {input: 5.0, output: 6.0}\n"
    "  c:\n"
    "    <<: [*p1, *p2]\n"
    "providers:\n"
    "  openai:\n"
    "    gpt-4o-mini: {input: 010, output: 1:30}\n"
)
PRICE_PROBLEMS = (
    "models.c.input: given by two of the mappings merged here (line 2: 1.0; line 3: 5.0)",
    "models.c.output: given by two of the mappings merged here (line 2: 2.0; line 3: 6.0)",
    "line 8: providers.openai.gpt-4o-mini.input: YAML reads 010 as the octal number 8, not 10; "
    "write it in plain decimal digits: input: 10",
    "line 8: providers.openai.gpt-4o-mini.output: YAML reads 1:30 as the base-60 number 90; "
    "write a number in plain decimal digits, such as output: 90",
)
TYPO_PROMPT = (
    "name: support\nversion: v3\nsettings:\n  temprature: 0.2\n  max_tokens: '256'\n"
    "messages:\n  - role: sytem\n    content: You are helpful.\n"
)
PROMPT_PROBLEMS = (
    "line 4: settings.temprature: unknown setting; did you mean temperature?",
    "line 5: settings.max_tokens: the number is quoted, so it is text: write max_tokens: 256",
    "line 7: messages[0].role: 'sytem': did you mean system?",
)


def test_misread_prices_merges_and_prompt_typos_are_each_reported(tmp_path: Path) -> None:
    """Every problem of the prices file and of each prompt file is reported, with line and fix."""
    env = _files(tmp_path)
    (tmp_path / "prices.yaml").write_text(BAD_PRICES)
    prompts_dir = tmp_path / "my-prompts"
    (prompts_dir / "typos.yaml").write_text(TYPO_PROMPT)
    (prompts_dir / "Other.YAML").write_text("name: other\nversion: 1.10\ntemplate: t\n")
    problems = check_configuration(env).problems
    assert [p.source for p in problems] == [
        "OTEL_LLM_PRICES_FILE",
        "OTEL_LLM_PROMPTS_DIR",
        "OTEL_LLM_PROMPTS_DIR",
    ]
    prices, other, typos = (p.message for p in problems)
    assert prices.startswith(f"prices file {tmp_path / 'prices.yaml'}: ")
    for expected in PRICE_PROBLEMS:
        assert expected in prices
    assert other.startswith(f"prompt file {prompts_dir / 'Other.YAML'}: line 2: version: YAML")
    assert typos.startswith(f"prompt file {prompts_dir / 'typos.yaml'}: {PROMPT_PROBLEMS[0]}")
    for expected in PROMPT_PROBLEMS:
        assert expected in typos


def test_the_command_exits_non_zero_on_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`otel-llm config --check` prints each problem and exits 1 for a deploy pipeline."""
    env = _files(tmp_path)
    (tmp_path / "my-prompts" / "typos.yaml").write_text(TYPO_PROMPT)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["config", "--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("otel-llm config: 1 problem\n")
    for expected in PROMPT_PROBLEMS:
        assert expected in err


def test_the_safe_mode_error_names_file_line_field_and_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Start-up's one ERROR for a misread prices file carries every problem and its fix."""
    path = tmp_path / "prices.yaml"
    path.write_text(BAD_PRICES)
    with caplog.at_level(logging.ERROR, logger="otel_llm"):
        settings = checked_settings({"OTEL_LLM_PRICES_FILE": str(path)})
    [error] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"prices file {path}: " in error
    for expected in PRICE_PROBLEMS:
        assert expected in error
    assert "safe mode" in error
    assert settings.prices_file is None
