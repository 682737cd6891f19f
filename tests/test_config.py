"""Tests for otel_llm.config: parsing, defaults, bad values and the single place env is read."""

import logging
import re
from pathlib import Path

import pytest

from otel_llm.config import (
    ENV_VARS,
    ConfigError,
    ContentCapturingMode,
    Settings,
    get_settings,
    load_settings,
)

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def test_defaults_when_nothing_is_set() -> None:
    """An empty environment gives the documented defaults: no content, SDK on, 16 KiB budget."""
    assert load_settings({}) == Settings(
        capture_message_content=ContentCapturingMode.NO_CONTENT,
        sdk_disabled=False,
        max_content_bytes=16384,
    )


def test_empty_value_counts_as_unset() -> None:
    """A variable set to an empty or blank string takes its default instead of failing."""
    assert load_settings({CAPTURE: "  ", "OTEL_LLM_MAX_CONTENT_BYTES": ""}) == Settings()


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        ("NO_CONTENT", ContentCapturingMode.NO_CONTENT),
        ("SPAN_ONLY", ContentCapturingMode.SPAN_ONLY),
        ("event_only", ContentCapturingMode.EVENT_ONLY),
        ("Span_And_Event", ContentCapturingMode.SPAN_AND_EVENT),
        (" span_only ", ContentCapturingMode.SPAN_ONLY),
    ],
)
def test_capture_mode_accepts_spec_values_case_insensitively(
    raw: str, mode: ContentCapturingMode
) -> None:
    """Each of the four spec values parses, in any letter case and with stray whitespace."""
    assert load_settings({CAPTURE: raw}).capture_message_content is mode


@pytest.mark.parametrize("raw", ["true", "false", "1", "spans", "SPAN-ONLY", "all"])
def test_capture_mode_fails_closed_with_one_warning(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Unknown values, legacy true/false included, mean NO_CONTENT and log exactly one warning."""
    with caplog.at_level(logging.WARNING, logger="otel_llm.config"):
        settings = load_settings({CAPTURE: raw})
    assert settings.capture_message_content is ContentCapturingMode.NO_CONTENT
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert CAPTURE in warnings[0].getMessage()
    assert repr(raw) in warnings[0].getMessage()


@pytest.mark.parametrize(
    ("mode", "on_spans", "on_events"),
    [
        (ContentCapturingMode.NO_CONTENT, False, False),
        (ContentCapturingMode.SPAN_ONLY, True, False),
        (ContentCapturingMode.EVENT_ONLY, False, True),
        (ContentCapturingMode.SPAN_AND_EVENT, True, True),
    ],
)
def test_capture_mode_sinks(mode: ContentCapturingMode, on_spans: bool, on_events: bool) -> None:
    """Each mode enables exactly the sinks the spec names, never falling back to the other."""
    assert (mode.on_spans, mode.on_events) == (on_spans, on_events)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("TRUE", True), ("false", False)])
def test_sdk_disabled_parses_booleans(raw: str, expected: bool) -> None:
    """OTEL_SDK_DISABLED follows OpenTelemetry: only `true`, in any case, is true."""
    assert load_settings({"OTEL_SDK_DISABLED": raw}).sdk_disabled is expected


def test_sdk_disabled_warns_on_non_boolean(caplog: pytest.LogCaptureFixture) -> None:
    """A non-boolean OTEL_SDK_DISABLED is false, with a warning, as the OTel spec prescribes."""
    with caplog.at_level(logging.WARNING, logger="otel_llm.config"):
        assert load_settings({"OTEL_SDK_DISABLED": "yes"}).sdk_disabled is False
    assert len(caplog.records) == 1


def test_max_content_bytes_parses() -> None:
    """A whole number at or above the minimum becomes the per-value byte budget."""
    assert load_settings({"OTEL_LLM_MAX_CONTENT_BYTES": "4096"}).max_content_bytes == 4096
    assert load_settings({"OTEL_LLM_MAX_CONTENT_BYTES": "256"}).max_content_bytes == 256


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("abc", "expected a whole number of bytes"),
        ("1.5", "expected a whole number of bytes"),
        ("-1", "must be at least 256 bytes"),
        ("255", "must be at least 256 bytes"),
    ],
)
def test_bad_max_content_bytes_names_variable_and_problem(raw: str, problem: str) -> None:
    """A malformed budget raises ConfigError naming the variable, the value and the problem."""
    with pytest.raises(ConfigError) as excinfo:
        load_settings({"OTEL_LLM_MAX_CONTENT_BYTES": raw})
    assert str(excinfo.value) == f"OTEL_LLM_MAX_CONTENT_BYTES={raw!r}: {problem}"


def test_settings_are_frozen() -> None:
    """Settings cannot be changed after parsing, so every reader sees the same configuration."""
    settings = load_settings({})
    with pytest.raises(AttributeError):
        settings.max_content_bytes = 1  # type: ignore[misc]


def test_get_settings_parses_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """get_settings() parses the process environment once and returns the same object after."""
    get_settings.cache_clear()
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    first = get_settings()
    monkeypatch.setenv(CAPTURE, "EVENT_ONLY")
    assert get_settings() is first
    assert first.capture_message_content is ContentCapturingMode.SPAN_ONLY
    get_settings.cache_clear()


def test_every_variable_is_declared_once_with_docs() -> None:
    """Names are unique, ours carry the OTEL_LLM_ prefix, and every one has docs and a field."""
    names = [v.name for v in ENV_VARS]
    assert len(names) == len(set(names))
    fields = set(Settings.__dataclass_fields__)
    assert {v.setting for v in ENV_VARS} == fields
    for var in ENV_VARS:
        assert var.doc.strip()
        assert var.values.strip()
        assert var.standard or var.name.startswith("OTEL_LLM_")
        assert not var.standard or not var.name.startswith("OTEL_LLM_")


def test_only_config_reads_the_environment(repo_root: Path) -> None:
    """Only the declarations (_settings.py, public as otel_llm.config) read the environment."""
    pattern = re.compile(r"\benviron\b|\bgetenv\b")
    offenders = [
        str(path.relative_to(repo_root))
        for path in (repo_root / "src").rglob("*.py")
        if path.name != "_settings.py" and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("OFF", False), ("1", True), ("no", False)]
)
def test_our_booleans_accept_common_spellings(raw: str, expected: bool) -> None:
    """OTEL_LLM_* switches accept true/false, 1/0, yes/no and on/off in any case."""
    assert load_settings({"OTEL_LLM_REDACTION_ENABLED": raw}).redaction_enabled is expected


def test_our_booleans_reject_typos() -> None:
    """A typo in a switch such as OTEL_LLM_REDACTION_ENABLED stops start-up instead of guessing."""
    with pytest.raises(
        ConfigError, match="OTEL_LLM_REDACTION_ENABLED='flase': expected true or false"
    ):
        load_settings({"OTEL_LLM_REDACTION_ENABLED": "flase"})


def test_hmac_key_is_kept_out_of_reprs() -> None:
    """The redaction key never appears in the settings' repr (which may be logged)."""
    settings = load_settings({"OTEL_LLM_REDACTION_HMAC_KEY": "super-secret"})
    assert settings.redaction_hmac_key == "super-secret"
    assert "super-secret" not in repr(settings)
