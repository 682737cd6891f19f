"""The detectors' Python validators: checksums, number plans and the text around a match."""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import re
from collections.abc import Callable

try:  # google-re2 finds many words in one linear pass; `re` tries each word at each place
    import re2
except ImportError:  # pragma: no cover - a platform without google-re2's wheels
    re2 = None

Check = Callable[["re.Match[str]"], bool]
"""Confirms a regex match (checksum, number ranges, surrounding text); Python-only."""

_NON_DIGITS = re.compile(r"[^0-9]")


# --- cards, SSNs, IBANs -----------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum used by payment cards."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def payment_card(match: re.Match[str]) -> bool:
    """13-19 digits (13 only for old Visa cards) passing Luhn."""
    digits = _NON_DIGITS.sub("", match.group())
    if not 13 <= len(digits) <= 19:
        return False
    if len(digits) == 13 and digits[0] != "4":
        return False
    return luhn_valid(digits)


def us_ssn(match: re.Match[str]) -> bool:
    """Area, group and serial numbers the SSA can issue."""
    area, group, serial = match.group().split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


# Lengths from the SWIFT IBAN registry; a known country with the wrong length is not an IBAN.
_IBAN_LENGTH_TEXT = (
    "AD:24 AE:23 AL:28 AT:20 AZ:28 BA:20 BE:16 BG:22 BH:22 BI:27 BR:29 BY:28 CH:21 CR:22 "
    "CY:28 CZ:24 DE:22 DJ:27 DK:18 DO:28 EE:20 EG:29 ES:24 FI:18 FK:18 FO:18 FR:27 GB:22 "
    "GE:22 GI:23 GL:18 GR:27 GT:28 HN:28 HR:21 HU:28 IE:22 IL:23 IQ:23 IS:26 IT:27 JO:30 "
    "KW:30 KZ:20 LB:28 LC:32 LI:21 LT:20 LU:20 LV:21 LY:25 MC:27 MD:24 ME:22 MK:19 MN:20 "
    "MR:27 MT:31 MU:30 NI:28 NL:18 NO:15 OM:23 PK:24 PL:28 PS:29 PT:25 QA:29 RO:24 RS:22 "
    "RU:33 SA:24 SC:31 SD:18 SE:24 SI:19 SK:24 SM:27 SO:23 ST:25 SV:28 TL:23 TN:24 TR:26 "
    "UA:29 VA:22 VG:24 XK:20 YE:30"
)
_IBAN_LENGTHS = dict(item.split(":") for item in _IBAN_LENGTH_TEXT.split())


def iban_valid(value: str) -> bool:
    """Whether a string (spaces allowed) is an IBAN: known length for its country, mod-97 = 1."""
    compact = value.replace(" ", "")
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != int(expected):
        return False
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def iban(match: re.Match[str]) -> bool:
    """The match is a valid IBAN."""
    return iban_valid(match.group())


# --- phone numbers ----------------------------------------------------------------------

_CC2_TEXT = (
    "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98"
)
_CC3_ZONES_TEXT = "21 22 23 24 25 26 29 35 37 38 42 50 59 67 68 69 80 85 87 88 96 97 99"
# E.164 country codes are prefix-free: one digit (1, 7), two digits (these), or three digits
# starting with one of the two-digit zones below that are not codes themselves.
_CC2 = frozenset(_CC2_TEXT.split())
_CC3_ZONES = frozenset(_CC3_ZONES_TEXT.split())

PHONE_CONTEXT_WORDS = (
    # English
    *("call", "calls", "called", "calling", "phone", "phones", "phoned", "telephone", "tel"),
    *("mobile", "mob", "cell", "cellphone", "text me", "txt me", "sms", "whatsapp", "fax"),
    *("ring me", "dial", "landline", "hotline"),
    # French
    *("appel", "appeler", "appelez", "appelle", "appelles", "rappeler", "rappelez", "rappelle"),
    *("téléphone", "telephone", "téléphoner", "tél", "portable", "joindre", "joignable"),
    # German
    *("telefon", "telefonnummer", "telefonisch", "handy", "handynummer", "mobil", "mobilnummer"),
    *("mobiltelefon", "anrufen", "ruf", "rufen", "rufnummer", "festnetz", "erreichbar"),
    *("durchwahl",),
    # Spanish
    *("llamar", "llámame", "llamame", "llame", "llámeme", "llamada", "teléfono"),
    *("telefono", "tlf", "tfno", "móvil", "movil", "celular", "cel"),
)
"""Words after which a national phone number (no country code) is redacted, lower case."""

