"""Tests for the detectors' Python validators: checksums, number plans, context, credentials."""

import re

import pytest

from otel_llm.redaction import DETECTORS, iban_valid, luhn_valid
from otel_llm.redaction import _checks as checks


def match(text: str, value: str, group: bool = False) -> re.Match[str]:
    """A match of `value` inside `text` (its only group too, when `group`)."""
    pattern = f"({re.escape(value)})" if group else re.escape(value)
    found = re.search(pattern, text)
    assert found is not None
    return found


def test_luhn_and_iban_checksums() -> None:
    """luhn_valid and iban_valid accept known-good numbers and reject one-digit changes."""
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("GB82 WEST 1234 5698 7654")  # GB IBANs have 22 characters


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("0044 20 7517 5819", True),
        ("0049 40 91311088", True),
        ("00352 26 12 34 56", True),  # Luxembourg: a three-digit code in zone 35
        ("001 415 555 0199", True),
        ("001 115 555 0199", False),  # a North American area code starts 2-9
        ("001 415 155 0199", False),  # so does the exchange
        ("0028 1234 5678", False),  # zone 28 is unassigned
        ("0083 1234 5678", False),  # so is 83
        ("0044 2075", False),  # too few digits
        ("0044 2075 1758 1922 2345", False),  # too many
    ],
)
def test_numbers_after_00_need_a_country_code_and_a_length(number: str, valid: bool) -> None:
    """00 numbers start with an E.164 country code and have 8-15 digits after the 00."""
    assert checks.phone_double_zero(match(f"see {number} now", number)) is valid


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("ORD-0044 20 7517 5819", "0044 20 7517 5819"),  # glued to an id
        ("#0044 20 7517 5819", "0044 20 7517 5819"),
        ("DE89 3704 0044 0532 0130 01", "0044 0532 0130 01"),  # inside longer digit groups
        ("10:0044 20 7517", "0044 20 7517"),  # after a time
    ],
)
def test_numbers_glued_to_what_comes_before_are_not_phones(text: str, number: str) -> None:
    """A number right after an id, a "#", other digit groups or a time is part of them."""
    assert not checks.phone_double_zero(match(text, number))


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("01 50 73 64 82", True),
        ("0151 23456789", True),  # a long last group after a trunk 0
        ("612 345 678", True),  # Spanish mobile, grouped like thousands
        ("(415) 555-0199", True),
        ("4155550199", True),
        ("0491234567", True),
        ("1 234 567", False),  # thousands
        ("12.345.678", False),
        ("1718000000", False),  # epoch seconds: one run, no trunk 0, not North American
        ("2024-01-15", False),  # dates
        ("15.01.2024", False),
        ("15/01/2024", False),
        ("3.14159265", False),  # a decimal
        ("2024-000123", False),  # an id: a long group that is not last after a trunk 0
        ("123456", False),  # too short
    ],
)
def test_national_number_shapes(number: str, valid: bool) -> None:
    """After a phone word, digit groups must look like a national number, not a date or amount."""
    assert checks.phone_national(match(f"Tel: {number} ok", number)) is valid


def test_national_numbers_need_a_phone_word_on_the_line_and_in_the_sentence() -> None:
    """The nearest phone word must end at most 40 characters before, same line and sentence."""
    number = "01 50 73 64 82"
    assert checks.phone_national(match(f"Handy: {number}", number))
    assert checks.phone_national(match(f"T\u00c9L\u00c9PHONE {number}", number))  # any case
    assert not checks.phone_national(match(f"Tel:\n{number}", number))
    assert not checks.phone_national(match(f"call. Then {number}", number))
    assert not checks.phone_national(match(f"call{' ' * 41}{number}", number))
    assert not checks.phone_national(match(f"recall {number}", number))  # a whole word only
    assert not checks.phone_national(match(f"iPhone {number}", number))


def test_basic_credentials_decode_to_user_and_password() -> None:
    """Base64 of "user:pass" counts; other words after "Basic" need a label and to look random."""
    pattern = re.compile(next(d.pattern for d in DETECTORS if d.name == "basic_auth"), re.ASCII)

    def confirmed(text: str) -> bool:
        found = pattern.search(text)
        assert found is not None
        return checks.basic_credentials(found)

    assert confirmed("Basic dXNlcjpwYXNz")
    assert not confirmed("Basic information")
    assert confirmed("Authorization: Basic k3yAbc123def456")
    assert confirmed('{"Authorization": "Basic k3yAbc123def456"}')
    assert not confirmed("the Basic k3yAbc123def456")
    assert not confirmed("Authorization: Basic Auth")


LABELLED = re.compile(next(d.pattern for d in DETECTORS if d.name == "labelled_secret"), re.ASCII)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("token=a1b2c3d4e5f6", True),
        ("token: Abc123Def456Ghi789", True),
        ("token: AbcDefGhiJklMnoPqr", True),  # mixed case, 16 or more
        ("max_token=12345678", False),  # a number
        ("token: supersecret", False),  # a generic name needs a generated-looking value
        ("token = tokenizer", False),
        ("api_key=supersecretvalue", True),  # a specific name takes any value...
        ('client_secret: "mysecret"', True),
        ("api_key: YOUR_API_KEY", False),  # ... but a constant's name,
        ("api_key = get_key()", False),  # a call,
        ("secret_key = settings.SECRET_KEY", False),  # a dotted name,
        ("client_secret: Optional[str]", False),  # a type,
        ("api_key=changeme", False),  # or a placeholder
        ("api_key=xxxxxxxx", False),
    ],
)
def test_labelled_values_must_look_like_credentials(text: str, valid: bool) -> None:
    """What follows a credential's name counts unless it is code, a type or a placeholder."""
    found = LABELLED.search(text)
    assert found is not None
    assert checks.labelled_value(found) is valid


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("j\u00fcrgen@ex\u00e4mple.de", True),
        ("\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a", True),
        ("jane@example.com", False),  # ASCII: the ASCII detector's
        ("\u8054\u7cfbjane@example.com", False),  # CJK glued to an ASCII address
        ("jane@example.com\u8c22", False),
    ],
)
def test_international_addresses(address: str, valid: bool) -> None:
    """Non-ASCII addresses count, unless they mix an unspaced script with ASCII letters."""
    assert checks.international_email(match(f" {address} ", address)) is valid
