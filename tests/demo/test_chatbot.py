"""The support chatbot's request path, recorded by otel-llm over real HTTP to the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import boto3
import openai
import pytest
from botocore.config import Config
from google import genai

import otel_llm
from otel_llm.demo.chatbot import SupportBot, User
from otel_llm.demo.faults import Faults
from otel_llm.demo.provider import Behaviour, SimulatedProvider
from tests.conftest import Captured, make_captured

USER = User(user_id="acme-user-1", tenant_id="acme-corp", session_id="s-1", account_id="acct-1")


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """Both SDKs instrumented against in-memory providers."""
    captured = make_captured()
    otel_llm.instrument(**captured.providers)
    try:
        yield captured
    finally:
        otel_llm.uninstrument()


def _bot(
    provider: SimulatedProvider,
    faults: Faults,
    canary_percent: float = 0.0,
    *,
    gemini: bool = True,
    bedrock: bool = True,
) -> SupportBot:
    oai = openai.OpenAI(base_url=provider.base_url_openai, api_key="x", max_retries=0)
    claude = anthropic.Anthropic(base_url=provider.base_url_anthropic, api_key="x", max_retries=0)
    aws = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=provider.endpoint_url_bedrock,
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 - the simulated provider checks nothing
        config=Config(retries={"total_max_attempts": 1}),
    )
    google = genai.Client(api_key="x", http_options={"base_url": provider.base_url_gemini})
    return SupportBot(
        oai,
        claude,
        google if gemini else None,
        aws if bedrock else None,
        faults=faults,
        canary_percent=canary_percent,
        seed=3,
    )


def _attrs(span: Any) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_without_a_gemini_client_openai_rewrites_the_query(instrumented: Captured) -> None:
    """A bot built with the OpenAI and Anthropic clients only rewrites with OpenAI."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1)) as provider:
        bot = _bot(provider, Faults(), gemini=False)
        instrumented.spans.clear()
        bot.handle("How do I reset my password?", USER)
    rewrites = [
        s
        for s in instrumented.finished_spans()
        if _attrs(s).get("gen_ai.prompt.name") == "support_rewrite"
    ]
    assert [s.name for s in rewrites] == ["chat gpt-4o-mini"]