_CONTEXT_ALTERNATION = "|".join(
    re.escape(word).replace(r"\ ", "[ \t]+")
    for word in sorted(set(PHONE_CONTEXT_WORDS), key=lambda w: (-len(w), w))
)
PHONE_CONTEXT = rf"\b(?:{_CONTEXT_ALTERNATION})\b"
"""A regex (lower case, RE2 and Python syntax) matching one of PHONE_CONTEXT_WORDS."""
PHONE_CONTEXT_WINDOW = 40
"""At most this many characters (on the same line) between the context word and the number."""

_DIGIT_GROUPS = re.compile("[0-9]+")
_EXTENSION = re.compile(r"(?:x|[ ]?ext\.?[ ]?)[0-9]+$")
_SENTENCE_END = re.compile(r"[.!?][ \t]+[A-Z]")
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


def _country_code_valid(digits: str) -> bool:
    """Whether `digits` (a number without + or 00) starts with an E.164 country code.

    For North America (+1) it must continue with 10 digits, area and exchange starting 2-9.
    """
    if digits[0] == "1":
        national = digits[1:]
        return len(national) == 10 and national[0] >= "2" and national[3] >= "2"
    if digits[0] == "7" or digits[:2] in _CC2:
        return True
    return digits[:2] in _CC3_ZONES


def _number(value: str) -> str:
    """A phone number without its extension ("x123", " ext. 123")."""
    return _EXTENSION.sub("", value)


def phone_international(match: re.Match[str]) -> bool:
    """+CC numbers: not arithmetic ("3+4 567 8901"), 8-15 digits."""
    text, start = match.string, match.start()
    if start and (text[start - 1].isalnum() or text[start - 1] == ")"):
        return False
    return 8 <= len(_NON_DIGITS.sub("", _number(match.group()))) <= 15


def phone_double_zero(match: re.Match[str]) -> bool:
    """00CC numbers: grouped, not glued to an id, a country code, 8-15 digits after the 00."""
    if _glued(match.string, match.start()) or _digits_after_match(match):
        return False
    digits = _NON_DIGITS.sub("", _number(match.group()))[2:]
    return 8 <= len(digits) <= 15 and _country_code_valid(digits)


def phone_national(match: re.Match[str]) -> bool:
    """A national number shortly after a phone context word ("call", "Tel.", "Handy"...).

    The number has 7-13 digits, is not glued to an identifier, a date or a decimal, and a
    single run of digits has the shape of a national number (a trunk 0, or 10 digits of the
    North American plan), so timestamps and order numbers after "call" stay.
    """
    text, start, value = match.string, match.start(), _number(match.group())
    if _glued(text, start) or _digits_after_match(match):
        return False
    if ("(" in value) != (")" in value):
        return False  # "(" only opens an area code: "(030) 1234567"
    digits = _NON_DIGITS.sub("", value)
    if digits.startswith("00"):  # an international number run together: "Tel. 0044207…"
        if not (8 <= len(digits) - 2 <= 15 and _country_code_valid(digits[2:])):
            return False
    elif not (7 <= len(digits) <= 13 and _national_shape(value, digits)):
        return False
    return _after_context(text, start)


