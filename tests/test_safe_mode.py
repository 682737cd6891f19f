"""Configuration otel-llm cannot use: one ERROR naming it, then the safe mode."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from otel_llm._safe_mode import checked_settings, safe_settings
from otel_llm.config import ContentCapturingMode, Settings

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_good_configuration_is_used_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Values that parse and files that load give the settings they say, and nothing is logged."""
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        'version: "1"\nmodels:\n  my-model:\n    input: 1.0\n    output: 2.0\n', encoding="utf-8"
    )
    variables = {CAPTURE: "SPAN_ONLY", "OTEL_LLM_PRICES_FILE": str(prices)}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        settings = checked_settings(variables)
    assert settings == Settings(
        capture_message_content=ContentCapturingMode.SPAN_ONLY, prices_file=str(prices)
    )
    assert caplog.records == []


def test_every_problem_goes_into_one_error_and_the_safe_mode(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A bad value and two bad files: one ERROR naming all three; content off, default files."""
    redaction = tmp_path / "redaction.yaml"
    redaction.write_text("detectors: [unclosed\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    variables = {
        CAPTURE: "SPAN_AND_EVENT",
        "OTEL_LLM_MAX_CONTENT_BYTES": "lots",
        "OTEL_LLM_REDACTION_CONFIG": str(redaction),
        "OTEL_LLM_PRICES_FILE": str(missing),
        "OTEL_LLM_PROMPTS_DIR": "/srv/prompts",
        "OTEL_LLM_SEMCONV_UPGRADE": "true",
    }
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        settings = checked_settings(variables)
    (error,) = _errors(caplog)
    assert "OTEL_LLM_MAX_CONTENT_BYTES='lots'" in error
    assert str(redaction) in error
    assert str(missing) in error
    assert "safe mode" in error
    assert settings == Settings(prompts_dir="/srv/prompts", semconv_upgrade=True)


def test_safe_mode_turns_redaction_on_and_content_off() -> None:
    """The safe mode overrides redaction switched off and content switched on; keeps the rest."""
    chosen = Settings(
        capture_message_content=ContentCapturingMode.SPAN_AND_EVENT,
        redaction_enabled=False,
        redaction_config="r.yaml",
        redaction_hmac_key="key",
        cost_enabled=False,
        prices_file="p.yaml",
        max_content_bytes=1024,
    )
    assert safe_settings(chosen) == Settings(
        redaction_hmac_key="key", cost_enabled=False, max_content_bytes=1024
    )


def test_an_unloadable_callback_is_a_problem_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A redaction callback that cannot be imported is reported with the file and goes safe."""
    redaction = tmp_path / "redaction.yaml"
    redaction.write_text("callback: no_such_module_here:scrub\n", encoding="utf-8")
    variables = {CAPTURE: "SPAN_ONLY", "OTEL_LLM_REDACTION_CONFIG": str(redaction)}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        settings = checked_settings(variables)
    (error,) = _errors(caplog)
    assert str(redaction) in error
    assert settings.capture_message_content is ContentCapturingMode.NO_CONTENT
    assert settings.redaction_config is None