def test_without_a_bedrock_client_no_case_note_is_written(instrumented: Captured) -> None:
    """A bot built without a Bedrock client answers without the case-note step."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1)) as provider:
        bot = _bot(provider, Faults(), bedrock=False)
        instrumented.spans.clear()
        answer = bot.handle("How do I reset my password?", USER)
    assert answer.case_note == ""
    providers = {_attrs(s).get("gen_ai.provider.name") for s in instrumented.finished_spans()}
    assert "aws.bedrock" not in providers
    assert "gcp.gemini" in providers


def test_an_account_question_walks_the_whole_request_path(instrumented: Captured) -> None:
    """One trace: classify, rewrite, retrieve, the answer agent (answer, tool, answer), note."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1)) as provider:
        bot = _bot(provider, Faults())
        instrumented.spans.clear()
        answer = bot.handle("What is the status of my account?", USER)
    spans = instrumented.finished_spans()
    [root] = [s for s in spans if s.parent is None]
    assert root.name == "invoke_workflow support_chat"
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}
    children = sorted((s for s in spans if s.parent == root.context), key=lambda s: s.start_time)
    assert [s.name for s in children] == [
        "chat claude-haiku-4-5",
        "generate_content gemini-2.5-flash-lite",
        "retrieval help_center",
        "invoke_agent support_agent",
        "chat us.amazon.nova-lite-v1:0",
    ]
    agent = children[3]
    steps = sorted((s for s in spans if s.parent == agent.context), key=lambda s: s.start_time)
    assert [s.name for s in steps] == [
        "chat gpt-4o-mini",
        "execute_tool crm_account_lookup",
        "chat gpt-4o-mini",
    ]
    assert _attrs(steps[1])["gen_ai.agent.name"] == "support_agent"
    prompts = [
        (_attrs(s).get("gen_ai.prompt.name"), _attrs(s).get("gen_ai.prompt.version"))
        for s in [*children, *steps]
    ]
    assert prompts == [
        ("support_classify", "3"),
        ("support_rewrite", "7"),
        (None, None),
        (None, None),
        ("support_case_note", "2"),
        ("support_answer", "41"),
        (None, None),
        ("support_answer", "41"),
    ]
    counted = {
        p.attributes["otel_llm.agent.step.kind"]: (p.count, p.sum)
        for p in instrumented.metric_points("otel_llm.agent.steps")
    }
    assert counted == {"model_call": (1, 2), "tool_call": (1, 1)}  # the note is no agent step
    assert _attrs(children[1])["gen_ai.provider.name"] == "gcp.gemini"
    note = _attrs(children[-1])
    assert note["gen_ai.provider.name"] == "aws.bedrock"
    assert note["gen_ai.request.stream"] is True
    assert note["gen_ai.usage.output_tokens"] > 0
    assert note["otel_llm.cost.total"] > 0
    assert answer.case_note == "Customer asked about status account."
    [embedding] = [s for s in spans if s.parent == children[2].context]
    assert embedding.name == "embeddings text-embedding-3-small"
    documents = _attrs(children[2])["gen_ai.retrieval.documents"]
    assert documents.count('"id": "doc-') == 4
    for span in [*children, *steps]:
        assert _attrs(span).get("otel_llm.tenant.id") == "acme-corp", span.name
    evaluations = instrumented.events("gen_ai.evaluation.result")
    assert {e.attributes["gen_ai.evaluation.name"] for e in evaluations} == {
        "pii_in_output",
        "citation",
        "answer_length",
    }
    assert {e.attributes["gen_ai.response.id"] for e in evaluations} == {answer.response_id}
    assert _attrs(steps[-1])["gen_ai.response.id"] == answer.response_id
    assert answer.prompt_version == "41"
    assert answer.feedback_token is not None


def test_tool_failure_is_an_errored_tool_span_and_the_answer_still_comes(
    instrumented: Captured,
) -> None:
    """With tool_failures=1 the CRM span errors, the model is told, and the user gets an answer."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1)) as provider:
        answer = _bot(provider, Faults(tool_failures=1.0)).handle("Is my account locked?", USER)
    [tool] = [s for s in instrumented.finished_spans() if s.name.startswith("execute_tool")]
    assert _attrs(tool)["error.type"] == "otel_llm.demo.chatbot.CrmUnavailable"
    assert answer.tool_failed
    assert answer.text


def test_pii_fault_fails_the_safety_evaluation(instrumented: Captured) -> None:
    """A reply leaking an e-mail and phone fails pii_in_output, which rolls up on the root."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1, pii_rate=1.0)) as provider:
        answer = _bot(provider, Faults(pii=1.0)).handle("How do I export my data?", USER)
    assert "pii_in_output" in answer.failed_evaluations
    [root] = [s for s in instrumented.finished_spans() if s.parent is None and "workflow" in s.name]
    assert _attrs(root)["otel_llm.evaluation.failures"] >= 1


def test_canary_users_get_v42(instrumented: Captured) -> None:
    """At 100 % canary every user is answered with prompt version 42."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1)) as provider:
        answer = _bot(provider, Faults(), canary_percent=100).handle("How do I export data?", USER)
    assert answer.prompt_version == "42"


def test_provider_errors_propagate_and_fail_the_workflow(instrumented: Captured) -> None:
    """A 500 from the provider reaches the caller unchanged and errors the workflow span."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1)) as provider:
        bot = _bot(provider, Faults())
        provider.behaviour = Behaviour(time_scale=0.0, error_rate=1.0)
        with pytest.raises(anthropic.InternalServerError):
            bot.handle("How do I reset my password?", USER)
    [root] = [s for s in instrumented.finished_spans() if s.name.startswith("invoke_workflow")]
    assert _attrs(root)["error.type"] == "anthropic.InternalServerError"