def _national_shape(value: str, digits: str) -> bool:
    groups = _DIGIT_GROUPS.findall(value)
    if len(groups) == 1:
        # One run: a trunk prefix 0 (Europe), or area and exchange codes 2-9 (North America).
        if digits[0] == "0":
            return 9 <= len(digits) <= 12
        return len(digits) == 10 and digits[0] >= "2" and digits[3] >= "2"
    if _DATE_GROUPS.match(value):
        return False  # a date, maybe with the hour after it
    if len(groups) == 2 and "." in value and " " not in value:
        return False  # a decimal: "3.14159265"
    if len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:]):
        # Thousands ("1 234 567") unless a trunk 0 or a Spanish 9-digit number ("612 345 678").
        return digits[0] == "0" or (len(digits) == 9 and digits[0] in "6789")
    # A group of more than five digits ends a number with a trunk prefix ("0151 12345678");
    # elsewhere it is an id ("2024-000123").
    long_groups = [index for index, group in enumerate(groups) if len(group) > 5]
    return not long_groups or (long_groups == [len(groups) - 1] and digits[0] == "0")


def _after_context(text: str, start: int) -> bool:
    window_start = max(0, start - PHONE_CONTEXT_WINDOW - 20)
    line_start = text.rfind("\n", window_start, start) + 1
    window = text[max(window_start, line_start) : start]
    words = _context_words(window)
    if not words:
        return False
    gap = window[words[-1] :]  # the nearest context word counts
    return len(gap) <= PHONE_CONTEXT_WINDOW and _SENTENCE_END.search(gap) is None


def word_finder(pattern: str) -> Callable[[str], list[int]]:
    """A function giving the end of each (case-insensitive) match of `pattern` in a text."""
    if re2 is not None:
        try:
            compiled = re2.compile(f"(?i:{pattern})")
        except re2.error:  # pragma: no cover - every context regex is in the RE2 subset
            pass
        else:
            return functools.partial(_word_ends, compiled)
    # `re` folds ASCII only here (so offsets stay those of the text), and is much slower.
    fallback = re.compile(pattern, re.ASCII | re.IGNORECASE)
    return lambda text: [match.end() for match in fallback.finditer(text)]


def _word_ends(compiled: re2._Regexp, text: str) -> list[int]:
    if not text.isascii():  # the wrapper maps UTF-8 offsets back to characters
        return [match.end() for match in compiled.finditer(text)]
    # Byte offsets are character offsets: call RE2 directly, without a match object each.
    data, ends, pos = text.encode(), [], 0
    search, unanchored = compiled._regexp.Match, re2._Anchor.UNANCHORED
    while (span := search(unanchored, data, pos, len(data))[0])[0] >= 0:
        ends.append(span[1])
        pos = max(span[1], pos + 1)
    return ends


_context_words = word_finder(PHONE_CONTEXT)


# --- addresses --------------------------------------------------------------------------

_VERSION_BEFORE = re.compile(r"(?i:\bv|\bversion|\bver|\brelease|\bbuild)[ :=]{0,2}$")


def ipv4(match: re.Match[str]) -> bool:
    """Octets 0-255 without leading zeros, not part of a longer dotted number or a version."""
    text, start, end = match.string, match.start(), match.end()
    # Part of a longer dotted number (an OID, a 5-part version) or announced as a version:
    # "1.2.3.4" alone is indistinguishable from an address and is redacted.
    if start >= 2 and text[start - 1] == "." and text[start - 2].isdigit():
        return False
    if text[end : end + 1] == "." and text[end + 1 : end + 2].isdigit():
        return False
    if _VERSION_BEFORE.search(text, max(0, start - 10), start) is not None:
        return False
    return _parses(ipaddress.IPv4Address, match.group())


def ipv6(match: re.Match[str]) -> bool:
    """A parseable IPv6 address that is not a C++ scope ("std::add") or part of a longer run."""
    text, start, end = match.string, match.start(), match.end()
    if start and (text[start - 1].isalnum() or text[start - 1] in "_:"):
        return False
    if text[end : end + 1] == ":":
        return False  # "dead::beef::1": a prefix of something that is not an address
    return _parses(ipaddress.IPv6Address, match.group())


def _parses(address: Callable[[str], object], value: str) -> bool:
    try:
        address(value)
    except ValueError:
        return False
    return True


_AUTHORITY_END = re.compile(r"[/?# \t\r\n]")


