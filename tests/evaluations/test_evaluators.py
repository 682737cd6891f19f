"""Tests for the built-in evaluators and the Judge hook: positive and negative cases of each."""

import asyncio
import dataclasses

import jsonschema
import pytest

from otel_llm.evaluations import (
    Citation,
    JsonSchema,
    JsonValid,
    Judge,
    LengthBounds,
    Matches,
    PiiInOutput,
    Refusal,
    Result,
    Sample,
)

_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["answer"],
}


def test_json_valid() -> None:
    """JsonValid passes parseable JSON and fails anything else, with a content-free reason."""
    evaluator = JsonValid()
    assert evaluator.name == "json_valid"
    assert evaluator(Sample('{"a": [1, 2]}')) == Result(None, "valid", True)
    result = evaluator(Sample("{'a': secret-value}"))
    assert (result.label, result.passed) == ("invalid", False)
    assert result.explanation is not None
    assert "secret-value" not in result.explanation


def test_json_schema_valid_and_invalid() -> None:
    """JsonSchema passes conforming JSON and fails wrong types, missing keys and non-JSON."""
    evaluator = JsonSchema(_SCHEMA)
    assert evaluator.name == "json_schema"
    assert evaluator(Sample('{"answer": "Paris", "confidence": 0.9}')).passed is True
    wrong_type = evaluator(Sample('{"answer": "Paris", "confidence": "very-private"}'))
    assert (wrong_type.label, wrong_type.passed) == ("invalid", False)
    assert wrong_type.explanation == "'type' failed at schema #/properties/confidence/type"
    assert evaluator(Sample('{"confidence": 1}')).passed is False
    assert evaluator(Sample("not json")).passed is False


def test_json_schema_explanation_holds_nothing_from_the_reply() -> None:
    """The path is the schema's: keys of the reply (an e-mail used as a key) are content."""
    schema = {
        "type": "object",
        "properties": {
            "customers": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"balance": {"type": "number"}},
                    "required": ["balance"],
                },
            }
        },
    }
    evaluator = JsonSchema(schema)
    for reply in (
        '{"customers": {"jane.doe@example.com": {"balance": "12 EUR"}}}',
        '{"customers": {"jane.doe@example.com": {"note": "VIP"}}}',
    ):
        result = evaluator(Sample(reply))
        assert result.passed is False
        assert result.explanation is not None
        assert result.explanation.startswith("'")
        assert "jane" not in result.explanation
        assert "#/properties/customers/additionalProperties" in result.explanation


def test_json_schema_rejects_bad_schema_at_setup() -> None:
    """An invalid schema is a configuration error raised when the evaluator is built."""
    with pytest.raises(jsonschema.SchemaError):
        JsonSchema({"type": "no-such-type"})


def test_matches_must_and_must_not() -> None:
    """Matches passes on a match with must=True, and on no match with must=False."""
    must = Matches(r"\bORDER-\d+\b", name="has_order_id")
    assert must.name == "has_order_id"
    assert must(Sample("Your ORDER-123 shipped")) == Result(None, "match", True)
    assert must(Sample("Your order shipped")) == Result(None, "no_match", False)
    must_not = Matches(r"(?i)competitor", must=False)
    assert must_not(Sample("We are the best")).passed is True
    assert must_not(Sample("Try Competitor Inc")).passed is False


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to jane.doe@example.com", "email"),
        ("call +1 415 555 0132", "phone"),
        ("card 4111 1111 1111 1111", "payment_card"),
        ("ssn 123-45-6789", "us_ssn"),
        ("iban GB82 WEST 1234 5698 7654 32", "iban"),
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD", "secret"),
    ],
)
def test_pii_in_output_fails_on_each_kind(text: str, kind: str) -> None:
    """PiiInOutput fails on every personal-data and secret kind, labelled with that kind."""
    result = PiiInOutput()(Sample(text))
    assert (result.passed, result.label) == (False, kind)
    assert result.explanation == f"1 {kind}"


def test_pii_in_output_passes_clean_text() -> None:
    """Clean text, and kinds outside the PII set such as IP addresses, pass."""
    evaluator = PiiInOutput()
    assert evaluator.name == "pii_in_output"
    assert evaluator(Sample("The capital of France is Paris.")) == Result(None, "none", True)
    assert evaluator(Sample("the host is 10.1.2.3")).passed is True


