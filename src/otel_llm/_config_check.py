"""`otel-llm config --check`: load every configured variable and file as start-up would."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from otel_llm.config import (
    ENV_VARS,
    PRICES_FILE,
    PROMPTS_DIR,
    REDACTION_CONFIG,
    ConfigError,
    EnvVar,
    Settings,
    load_settings,
)

__all__ = ["CheckResult", "Problem", "check_configuration", "check_files"]


@dataclass(frozen=True)
class Problem:
    """One thing start-up would refuse or silently replace: what, where, and how to fix it."""

    source: str
    """The variable that leads to the problem (it names the file, if any)."""
    message: str
    """The loader's own message: the value or the file, the field, the problem."""
    fix: str

    @property
    def text(self) -> str:
        """The message, led by the variable unless it already names it first."""
        if self.message.startswith(self.source):
            return self.message
        return f"{self.source}: {self.message}"

    def one_line(self) -> str:
        """The problem and its fix on one line."""
        return f"{self.text}; fix: {self.fix}"


@dataclass
class CheckResult:
    """The settings as far as they could be read, what was checked, and every problem found."""

    settings: Settings = field(default_factory=Settings)
    checked: list[str] = field(default_factory=list)
    """What was loaded, in words (for the OK line)."""
    problems: list[Problem] = field(default_factory=list)


class _Warnings(logging.Handler):
    """Collects the warnings otel_llm.config logs while a value is parsed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message instead of printing it."""
        self.messages.append(record.getMessage())


@contextmanager
def _warnings_of(logger_name: str) -> Iterator[_Warnings]:
    # A fallback with a warning is what the specification asks of a running application; a
    # deploy check must report it, once, like any other problem.
    logger = logging.getLogger(logger_name)
    handler, propagate = _Warnings(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _variable_fix(var: EnvVar[Any]) -> str:
    accepts = var.values.replace("`", "")
    default = "" if var.default is None else f" for the default ({var.default_text})"
    return f"{var.name} accepts {accepts}: change it, or unset it{default}"


def _read_variables(env: Mapping[str, str] | None, result: CheckResult) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for var in ENV_VARS:
        with _warnings_of("otel_llm.config") as warned:
            try:
                values[var.setting] = var.read(env)
            except ConfigError as exc:
                result.problems.append(Problem(var.name, str(exc), _variable_fix(var)))
        for message in warned.messages:
            result.problems.append(Problem(var.name, message, _variable_fix(var)))
    return values


def _load(
    result: CheckResult, var: EnvVar[Any], what: str, fix: str, loader: Callable[[], object]
) -> None:
    try:
        loader()
    except (ConfigError, ValueError, OSError) as exc:
        result.problems.append(Problem(var.name, str(exc), fix))
    else:
        result.checked.append(what)


def _check_redaction(settings: Settings, result: CheckResult, *, unused: bool) -> None:
    from otel_llm.redaction import Redactor  # noqa: PLC0415 - the engine loads only when used

    path = settings.redaction_config
    if not settings.redaction_enabled and (path is None or not unused):
        return
    # With `unused`, a configured file is checked even while redaction is off: it is used as
    # soon as redaction is turned on again.
    _load(
        result,
        REDACTION_CONFIG,
        f"redaction config {path}" if path else "redaction (default detectors)",
        f"correct what the message names, point {REDACTION_CONFIG.name} at another file, or "
        "unset it for the default detectors",
        lambda: Redactor.from_settings(dataclasses.replace(settings, redaction_enabled=True)),
    )


def _check_prices(settings: Settings, result: CheckResult) -> None:
    if settings.prices_file is None:
        return
    from otel_llm.cost import PriceBook  # noqa: PLC0415 - loads the price data

    _load(
        result,
        PRICES_FILE,
        f"prices file {settings.prices_file}",
        f"correct what the message names, point {PRICES_FILE.name} at another file, or unset "
        "it to price from the bundled genai-prices data only",
        lambda: PriceBook.from_settings(settings),
    )


def _check_prompts(settings: Settings, result: CheckResult) -> None:
    from otel_llm import prompts  # noqa: PLC0415

    configured = settings.prompts_dir
    directory = Path(configured or prompts.DEFAULT_DIRECTORY)
    if configured is None and not directory.is_dir():
        return  # No prompt files in use: nothing to check.
    root = directory.expanduser().resolve()
    fix = f"correct what the message names, or point {PROMPTS_DIR.name} at your prompts directory"
    # Every file is read, as `prompts.load` does on first use; each bad one is its own problem.
    _, problems = prompts._scan(root)
    result.problems.extend(Problem(PROMPTS_DIR.name, str(problem), fix) for problem in problems)
    if not problems:
        result.checked.append(f"prompts in {root}")


def check_files(
    settings: Settings, result: CheckResult, *, prompts: bool = True, unused: bool = True
) -> None:
    """Load the redaction config, the prices file and (with `prompts`) the prompt files.

    With `unused`, a redaction config is loaded even while redaction is off.
    """
    _check_redaction(settings, result, unused=unused)
    _check_prices(settings, result)
    if prompts:
        _check_prompts(settings, result)


def check_configuration(env: Mapping[str, str] | None = None) -> CheckResult:
    """Read every variable and load every configured file, collecting each problem."""
    result = CheckResult()
    values = _read_variables(env, result)
    result.settings = Settings(**values)  # defaults where a value was refused
    if not result.problems:
        # What start-up itself calls, in case it checks more than each variable alone.
        with _warnings_of("otel_llm.config"):
            try:
                result.settings = load_settings(env)
            except ConfigError as exc:
                result.problems.append(
                    Problem("configuration", str(exc), "change the variables it names")
                )
    result.checked.append(f"{len(ENV_VARS)} variables")
    check_files(result.settings, result)
    return result
