"""Tests for the phone checks: country codes, national number plans, context words and keys."""

import re

import pytest

from otel_llm.redaction import _phones as phones


def match(text: str, value: str) -> re.Match[str]:
    """A match of `value` inside `text`."""
    found = re.search(re.escape(value), text)
    assert found is not None
    return found


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
        ("0033 12 45 67 89", False),  # France has nine digits after its code
        ("0045 1123 9981", True),  # Denmark has eight
        ("0049 151 12345678", True),
    ],
)
def test_numbers_after_00_need_a_country_code_and_a_length(number: str, valid: bool) -> None:
    """00 numbers start with an E.164 country code and have 8-15 digits after the 00."""
    assert phones.phone_double_zero(match(f"see {number} now", number)) is valid


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
    assert not phones.phone_double_zero(match(text, number))


@pytest.mark.parametrize(
    "text",
    ["order number 0045 1123 9981", "Bestellnummer 0049 40 91311088", "ref: 0033 1 50 73 64 82"],
)
def test_numbers_after_00_labelled_as_ids_are_not_phones(text: str) -> None:
    """A 00 number right after "order number", "ref:" or "Bestellnummer" is that id."""
    number = text[text.index("00") :]
    assert not phones.phone_double_zero(match(text, number))


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("+44 20 7946 0958", True),
        ("+44 (0)20 7946 0958", True),  # the trunk 0 in parentheses is not counted
        ("+33 1 23 45 67 89", True),
        ("+33 12 45 67 89", False),  # eight digits after +33
        ("+1 415 555 0132", True),
        ("+1 415 555 013", False),
        ("+28 1234 5678", False),  # no country has code 28
        ("+49 30 12345678", True),
        ("+86 138 0013 8000", True),
    ],
)
def test_international_numbers_need_their_country_length(number: str, valid: bool) -> None:
    """A +CC number has a country code and as many digits as that country's plan gives."""
    assert phones.phone_international(match(f"see {number} now", number)) is valid


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
        # national plans: France's ten digits in pairs, a trunk 0 and an area code
        # elsewhere in Europe, North America's 3-3-4 (or a local 3-4), Spain's nine digits
        ("020 7946 0958", True),
        ("07700 900123", True),
        ("(030) 1234567", True),
        ("91 123 45 67", True),
        ("555-0199", True),
        ("1-800-555-0199", True),
        ("81 22 33 44 55", False),  # pairs without the trunk 0
        ("06 15 2024", False),  # too short for a trunk number
        ("2024 0815 3321", False),
        ("128 256 512 1024", False),
        ("0 150 73 64 82", False),  # an area code is more than the trunk 0
        ("300 450 2000 1", False),
    ],
)
def test_national_number_shapes(number: str, valid: bool) -> None:
    """After a phone word, digit groups must look like a national number, not a date or amount."""
    assert phones.phone_national(match(f"Tel: {number} ok", number)) is valid


def test_national_numbers_need_a_phone_word_on_the_line_and_in_the_sentence() -> None:
    """The nearest phone word must end at most 40 characters before, same line and sentence."""
    number = "01 50 73 64 82"
    assert phones.phone_national(match(f"Handy: {number}", number))
    assert phones.phone_national(match(f"T\u00c9L\u00c9PHONE {number}", number))  # any case
    assert not phones.phone_national(match(f"Tel:\n{number}", number))
    assert not phones.phone_national(match(f"call. Then {number}", number))
    assert not phones.phone_national(match(f"call{' ' * 41}{number}", number))
    assert not phones.phone_national(match(f"recall {number}", number))  # a whole word only
    assert not phones.phone_national(match(f"iPhone {number}", number))


@pytest.mark.parametrize(
    "text",
    [
        "call me on {}",
        "Call: {}",
        "call {}",
        "please call us at {}",
        "Call Jane at {}",
        "give me a call on {}",
        "calling from {}",
        "contact_phone={}",
        '"phoneNumber": "{}"',
        "Mon num\u00e9ro : {}",
        "Meine Nummer ist {}",
    ],
)
def test_call_as_a_verb_and_phone_words_in_any_form_announce_a_number(text: str) -> None:
    """The verb "call" (me, us, Jane at, right before it) and phone words in keys count."""
    number = "01 50 73 64 82"
    assert phones.phone_national(match(text.format(number), number))


@pytest.mark.parametrize(
    "text",
    [
        "we had a call about {}",  # "call" as a noun
        "Function call id {}",
        "Call stack depth {}",
        "Call center KPIs: {}",
        "text me the order number {}",  # a word between says what the number is
        "Call me maybe - tour dates {}",
        "phone: invoice {}",
        "Tel. Rechnung {}",
        "T\u00e9l. : commande {}",
        "Llamada: pedido {}",
    ],
)
def test_call_as_a_noun_and_other_nouns_between_cancel_the_phone_word(text: str) -> None:
    """The noun "call" (a call about, call id), or an order/invoice/dates in between, cancel."""
    number = "01 50 73 64 82"
    assert not phones.phone_national(match(text.format(number), number))


@pytest.mark.parametrize(
    ("field", "phone"),
    [
        ("phone", True),
        ("contact_phone", True),
        ("phoneNumber", True),
        ("PHONE_NO", True),
        ("Handy", True),
        ("m\u00f3vil", True),
        ("T\u00c9L\u00c9PHONE", True),
        ("to", True),
        ("phonebook", False),
        ("smartphone", False),
        ("phone_id", False),
        ("phone_number_of_the_primary_contact", False),
        ("tool", False),
        ("total", False),
    ],
)
def test_phone_fields_end_with_a_phone_word(field: str, phone: bool) -> None:
    """A key names a phone number when its last word (number words aside) is a phone word."""
    assert phones.is_phone_field(field) is phone