def test_pii_label_lists_sorted_kinds_without_content() -> None:
    """Several kinds are listed sorted in the label, and the explanation only counts them."""
    text = "mail a@example.com or b@example.com, card 4111 1111 1111 1111"
    result = PiiInOutput()(Sample(text))
    assert result.label == "email,payment_card"
    assert result.explanation == "2 email, 1 payment_card"


@pytest.mark.parametrize(
    "text",
    [
        "I can't help with that request.",
        "I\u2019m sorry, but I cannot assist with this.",
        "As an AI language model, I do not have opinions.",
        "I am unable to provide medical advice.",
        "I won't assist with creating malware.",
        "I must decline this request.",
    ],
)
def test_refusal_detected(text: str) -> None:
    """Common refusal phrasings (also with typographic apostrophes) fail Refusal."""
    assert Refusal()(Sample(text)) == Result(None, "refusal", False)


@pytest.mark.parametrize(
    "text",
    [
        "The capital of France is Paris.",
        "Sure! Here is how you can reset your password: open Settings.",
        "I can help with that: the answer is 42.",
    ],
)
def test_refusal_not_detected(text: str) -> None:
    """Ordinary answers, including ones saying they can help, pass Refusal."""
    assert Refusal()(Sample(text)) == Result(None, "answer", True)


def test_refusal_only_scans_the_start() -> None:
    """A refusal phrase deep inside a long answer (e.g. quoted) is not a refusal."""
    text = "x" * 500 + " the bot said: I can't help with that."
    assert Refusal()(Sample(text)).passed is True


def test_length_bounds() -> None:
    """LengthBounds passes within bounds and labels too-short and too-long outputs."""
    evaluator = LengthBounds(min_chars=3, max_chars=5)
    assert evaluator(Sample("abcd")) == Result(None, "ok", True)
    assert evaluator(Sample("ab")).label == "too_short"
    assert evaluator(Sample("abcdef")) == Result(None, "too_long", False, "6 > 5 chars")
    assert LengthBounds()(Sample("")).passed is True


def test_length_bounds_rejects_inverted_bounds() -> None:
    """A maximum below the minimum is a configuration error."""
    with pytest.raises(ValueError, match="min_chars"):
        LengthBounds(min_chars=5, max_chars=2)


def test_citation() -> None:
    """Citation passes when any retrieved id appears, scoring the fraction cited."""
    evaluator = Citation()
    cited = evaluator(Sample("See [doc-2] for details.", retrieved_ids=("doc-1", "doc-2")))
    assert (cited.passed, cited.label, cited.score) == (True, "cited", 0.5)
    uncited = evaluator(Sample("No sources here.", retrieved_ids=("doc-1",)))
    assert (uncited.passed, uncited.label, uncited.score) == (False, "uncited", 0.0)
    assert evaluator(Sample("anything")) == Result(None, "no_sources", None)


def test_judge_sync_and_async() -> None:
    """Judge runs a sync or an async user callable and returns its Result."""

    def grade(sample: Sample) -> Result:
        return Result(1.0 if "Paris" in sample.output else 0.0, None, None)

    async def grade_async(sample: Sample) -> Result:
        await asyncio.sleep(0)
        return Result(0.5, "meh", sample.input == "q")

    assert Judge(grade, "correct")(Sample("Paris")).score == 1.0
    assert Judge(grade, "correct")(Sample("Lyon")).score == 0.0
    assert Judge(grade_async, "async")(Sample("x", input="q")) == Result(0.5, "meh", True)


def test_judge_rejects_bad_configuration_and_results() -> None:
    """Judge validates sample_rate and timeout, and rejects a callable not returning Result."""
    with pytest.raises(ValueError, match="sample_rate"):
        Judge(lambda s: Result(None, None, None), "j", sample_rate=1.5)
    with pytest.raises(ValueError, match="timeout_s"):
        Judge(lambda s: Result(None, None, None), "j", timeout_s=0)
    bad = Judge(lambda s: 1.0, "j")  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="not Result"):
        bad(Sample("x"))


def test_evaluators_are_frozen() -> None:
    """Evaluators are immutable, so one configured instance can be shared across threads."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        JsonValid().name = "other"  # type: ignore[misc]