def email(match: re.Match[str]) -> bool:
    """Not the password of a URL's userinfo ("postgres://user:p@ss@host")."""
    text, start = match.string, match.start()
    scheme = text.rfind("://", max(0, start - 300), start)
    if scheme == -1:
        return True
    userinfo = text[scheme + 3 : start]
    return ":" not in userinfo or _AUTHORITY_END.search(userinfo) is not None


# Scripts written without spaces: an address glued to such text would swallow its words.
_UNSPACED = re.compile("[\u0e00-\u0e7f\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3]")
_ASCII_ALNUM = re.compile("[A-Za-z0-9]")


def international_email(match: re.Match[str]) -> bool:
    """An address with non-ASCII characters (ASCII ones are the ASCII detector's).

    Its local part and top-level domain do not mix an unspaced script (CJK, Thai) with ASCII
    letters: there the address is ASCII and glued to the words around it.
    """
    value = match.group()
    if value.isascii():
        return False
    local, _, domain = value.partition("@")
    for part in (local, domain.rpartition(".")[2]):
        if _UNSPACED.search(part) and _ASCII_ALNUM.search(part):
            return False
    return email(match)


# --- credentials ------------------------------------------------------------------------


def has_digit(match: re.Match[str]) -> bool:
    """Random keys have digits; "sk-learn-style-hyphenated-words" do not."""
    return any(char.isdigit() for char in match.group())


def _opaque(token: str) -> bool:
    has_digit = any(char.isdigit() for char in token)
    return has_digit or (len(token) >= 16 and not token.islower() and not token.isupper())


def opaque_token(match: re.Match[str]) -> bool:
    """Group 1 looks generated: digits or mixed case ("the bearer of ..." is prose)."""
    return _opaque(match.group(1))


_GENERIC_NAMES = frozenset(("token", "secret", "signature", "key", "sig", "auth", "pass", "pw"))
_LABEL_NAME = re.compile(r"[?&]?([A-Za-z_.-]+)")
_NOT_VALUES = frozenset(
    (
        *("none", "null", "undefined", "true", "false", "required", "optional", "string"),
        *("str", "bytes", "number", "integer", "boolean", "object", "secretstr", "changeme"),
        *("placeholder", "redacted", "example", "password", "secret", "token"),
    )
)


def labelled_value(match: re.Match[str]) -> bool:
    """The value after a credential's name looks like one, not like code or a placeholder.

    After a name that says what it is (`api_key`, `access_token`, `client_secret`) any value
    counts but a name from code (`config.api_key`, `get_key`, `YOUR_API_KEY`), a type, a call or
    a placeholder; after a generic one (`token`, `secret`, `?key=`) only a generated-looking
    value (digits, or mixed case) counts, and never a number ("max_token=4096").
    """
    value = match.group(1)
    if value.isdigit() or not any(char.isalpha() for char in value):
        return False
    name = _LABEL_NAME.match(match.group())
    if name is not None and name.group(1).lower() in _GENERIC_NAMES:
        return _opaque(value)
    if _opaque(value) and any(char.isdigit() for char in value):
        return True
    text, end = match.string, match.end()
    if text[end : end + 1] in ("(", "[") or value.lower() in _NOT_VALUES:
        return False  # a call, a type ("api_key: Optional[str]"), a placeholder
    if "_" in value or "." in value or value.isupper():
        return False  # a name from code or a constant's name
    return len(set(value.lower())) > 2  # not "xxxxxxxx"


_AUTHORIZATION_BEFORE = re.compile(r"authorization[\"']?[ \t]*[:=][ \t]*[\"']?$")


def basic_credentials(match: re.Match[str]) -> bool:
    """`Basic <base64>` decodes to "user:password" (RFC 7617).

    Or it follows an Authorization label and looks generated (some APIs send a bare key).
    """
    value = match.group(1)
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if ":" in decoded and decoded.isprintable():
        return True
    text, start = match.string, match.start()
    before = text[max(0, start - 40) : start].lower()
    return _AUTHORIZATION_BEFORE.search(before) is not None and _opaque(value)
