"""Tests for how numbers, bytes and JSON floats are read for scanning."""

import enum
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otel_llm.redaction._values import (
    JSON_EXPONENT,
    JsonFloat,
    decode,
    encode,
    number_text,
    secret_text,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (4111111111111111, "4111111111111111"),
        (-42, "-42"),
        (4111111111111111.0, "4111111111111111"),
        (0.4532015112830366, "0"),  # a probability's digits are never a card number
        (1e16, "10000000000000000"),
        (float("nan"), "nan"),
        (10**5000, hex(10**5000)),  # past int -> str's digit limit
    ],
    ids=["card", "negative", "integral float", "fraction", "exponent", "nan", "huge"],
)
def test_number_text_is_the_integer_part(value: float, text: str) -> None:
    """Integers are their digits; floats lose their fractional digits, never their exponent."""
    assert number_text(value) == text


def test_int_subclasses_are_scanned_as_their_digits() -> None:
    """An IntEnum member is its number, on every Python version, not its member name."""

    class Card(enum.IntEnum):
        VISA = 4111111111111111

    assert number_text(Card.VISA) == "4111111111111111"
    assert secret_text(Card.VISA) == "4111111111111111"
    assert secret_text(json.loads("[1.10]", parse_float=JsonFloat)[0]) == "1.10"


def test_json_floats_are_scanned_as_written_unless_they_have_an_exponent() -> None:
    """A JSON float's literal is scanned (no fraction); with an exponent, its value's digits."""
    parsed = json.loads(
        "[1.10, 4111111111111111.5, 4.111111111111111E15, 1e400]", parse_float=JsonFloat
    )
    texts = [number_text(value) for value in parsed]
    assert texts == ["1", "4111111111111111", "4111111111111111", "inf"]
    assert parsed[0] == 1.1
    assert json.dumps(parsed[:2]) == "[1.1, 4111111111111111.5]"


@given(st.binary(max_size=64))
def test_bytes_round_trip_whatever_their_encoding(data: bytes) -> None:
    """Decoding keeps every byte, so bytes with no finding come back exactly."""
    assert encode(decode(data)) == data


def test_utf8_bytes_decode_to_their_text() -> None:
    """UTF-8 bytes read as the characters they encode; a stray byte stays a byte."""
    assert decode("jürgen@exämple.de".encode()) == "jürgen@exämple.de"
    assert encode(decode(b"\xff mail") + " [REDACTED:email]") == b"\xff mail [REDACTED:email]"


def test_a_json_escaped_surrogate_encodes_as_its_escape() -> None:
    r"""A lone surrogate from a JSON \ud800 escape cannot be UTF-8: it is written escaped."""
    assert encode("a\ud800b") == b"a\\ud800b"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"n": 4111111111111111e0}', True),
        ("[4.1E+15]", True),
        ('{"n": 1e5\n}', True),
        ('{"id": "550e8400-e29b-41d4-a716-446655440000"}', False),
        ('{"n": 1.5, "m": 3}', False),
    ],
)
def test_json_exponent_finds_numbers_written_with_one(text: str, found: bool) -> None:
    """Numbers with an exponent are found; hex ids inside strings mostly are not."""
    assert (JSON_EXPONENT.search(text) is not None) is found
