"""Configuration otel-llm cannot use: one ERROR naming it, then the safe mode, never silence."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from otel_llm._settings import (
    PRICES_FILE,
    REDACTION_CONFIG,
    ConfigError,
    ContentCapturingMode,
    Settings,
    parse_settings,
)

_logger = logging.getLogger("otel_llm")


def safe_settings(settings: Settings) -> Settings:
    """`settings` in the safe mode: no content, default redaction, the bundled prices.

    What a production service needs while its configuration is being fixed: telemetry keeps
    flowing (spans, metrics, cost) and nothing private can leave, because content capture is off
    and redaction is on with the built-in detectors (it still scans exception messages, log
    bodies and other instrumentations' spans). Everything else keeps the value that parsed.
    """
    return dataclasses.replace(
        settings,
        capture_message_content=ContentCapturingMode.NO_CONTENT,
        redaction_enabled=True,
        redaction_config=None,
        prices_file=None,
    )


def checked_settings(variables: Mapping[str, str] | None = None) -> Settings:
    """The settings otel-llm runs with: parsed from `variables`, the files they name loaded.

    `variables` defaults to the process environment. Never raises: every problem found (a value
    that does not parse, a redaction config or prices file that is missing or malformed) goes
    into one ERROR naming the variable or file and field, and the safe mode is returned
    (`safe_settings`), so the application neither stops nor runs unmonitored.
    `load_settings()` raises instead, for tools that must fail.
    """
    settings, errors = parse_settings(variables)
    problems = [str(error) for error in errors]
    problems += _file_problems(settings)
    if not problems:
        return settings
    _logger.error(
        "otel-llm cannot use its configuration: %s. Until this is fixed otel-llm runs in its safe "
        "mode: telemetry is recorded without message content, redaction uses the built-in "
        "detectors and costs come from the bundled prices. `otel-llm config --check` reports "
        "the same problems and exits non-zero, for deploy pipelines.",
        "; ".join(problems),
    )
    return safe_settings(settings)


def _file_problems(settings: Settings) -> list[str]:
    """Load the files `settings` name, as start-up will; what is wrong with each."""
    problems = []
    if settings.redaction_enabled and settings.redaction_config:
        from otel_llm.redaction import Redactor  # noqa: PLC0415 - only when a file is named

        try:
            Redactor.from_settings(settings)
        except Exception as exc:  # whatever it is, the file cannot be used
            problems.append(_problem(exc, REDACTION_CONFIG.name, settings.redaction_config))
    if settings.cost_enabled and settings.prices_file:
        # The file only, not the bundled price data (loaded by whatever prices, later).
        from otel_llm._price_file import load_overrides  # noqa: PLC0415 - only when named

        try:
            load_overrides(settings.prices_file)
        except Exception as exc:
            problems.append(_problem(exc, PRICES_FILE.name, settings.prices_file))
    return problems


def _problem(exc: Exception, variable: str, path: str) -> str:
    if isinstance(exc, ConfigError):
        return str(exc)  # names the file and the field already
    return f"{variable} file {path}: {type(exc).__name__}: {exc}"
