"""Tests for how numbers, bytes, JSON floats and keys shape what a value is scanned as."""

import enum
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otel_llm.redaction import Redactor
from otel_llm.redaction._values import (
    ID_FIELD_PREFIX,
    JSON_EXPONENT,
    PHONE_FIELD_PREFIX,
    JsonFloat,
    decode,
    encode,
    field_prefix,
    json_may_hide,
    number_text,
    secret_text,
)

ARGUMENTS = "gen_ai.tool.call.arguments"


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


PHONE_KEYS = [
    *("phone", "mobile", "tel", "telephone", "cell", "fax", "whatsapp", "phone_number"),
    *("phoneNumber", "contact_phone", "PHONE", "user.phone", "homePhone", "mobile_no"),
    *("phone2", "portable", "t\u00e9l\u00e9phone", "Telefon", "Handy", "Rufnummer"),
    *("Telefonnummer", "telefono", "tel\u00e9fono", "movil", "m\u00f3vil", "celular", "to"),
]
ID_KEYS = ["id", "ids", "order_id", "media_id", "mediaId", "orderID", "invoice_number", "sku"]
OTHER_KEYS = ["content", "amount", "smartphone", "phonebook", "hotel", "total", "card", "note"]


@pytest.mark.parametrize(
    ("key", "prefix"),
    [(key, PHONE_FIELD_PREFIX) for key in PHONE_KEYS]
    + [(key, ID_FIELD_PREFIX) for key in ID_KEYS]
    + [(key, "") for key in OTHER_KEYS],
)
def test_keys_say_what_their_values_are(key: str, prefix: str) -> None:
    """Phone keys (any language, snake or camel case) and id keys give their prefix; others none."""
    assert field_prefix(key) == prefix


@pytest.mark.parametrize("key", PHONE_KEYS)
@pytest.mark.parametrize(
    "number", ["4155550199", 4155550199, "(415) 555-0199", "01 50 73 64 82", "0151 23456789"]
)
def test_national_numbers_under_phone_keys_are_redacted(key: str, number: str | int) -> None:
    """Tool arguments with a national number under a phone key lose it, string or JSON number."""
    arguments = json.dumps({key: number, "text": "Your code"})
    redacted, findings = Redactor().redact_value(ARGUMENTS, arguments)
    assert json.loads(str(redacted)) == {key: "[REDACTED:phone]", "text": "Your code"}
    assert [finding.kind for finding in findings] == ["phone"]


def test_phone_keys_count_in_structured_values_lists_and_attribute_keys() -> None:
    """Mappings (GenAI events), lists under the key and the attribute's own key are context."""
    redactor = Redactor()
    message: dict[str, Any] = {
        "role": "tool",
        "contact": {"mobile": 4155550199, "phones": ["01 50 73 64 82"]},
    }
    redacted, _ = redactor.redact_value("gen_ai.tool.message", message)
    assert redacted == {
        "role": "tool",
        "contact": {"mobile": "[REDACTED:phone]", "phones": ["[REDACTED:phone]"]},
    }
    assert redactor.redact_value("app.user.phone", "4155550199")[0] == "[REDACTED:phone]"
    assert redactor.redact_value("app.user.phone", b"01 50 73 64 82")[0] == b"[REDACTED:phone]"
    assert redactor.is_clean([{"app.user.phone": "4155550199"}]) is False


@pytest.mark.parametrize("key", OTHER_KEYS)
def test_the_same_numbers_under_other_keys_stay(key: str) -> None:
    """Without a phone key (or word) a national number may be anything: it is kept."""
    arguments = json.dumps({key: 4155550199, "other": "01 50 73 64 82"})
    assert Redactor().redact_value(ARGUMENTS, arguments) == (arguments, ())


@pytest.mark.parametrize("key", ID_KEYS)
@pytest.mark.parametrize(
    "value", [4539148803436467, "4539 1488 0343 6467", [4539148803436467], "517-22-4410"]
)
def test_card_and_ssn_shaped_ids_under_id_keys_stay(key: str, value: object) -> None:
    """A Luhn-valid or SSN-shaped number under an id key is that id, not a card or an SSN."""
    arguments = json.dumps({key: value, "total": 49.99})
    assert Redactor().redact_value(ARGUMENTS, arguments) == (arguments, ())


def test_cards_under_other_keys_are_still_found() -> None:
    """The id rule is the key's: a card under "card", "note" or at the top level is redacted."""
    redactor = Redactor()
    arguments = json.dumps({"card": 4539148803436467, "note": "pay with 4539 1488 0343 6467"})
    redacted, findings = redactor.redact_value(ARGUMENTS, arguments)
    assert [finding.kind for finding in findings] == ["payment_card", "payment_card"]
    assert "4539" not in str(redacted)


@pytest.mark.parametrize(
    ("text", "hides"),
    [
        ('{"phone": "x"}', True),
        ('{"contactPhone" : 1}', True),
        ('{"user_mobile_number":"x"}', True),
        ('{"to": "x"}', True),
        ('{"tool": "x", "total": 1, "role": "user"}', False),
        ('{"text": "call me on 01 50 73 64 82"}', False),  # a word in a value: no key
    ],
)
def test_phone_keys_make_a_json_text_take_the_full_walk(text: str, hides: bool) -> None:
    """A JSON text with a phone key is parsed: its values are read after the key."""
    assert json_may_hide(text, credentials=False) is hides
