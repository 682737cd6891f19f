"""Phone numbers: country codes, national number plans, and the words and keys that announce one."""

from __future__ import annotations

import re

from otel_llm.redaction._checks import labelled_as_id

_NON_DIGITS = re.compile(r"[^0-9]")

# --- country codes ----------------------------------------------------------------------

_CC2_TEXT = (
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98"
)
_CC3_ZONES_TEXT = "21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 69 80 85 87 88 96 97 99"
# E.164 country codes are prefix-free: one digit (1, 7), two digits (these), or three digits
# starting with one of the two-digit zones below that are not codes themselves.
_CC2 = frozenset(_CC2_TEXT.split())
_CC3_ZONES = frozenset(_CC3_ZONES_TEXT.split())
# How many digits follow the country code (the national significant number, without a trunk
# 0), from the ITU's national numbering plans, for the countries people write to us from;
# other codes take E.164's 8-15 digits in all.
_NSN_LENGTH_TEXT = (
    "7:10-10 20:8-10 27:9-9 30:10-10 31:9-9 32:8-9 33:9-9 34:9-9 36:8-9 39:6-11 40:9-9 "
    "41:9-9 43:4-13 44:9-10 45:8-8 46:7-10 47:8-8 48:9-9 49:6-13 51:8-9 52:10-10 54:10-11 "
    "55:10-11 56:9-9 57:10-10 58:10-10 60:8-10 61:9-9 62:8-12 63:8-10 64:8-10 65:8-8 66:8-9 "
    "81:9-10 82:8-10 84:9-10 86:9-11 90:10-10 91:10-10 92:9-10 98:10-10 351:9-9 352:4-11 "
    "353:7-9 358:5-12 420:9-9 421:9-9"
)
_NSN_LENGTHS = {
    code: (int(low), int(high))
    for code, low, high in (re.split("[:-]", item) for item in _NSN_LENGTH_TEXT.split())
}


def country_number_valid(digits: str) -> bool:
    """Whether `digits` (after + or 00, without a "(0)") is a country code and its number.

    North America (+1) takes 10 digits with area and exchange codes starting 2-9; the
    countries of _NSN_LENGTHS their plan's lengths; the others 8-15 digits in all.
    """
    if not 8 <= len(digits) <= 15:
        return False
    if digits[0] == "1":
        national = digits[1:]
        return len(national) == 10 and national[0] >= "2" and national[3] >= "2"
    if digits[0] == "7":
        code = "7"
    elif digits[:2] in _CC2:
        code = digits[:2]
    elif digits[:2] in _CC3_ZONES:
        code = digits[:3]
    else:
        return False
    low, high = _NSN_LENGTHS.get(code, (0, 15))
    return low <= len(digits) - len(code) <= high


# --- the words before a national number -------------------------------------------------

PHONE_FIELD_WORDS = (
    # English
    *("phone", "phones", "telephone", "tel", "mobile", "mob", "cell", "cellphone", "fax"),
    *("whatsapp", "sms", "landline", "hotline"),
    # French
    *("téléphone", "tél", "portable", "mobile"),
    # German
    *("telefon", "telefonnummer", "handy", "handynummer", "mobil", "mobilnummer"),
    *("mobiltelefon", "rufnummer", "festnetz", "durchwahl"),
    # Spanish
    *("teléfono", "telefono", "tlf", "tfno", "móvil", "movil", "celular", "cel"),
)
"""Words that name a phone number as a key (`phone`, `contact_phone`, `phoneNumber`), lower case."""

PHONE_CONTEXT_WORDS = (
    *PHONE_FIELD_WORDS,
    # English
    *("call", "calls", "called", "calling", "phoned", "text me", "txt me", "ring me", "dial"),
    *("my number", "our number", "your number", "reach me", "reach us", "contact"),
    # French
    *("appel", "appeler", "appelez", "appelle", "appelles", "rappeler", "rappelez", "rappelle"),
    *("téléphoner", "joindre", "joignable", "mon numéro", "mon numero", "notre numéro"),
    # German
    *("telefonisch", "anrufen", "ruf", "rufen", "erreichbar", "meine nummer", "unsere nummer"),
    # Spanish
    *("llamar", "llámame", "llamame", "llame", "llámeme", "llamada", "mi número", "mi numero"),
)
"""Words after which a national phone number (no country code) is redacted, lower case."""

