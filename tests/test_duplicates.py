"""Other instrumentations of otel-llm's SDKs: kept out by its distro, else named in a warning."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor as OfficialInstrumentor

import otel_llm.instrumentation.openai
from otel_llm import _duplicates
from otel_llm._duplicates import disable_duplicates, report_duplicates
from otel_llm.config import DISABLED_INSTRUMENTATIONS
from otel_llm.instrumentation.bedrock import BedrockInstrumentor
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.payloads.bedrock import MODEL_IDS, converse_request
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.instrumentation.bedrock._server import FakeBedrock
from tests.processors import _frameworks as fw

OFFICIAL = "openai"
"""The entry-point name of the official OpenAI instrumentation (a dev dependency)."""
BOTOCORE = "botocore"
"""The entry-point name of OTel's botocore instrumentation (a dev dependency), which also has
an `aiobotocore` entry point."""


@pytest.fixture(autouse=True)
def fresh_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the once-per-SDK warning as a new process would."""
    monkeypatch.setattr(_duplicates, "_reported", set())


def test_the_distro_disables_the_official_openai_instrumentation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The other OpenAI instrumentations are added to the disabled list, once, with the way back."""
    environ = {DISABLED_INSTRUMENTATIONS: f"requests, flask, {BOTOCORE}"}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert disable_duplicates(environ) == [OFFICIAL]
    assert environ[DISABLED_INSTRUMENTATIONS] == "requests,flask,botocore,openai"
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
    environ = {DISABLED_INSTRUMENTATIONS: f"{disabled},{BOTOCORE}"}
    assert disable_duplicates(environ) == []
    assert environ == {DISABLED_INSTRUMENTATIONS: f"{disabled},{BOTOCORE}"}


def test_the_other_instrumentation_stays_when_otel_llms_would_not_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An installed openai otel-llm does not support: the other instrumentation is all there is."""
    monkeypatch.setattr(otel_llm.instrumentation.openai, "SUPPORTED", "openai >= 99")
    environ = {DISABLED_INSTRUMENTATIONS: BOTOCORE}
    assert disable_duplicates(environ) == []
    assert environ == {DISABLED_INSTRUMENTATIONS: BOTOCORE}


def test_the_distro_disables_botocores_instrumentation_not_aiobotocores(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OTel's botocore instrumentation is kept out, saying what goes too; aiobotocore's stays."""
    environ = {DISABLED_INSTRUMENTATIONS: OFFICIAL}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert disable_duplicates(environ) == [BOTOCORE]
    assert environ[DISABLED_INSTRUMENTATIONS] == "openai,botocore"
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "botocore (opentelemetry-instrumentation-botocore), of botocore" in warning
    assert "every other AWS service (S3, SQS, DynamoDB...)" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_bedrock" in warning


def test_both_duplicates_are_kept_out_at_once() -> None:
    """With nothing disabled, the OpenAI and the botocore instrumentations are both kept out."""
    environ: dict[str, str] = {}
    assert sorted(disable_duplicates(environ)) == [BOTOCORE, OFFICIAL]
    assert sorted(environ[DISABLED_INSTRUMENTATIONS].split(",")) == [BOTOCORE, OFFICIAL]


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


def test_a_bedrock_call_recorded_twice_names_the_botocore_entry_point(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """otel-llm's and OTel's botocore instrumentation both record: one WARNING, `botocore` named."""
    captured = make_captured()
    BedrockInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    BotocoreInstrumentor().instrument(**captured.providers, skip_dep_check=True)  # type: ignore[no-untyped-call]
    try:
        with FakeBedrock() as fake:
            fake.client().converse(modelId=MODEL_IDS["nova"], **converse_request())
        with caplog.at_level(logging.WARNING, logger="otel_llm"):
            report_duplicates()
            report_duplicates()
    finally:
        BotocoreInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
        BedrockInstrumentor().uninstrument()
    assert len(captured.finished_spans()) == 2  # what the warning is about
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "each Bedrock Runtime (botocore) call is recorded twice" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=botocore to keep otel-llm's" in warning
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_bedrock to" in warning
