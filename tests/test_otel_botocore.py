"""OTel's botocore instrumentation beside otel-llm's: every AWS service traced, Bedrock once."""

from __future__ import annotations

import logging
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.botocore import extensions as official_extensions

from otel_llm import _duplicates, _otel_botocore
from otel_llm._duplicates import disable_duplicates, report_duplicates
from otel_llm.config import DISABLED_INSTRUMENTATIONS
from otel_llm.instrumentation.bedrock import BedrockInstrumentor
from otel_llm.payloads.bedrock import MODEL_IDS, converse_request
from tests.conftest import Captured, make_captured
from tests.instrumentation.bedrock._server import FakeBedrock

OFFICIAL_SCOPE = "opentelemetry.instrumentation.botocore"
"""The official instrumentation's scopes start so (`...botocore.bedrock-runtime` for GenAI)."""


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the once-only messages as a new process would."""
    monkeypatch.setattr(_duplicates, "_reported", set())
    monkeypatch.setattr(_otel_botocore, "_explained", False)


def _instrument(captured: Captured, ours_first: bool) -> list[Any]:
    """Instrument otel-llm's Bedrock and the official botocore instrumentation, in either order.

    Returns the instrumentors, first instrumented first.
    """
    ours: Any = BedrockInstrumentor()
    theirs: Any = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    order = [ours, theirs] if ours_first else [theirs, ours]
    for instrumentor in order:
        instrumentor.instrument(**captured.providers, skip_dep_check=True)
    return order


@pytest.fixture(params=[True, False], ids=["ours-first", "theirs-first"])
def both(request: pytest.FixtureRequest) -> Iterator[Captured]:
    """Both instrumentations on in-memory providers, in either order; removed in reverse."""
    captured = make_captured()
    order = _instrument(captured, request.param)
    yield captured
    for instrumentor in reversed(order):
        instrumentor.uninstrument()


def _genai_spans(captured: Captured) -> list[Any]:
    """The finished spans with any gen_ai attribute."""
    return [
        span
        for span in captured.finished_spans()
        if any(key.startswith("gen_ai.") for key in span.attributes or {})
    ]


def _genai_metric_scopes(captured: Captured) -> list[str]:
    """The scope of each gen_ai metric recorded, once per metric."""
    captured.finished_spans()  # waits for calls ended on the worker
    data = captured.metrics.get_metrics_data()
    return [
        scope_metrics.scope.name
        for resource_metrics in (data.resource_metrics if data else ())
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if metric.name.startswith("gen_ai.")
    ]


def _sqs_client(fake: FakeBedrock) -> Any:
    """A real boto3 SQS client for the fake server, which answers its JSON calls `{}`."""
    return boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=fake.url,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",  # noqa: S106
    )


def test_a_bedrock_call_is_recorded_once_and_sqs_still_traced(
    both: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    """Bedrock calls get one GenAI span and metrics (otel-llm's); SQS keeps its official span.

    Converse and ConverseStream each also get the official plain AWS span; nothing is warned.
    """
    with FakeBedrock() as fake:
        client = fake.client()
        client.converse(modelId=MODEL_IDS["nova"], **converse_request())
        reply = client.converse_stream(modelId=MODEL_IDS["nova"], **converse_request())
        list(reply["stream"])
        _sqs_client(fake).list_queues()
    genai = _genai_spans(both)
    assert len(genai) == 2
    assert all(span.instrumentation_scope.name.startswith("otel_llm") for span in genai)
    plain = {s.name for s in both.finished_spans() if s.attributes.get("rpc.system") == "aws-api"}
    assert plain == {"Bedrock Runtime.Converse", "Bedrock Runtime.ConverseStream", "SQS.ListQueues"}
    scopes = _genai_metric_scopes(both)
    assert scopes
    assert not [scope for scope in scopes if scope.startswith(OFFICIAL_SCOPE)]
    assert not [e for e in both.events() if e.event_name and e.event_name.startswith("gen_ai.")]
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        report_duplicates()
    assert caplog.records == []


def test_removing_otel_llms_gives_the_official_its_bedrock_extension_back() -> None:
    """Once otel-llm's Bedrock instrumentation is removed, the official one records Bedrock."""
    captured = make_captured()
    # Ours outermost: unwrap removes the outermost wrapper, whoever's it is.
    order = _instrument(captured, ours_first=False)
    assert _otel_botocore.SERVICE not in official_extensions._BOTOCORE_EXTENSIONS
    order[1].uninstrument()
    try:
        assert _otel_botocore.SERVICE in official_extensions._BOTOCORE_EXTENSIONS
        with FakeBedrock() as fake:
            fake.client().converse(modelId=MODEL_IDS["nova"], **converse_request())
        (span,) = _genai_spans(captured)
        assert span.instrumentation_scope.name.startswith(OFFICIAL_SCOPE)
    finally:
        order[0].uninstrument()


@pytest.fixture
def unexpected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The official instrumentation's table of extensions is no longer a dict."""
    table = types.MappingProxyType(dict(official_extensions._BOTOCORE_EXTENSIONS))
    monkeypatch.setattr(official_extensions, "_BOTOCORE_EXTENSIONS", table)


@pytest.mark.usefixtures("unexpected")
def test_unexpected_internals_fall_back_to_the_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Internals not as expected: nothing changed, why said once, the duplicate named."""
    captured = make_captured()
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        order = _instrument(captured, ours_first=True)
        try:
            with FakeBedrock() as fake:
                fake.client().converse(modelId=MODEL_IDS["nova"], **converse_request())
            report_duplicates()
        finally:
            for instrumentor in reversed(order):
                instrumentor.uninstrument()
    assert len(_genai_spans(captured)) == 2  # what the warning is about
    why, duplicate = [r.getMessage() for r in caplog.records]
    assert "is not the dict of service extensions it was" in why
    assert "each Bedrock Runtime (botocore) call is recorded twice" in duplicate
    assert f"{DISABLED_INSTRUMENTATIONS}=otel_llm_bedrock to" in duplicate


@pytest.mark.usefixtures("unexpected")
def test_unexpected_internals_under_the_distro_keep_it_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Internals not as expected: otel-llm's distro keeps it out as before, saying why."""
    environ = {DISABLED_INSTRUMENTATIONS: "openai,anthropic"}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        assert disable_duplicates(environ) == ["botocore"]
    why, kept_out = [r.getMessage() for r in caplog.records]
    assert "cannot be told to leave Bedrock Runtime calls to otel-llm" in why
    assert "botocore (opentelemetry-instrumentation-botocore), of botocore" in kept_out
    assert "every other AWS service (S3, SQS, DynamoDB...)" in kept_out
