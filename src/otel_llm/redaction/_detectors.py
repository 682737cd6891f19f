"""The built-in detectors: a linear-time regex in the RE2 subset plus a Python validator each."""

from __future__ import annotations

from otel_llm.redaction import _checks as checks
from otel_llm.redaction import _phones as phones
from otel_llm.redaction._checks import Check, iban_valid, luhn_valid
from otel_llm.redaction._scanner import Detector, Scanner
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

__all__ = [
    "DETECTORS",
    "DETECTOR_KINDS",
    "Check",
    "Detector",
    "Scanner",
    "iban_valid",
    "luhn_valid",
]

_DIGITS = tuple("0123456789")


# --- patterns ---------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_HEX = r"[0-9A-Fa-f]{1,4}"
_IPV6_TAIL = rf"(?:{_HEX}:){{0,5}}(?:{_IPV4}|{_HEX})\b"
_EXTENSION = r"(?:x[0-9]{0,6}|[ ]?ext\.?[ ]?[0-9]{1,6})"
"""A phone extension ("x123", " ext. 123", a bare "x"), redacted with the number."""
_KEY_BODY = r"[A-Za-z0-9_-]"
_B64URL = r"[A-Za-z0-9_-]"
_BEARER = r"[A-Za-z0-9._~+/=-]"
_VALUE = r"[A-Za-z0-9._~+/=%-]"
"""A credential after a label: URL-safe and base64 alphabets, hex, %-escapes."""

# Letters and marks of the scripts internationalised addresses are written in (RFC 6531),
# without their punctuation; the patterns hold the characters themselves (the Collector's
# copy spells them \x{...}).
_INTL = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02af"  # Latin-1 letters, Latin Extended-A/B, IPA
    "\u0300-\u036f"  # combining diacritical marks
    "\u0370-\u03ff\u0400-\u052f\u0531-\u0587"  # Greek, Cyrillic, Armenian
    "\u05d0-\u05ea\u0620-\u064a\u066e-\u06d3"  # Hebrew, Arabic
    "\u0900-\u0963\u0966-\u0dff\u0e01-\u0e3a\u0e40-\u0e4e"  # Indic scripts, Thai
    "\u10a0-\u10ff\u1e00-\u1fff"  # Georgian, Latin Extended Additional, Greek Extended
    "\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3"  # kana, CJK, Hangul
)
_LOCAL_PART = rf"[A-Za-z0-9_.%+{_INTL}-]"
_ENCODED_AT = r"(?:%40|%2540|&#0{0,3}64;|&#[xX]0{0,3}40;|&commat;)"

