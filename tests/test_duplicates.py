"""Other instrumentations of otel-llm's SDKs: kept out by its distro, else named in a warning."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.genai.anthropic import (
    AnthropicInstrumentor as AnthropicOfficial,
)
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as OfficialInstrumentor
from opentelemetry.instrumentation.google_genai import (
    GoogleGenAiSdkInstrumentor as GoogleGenAiOfficial,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

import otel_llm.instrumentation.openai
from otel_llm import _duplicates
from otel_llm._duplicates import disable_duplicates, report_duplicates
from otel_llm._telemetry import set_telemetry
from otel_llm.config import DISABLED_INSTRUMENTATIONS
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from otel_llm.instrumentation.bedrock import BedrockInstrumentor
from otel_llm.instrumentation.google_genai import GoogleGenAIInstrumentor
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.payloads.bedrock import MODEL_IDS, converse_request
from otel_llm.processors import foreign
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.instrumentation.bedrock._server import FakeBedrock
from tests.processors import _frameworks as fw

OFFICIAL = "openai"
"""The entry-point name of the official OpenAI instrumentation (a dev dependency)."""
ANTHROPIC = "anthropic"
"""The entry-point name of the official Anthropic instrumentation (a dev dependency)."""
GOOGLE_GENAI = "google-genai"
"""The entry-point name of the official Google Gen AI instrumentation (a dev dependency)."""


@pytest.fixture(autouse=True)
def fresh_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the once-per-SDK warning as a new process would."""
    monkeypatch.setattr(_duplicates, "_reported", set())


def test_the_distro_disables_the_official_openai_instrumentation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The other OpenAI instrumentations are added to the disabled list, once, with the way back."""
    environ = {DISABLED_INSTRUMENTATIONS: f"requests, flask, {ANTHROPIC}"}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert disable_duplicates(environ) == [OFFICIAL]
    assert environ[DISABLED_INSTRUMENTATIONS] == "requests,flask,anthropic,openai"
    (warning,) = [r.getMessage() for r in caplog.records]
    # Every package behind the name is said: disabling "openai" disables each of them.
    packages = (
        "openinference-instrumentation-openai, opentelemetry-instrumentation-genai-openai, "
        "opentelemetry-instrumentation-openai"
    )
    assert f"openai ({packages}), of openai" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_openai" in warning
    assert disable_duplicates(environ) == []  # already disabled: nothing to add or say


@pytest.mark.parametrize("disabled", ["otel_llm_openai", "*", "openai"])
def test_the_distro_respects_what_the_user_disabled(disabled: str) -> None:
    """Having disabled otel-llm's own OpenAI instrumentation (or all, or theirs) is a choice."""
    environ = {DISABLED_INSTRUMENTATIONS: f"{disabled},{ANTHROPIC}"}
    assert disable_duplicates(environ) == []
    assert environ == {DISABLED_INSTRUMENTATIONS: f"{disabled},{ANTHROPIC}"}


def test_the_other_instrumentation_stays_when_otel_llms_would_not_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An installed openai otel-llm does not support: the other instrumentation is all there is."""
    monkeypatch.setattr(otel_llm.instrumentation.openai, "SUPPORTED", "openai >= 99")
    environ = {DISABLED_INSTRUMENTATIONS: ANTHROPIC}
    assert disable_duplicates(environ) == []
    assert environ == {DISABLED_INSTRUMENTATIONS: ANTHROPIC}


def test_the_distro_disables_the_official_anthropic_instrumentation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The official Anthropic instrumentation (a dev dependency) is kept out, the fix named."""
    environ = {DISABLED_INSTRUMENTATIONS: OFFICIAL}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert disable_duplicates(environ) == [ANTHROPIC]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "anthropic (opentelemetry-instrumentation-genai-anthropic), of anthropic" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_anthropic" in warning


