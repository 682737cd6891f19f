"""Issue 5 wiring through a real SDK call: prompt files, baggage ids and online evaluations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import otel_llm
from otel_llm import evaluations, prompts
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

MESSAGES: Any = [{"role": "user", "content": "Where is order 1042?"}]


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """OpenAI instrumented against in-memory providers (also active for evaluations)."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()
        evaluations.install(None)


def test_rendered_prompt_stamps_name_version_and_hash(
    instrumented: Captured, tmp_path: Path
) -> None:
    """A prompt loaded from a file and rendered stamps its name, version and hash on the call."""
    (tmp_path / "support.yaml").write_text(
        "name: support_answer\nversion: v42\ntemplate: 'Help {customer}.'\nowner: support-team\n",
        encoding="utf-8",
    )
    prompts.clear_cache()
    prompt = prompts.load("support_answer", directory=tmp_path)
    rendered = prompt.render(customer="Ada")
    messages: Any = [{"role": "user", "content": rendered.text}]
    with rendered.context():
        fakes.openai_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
            model="gpt-4o-mini", messages=messages
        )
    (span,) = instrumented.finished_spans()
    assert span.attributes["gen_ai.prompt.version"] == "v42"
    assert span.attributes["otel_llm.prompt.template_hash"] == prompt.template_hash
    (duration,) = instrumented.metric_points("gen_ai.client.inference.duration")
    assert "otel_llm.prompt.template_hash" not in duration.attributes


def test_session_ids_reach_spans_but_not_metrics(instrumented: Captured) -> None:
    """Session, tenant and conversation ids from otel_llm.session() are span attributes only."""
    with otel_llm.session(session_id="sess-1", tenant_id="acme", conversation_id="conv-9"):
        fakes.openai_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    (span,) = instrumented.finished_spans()
    assert span.attributes["otel_llm.session.id"] == "sess-1"
    assert span.attributes["otel_llm.tenant.id"] == "acme"
    assert span.attributes["gen_ai.conversation.id"] == "conv-9"
    for name in ("gen_ai.client.inference.duration", "otel_llm.client.requests"):
        for point in instrumented.metric_points(name):
            assert not {
                "otel_llm.session.id",
                "otel_llm.tenant.id",
                "gen_ai.conversation.id",
            } & set(point.attributes)


def test_online_evaluators_run_off_the_request_path(instrumented: Captured) -> None:
    """Evaluators see the reply (capture off) and retrieved ids; results land on the call's span."""
    online = evaluations.OnlineEvaluations(
        {"support_answer": [evaluations.Citation(), evaluations.PiiInOutput()]}, queue_size=10
    )
    evaluations.install(online)
    body = fakes.chat_completion(content="Order doc-7 ships today; mail bob@example.com.")
    with otel_llm.prompt("support_answer", version="v42"):
        with otel_llm.retrieval("kb", top_k=2) as found:
            found.record_documents([("doc-7", 0.9), ("doc-8", 0.5)])
        fakes.openai_client(fakes.respond_json(body)).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert online.flush(10)
    online.shutdown()
    chat = next(s for s in instrumented.finished_spans() if s.name.startswith("chat"))
    assert "gen_ai.output.messages" not in chat.attributes  # evaluating does not capture
    results = {
        e.attributes["gen_ai.evaluation.name"]: e
        for e in instrumented.events("gen_ai.evaluation.result")
    }
    assert results["citation"].attributes["otel_llm.evaluation.passed"] is True
    assert results["pii_in_output"].attributes["otel_llm.evaluation.passed"] is False
    assert results["citation"].span_id == chat.context.span_id
    verdicts = {
        (
            p.attributes["gen_ai.evaluation.name"],
            p.attributes["otel_llm.evaluation.passed"],
        ): p.value
        for p in instrumented.metric_points("otel_llm.evaluation.results")
    }
    assert verdicts == {("citation", True): 1, ("pii_in_output", False): 1}
    point = instrumented.metric_points("otel_llm.evaluation.results")[0]
    assert point.attributes["gen_ai.prompt.version"] == "v42"