# A credential's name: the end of an identifier ("OPENAI_API_KEY", "accessToken",
# "X-Amz-Security-Token"), then "=", ":", "=>" or " is ", quotes allowed around.
_CREDENTIAL_LABEL = (
    r"api[_.-]?(?:key|token|secret)|apikey"
    r"|(?:access|auth|refresh|id|session|bearer|private|personal[_.-]?access|oauth|csrf|xsrf"
    r"|security|app|client|bot)[_.-]?token"
    r"|(?:client|app|consumer|webhook|signing|shared|jwt)[_.-]?secret"
    r"|(?:secret|access|private|signing|encryption|master|session)[_.-]?key"
    r"|token|secret|passphrase|signature"
)
_SECRET_STEMS = ("key", "token", "secret", "passphrase", "signature")
_ASSIGN = r"[\"']?(?:[ \t]{0,3}(?:=>|:=|[:=])[ \t]{0,3}|[ \t]{1,3}is[ \t]{1,3})[\"']?"
_HEADER_ASSIGN = r"[\"']?[ \t]{0,3}[:=][ \t]{0,3}[\"']?"
_COOKIE_NAME = r"[A-Za-z0-9!#$%&*+.^_`|~-]"
_COOKIE_VALUE = r"[^;,\s\"'\\]"
_COOKIE_LABEL = rf"(?i:\b(?:set-)?cookie){_HEADER_ASSIGN}"
_AUTHORIZATION_LABEL = rf"(?i:\b(?:proxy-)?authorization){_HEADER_ASSIGN}"
_AUTH_SCHEME = r"(?:[A-Za-z][A-Za-z0-9-]{0,30}[ \t]{1,4})?"
# A national number: digit groups split by one space, dot, slash or dash, maybe a
# parenthesised area code first. Only the check (a context word before it, balanced
# parentheses) makes it a phone. It starts with a character class, so `re` skips to the
# next digit or "(" in C.
_NATIONAL_NUMBER = (
    rf"[(0-9][0-9]{{0,15}}(?:\)[ ./-]?[0-9]{{1,15}})?(?:[ ./-][0-9]{{1,12}}){{0,6}}{_EXTENSION}?"
)
# Every number the check accepts starts with at least 7 characters of digits and separators.
# The prefilter and the Collector look for those after a phone word on the same line (the
# prefilter without the window's bound): numbers alone (dates, order numbers) are common.
_NATIONAL_PREFILTER = r"\(?[0-9][0-9 ./()-]{5,18}[0-9]"
_NATIONAL_RE2 = (
    rf"(?i:{phones.PHONE_CONTEXT})[^\n]{{0,{phones.PHONE_CONTEXT_WINDOW}}}?{_NATIONAL_PREFILTER}"
)
# "password", "Passwort", "mot de passe", "contraseña"... at the end of a name
# ("DB_PASSWORD", "dbPassword"), then "=", ":", "is"/"was", or a space.
_SIGN_IN_LABEL = (
    r"pass(?:word|wort|wd|code)|\bpwd|kennwort|mot[ _-]de[ _-]passe|\bmdp"
    "|contrase[nñÑ]a|senha|wachtwoord"
)
_SIGN_IN_ASSIGN = (
    r"[\"']?(?:[ \t]{0,3}(?:=>|:=|[:=])[ \t]{0,3}"
    r"|[ \t]{1,3}(?:(?:ist|is|était|est|era|es|war|was|é)(?:[ \t]{0,3}:[ \t]{0,3}|[ \t]{1,3}))?)"
)


def _key(name: str, pattern: str, *anchors: str, check: Check | None = None) -> Detector:
    # A credential that starts with a fixed prefix, which is also its anchor.
    return Detector(name, SECRET, pattern, check=check, anchors=anchors)