def test_the_distro_keeps_botocores_instrumentation_for_every_aws_service() -> None:
    """OTel's botocore (and aiobotocore) instrumentation stays: otel-llm's takes Bedrock out."""
    environ = {DISABLED_INSTRUMENTATIONS: f"{OFFICIAL},{ANTHROPIC}"}
    assert disable_duplicates(environ) == []
    assert environ == {DISABLED_INSTRUMENTATIONS: f"{OFFICIAL},{ANTHROPIC}"}


def test_the_official_google_genai_instrumentation_stays_where_it_would_not_load() -> None:
    """The official Google Gen AI instrumentation is left alone where it would not load.

    Its release (a dev dependency) asks for google-genai < 3: with 3.x installed,
    opentelemetry-instrument skips it, so there is nothing to keep out.
    """
    assert entry_points(group="opentelemetry_instrumentor", name=GOOGLE_GENAI)
    environ = {DISABLED_INSTRUMENTATIONS: f"{OFFICIAL},{ANTHROPIC}"}
    assert disable_duplicates(environ) == []


def _fake_google_genai_instrumentation(directory: Path) -> None:
    """A distribution whose `google-genai` instrumentor supports the installed google-genai."""
    dist_info = directory / "opentelemetry_instrumentation_google_genai_next-9.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: opentelemetry-instrumentation-google-genai-next\n"
        "Version: 9.0\nProvides-Extra: instruments\n"
        "Requires-Dist: google-genai>=1.0; extra == 'instruments'\n",
        encoding="utf-8",
    )
    (dist_info / "entry_points.txt").write_text(
        "[opentelemetry_instrumentor]\ngoogle-genai-next = "
        "opentelemetry.instrumentation.google_genai:GoogleGenAiSdkInstrumentor\n",
        encoding="utf-8",
    )


def test_the_distro_disables_a_google_genai_instrumentation_that_would_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A Google Gen AI instrumentation that would load is kept out, the fix named.

    Its entry point is faked: the published release does not support google-genai 3.
    """
    _fake_google_genai_instrumentation(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    environ = {DISABLED_INSTRUMENTATIONS: f"{OFFICIAL},{ANTHROPIC}"}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert disable_duplicates(environ) == ["google-genai-next"]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "google-genai-next (opentelemetry-instrumentation-google-genai-next)" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_google_genai" in warning


def test_the_official_duplicates_are_kept_out_at_once() -> None:
    """With nothing disabled, the OpenAI and Anthropic instrumentations are both kept out."""
    environ: dict[str, str] = {}
    assert sorted(disable_duplicates(environ)) == [ANTHROPIC, OFFICIAL]
    assert sorted(environ[DISABLED_INSTRUMENTATIONS].split(",")) == [ANTHROPIC, OFFICIAL]


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
    """Both wrapping OpenAI's methods: one WARNING naming the official entry point and ours.

    Said when it is seen: as a module is wrapped (instrumenting, or importing it later), or
    when reported after instrumentation; once however often it is looked for.
    """
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert len(both.finished_spans()) == 2  # what the warning is about
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        report_duplicates()
        report_duplicates()
    records = [*caplog.get_records("setup"), *caplog.records]
    (warning,) = [r.getMessage() for r in records if "recorded twice" in r.getMessage()]
    assert "each openai call is recorded twice" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=openai to keep otel-llm's" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_openai to" in warning


@pytest.mark.parametrize(
    ("module", "package"),
    [
        ("opentelemetry.instrumentation.openai", "opentelemetry-instrumentation-openai"),
        ("openinference.instrumentation.openai", "openinference-instrumentation-openai"),
    ],
)
def test_openllmetry_and_openinference_beside_ours_are_reported(
    module: str, package: str, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenLLMetry's (same methods) and OpenInference's (the client's request) are said too."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        with fw.instrumented(module, captured):
            client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
            with caplog.at_level(logging.WARNING, logger="otel_llm"):
                report_duplicates()
    finally:
        OpenAIInstrumentor().uninstrument()
    assert len(captured.finished_spans()) == 2  # what the warning is about
    (warning,) = [r.getMessage() for r in caplog.records]
    assert f"recorded twice, by otel-llm and by openai ({package})" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=openai to keep otel-llm's" in warning


def _late_recorder(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    """Another library's wrapper, set up by the application's code after ours (openlit.init())."""
    tracer = trace.get_tracer("other.instrumentation.openai")
    with tracer.start_as_current_span("chat gpt-4o-mini") as span:
        span.set_attribute("gen_ai.operation.name", "chat")
        return wrapped(*args, **kwargs)


def test_a_wrapper_set_up_by_code_later_is_named_with_its_own_fix(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second recorder no entry point loads, wrapped after reporting: said at its first call.

    The variable does not reach it, so the fix says to turn it off where the code set it up.
    """
    monkeypatch.setattr(_duplicates, "_reported", set())
    monkeypatch.setattr(foreign, "_TWINS_CHECKED", set())
    captured = make_captured()
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", captured.providers["tracer_provider"])
    set_telemetry(captured.telemetry)
    importlib.import_module("openai.resources.chat.completions")
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    completions = importlib.import_module("openai.resources.chat.completions").Completions
    try:
        wrap_function_wrapper(completions, "create", _late_recorder)
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        with caplog.at_level(logging.WARNING, logger="otel_llm"):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    finally:
        unwrap(completions, "create")  # the outermost: the late recorder
        OpenAIInstrumentor().uninstrument()
        set_telemetry(None)
    assert len(captured.finished_spans()) == 2  # what the warning is about
    (warning,) = [r.getMessage() for r in caplog.records if "recorded twice" in r.getMessage()]
    assert "each openai call is recorded twice, by otel-llm and by tests.test_duplicates" in warning
    assert "turn off the openai instrumentation of tests.test_duplicates where your code" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_openai to keep the other" in warning


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