_NUMBER_WORD = "(?:numbers?|num|no|nr|nummer|numero|número)"
_CONTEXT_ALTERNATION = "|".join(
    re.escape(word).replace(r"\ ", "[ \t]+")
    for word in sorted(set(PHONE_CONTEXT_WORDS), key=lambda w: (-len(w), w))
)
_CAMEL_ALTERNATION = "|".join(
    word.capitalize()
    for word in sorted(set(PHONE_FIELD_WORDS), key=lambda w: (-len(w), w))
    if word.isascii()
)
PHONE_CONTEXT = (
    rf"(?:\b|_)(?:{_CONTEXT_ALTERNATION})(?:[_-]?{_NUMBER_WORD}|[0-9])?(?:\b|_)"
    rf"|(?-i:[a-z][a-z0-9](?:{_CAMEL_ALTERNATION}))(?:{_NUMBER_WORD}|[0-9])?(?:\b|_)"
)
"""A regex (RE2 and Python syntax, to be used case-insensitively) matching a context word,
as a word ("Tel.", "text me") or in an identifier ("contact_phone", "phoneNumber")."""
PHONE_CONTEXT_WINDOW = 40
"""At most this many characters (on the same line) between the context word and the number."""

# Unicode case folding ("TÉLÉPHONE"), on the text as written (camelCase keys).
_CONTEXT_WORDS = re.compile(PHONE_CONTEXT, re.IGNORECASE)
_CALL = re.compile(r"_?call(?:s|ed|ing)?_?")
# "call" is a verb before these ("call me", "call back", "call at"); a noun otherwise
# ("call id", "call stack", "a call about"), and then it announces no phone number.
_CALL_FOLLOWERS = frozenset(
    (
        *("me", "us", "him", "her", "them", "you", "back", "at", "on", "from", "now"),
        *("today", "tonight", "tomorrow", "anytime", "directly", "my", "our", "his", "their"),
        "your",
    )
)
# Between a phone word and a number, these say the number is something else: "text me the
# order number 0045…", "a call about invoice 2024…", "call stack depth 128…".
_OTHER_NUMBERS = frozenset(
    (
        # English
        *("id", "ids", "identifier", "invoice", "order", "orders", "ticket", "ref", "case"),
        *("reference", "tracking", "booking", "reservation", "confirmation", "account"),
        *("stack", "depth", "date", "dates", "day", "days", "year", "years", "meeting"),
        *("flight", "flights", "room", "time", "times", "duration", "minutes", "seconds"),
        *("hours", "count", "volume", "version", "build", "price", "amount", "total"),
        *("cost", "code", "pin", "otp", "serial", "sku", "part", "batch", "record", "center"),
        *("centre", "queue", "log", "logs", "history", "score", "tour", "level", "step"),
        *("social", "security", "ssn", "insurance", "tax", "passport", "license", "licence"),
        *("vat", "iban", "card", "bank", "routing", "swift", "bic"),
        # French
        *("commande", "facture", "réf", "référence", "dossier", "billet", "vol", "réunion"),
        *("durée", "identifiant", "compte", "heure", "heures", "sécurité", "carte"),
        # German
        *("bestellung", "bestellnummer", "rechnung", "rechnungsnummer", "auftrag", "datum"),
        *("termin", "flug", "besprechung", "kundennummer", "vorgang", "dauer", "konto"),
        *("karte", "kartennummer", "sozialversicherungsnummer", "steuernummer"),
        # Spanish
        *("pedido", "factura", "referencia", "fecha", "fechas", "vuelo", "reunión"),
        *("duración", "cuenta", "expediente", "hora", "horas", "seguro", "tarjeta"),
    )
)
_GAP_WORDS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?][ \t]+[A-Z]")


