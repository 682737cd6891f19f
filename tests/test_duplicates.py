"""Other instrumentations of otel-llm's SDKs: kept out by its distro, else named in a warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as OfficialInstrumentor

import otel_llm.instrumentation.openai
from otel_llm import _duplicates
from otel_llm._duplicates import disable_duplicates, report_duplicates
from otel_llm.config import DISABLED_INSTRUMENTATIONS
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

OFFICIAL = "openai"
"""The entry-point name of the official OpenAI instrumentation (a dev dependency)."""


@pytest.fixture(autouse=True)
def fresh_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the once-per-SDK warning as a new process would."""
    monkeypatch.setattr(_duplicates, "_reported", set())


def test_the_distro_disables_the_official_openai_instrumentation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The other OpenAI instrumentation is added to the disabled list, once, with the way back."""
    environ = {DISABLED_INSTRUMENTATIONS: "requests, flask"}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert disable_duplicates(environ) == [OFFICIAL]
    assert environ[DISABLED_INSTRUMENTATIONS] == "requests,flask,openai"
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "openai (opentelemetry-instrumentation-genai-openai), of openai" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_openai" in warning
    assert disable_duplicates(environ) == []  # already disabled: nothing to add or say


@pytest.mark.parametrize("disabled", ["otel_llm_openai", "*", "openai"])
def test_the_distro_respects_what_the_user_disabled(disabled: str) -> None:
    """Having disabled otel-llm's own OpenAI instrumentation (or all, or theirs) is a choice."""
    environ = {DISABLED_INSTRUMENTATIONS: disabled}
    assert disable_duplicates(environ) == []
    assert environ == {DISABLED_INSTRUMENTATIONS: disabled}


def test_the_other_instrumentation_stays_when_otel_llms_would_not_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An installed openai otel-llm does not support: the other instrumentation is all there is."""
    monkeypatch.setattr(otel_llm.instrumentation.openai, "SUPPORTED", "openai >= 99")
    environ: dict[str, str] = {}
    assert disable_duplicates(environ) == []
    assert environ == {}


@pytest.fixture
def both() -> Iterator[Captured]:
    """otel-llm's and the official OpenAI instrumentation, both instrumented, then removed."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    OfficialInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    yield captured
    # Removed in the reverse order: unwrap takes off the outermost wrapper.
    OfficialInstrumentor().uninstrument()
    OpenAIInstrumentor().uninstrument()


def test_a_call_recorded_twice_is_said_once_naming_both_fixes(
    both: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    """Both wrapping OpenAI's methods: one WARNING naming the official entry point and ours."""
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert len(both.finished_spans()) == 2  # what the warning is about
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        report_duplicates()
        report_duplicates()
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "each openai call is recorded twice" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=openai to keep otel-llm's" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_openai to" in warning


def test_no_warning_when_otel_llm_records_alone(caplog: pytest.LogCaptureFixture) -> None:
    """otel-llm's instrumentation alone is not a duplicate."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        with caplog.at_level(logging.WARNING, logger="otel_llm"):
            report_duplicates()
    finally:
        OpenAIInstrumentor().uninstrument()
    assert caplog.records == []