def test_no_evaluators_means_no_extra_work(instrumented: Captured) -> None:
    """Without evaluators for the prompt, nothing is submitted and no result events appear."""
    online = evaluations.OnlineEvaluations({"other_prompt": [evaluations.JsonValid()]})
    evaluations.install(online)
    with otel_llm.prompt("support_answer"):
        fakes.openai_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert online.flush(5)
    online.shutdown()
    assert instrumented.events("gen_ai.evaluation.result") == []


def test_streamed_replies_are_evaluated(instrumented: Captured) -> None:
    """A streamed reply is assembled from its chunks for evaluators, without capturing content."""
    online = evaluations.OnlineEvaluations(
        {"*": [evaluations.Matches(r"ships today", name="mentions_shipping")]}
    )
    evaluations.install(online)
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert online.flush(10)
    online.shutdown()
    (result,) = instrumented.events("gen_ai.evaluation.result")
    assert result.attributes["otel_llm.evaluation.passed"] is True
    chat = next(s for s in instrumented.finished_spans() if s.name.startswith("chat"))
    assert "gen_ai.output.messages" not in chat.attributes


def test_judge_calls_are_not_judged_again(instrumented: Captured) -> None:
    """A judge that itself calls an instrumented LLM is not evaluated again (no feedback loop)."""
    calls: list[str] = []

    def judge(sample: evaluations.Sample) -> evaluations.Result:
        calls.append(sample.output)
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion(content="9/10")))
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        return evaluations.Result(score=0.9, label="good", passed=True)

    online = evaluations.OnlineEvaluations({"*": [evaluations.Judge(judge, name="judge")]})
    evaluations.install(online)
    fakes.openai_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert online.flush(10)
    assert online.flush(1)  # nothing new was queued by the judge's own call
    online.shutdown()
    assert calls == ["Your order ships today."]


def test_abandoned_streams_are_not_evaluated(instrumented: Captured) -> None:
    """A stream the caller left early is incomplete, so it is not judged."""
    online = evaluations.OnlineEvaluations({"*": [evaluations.LengthBounds(min_chars=1)]})
    evaluations.install(online)
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    stream: Any = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    next(iter(stream))
    stream.close()
    assert online.flush(5)
    online.shutdown()
    assert instrumented.events("gen_ai.evaluation.result") == []


def test_evaluation_metrics_use_the_request_model(instrumented: Captured) -> None:
    """Evaluation metrics carry the request model, like the request metrics they join with."""
    online = evaluations.OnlineEvaluations({"*": [evaluations.LengthBounds(min_chars=1)]})
    evaluations.install(online)
    fakes.openai_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert online.flush(5)
    online.shutdown()
    (point,) = instrumented.metric_points("otel_llm.evaluation.results")
    assert point.attributes["gen_ai.request.model"] == "gpt-4o-mini"


def test_install_replaces_and_stops_the_previous_instance(instrumented: Captured) -> None:
    """Installing a new OnlineEvaluations shuts the old one down (no leaked worker threads)."""
    first = evaluations.OnlineEvaluations({"*": [evaluations.JsonValid()]})
    evaluations.install(first)
    evaluations.install(evaluations.OnlineEvaluations({"*": [evaluations.JsonValid()]}))
    assert not first.submit(evaluations.Sample(output="{}"))  # closed: refused, counted
    evaluations.install(None)


def test_judges_see_the_question_without_capturing_it(instrumented: Captured) -> None:
    """Evaluators get the user's question too, while nothing is recorded with capture off."""
    seen: list[str | None] = []

    def judge(sample: evaluations.Sample) -> evaluations.Result:
        seen.append(sample.input)
        return evaluations.Result(score=None, label="ok", passed=True)

    online = evaluations.OnlineEvaluations({"*": [evaluations.Judge(judge, name="judge")]})
    evaluations.install(online)
    fakes.openai_client(fakes.respond_json(fakes.chat_completion())).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert online.flush(10)
    online.shutdown()
    assert seen == ["Where is order 1042?"]
    (span,) = instrumented.finished_spans()
    assert "gen_ai.input.messages" not in span.attributes