def _announced(text: str, start: int) -> bool:
    """Whether a phone word shortly before `start` announces a phone number there.

    The nearest word on the same line and in the same sentence, at most PHONE_CONTEXT_WINDOW
    characters before, counts ("call" only as a verb), unless a word between it and the
    number says the number is something else (an order, a date, an id...).
    """
    window_start = max(0, start - PHONE_CONTEXT_WINDOW - 24)
    line_start = text.rfind("\n", window_start, start) + 1
    window = text[max(window_start, line_start) : start]
    for word in reversed(list(_CONTEXT_WORDS.finditer(window))):
        gap = window[word.end() :]
        if len(gap) > PHONE_CONTEXT_WINDOW or _SENTENCE_END.search(gap) is not None:
            return False
        if _CALL.fullmatch(word.group().lower()) is not None and not _called(gap):
            continue  # a noun: an earlier word may still announce the number
        words = _GAP_WORDS.findall(gap.lower())
        return not any(found in _OTHER_NUMBERS for found in words)
    return False


def _called(gap: str) -> bool:
    """Whether "call" followed by `gap` is the verb: "call me on", "call Jane at", "call 555…"."""
    words = _GAP_WORDS.findall(gap)
    if not words:
        return True
    return words[0].lower() in _CALL_FOLLOWERS or words[-1].lower() in ("at", "on")


# Keys that hold a phone number in messaging tools' arguments and results ({"to": ...}),
# whole keys only: as parts of names they mean anything.
_ENDPOINT_KEYS = "to|from|recipient|sender|caller|callee"
_FIELD_ALTERNATION = "|".join(sorted(set(PHONE_FIELD_WORDS), key=lambda w: (-len(w), w)))
_PHONE_FIELD = re.compile(
    r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))"  # a word's start, or a camelCase hump
    rf"(?i:{_FIELD_ALTERNATION})(?:[_ .-]?(?i:{_NUMBER_WORD}))?[_ .-]?[0-9]{{0,3}}\Z"
    rf"|\A(?i:{_ENDPOINT_KEYS})\Z"
)
PHONE_FIELD_STEM = (
    rf'(?i:{_FIELD_ALTERNATION})[^"\\]*"[ \t\r\n]*:|"(?i:{_ENDPOINT_KEYS})"[ \t\r\n]*:'
)
"""A regex (RE2 and Python) matching in JSON text wherever an object has a key
`is_phone_field` accepts (a phone word then the key's end, or a whole "to", "from"...)."""


def is_phone_field(field: str) -> bool:
    """Whether a key names a phone number ("phone", "contact_phone", "phoneNumber", "Handy").

    So do the whole keys "to", "from", "recipient", "sender", "caller" and "callee", which
    hold one in messaging tools (a date or an amount under them does not have its shape).
    """
    return _PHONE_FIELD.search(field) is not None


# --- checks -----------------------------------------------------------------------------

_DIGIT_GROUPS = re.compile("[0-9]+")
_EXTENSION = re.compile(r"(?:x|[ ]?ext\.?[ ]?)[0-9]*$")
_DATE_GROUPS = re.compile(
    r"[0-9]{4}([-./])[0-9]{1,2}\1[0-9]{1,2}|[0-9]{1,2}([-./])[0-9]{1,2}\2[0-9]{4}"
)
_GLUE = "_#@$\u20ac\u00a3\u00a5"  # a number right after these is an id or an amount


def _glued(text: str, start: int) -> bool:
    """Whether the match is the tail of an identifier, amount, version or time."""
    if not start:
        return False
    before = text[start - 1]
    if before.isalnum() or before in _GLUE:
        return True
    if start < 2:
        return False
    # "ORD-2024-…", "v1.0049…", "x/0151…", "10:0044…" are joined to what comes before;
    # "Tel:0151…" is not.
    previous = text[start - 2]
    if before in " -./," and previous.isdigit():
        return True  # the middle of a longer run of digit groups: "DE89 3704 0044 0532 …"
    return (before in "-./," and previous.isalnum()) or (before == ":" and previous.isdigit())


def _digits_after_match(match: re.Match[str]) -> bool:
    """Whether the match stops inside a longer word or number, or before a time's minutes."""
    text, end = match.string, match.end()
    if end < len(text) and text[end].isalnum():
        return True
    return text[end : end + 1] == ":" and text[end + 1 : end + 2].isdigit()


