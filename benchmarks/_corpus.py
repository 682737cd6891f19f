"""A seeded synthetic corpus for redaction quality: sensitive values in sentences, look-alikes."""

from __future__ import annotations

import base64
import itertools
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

KINDS = ("email", "phone", "payment_card", "us_ssn", "iban", "ip_address", "secret")
"""The kinds the corpus has positives for, in report order."""

_ALNUM = string.ascii_letters + string.digits
_CARD_TYPES = ("visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners", "jcb16")
_IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT", "pl_PL")


@dataclass(frozen=True)
class Sample:
    """One sentence; `value` is the sensitive substring, or the look-alike for a negative."""

    kind: str
    """The expected kind, or "" for a hard negative."""
    subtype: str
    """Which generator made it (e.g. `github_token`, `order_number`), for per-type reports."""
    value: str
    text: str


class _Maker:
    """Faker plus the formats Faker lacks; every choice comes from the one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.rng: random.Random = self.fake.random
        self.iban_fakers = [Faker(locale) for locale in _IBAN_LOCALES]
        for index, faker in enumerate(self.iban_fakers):
            faker.seed_instance(seed + index + 1)

    def chars(self, alphabet: str, count: int) -> str:
        return "".join(self.rng.choices(alphabet, k=count))

    def digits(self, count: int) -> str:
        return self.chars(string.digits, count)

    def token(self, count: int, alphabet: str = _ALNUM) -> str:
        return self.chars(alphabet, count)

    def pad(self, sentence: str) -> str:
        return f"{self.fake.sentence()} {sentence} {self.fake.sentence()}"

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)


# --- positives --------------------------------------------------------------------------


def _email(m: _Maker) -> tuple[str, str]:
    value = m.rng.choice([m.fake.email, m.fake.company_email, m.fake.free_email])()
    return "email", value


def _phone(m: _Maker) -> tuple[str, str]:
    area = f"{m.rng.randint(2, 9)}{m.digits(2)}"
    exchange = f"{m.rng.randint(2, 9)}{m.digits(2)}"
    line = m.digits(4)
    formats = (
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
        f"+1-{area}-{exchange}-{line}",
        f"+1 ({area}) {exchange}-{line}",
        f"+44 20 {m.digits(4)} {m.digits(4)}",
        f"+44 (0)20 {m.digits(4)} {m.digits(4)}",
        f"+49 30 {m.digits(8)}",
        f"+4915{m.digits(9)}",
        f"+33 {m.rng.randint(1, 9)} {m.digits(2)} {m.digits(2)} {m.digits(2)} {m.digits(2)}",
        f"+91 9{m.digits(4)} {m.digits(5)}",
        f"+86 138 {m.digits(4)} {m.digits(4)}",
        f"+61.2.{m.digits(4)}.{m.digits(4)}",
    )
    return "phone_number", m.pick(formats)


def _card(m: _Maker) -> tuple[str, str]:
    card_type = m.pick(_CARD_TYPES)
    number = m.fake.credit_card_number(card_type)
    style = m.rng.randint(0, 2)
    if not style:
        return card_type, number
    separator = " " if style == 1 else "-"
    # As printed on the card: 4-6-5 (American Express), 4-6-4 (Diners), 4-4-5 (13 digits),
    # otherwise groups of four.
    cuts = {15: (4, 10), 14: (4, 10), 13: (4, 8)}.get(len(number), range(4, len(number), 4))
    bounds = [0, *cuts, len(number)]
    return card_type, separator.join(number[a:b] for a, b in itertools.pairwise(bounds))


def _ssn(m: _Maker) -> tuple[str, str]:
    return "ssn", m.fake.ssn()


def _iban(m: _Maker) -> tuple[str, str]:
    iban = m.rng.choice(m.iban_fakers).iban()
    if m.rng.random() < 0.5:
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return "iban", iban


def _ip(m: _Maker) -> tuple[str, str]:
    choice = m.rng.randint(0, 3)
    if choice == 0:
        return "ipv4", m.fake.ipv4_public()
    if choice == 1:
        return "ipv4", m.fake.ipv4_private()
    if choice == 2:
        return "ipv6", m.fake.ipv6()
    return "ipv6", f"2001:db8::{m.chars('0123456789abcdef', 4)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _secret(m: _Maker) -> tuple[str, str, str]:
    """(subtype, value to find, the text around it)."""
    f = m.fake
    b64 = _ALNUM + "+/"
    password = f.password(length=14, special_chars=False)
    host = f.hostname()
    makers: list[Callable[[], tuple[str, str, str]]] = [
        lambda: ("openai_key", v := f"sk-proj-{m.token(120, _ALNUM + '_-')}", v),
        lambda: ("openai_key", v := f"sk-{m.token(20)}T3BlbkFJ{m.token(20)}", v),
        lambda: ("anthropic_key", v := f"sk-ant-api03-{m.token(93, _ALNUM + '_-')}AA", v),
        lambda: ("aws_access_key_id", v := f"AKIA{m.token(16, string.ascii_uppercase)}", v),
        lambda: ("aws_access_key_id", v := f"ASIA{m.token(16, string.ascii_uppercase)}", v),
        lambda: ("aws_secret", v := m.chars(b64, 40), f"aws_secret_access_key = {v}"),
        lambda: ("github_token", v := f"ghp_{m.token(36)}", v),
        lambda: ("github_token", v := f"github_pat_{m.token(22)}_{m.token(59)}", v),
        lambda: ("slack_token", v := f"xoxb-{m.digits(12)}-{m.digits(13)}-{m.token(24)}", v),
        lambda: ("stripe_key", v := f"sk_live_{m.token(99)}", v),
        lambda: ("stripe_key", v := f"rk_live_{m.token(24)}", v),
        lambda: ("google_api_key", v := f"AIza{m.token(35, _ALNUM + '_-')}", v),
        lambda: ("bearer", v := m.token(40, _ALNUM + "._-"), f"Authorization: Bearer {v}"),
        lambda: ("jwt", v := _jwt(m), v),
        lambda: ("private_key", v := _pem(m), v),
        lambda: ("url_password", password, f"postgresql://{f.user_name()}:{password}@{host}/app"),
        lambda: ("connection_string", password, f"Server={host};User Id=sa;Password={password};"),
    ]
    return m.rng.choice(makers)()


def _jwt(m: _Maker) -> str:
    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    claims = {"sub": m.digits(8), "name": m.fake.name(), "iat": m.rng.randint(10**9, 2 * 10**9)}
    payload = json.dumps(claims).encode()
    signature = m.rng.randbytes(32)
    return ".".join(_b64url(part) for part in (header, payload, signature))


def _pem(m: _Maker) -> str:
    body = base64.b64encode(m.rng.randbytes(48 * m.rng.randint(8, 24))).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    label = m.pick(("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


_TEMPLATES = {
    "email": ("Please send the invoice to {v} by Friday.", "You can reach me at {v}.", "{v}"),
    "phone": ("Call me back on {v} after lunch.", "My number is {v}.", "tel: {v}"),
    "payment_card": ("Charge it to my card {v}, expiry 04/27.", "card number: {v}"),
    "us_ssn": ("My social security number is {v}.", "SSN {v} on file"),
    "iban": ("Wire the refund to {v} please.", "IBAN: {v}"),
    "ip_address": ("The request came from {v} again.", "ssh into {v} and restart it"),
    "secret": ("I pasted my config by mistake: {v}", "here it is {v} can you debug?"),
}


def positives(maker: _Maker, per_kind: int) -> list[Sample]:
    """`per_kind` sentences for each kind, with the sensitive value embedded."""
    samples: list[Sample] = []
    simple: dict[str, Callable[[_Maker], tuple[str, str]]] = {
        "email": _email,
        "phone": _phone,
        "payment_card": _card,
        "us_ssn": _ssn,
        "iban": _iban,
        "ip_address": _ip,
    }
    for kind in KINDS:
        for _ in range(per_kind):
            if kind == "secret":
                subtype, value, snippet = _secret(maker)
            else:
                subtype, value = simple[kind](maker)
                snippet = value
            sentence = maker.pick(_TEMPLATES[kind]).format(v=snippet)
            samples.append(Sample(kind, subtype, value, maker.pad(sentence)))
    return samples


# --- hard negatives ---------------------------------------------------------------------


def _negative(m: _Maker) -> tuple[str, str]:
    f = m.fake
    hex_digits = "0123456789abcdef"
    makers: list[Callable[[], tuple[str, str]]] = [
        lambda: ("order_number", f"Your order #{m.digits(m.rng.randint(6, 12))} has shipped."),
        lambda: ("order_number", f"Reference ORD-{f.year()}-{m.digits(6)} is confirmed."),
        lambda: ("uuid", f"Request id {f.uuid4()} failed."),
        lambda: ("uuid", f"Object {str(f.uuid4()).upper()} was archived."),
        lambda: ("timestamp", f"Created at {f.iso8601()} by the nightly job."),
        lambda: ("timestamp", f"Last seen {f.date_time().isoformat()}+05:30 in Mumbai."),
        lambda: ("timestamp", f"{f.date()} {f.time()} INFO worker started"),
        lambda: ("timestamp", f"epoch {f.unix_time() * 1000:.0f} ms, {f.unix_time():.0f} s"),
        lambda: ("version", f"Upgrade to v{m.rng.randint(0, 12)}.{m.rng.randint(0, 40)}.1."),
        lambda: ("version", f"Python {f.numerify('3.1#.#')} and numpy {f.numerify('#.##.#')}"),
        lambda: ("version", f"Windows version 10.0.{m.digits(5)}.{m.digits(4)} build"),
        lambda: ("version", f"released in version {f.numerify('#.#.#.#')} last week"),
        lambda: ("price", f"It costs {f.pricetag()} plus tax."),
        lambda: ("price", f"Total: EUR {m.rng.randint(1, 99999) / 100:,.2f}, was $1,299.00"),
        lambda: (
            "trace_id",
            f"trace_id={m.chars(hex_digits, 32)} span_id={m.chars(hex_digits, 16)}",
        ),
        lambda: ("model", f"Using gpt-4o-2024-08-06 and claude-3-5-sonnet-{f.date('%Y%m%d')}."),
        lambda: ("numbers", f"Population {m.rng.randint(10**5, 10**8):,} in {f.year()}."),
        lambda: ("numbers", f"Meeting at {f.time('%H:%M')}, ratio 16:9, growth +{m.digits(2)}%."),
        lambda: ("numbers", f"Coordinates {f.latitude()}, {f.longitude()}."),
        lambda: ("numbers", f"ISBN 978-{m.digits(1)}-{m.digits(2)}-{m.digits(6)}-{m.digits(1)}"),
        lambda: ("code", "Use std::vector<int> and Foo::bar() in the C++ sample."),
        lambda: ("code", f"Task risk-assessment-{f.word()}-framework-{f.word()} is done."),
        lambda: ("code", f"See https://{f.domain_name()}:8443/api/v1/items?id={m.digits(5)}"),
        lambda: ("code", f"color #{m.chars(hex_digits, 6)} and sha {m.chars(hex_digits, 40)}"),
        lambda: ("prose", "The bearer of this letter needs a password reset link."),
        lambda: ("prose", f.paragraph()),
    ]
    return m.rng.choice(makers)()


def negatives(maker: _Maker, count: int) -> list[Sample]:
    """`count` sentences of look-alikes that must not be redacted."""
    samples: list[Sample] = []
    for _ in range(count):
        subtype, sentence = _negative(maker)
        samples.append(Sample("", subtype, sentence, maker.pad(sentence)))
    return samples


def generate(per_kind: int, negative_count: int, seed: int = 20240611) -> list[Sample]:
    """Positives (`per_kind` for each of KINDS) then hard negatives, reproducible by seed."""
    maker = _Maker(seed)
    return positives(maker, per_kind) + negatives(maker, negative_count)


def prompt(size: int, seed: int = 7) -> str:
    """Realistic prompt text of about `size` characters, with one sensitive value per ~2 KB."""
    maker = _Maker(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        if parts and maker.rng.random() < 0.15:
            sample = positives(maker, 1)[maker.rng.randrange(len(KINDS))]
            part = sample.text
        else:
            part = maker.fake.paragraph(nb_sentences=5)
        parts.append(part)
        length += len(part) + 1
    return "\n".join(parts)[:size]


# name -> (prefix, repeated unit, suffix, repeats in the ~100 KB version)
HOSTILE: dict[str, tuple[str, str, str, int]] = {
    "local part then @": ("", "a", "@", 100_000),
    "digit-space pairs": ("", "1 ", "", 50_000),
    "dashes": ("", "-", "", 100_000),
    "jwt-like segments": ("eyJ", "a.", "", 50_000),
    "digits": ("", "1", "", 100_000),
    "email-like dots": ("a@", "a.", "", 50_000),
    "long local parts": ("", "a" * 63 + "@", "", 1_600),
    "colons": ("", ":", "", 100_000),
    "hex and colons": ("", "ab::", "", 25_000),
    "plus digits": ("", "+1 ", "", 33_333),
    "dotted digits": ("", "1.", "", 50_000),
    "key prefixes": ("", "sk-", "", 33_333),
    "jwt prefixes": ("", "eyJ-", "", 25_000),
    "url userinfo": ("ab://x:", "y", "", 100_000),
    "password labels": ("", "password=", "", 11_111),
    "bearer words": ("", "Bearer ", "", 14_285),
    "pem headers": ("", "-----BEGIN PRIVATE KEY-----", "", 3_700),
    "iban groups": ("", "DE89 ", "", 20_000),
    "card groups": ("", "4111 ", "", 20_000),
    "secret labels": ("", "secret access key: ", "", 5_000),
    "base64": ("", "A", "", 100_000),
    "url-encoded @": ("", "a" * 63 + "%40", "", 1_500),
    "entity @": ("", "a&#64;", "", 16_600),
    "non-ASCII local parts": ("", "\u00fc" * 63 + "@", "", 1_600),
    "non-ASCII domain labels": ("\u00fc@", "\u00fc.", "", 50_000),
    "00 groups": ("", "0044 ", "", 20_000),
    "phone words and digits": ("", "call 01 ", "", 12_500),
    "phone word then digit groups": ("Tel. ", "01 ", "", 33_333),
    "basic credentials": ("", "Basic dXNl ", "", 9_000),
    "authorization labels": ("", "Authorization: ", "", 6_600),
    "cookie pairs": ("Cookie: ", "a=b;", "", 25_000),
    "credential labels": ("", "api_key=", "", 12_500),
    "token is": ("", "token is ", "", 11_000),
    "query keys": ("", "?key=", "", 20_000),
    "zero-width runs": ("", "a\u200b", "", 50_000),
    "no-break digit groups": ("", "1\u00a0", "", 50_000),
    "full-width digits": ("", "\uff11", "", 100_000),
    "combining marks": ("a", "\u0301\u0316", "", 50_000),
}


def adversarial(name: str, scale: float = 1.0) -> str:
    """The hostile input `name`, its repeated part scaled by `scale` (1.0: about 100 KB)."""
    prefix, unit, suffix, repeats = HOSTILE[name]
    return prefix + unit * max(1, round(repeats * scale)) + suffix


ADVERSARIAL: dict[str, str] = {name: adversarial(name) for name in HOSTILE}
"""Inputs that make backtracking regexes take quadratic or exponential time (about 100 KB each)."""
