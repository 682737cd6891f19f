"""Tests for Detector and Scanner: where a scan looks, and the RE2 forms of a detector."""

import re2

from otel_llm.redaction._scanner import Detector, Scanner

NUMBER = Detector(
    "number",
    "phone",
    r"[0-9]{3}(?: [0-9]{3})*",
    context=r"\b(?:tel|call)\b",
    context_window=10,
    fold=True,
)


def spans(detector: Detector, text: str) -> list[str]:
    """The confirmed findings of `detector` in `text`, as strings."""
    return [text[start:end] for start, end in Scanner(detector).spans(text, text.lower())]


def test_context_detectors_look_only_within_the_window_after_a_word() -> None:
    """Candidates start at most `context_window` characters after a context word."""
    assert spans(NUMBER, "tel 123 456") == ["123 456"]
    assert spans(NUMBER, "123 456 tel") == []
    assert spans(NUMBER, "tel" + " " * 11 + "123") == []
    assert spans(NUMBER, "TEL: 123") == ["123"]  # words are matched in the lower-cased text


def test_a_context_word_reaches_numbers_after_an_earlier_match() -> None:
    """Every number starting within one word's window is a candidate, not only the first."""
    assert spans(NUMBER, "call 123, 456 x 789") == ["123", "456"]


def test_context_words_are_found_when_lower_casing_changes_lengths() -> None:
    """A dotted capital I before the word ("İ" lower-cases to two characters) shifts nothing."""
    assert spans(NUMBER, "\u0130\u0130\u0130 tel 123") == ["123"]


def test_collector_and_prefilter_forms() -> None:
    """The Collector's pattern is escaped and bounded; a prefilter pattern serves the RE2 set."""
    detector = Detector("x", "secret", "caf\u00e9-[0-9]{2}", word_start=True, prefilter="caf\u00e9")
    assert detector.collector == r"\b(?:caf\x{E9}-[0-9]{2})"
    assert detector.re2 == r"caf\x{E9}"
    assert re2.search(detector.collector, "un caf\u00e9-42") is not None
    plain = Detector("y", "secret", "abc")
    assert plain.re2 == plain.collector == "abc"