def _digits(value: str) -> str:
    """The digits of a phone number, without its extension or a "(0)" trunk prefix."""
    return _NON_DIGITS.sub("", _EXTENSION.sub("", value).replace("(0)", ""))


def phone_international(match: re.Match[str]) -> bool:
    """+CC numbers: not arithmetic ("3+4 567 8901"), a country code and its number's length."""
    text, start = match.string, match.start()
    if start and (text[start - 1].isalnum() or text[start - 1] == ")"):
        return False
    return country_number_valid(_digits(match.group()))


def phone_double_zero(match: re.Match[str]) -> bool:
    """00CC numbers: grouped, not glued to an id nor labelled as one, a country code."""
    text, start = match.string, match.start()
    if _glued(text, start) or _digits_after_match(match) or labelled_as_id(text, start):
        return False
    return country_number_valid(_digits(match.group())[2:])


def phone_national(match: re.Match[str]) -> bool:
    """A national number shortly after a phone word ("call me", "Tel.", "Handy"...).

    Its digits fit a national plan (France's ten digits in pairs, a trunk 0 and an area code
    elsewhere in Europe, North America's 3-3-4, Spain's nine digits), it is not glued to an
    identifier, and no word between the phone word and it says it is something else.
    """
    text, start, value = match.string, match.start(), _EXTENSION.sub("", match.group())
    if _glued(text, start) or _digits_after_match(match):
        return False
    if ("(" in value) != (")" in value):
        return False  # "(" only opens an area code: "(030) 1234567"
    digits = _digits(value)
    if len(digits) < 7:
        return False
    if digits.startswith("00"):  # an international number run together: "Tel. 0044207…"
        if not country_number_valid(digits[2:]):
            return False
    elif not national_plan(value, digits):
        return False
    return _announced(text, start)


def national_plan(value: str, digits: str) -> bool:
    """Whether digit groups (`value`, its `digits`) are written as a national number is."""
    lengths = tuple(len(group) for group in _DIGIT_GROUPS.findall(value))
    if len(lengths) > 1:
        if _DATE_GROUPS.match(value):
            return False  # a date, maybe with the hour after it
        if len(lengths) == 2 and "." in value and " " not in value:
            return False  # a decimal: "3.14159265"
    if digits[0] == "0":
        return _trunk_plan(digits, lengths)
    return _north_american_plan(digits, lengths) or _spanish_plan(digits, lengths)


def _trunk_plan(digits: str, lengths: tuple[int, ...]) -> bool:
    # France: ten digits in pairs; elsewhere in Europe (Germany, the UK, Italy...) a trunk 0
    # and an area code of 2-6 digits, then one to three groups of the subscriber's number.
    if len(digits) < 9 or digits[1] == "0":
        return False
    if len(digits) == 10 and lengths in ((10,), (2, 2, 2, 2, 2)):
        return True
    if len(digits) > 13:
        return False
    if len(lengths) == 1:
        return True
    return 2 <= lengths[0] <= 6 and len(lengths) <= 4 and min(lengths[1:]) >= 2


def _north_american_plan(digits: str, lengths: tuple[int, ...]) -> bool:
    # 3-3-4 with area and exchange codes starting 2-9, maybe after a 1; or a local 3-4.
    if len(digits) == 11 and digits[0] == "1" and lengths in ((11,), (1, 3, 3, 4)):
        digits = digits[1:]
    elif len(digits) == 7 and lengths == (3, 4):
        return digits[0] >= "2"
    elif not (len(digits) == 10 and lengths in ((10,), (3, 3, 4))):
        return False
    return digits[0] >= "2" and digits[3] >= "2"


def _spanish_plan(digits: str, lengths: tuple[int, ...]) -> bool:
    # Nine digits starting 6-9: 612 34 56 78, 612 345 678, 91 123 45 67.
    return (
        len(digits) == 9
        and digits[0] in "6789"
        and lengths in ((9,), (3, 3, 3), (3, 2, 2, 2), (2, 3, 2, 2))
    )
