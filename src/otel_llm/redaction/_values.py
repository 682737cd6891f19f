"""How the leaves of structured values are read for scanning: numbers, bytes, JSON floats."""

from __future__ import annotations

import re

_FRACTION = re.compile(r"\.[0-9]*")


class JsonFloat(float):
    """A float parsed from JSON that keeps its literal, so it is scanned as it was written."""

    literal: str

    def __new__(cls, literal: str) -> JsonFloat:
        number = super().__new__(cls, literal)
        number.literal = literal
        return number


def number_text(value: int | float) -> str:
    """The text a number is scanned as: an integer's digits, a float's without its fraction.

    A card number can hide in an integer or in a float's integer part; the fractional digits
    of a probability or an embedding are never one, and scanning them would redact 1 in 20.
    A JSON float keeps its literal, a verbatim slice of the JSON text, which is what lets
    the Redactor rule a whole JSON document out without parsing it.
    """
    if isinstance(value, float):
        text = value.literal if isinstance(value, JsonFloat) else repr(value)
        return _FRACTION.sub("", text, count=1)
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
