"""Tests for the simulated provider's reply planning, independent of any provider's HTTP shape."""

from __future__ import annotations

import math
import random
import threading
from typing import Any

from otel_llm.demo.provider import Behaviour
from otel_llm.demo.replies import Reply, embedding

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "crm_account_lookup",
            "parameters": {"type": "object", "properties": {"account_id": {"type": "string"}}},
        },
    }
]
ARTICLES = (
    "Answer from these articles and cite the one you used.\n"
    "[doc-1] Passwords: Reset your password from the sign-in page.\n"
    "[doc-2] Invoices: Invoices are mailed on the first of the month."
)


def _reply(body: dict[str, Any], behaviour: Behaviour | None = None, seed: int = 3) -> Reply:
    """A reply planned with a seeded generator."""
    style = behaviour or Behaviour(seed=seed)
    return Reply(body, style, random.Random(seed), threading.Lock())  # noqa: S311


def _ask(text: str, **body: Any) -> dict[str, Any]:
    """A chat request body with one user message."""
    return {"model": "m", "messages": [{"role": "user", "content": text}], **body}


def test_the_text_is_its_stream_chunks_and_counts_its_words() -> None:
    """The chunks add up to the text, one word each, and each word is an output token."""
    reply = _reply(_ask("Tell me something"))
    assert "".join(reply.chunks) == reply.text
    assert reply.output_tokens == len(reply.text.split())
    assert 20 <= reply.output_tokens <= 120
    assert reply.text.endswith(".")


def test_a_token_limit_truncates_the_reply() -> None:
    """max_tokens (or max_completion_tokens) below the drawn length cuts the reply to it."""
    for key in ("max_tokens", "max_completion_tokens"):
        reply = _reply(_ask("Tell me something", **{key: 3}))
        assert reply.truncated
        assert reply.output_tokens == 3


def test_a_question_about_the_account_calls_the_first_tool() -> None:
    """Mentioning the account calls the first tool, with an example value per parameter."""
    reply = _reply(_ask("What is my account status?", tools=TOOLS))
    assert reply.tool == ("crm_account_lookup", {"account_id": "acct_1234"})
    assert reply.output_tokens > 0


def test_a_tool_result_is_answered_not_asked_for_again() -> None:
    """After the tool's result the model answers from it (and the articles) instead of calling."""
    result = '{"account_id": "acct_9", "status": "active", "plan": "pro", "open_invoices": 2}'
    body = {
        "model": "m",
        "system": ARTICLES,
        "tools": TOOLS,
        "messages": [
            {"role": "user", "content": "What is my account status? Passwords?"},
            {"role": "tool", "tool_call_id": "call_1", "content": result},
        ],
    }
    reply = _reply(body)
    assert reply.tool is None
    assert reply.tool_result == result
    assert "Your account acct_9 is active on the pro plan" in reply.text


def test_a_classification_prompt_gets_one_label() -> None:
    """A prompt listing labels is answered with one of them, the one the question names."""
    body = {
        "model": "m",
        "system": "Classify the message as one of: billing_question, password_reset, other",
        "messages": [{"role": "user", "content": "I forgot my password"}],
    }
    assert _reply(body).text == "password_reset"


def test_answers_cite_their_article_unless_the_prompt_makes_them_skip() -> None:
    """Asked to cite, the answer ends with the article id; a skip rate of 1 drops the citation."""
    body = {"model": "m", "system": ARTICLES, "messages": [{"role": "user", "content": "Hi"}]}
    cited = _reply(body)
    assert cited.text.endswith(("[doc-1]", "[doc-2]"))
    skipped = _reply(body, Behaviour(citation_skip=(("cite the one", 1.0),)))
    assert "[doc-" not in skipped.text


def test_a_case_note_names_the_question_and_not_the_quoted_answer() -> None:
    """A case-note prompt quoting a cited answer gets a note on the question: no citation, PII."""
    body = {
        "model": "m",
        "system": f"Write a one-line case note. The assistant answered: {ARTICLES}",
        "messages": [{"role": "user", "content": "How do I reset my password?"}],
    }
    reply = _reply(body, Behaviour(pii_rate=1.0))
    assert reply.text == "Customer asked about reset password."
    assert "".join(reply.chunks) == reply.text


def test_a_pii_rate_of_one_leaks_contact_details() -> None:
    """With pii_rate 1 the answer ends with a customer's e-mail address and phone number."""
    reply = _reply(_ask("Hi"), Behaviour(pii_rate=1.0))
    assert "dana.whitfield@example.com" in reply.text
    assert "".join(reply.chunks) == reply.text


def test_long_prompts_are_half_served_from_the_cache() -> None:
    """Prompts of 1024 tokens or more have half their tokens cached, in 128-token blocks."""
    assert _reply(_ask("short")).cached == 0
    reply = _reply(_ask("word " * 2000))
    assert reply.prompt_tokens >= 1024
    assert reply.cached % 128 == 0
    assert 0 < reply.cached <= reply.prompt_tokens // 2


def test_embeddings_are_unit_vectors_that_ignore_stopwords() -> None:
    """Vectors have length 1, repeat for the same text, and a stopword changes nothing."""
    vector = embedding("reset password", 32)
    assert math.isclose(sum(x * x for x in vector), 1.0)
    assert embedding("reset password", 32) == vector
    assert embedding("reset the password", 32) == vector
    assert math.isclose(sum(x * x for x in embedding("the and of", 32)), 1.0)
