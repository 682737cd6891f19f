"""How the leaves of structured values are read for scanning: numbers, bytes, JSON floats."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from otel_llm.redaction._checks import is_id_name
from otel_llm.redaction._keys import CREDENTIAL_STEM, FOLD_EXCEPTIONS, may_name_credential
from otel_llm.redaction._phones import PHONE_FIELD_STEM, is_phone_field

try:  # google-re2: one linear pass in C for all of json_may_hide's questions
    import re2
except ImportError:  # pragma: no cover - a platform without google-re2's wheels
    re2 = None

_FRACTION = re.compile(r"\.[0-9]*")
_EXPONENT = r"[0-9.][eE][-+]?[0-9]+(?:[\s,\]}]|$)"
JSON_EXPONENT = re.compile(_EXPONENT)
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
        return str(int(value)) if math.isfinite(value) else float.__repr__(value)
    return _int_text(value)


def secret_text(value: int | float) -> str:
    """A number as written (a JSON float's literal), for the keyed hash of a secret."""
    if isinstance(value, JsonFloat):
        return value.literal
    return float.__repr__(value) if isinstance(value, float) else _int_text(value)


def _int_text(value: int) -> str:
    try:
        return int.__repr__(value)  # an IntEnum's digits, not its member name
    except ValueError:  # more digits than int -> str allows: no detector matches that
        return hex(value)


PHONE_FIELD_PREFIX = "phone: "
ID_FIELD_PREFIX = "id: "


def field_prefix(field: str) -> str:
    """What a value under the key `field` is scanned after: what the key says the value is.

    Under a phone key ("phone", "contact_phone", "phoneNumber", "Handy", "móvil") a national
    number is a phone number as it is after "phone:" in text; under an id key ("id",
    "order_id", "mediaId", "tracking_number") a Luhn-valid or SSN-shaped number is that id,
    as after "id:". Other keys add nothing.
    """
    if is_phone_field(field):
        return PHONE_FIELD_PREFIX
    if is_id_name(field):
        return ID_FIELD_PREFIX
    return ""


def decode(data: bytes) -> str:
    """Bytes as text: UTF-8, any other byte kept as a lone surrogate (encode gives it back)."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    """Text from `decode` (maybe redacted) back to the bytes it came from."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate from a JSON \ud800 escape: keep it escaped
        return text.encode("utf-8", "backslashreplace")


def _re2_search(*patterns: str) -> Callable[[bytes], bool] | None:
    if re2 is None:  # pragma: no cover - a platform without google-re2's wheels
        return None
    options = re2.Options()
    options.log_errors = False
    found = re2.Set.SearchSet(options)
    for pattern in patterns:
        found.Add(pattern)
    found.Compile()
    match = found._set.Match  # the bytes-level call, as the prefilter uses
    return lambda data: bool(match(data))


_ESCAPE = r"\\"
_MAY_HIDE = {
    True: _re2_search(_ESCAPE, _EXPONENT, PHONE_FIELD_STEM, f"(?i:{CREDENTIAL_STEM})"),
    False: _re2_search(_ESCAPE, _EXPONENT, PHONE_FIELD_STEM),
}
_PHONE_KEY = re.compile(PHONE_FIELD_STEM)


def json_may_hide(text: str, *, credentials: bool) -> bool:
    r"""Whether a JSON text's leaves may hold a finding a scan of the raw text would not see.

    An escape (`jane\u0040example.com`) and an exponent (4.111111111111111e15 is a card
    number) hide one, and so does a phone key (the walk reads its value as after "phone:",
    `field_prefix`); with `credentials`, so does any field that may be credential-named,
    since its value is a secret whatever it looks like. One RE2 pass answers them all.
    """
    if credentials and not text.isascii() and FOLD_EXCEPTIONS.search(text):
        return True  # rare enough to take the full walk
    search = _MAY_HIDE[credentials]
    if search is not None:
        try:
            return search(text.encode("utf-8"))
        except UnicodeEncodeError:  # lone surrogates: parse it to be sure
            return True
    return (  # pragma: no cover - a platform without google-re2's wheels
        "\\" in text
        or JSON_EXPONENT.search(text) is not None
        or _PHONE_KEY.search(text) is not None
        or (credentials and may_name_credential(text))
    )