DETECTORS: tuple[Detector, ...] = (
    Detector(
        "email",
        EMAIL,
        r"\b[A-Za-z0-9_][A-Za-z0-9_.%+-]{0,63}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b",
        check=checks.email,
        anchors=("@",),
        anchor_back=64,
    ),
    Detector(
        "email_international",
        EMAIL,
        # jürgen.müller@exämple.de: no \b (it is ASCII-only), the check rejects ASCII matches.
        rf"[A-Za-z0-9_{_INTL}]{_LOCAL_PART}{{0,63}}@(?:[A-Za-z0-9{_INTL}-]{{1,63}}\.){{1,8}}"
        rf"[A-Za-z{_INTL}]{{2,24}}",
        check=checks.international_email,
        anchors=("@",),
        anchor_back=64,
        prefilter=rf"[A-Za-z0-9_.%+{_INTL}-]@[A-Za-z0-9{_INTL}-]{{1,63}}\.",
        non_ascii=True,
    ),
    Detector(
        "email_url_encoded",
        EMAIL,
        # john.doe%40example.com, double-encoded %2540, HTML entities; dots may be %2E.
        rf"[A-Za-z0-9_][A-Za-z0-9_.%+-]{{0,63}}{_ENCODED_AT}"
        r"(?:[A-Za-z0-9-]{1,63}(?:\.|%2[Ee])){1,8}[A-Za-z]{2,24}\b",
        check=checks.email,
        word_start=True,
        anchors=("%40", "%2540", "&#", "&commat;"),
        anchor_back=64,
        prefilter=rf"{_ENCODED_AT}[A-Za-z0-9-]{{1,63}}(?:\.|%2[Ee])",
    ),
    Detector(
        "phone_international",
        PHONE,
        # +CC then groups split by one separator, or a parenthesised trunk/area code.
        r"\+[1-9][0-9]{0,14}(?:[ .-]?\([0-9]{1,4}\)[ .-]?[0-9]{1,14}|[ .-][0-9]{1,14}){0,6}"
        rf"{_EXTENSION}?",
        check=phones.phone_international,
        hints=("+",),
        trim=True,
    ),
    Detector(
        "phone_double_zero",
        PHONE,
        # 0044 20 7517 5819: the international prefix 00, then at least one separated group
        # (a run of digits starting 00 is as likely an order number).
        r"00[1-9][0-9]{0,14}(?:[ ./-]?\([0-9]{1,4}\)[ ./-]?[0-9]{1,14}|[ ./-][0-9]{1,14}){1,6}"
        rf"{_EXTENSION}?",
        check=phones.phone_double_zero,
        hints=("00",),
        trim=True,
    ),
    Detector(
        "phone_national",
        PHONE,
        # 01 50 73 64 82, (415) 555-0199, 030 12345678, 612 34 56 78 after "Tel.", "call me",
        # "Handy", or under a key such as "phone" (the redactor writes it before the value).
        _NATIONAL_NUMBER,
        check=phones.phone_national,
        hints=_DIGITS,
        trim=True,
        re2_pattern=_NATIONAL_RE2,
        context=phones.PHONE_CONTEXT,
        context_window=phones.PHONE_CONTEXT_WINDOW,
    ),
    Detector(
        "payment_card",
        PAYMENT_CARD,
        # Issuer ranges start 2-6, which also keeps epoch-millisecond timestamps (1...) out.
        r"[2-6](?:[0-9]{12,18}\b|[0-9]{3}(?:[ -][0-9]{3,6}){2,4}\b)",
        check=checks.payment_card,
        word_start=True,
        hints=_DIGITS,
        trim=True,
    ),
    Detector(
        "us_ssn",
        US_SSN,
        r"[0-9][0-9]{2}-[0-9]{2}-[0-9]{4}\b",
        check=checks.us_ssn,
        word_start=True,
        hints=("-",),
    ),
    Detector(
        "iban",
        IBAN,
        r"[A-Z][A-Z][0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        check=checks.iban,
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
        check=checks.ipv4,
        word_start=True,
        hints=(".",),
    ),
    Detector(
        "ipv6",
        IP_ADDRESS,
        # The full form, or a compressed one with "::" after at least one group.
        rf"[0-9A-Fa-f][0-9A-Fa-f]{{0,3}}(?:(?::{_HEX}){{7}}\b|(?::{_HEX}){{0,6}}::(?:{_IPV6_TAIL})?)"
        r"(?:%[0-9A-Za-z]{1,15})?",
        check=checks.ipv6,
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
        check=checks.ipv6,
        hints=("::",),
    ),
    _key(
        "openai_key",
        rf"\bsk-(?:proj-|svcacct-|admin-)?{_KEY_BODY}{{20,1000}}",
        "sk-",
        check=checks.has_digit,
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
        check=checks.opaque_token,
        group=1,
        anchors=("bearer",),
        fold=True,
        extend=f"{_BEARER}*",
        re2_pattern=rf"(?i:\bbearer)[ \t]+{_BEARER}{{8,}}",
    ),
    Detector(
        "basic_auth",
        SECRET,
        # Authorization: Basic dXNlcjpwYXNz (base64 of "user:pass"), in a header, JSON or code.
        r"(?i:\bbasic)[ \t]{1,4}([A-Za-z0-9+/]{4,1000}={0,2})",
        check=checks.basic_credentials,
        group=1,
        anchors=("basic",),
        fold=True,
    ),
    Detector(
        "authorization_header",
        SECRET,
        # The credentials of any scheme (Token, ApiKey, AWS4-HMAC-SHA256...), or a bare token.
        rf"{_AUTHORIZATION_LABEL}{_AUTH_SCHEME}({_BEARER}{{8,1000}})",
        check=checks.authorization_value,
        group=1,
        anchors=("authorization",),
        anchor_back=6,
        fold=True,
        extend=f"{_BEARER}*",
        re2_pattern=rf"{_AUTHORIZATION_LABEL}{_AUTH_SCHEME}{_BEARER}{{8,}}",
    ),
    Detector(
        "cookie",
        SECRET,
        # Cookie: a=b; c=d and Set-Cookie: id=...; Path=/: every name=value pair.
        rf"{_COOKIE_LABEL}({_COOKIE_NAME}{{1,128}}={_COOKIE_VALUE}{{0,1000}})",
        group=1,
        anchors=("cookie",),
        anchor_back=4,
        fold=True,
        extend=rf"{_COOKIE_VALUE}*(?:;[ \t]?{_COOKIE_NAME}+={_COOKIE_VALUE}*)*",
        re2_pattern=(
            rf"{_COOKIE_LABEL}{_COOKIE_NAME}+={_COOKIE_VALUE}*"
            rf"(?:;[ \t]?{_COOKIE_NAME}+={_COOKIE_VALUE}*)*"
        ),
    ),
    Detector(
        "labelled_secret",
        SECRET,
        # api_key=..., "accessToken": "...", X-Api-Key: ..., the session token is ...
        rf"(?i:{_CREDENTIAL_LABEL}){_ASSIGN}({_VALUE}{{6,1000}})",
        check=checks.labelled_value,
        group=1,
        anchors=_SECRET_STEMS,
        anchor_back=16,
        anchor_follow=_ASSIGN,
        fold=True,
        extend=f"{_VALUE}*",
        re2_pattern=rf"(?i:{_CREDENTIAL_LABEL}){_ASSIGN}{_VALUE}{{6,}}",
        prefilter=rf"(?i:{'|'.join(_SECRET_STEMS)}){_ASSIGN}{_VALUE}{{6,}}",
    ),
    Detector(
        "url_query_secret",
        SECRET,
        # Names too common to be labels in prose, but credentials as URL parameters
        # (Azure SAS "sig", Google "key", an OAuth 2.0 authorization "code"); the longer
        # names are labelled_secret's.
        rf"[?&](?i:key|sig|auth|pass|pw|code)=({_VALUE}{{6,1000}})",
        check=checks.labelled_value,
        group=1,
        anchors=("key=", "sig=", "auth=", "pass=", "pw=", "code="),
        anchor_back=1,
        fold=True,
        extend=f"{_VALUE}*",
        re2_pattern=rf"[?&](?i:key|sig|auth|pass|pw|code)={_VALUE}{{6,}}",
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
        "password",
        SECRET,
        # password=..., Password: ..., the password was: ..., Passwort:, mot de passe :,
        # contraseña:, "password": "...": the value inside quotes (spaces allowed), or up to
        # ";" or whitespace.
        rf"(?i:{_SIGN_IN_LABEL}){_SIGN_IN_ASSIGN}"
        r"(?:\"([^\"\r\n]{1,256})\"|'([^'\r\n]{1,256})'|([^;\"'\s]{1,256}))",
        check=checks.password_value,
        group=-1,
        prefilter=f"(?i:{_SIGN_IN_LABEL.replace(chr(92) + 'b', '')})",
        # "pass" also anchors "mot de passe" (7 characters in), "wort" "kennwort".
        anchors=("pass", "pwd", "wort", "mdp", "contrase", "senha", "wachtwoord"),
        anchor_back=7,
        fold=True,
    ),
)
"""Every built-in detector, in scan order (overlaps are resolved afterwards, not by order)."""

DETECTOR_KINDS: frozenset[str] = frozenset(detector.kind for detector in DETECTORS)
"""The kinds a configuration may disable."""
