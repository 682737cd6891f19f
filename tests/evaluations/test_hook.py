"""Online evaluation as a call hook: which calls are judged, and what the judges get."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry.trace import INVALID_SPAN

import otel_llm
from otel_llm.evaluations import OnlineEvaluationHook, Sample, _worker
from otel_llm.evaluations._hook import output_text
from otel_llm.instrumentation.types import Content, ResponseInfo

QUESTION = [{"role": "user", "parts": [{"type": "text", "content": "Where is order 1042?"}]}]
ANSWER = [
    {
        "role": "assistant",
        "parts": [{"type": "text", "content": "It ships today."}, {"type": "tool_call"}],
        "finish_reason": "stop",
    }
]


class FakeOnline:
    """Stands in for OnlineEvaluations: evaluators for one prompt, submissions kept."""

    def __init__(self, prompt: str | None = "support_answer") -> None:
        self.prompt = prompt
        self.submitted: list[tuple[Sample, dict[str, Any]]] = []

    def has_evaluators(self, prompt_name: str | None) -> bool:
        return prompt_name == self.prompt

    def submit(self, sample: Sample, **kwargs: Any) -> bool:
        self.submitted.append((sample, kwargs))
        return True


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> FakeOnline:
    """A fake online evaluation installed for the test."""
    fake = FakeOnline()
    monkeypatch.setattr(_worker, "_online", fake)
    return fake


def _call(**attributes: Any) -> Any:
    return SimpleNamespace(
        attributes={"gen_ai.provider.name": "openai", "gen_ai.request.model": "m", **attributes},
        needs_content=False,
        content=Content(input_messages=QUESTION),
        span=INVALID_SPAN,
    )


def test_only_calls_of_a_prompt_with_evaluators_are_judged(online: FakeOnline) -> None:
    """start() takes the call (and asks for its content) only under a prompt with evaluators."""
    hook = OnlineEvaluationHook()
    call = _call()
    assert hook.start(call) is False
    with otel_llm.prompt("other"):
        assert hook.start(call) is False
    with otel_llm.prompt("support_answer"):
        assert hook.start(call) is True
    assert call.needs_content is True


def test_nothing_is_judged_without_online_evaluation() -> None:
    """With no OnlineEvaluations installed, no call is taken."""
    with otel_llm.prompt("support_answer"):
        assert OnlineEvaluationHook().start(_call()) is False


def test_a_successful_answer_is_submitted_with_question_and_documents(online: FakeOnline) -> None:
    """The answer's text, the question, the retrieved ids and the call's identity are queued."""
    hook = OnlineEvaluationHook(retrieved_ids=lambda: ("doc-1", "doc-2"))
    call = _call(**{"gen_ai.prompt.name": "support_answer", "gen_ai.prompt.version": "v42"})
    info = ResponseInfo(response_id="r-1", output=ANSWER)
    hook.after(call, info, "error")
    assert online.submitted == []  # failed calls have no answer to judge
    hook.after(call, info, "success")
    ((sample, details),) = online.submitted
    assert sample == Sample(
        output="It ships today.",
        prompt_name="support_answer",
        retrieved_ids=("doc-1", "doc-2"),
        input="Where is order 1042?",
    )
    assert details["response_id"] == "r-1"
    assert details["prompt_version"] == "v42"
    assert (details["provider"], details["model"]) == ("openai", "m")


def test_output_text_reads_only_text_parts_of_well_formed_messages() -> None:
    """Text parts are joined by newlines; anything that is not a message is ignored."""
    assert output_text(ANSWER + ANSWER) == "It ships today.\nIt ships today."
    assert output_text(None) == ""
    assert output_text([None, {"parts": None}, "x"]) == ""
