"""How the leaves of structured values are read for scanning: numbers, bytes, JSON floats."""

from __future__ import annotations

import math
import re

_FRACTION = re.compile(r"\.[0-9]*")
JSON_EXPONENT = re.compile(r"[0-9.][eE][-+]?[0-9]+(?=[\s,\]}]|$)")
"""A JSON number written with an exponent (its digits are not the number's digits)."""


class JsonFloat(float):
    """A float parsed from JSON that keeps its literal, so it is scanned as it was written."""

    literal: str

    def __new__(cls, literal: str) -> JsonFloat:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number


def number_text(value: int | float) -> str:
    """The text a number is scanned as: its integer part's digits.

    A card number can hide in an integer or in a float's integer part; the fractional digits
    of a probability or an embedding are never one, and scanning them would redact 1 in 20.
    A JSON float written without an exponent is scanned as its literal minus the fraction, a
    verbatim slice of the JSON text: what lets the Redactor rule a whole JSON document out
    without parsing it (a document with an exponent, JSON_EXPONENT, is always parsed).
    """
    if isinstance(value, JsonFloat) and not JSON_EXPONENT.search(value.literal):
        return _FRACTION.sub("", value.literal, count=1)
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) else repr(value)
    try:
        return str(value)
    except ValueError:  # more digits than int -> str allows: no detector matches that
        return hex(value)


def decode(data: bytes) -> str:
    """Bytes as text: UTF-8, any other byte kept as a lone surrogate (encode gives it back)."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """Text from `decode` (maybe redacted) back to the bytes it came from."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate from a JSON \ud800 escape: keep it escaped
        return text.encode("utf-8", "backslashreplace")
