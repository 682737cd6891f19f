"""Tests for the helpers every payload module shares: stream pieces and fragments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otel_llm.payloads._common import deltas, fragments, obfuscation, words


@given(st.text())
def test_words_join_back_to_the_text(text: str) -> None:
    """Streaming the words of any text rebuilds it exactly, each piece holding one word."""
    pieces = words(text)
    assert "".join(pieces) == text
    assert all(len(piece.split()) <= 1 for piece in pieces)
    assert all(piece for piece in pieces)


def test_words_keep_the_leading_space_as_models_stream_it() -> None:
    """A reply streams as "Your", " order", ...: the space goes with the word that follows."""
    assert words("Your order ships today.") == ["Your", " order", " ships", " today."]
    assert words("") == []


def test_deltas_are_the_callers_pieces_or_the_words() -> None:
    """Given pieces are used as they are; none given, the text's words are."""
    assert deltas("ab cd", ["a", "b cd"]) == ["a", "b cd"]
    assert deltas("ab cd") == ["ab", " cd"]


def test_deltas_refuse_pieces_that_tell_another_text() -> None:
    """Pieces that do not add up to the reply's text would make stream and body disagree."""
    with pytest.raises(ValueError, match="do not add up"):
        deltas("Your order", ["Your", " parcel"])


@given(st.text(), st.integers(1, 20))
def test_fragments_join_back_and_respect_their_size(text: str, size: int) -> None:
    """Fragments rebuild the text, each at most `size` characters, none empty."""
    cut = fragments(text, size)
    assert "".join(cut) == text
    assert all(0 < len(piece) <= size for piece in cut)


def test_fragments_need_a_positive_size() -> None:
    """A size below 1 cannot cut anything and is refused."""
    with pytest.raises(ValueError, match="at least 1"):
        fragments("{}", 0)


def test_obfuscation_pads_events_differently_but_reproducibly() -> None:
    """The padding varies in length from event to event and is the same on every run."""
    lengths = {len(obfuscation(number)) for number in range(20)}
    assert len(lengths) > 5
    assert [obfuscation(n) for n in range(5)] == [obfuscation(n) for n in range(5)]