def test_a_bedrock_call_beside_botocores_instrumentation_is_no_duplicate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OTel's botocore instrumentation, told to leave Bedrock alone, is not reported."""
    captured = make_captured()
    BedrockInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    BotocoreInstrumentor().instrument(**captured.providers, skip_dep_check=True)  # type: ignore[no-untyped-call]
    try:
        with FakeBedrock() as fake:
            fake.client().converse(modelId=MODEL_IDS["nova"], **converse_request())
        with caplog.at_level(logging.WARNING, logger="otel_llm"):
            report_duplicates()
    finally:
        BotocoreInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        BedrockInstrumentor().uninstrument()
    assert len(captured.finished_spans()) == 2  # otel-llm's GenAI span, and the plain AWS one
    assert caplog.records == []


@pytest.mark.parametrize(
    ("sdk", "official"),
    [("anthropic", AnthropicOfficial), ("google-genai", GoogleGenAiOfficial)],
)
def test_a_call_recorded_twice_by_an_official_genai_instrumentation_is_named(
    sdk: str, official: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """otel-llm's and the official instrumentation of the SDK both wrap it: one WARNING."""
    # The Google Gen AI one sets this variable when it instruments.
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT", "false")
    ours = {"anthropic": AnthropicInstrumentor, "google-genai": GoogleGenAIInstrumentor}[sdk]
    importlib.import_module(
        {"anthropic": "anthropic.resources.messages"}.get(sdk, "google.genai.models")
    )
    captured = make_captured()
    ours().instrument(**captured.providers, skip_dep_check=True)
    official().instrument(**captured.providers, skip_dep_check=True)
    try:
        with caplog.at_level(logging.WARNING, logger="otel_llm"):
            report_duplicates()
            report_duplicates()
    finally:
        official().uninstrument()
        ours().uninstrument()
    (warning,) = [r.getMessage() for r in caplog.records]
    calls = {"anthropic": "anthropic", "google-genai": "Google Gen AI (google-genai)"}[sdk]
    assert f"each {calls} call is recorded twice" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}={sdk} to keep otel-llm's" in warning
