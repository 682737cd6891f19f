"""The built-in detectors: a linear-time regex in the RE2 subset plus a Python validator each."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from otel_llm.semconv.attributes.otel_llm import OtelLlmRedactionKindValues as _Kind

EMAIL = _Kind.EMAIL.value
PHONE = _Kind.PHONE.value
PAYMENT_CARD = _Kind.PAYMENT_CARD.value
US_SSN = _Kind.US_SSN.value
IBAN = _Kind.IBAN.value
IP_ADDRESS = _Kind.IP_ADDRESS.value
SECRET = _Kind.SECRET.value
CUSTOM = _Kind.CUSTOM.value
FAILED = _Kind.FAILED.value

Check = Callable[["re.Match[str]"], bool]
"""Confirms a regex match (checksum, number ranges, surrounding text); Python-only."""

_DIGITS = tuple("0123456789")
_NON_DIGITS = re.compile(r"[^0-9]")
_REDACTED_PREFIX = "[REDACTED:"


@dataclass(frozen=True)
class Detector:
    """One kind of sensitive value: a regex to find candidates and a check to confirm them.

    Every pattern is written in the subset Python's `re` and RE2 share (no backreferences, no
    lookarounds) and has only bounded or non-overlapping repetition, so a scan is linear in the
    text even on Python's backtracking engine.
    """

    name: str
    kind: str
    pattern: str
    """The regex, compiled with re.ASCII so that \\b and classes mean what they mean in RE2."""
    check: Check | None = None
    """Python-only confirmation; None accepts every match. The collector cannot run it."""
    group: int = 0
    """The group holding the value to redact (0: the whole match; -1: the last one matched)."""
    word_start: bool = False
    """Matches start at a word boundary: RE2 gets a leading \\b, Python checks it itself (so
    `re` can skip ahead to the pattern's first character class instead of trying everywhere)."""
    anchors: tuple[str, ...] = ()
    """Literals one of which every match contains, starting at most `anchor_back` characters
    into the match (and not earlier in it): Python tries match starts only near them, which
    beats a scan when the anchor is rarer than the pattern's possible first characters."""
    anchor_back: int = 0
    fold: bool = False
    """Anchors and hints are lower case and looked for in the lower-cased text."""
    hints: tuple[str, ...] = ()
    """Substrings of which one must occur for an unanchored scan to be worth running. (A
    pattern that starts with a literal needs no anchor: `re` already searches for it.)"""
    trim: bool = False
    """When the check fails, retry with trailing space/dash-separated groups dropped."""
    extend: str | None = None
    """Python-only regex continuing a match past the RE2 repetition limit of 1000."""
    re2_pattern: str | None = None
    """The collector's pattern when it differs (unbounded where Python needs a bound)."""

    @property
    def re2(self) -> str:
        """The pattern for the OpenTelemetry Collector (RE2 syntax, no validator)."""
        if self.re2_pattern is not None:
            return self.re2_pattern
        return rf"\b(?:{self.pattern})" if self.word_start else self.pattern


def _is_word(char: str) -> bool:
    # What \b means under re.ASCII and in RE2.
    return char.isascii() and (char.isalnum() or char == "_")


class Scanner:
    """A detector compiled once, yielding the spans of its confirmed findings in a text."""

    __slots__ = ("anchor", "detector", "extend", "fold", "hints", "kind", "regex")

    def __init__(self, detector: Detector, flags: int = re.ASCII) -> None:
        self.detector = detector
        self.kind = detector.kind
        self.regex = re.compile(detector.pattern, flags)
        anchors = "|".join(re.escape(anchor) for anchor in detector.anchors)
        self.anchor = re.compile(anchors) if anchors else None
        self.extend = re.compile(detector.extend, re.ASCII) if detector.extend else None
        self.hints = detector.hints
        self.fold = detector.fold

    def next_match(self, text: str, pos: int, lowered: str | None = None) -> re.Match[str] | None:
        """The leftmost regex match at or after `pos` (before checks), as RE2 would find it.

        `lowered` is `text.lower()`, needed by folded anchors.
        """
        if self.anchor is not None:
            haystack = lowered if self.fold else text
            if haystack is not None and len(haystack) == len(text):
                return self._near_anchors(self.anchor, text, haystack, pos)
        search, word_start = self.regex.search, self.detector.word_start
        while (match := search(text, pos)) is not None:
            start = match.start()
            if word_start and start and _is_word(text[start - 1]):
                pos = start + 1
                continue
            return match
        return None

    def _near_anchors(
        self, anchor: re.Pattern[str], text: str, haystack: str, pos: int
    ) -> re.Match[str] | None:
        # A match's first anchor occurrence is the one it is built around, so the starts worth
        # trying for an occurrence at `at` lie after the previous occurrence and at most
        # `anchor_back` before `at`; the previous occurrence's starts are then never retried.
        back, match, find = self.detector.anchor_back, self.regex.match, anchor.search
        word_start = self.detector.word_start
        while (hit := find(haystack, pos)) is not None:
            at = hit.start()
            for start in range(max(pos, at - back), at + 1):
                if word_start and start and _is_word(text[start - 1]):
                    continue
                if (found := match(text, start)) is not None:
                    return found
            pos = at + 1
        return None

    def spans(self, text: str, lowered: str | None = None) -> Iterator[tuple[int, int]]:
        """The (start, end) of each confirmed finding, left to right, never overlapping."""
        group = self.detector.group
        pos = 0
        while (match := self.next_match(text, pos, lowered)) is not None:
            pos = match.end()
            if pos == match.start():  # a user pattern that matches the empty string
                pos += 1
                continue
            confirmed = self._confirm(match)
            if confirmed is None:
                continue
            start, end = confirmed.span((confirmed.lastindex or 0) if group < 0 else group)
            if start == end or text.startswith(_REDACTED_PREFIX, start):
                continue  # already redacted (the processor may see a value twice)
            if self.extend is not None and end == confirmed.end():
                more = self.extend.match(text, end)
                if more is not None:
                    end = more.end()
            pos = max(pos, end)
            yield start, end

    def _confirm(self, match: re.Match[str]) -> re.Match[str] | None:
        check = self.detector.check
        if check is None or check(match):
            return match
        if not self.detector.trim:
            return None
        # "4111 1111 1111 1111 123": the greedy match took the trailing group; drop groups until
        # the check passes, so a card followed by a CVV or a year is still found.
        text, start, cut = match.string, match.start(), match.end()
        while (cut := max(text.rfind(" ", start, cut), text.rfind("-", start, cut))) > start:
            shorter = self.regex.fullmatch(text, start, cut)
            if shorter is not None and check(shorter):
                return shorter
        return None


# --- validators -------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum used by payment cards."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _payment_card(match: re.Match[str]) -> bool:
    digits = _NON_DIGITS.sub("", match.group())
    if not 13 <= len(digits) <= 19:
        return False
    if len(digits) == 13 and digits[0] != "4":  # only old Visa cards have 13 digits
        return False
    return luhn_valid(digits)


def _us_ssn(match: re.Match[str]) -> bool:
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


def _iban(match: re.Match[str]) -> bool:
    return iban_valid(match.group())


def _phone_international(match: re.Match[str]) -> bool:
    text, start = match.string, match.start()
    if start and (text[start - 1].isalnum() or text[start - 1] == ")"):
        return False  # "3+4 567 8901" is arithmetic, not a number to call
    return 8 <= len(_NON_DIGITS.sub("", match.group())) <= 15


_VERSION_BEFORE = re.compile(r"(?i:\bv|\bversion|\bver|\brelease|\bbuild)[ :=]{0,2}$")


def _ipv4(match: re.Match[str]) -> bool:
    text, start, end = match.string, match.start(), match.end()
    # Part of a longer dotted number (an OID, a 5-part version) or announced as a version:
    # "1.2.3.4" alone is indistinguishable from an address and is redacted.
    if start >= 2 and text[start - 1] == "." and text[start - 2].isdigit():
        return False
    if text[end : end + 1] == "." and text[end + 1 : end + 2].isdigit():
        return False
    if _VERSION_BEFORE.search(text, max(0, start - 10), start) is not None:
        return False
    return _parses(ipaddress.IPv4Address, match.group())  # octets 0-255, no leading zeros


def _ipv6(match: re.Match[str]) -> bool:
    text, start, end = match.string, match.start(), match.end()
    if start and (text[start - 1].isalnum() or text[start - 1] in "_:"):
        return False  # "std::add" or the tail of a longer hex run
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


def _email(match: re.Match[str]) -> bool:
    # In "postgres://user:p@ss@db.example.com" the password detector owns "p@ss"; what follows
    # the userinfo colon only looks like an address.
    text, start = match.string, match.start()
    scheme = text.rfind("://", max(0, start - 300), start)
    if scheme == -1:
        return True
    userinfo = text[scheme + 3 : start]
    return ":" not in userinfo or _AUTHORITY_END.search(userinfo) is not None


def _has_digit(match: re.Match[str]) -> bool:
    return any(char.isdigit() for char in match.group())


def _opaque_token(match: re.Match[str]) -> bool:
    # "the bearer of ...", "bearer instruments": a credential has digits or mixed case.
    token = match.group(1)
    has_digit = any(char.isdigit() for char in token)
    return has_digit or (len(token) >= 16 and not token.islower() and not token.isupper())


# --- patterns ---------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_HEX = r"[0-9A-Fa-f]{1,4}"
_IPV6_TAIL = rf"(?:{_HEX}:){{0,5}}(?:{_IPV4}|{_HEX})\b"
_KEY_BODY = r"[A-Za-z0-9_-]"
_B64URL = r"[A-Za-z0-9_-]"
_BEARER = r"[A-Za-z0-9._~+/=-]"


def _key(name: str, pattern: str, *anchors: str, check: Check | None = None) -> Detector:
    # A credential that starts with a fixed prefix, which is also its anchor.
    return Detector(name, SECRET, pattern, check=check, anchors=anchors)


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "email",
        EMAIL,
        r"\b[A-Za-z0-9_][A-Za-z0-9_.%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b",
        check=_email,
        anchors=("@",),
        anchor_back=64,
    ),
    Detector(
        "phone_international",
        PHONE,
        # +CC then groups split by one separator, or a parenthesised trunk/area code.
        r"\+[1-9][0-9]{0,14}(?:[ .-]?\([0-9]{1,4}\)[ .-]?[0-9]{1,14}|[ .-][0-9]{1,14}){0,6}",
        check=_phone_international,
        hints=("+",),
    ),
    Detector(
        "phone_nanp_parenthesised",
        PHONE,
        r"\([2-9][0-9]{2}\)[ .-]?[2-9][0-9]{2}[ .-][0-9]{4}\b",  # (415) 555-0132
        hints=("(",),
    ),
    Detector(
        "phone_nanp",
        PHONE,
        # 415-555-0132, 415.555.0132, 415 555 0132: area and exchange codes start 2-9.
        r"[2-9][0-9]{2}[ .-][2-9][0-9]{2}[ .-][0-9]{4}\b",
        word_start=True,
        hints=_DIGITS,
    ),
    Detector(
        "payment_card",
        PAYMENT_CARD,
        # Issuer ranges start 2-6, which also keeps epoch-millisecond timestamps (1...) out.
        r"[2-6](?:[0-9]{12,18}\b|[0-9]{3}(?:[ -][0-9]{3,6}){2,4}\b)",
        check=_payment_card,
        word_start=True,
        hints=_DIGITS,
        trim=True,
    ),
    Detector(
        "us_ssn",
        US_SSN,
        r"[0-9][0-9]{2}-[0-9]{2}-[0-9]{4}\b",
        check=_us_ssn,
        word_start=True,
        hints=("-",),
    ),
    Detector(
        "iban",
        IBAN,
        r"[A-Z][A-Z][0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        check=_iban,
        word_start=True,
        hints=_DIGITS,
        trim=True,
    ),
    Detector(
        "ipv4",
        IP_ADDRESS,
        # Octets up to 999 here (a pattern that starts with a class scans fast); the check
        # enforces 0-255, so the collector's copy is broader.
        r"[0-9][0-9]{0,2}(?:\.[0-9]{1,3}){3}\b",
        check=_ipv4,
        word_start=True,
        hints=(".",),
    ),
    Detector(
        "ipv6",
        IP_ADDRESS,
        # The full form, or a compressed one with "::" after at least one group.
        rf"[0-9A-Fa-f][0-9A-Fa-f]{{0,3}}(?:(?::{_HEX}){{7}}\b|(?::{_HEX}){{0,6}}::(?:{_IPV6_TAIL})?)"
        r"(?:%[0-9A-Za-z]{1,15})?",
        check=_ipv6,
        word_start=True,
        # Its first ":" follows a hex digit within the first four characters (so JSON's ":"
        # after a closing quote is never tried).
        anchors=tuple(f"{digit}:" for digit in "0123456789abcdefABCDEF"),
        anchor_back=3,
    ),
    Detector(
        "ipv6_leading_colons",
        IP_ADDRESS,
        rf"::{_IPV6_TAIL}(?:%[0-9A-Za-z]{{1,15}})?",  # ::1, ::ffff:192.0.2.1
        check=_ipv6,
        hints=("::",),
    ),
    # Random keys have digits; "sk-learn-style-hyphenated-words" do not.
    _key(
        "openai_key",
        rf"\bsk-(?:proj-|svcacct-|admin-)?{_KEY_BODY}{{20,1000}}",
        "sk-",
        check=_has_digit,
    ),
    _key("anthropic_key", rf"\bsk-ant-{_KEY_BODY}{{20,1000}}", "sk-ant-"),
    _key(
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        "AKIA",
        "ASIA",
        "ABIA",
        "ACCA",
    ),
    Detector(
        "aws_secret_access_key",
        SECRET,
        # Forty base64 characters are only a secret next to their label.
        r"(?i:\b(?:aws[_ .-]?)?secret[_ .-]?access[_ .-]?key|\baws[_ .-]?secret[_ .-]?key)"
        r"[\"']?[ \t]{0,3}(?:=>|[:=]|is)[ \t]{0,3}[\"']?([A-Za-z0-9/+]{40})",
        group=1,
        anchors=("secret",),
        anchor_back=4,
        fold=True,
    ),
    _key(
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
        *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _key("slack_token", r"\bxox[abpr]-[A-Za-z0-9-]{10,250}", "xox"),
    Detector(
        "stripe_key",
        SECRET,
        r"\b(?:[rs]k_live|pk_live|[rs]k_test)_[A-Za-z0-9]{10,247}",
        anchors=("_live_", "_test_"),
        anchor_back=2,
    ),
    _key("google_api_key", r"\bAIza[A-Za-z0-9_-]{35}", "AIza"),
    Detector(
        "jwt",
        SECRET,
        rf"\beyJ{_B64URL}{{2,1000}}\.{_B64URL}{{2,1000}}(?:\.{_B64URL}{{0,1000}})?",
        anchors=("eyJ",),
        extend=rf"{_B64URL}*(?:\.{_B64URL}+)?",
        re2_pattern=rf"\beyJ{_B64URL}+\.{_B64URL}+(?:\.{_B64URL}*)?",
    ),
    Detector(
        "bearer_token",
        SECRET,
        rf"(?i:\bbearer)[ \t]{{1,4}}({_BEARER}{{8,1000}})",
        check=_opaque_token,
        group=1,
        anchors=("bearer",),
        fold=True,
        extend=f"{_BEARER}*",
        re2_pattern=rf"(?i:\bbearer)[ \t]+{_BEARER}{{8,}}",
    ),
    Detector(
        "private_key",
        SECRET,
        # Unbounded body: it cannot contain "-", so attempts start only at "-----BEGIN" and
        # never rescan each other's bodies; "\\" admits JSON-escaped newlines.
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\\\r\n\t ]*"
        r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?",
        hints=("-----BEGIN",),
    ),
    Detector(
        "url_password",
        SECRET,
        # scheme://user:password@host: only the password; "@" may occur in it (the last wins).
        r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^ \t\r\n:/?#@]{0,128}:([^ \t\r\n/?#]{1,128})@",
        group=1,
        anchors=("://",),
        anchor_back=21,
    ),
    Detector(
        "connection_string_password",
        SECRET,
        # The value inside quotes (spaces allowed), or up to ";" or whitespace.
        r"(?i:\b(?:password|passwd|pwd))(?:[ \t]{0,3}=|[\"'][ \t]{0,3}:)[ \t]{0,3}"
        r"(?:\"([^\"\r\n]{1,256})\"|'([^'\r\n]{1,256})'|([^;\"' \t\r\n]{1,256}))",
        group=-1,
        anchors=("passw", "pwd"),
        fold=True,
    ),
)
"""Every built-in detector, in scan order (overlaps are resolved afterwards, not by order)."""

DETECTOR_KINDS: frozenset[str] = frozenset(detector.kind for detector in DETECTORS)
"""The kinds a configuration may disable."""
