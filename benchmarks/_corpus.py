"""A seeded synthetic corpus for redaction quality: sensitive values in sentences, look-alikes.

Sentences are in English, French, German and Spanish; values come in the forms people and
programs write them: international and national phone numbers, internationalised and
URL-encoded addresses, credentials in headers, URLs, cookies and config, and values with
no-break, thin or zero-width spaces and full-width characters in them.
"""

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
_CARD_TYPES = ("visa16", "visa13", "visa19", "mastercard", "amex", "discover", "diners")
# Schemes Faker lacks or gets wrong (its JCB numbers start 3500-3599; JCB issues 3528-3589),
# as (prefixes, length).
_MORE_CARDS = {
    "jcb": ([str(prefix) for prefix in range(3528, 3590)], 16),
    "unionpay": (["62"], 16),
    "maestro": (["5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"], 16),
    "mir": (["2200", "2201", "2202", "2203", "2204"], 16),
}
_IBAN_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT", "pl_PL")
LANGUAGES = {"en": "en_US", "fr": "fr_FR", "de": "de_DE", "es": "es_ES"}
"""The languages of the sentences, with their Faker locales."""
_SCRIPTS = ("ru_RU", "el_GR", "zh_CN")
"""Locales whose names make internationalised addresses in other scripts."""
_ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
_SPACES = ("\u00a0", "\u2009", "\u202f")


@dataclass(frozen=True)
class Sample:
    """One sentence; `value` is the sensitive substring, or the look-alike for a negative."""

    kind: str
    """The expected kind, or "" for a hard negative."""
    subtype: str
    """Which generator made it (e.g. `github_token`, `order_number`), for per-type reports."""
    value: str
    text: str
    key: str = ""
    """The attribute key `text` is a value of (JSON tool arguments), or "" for plain text."""


class _Maker:
    """Faker plus the formats Faker lacks; every choice comes from the one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.rng: random.Random = self.fake.random
        self.iban_fakers = [Faker(locale) for locale in _IBAN_LOCALES]
        for index, faker in enumerate(self.iban_fakers):
            faker.seed_instance(seed + index + 1)
        self.fakers = {language: Faker(locale) for language, locale in LANGUAGES.items()}
        self.script_fakers = [Faker(locale) for locale in _SCRIPTS]
        for index, faker in enumerate([*self.fakers.values(), *self.script_fakers]):
            faker.seed_instance(seed + 100 + index)

    def chars(self, alphabet: str, count: int) -> str:
        return "".join(self.rng.choices(alphabet, k=count))

    def digits(self, count: int) -> str:
        return self.chars(string.digits, count)

    def token(self, count: int, alphabet: str = _ALNUM) -> str:
        return self.chars(alphabet, count)

    def pad(self, sentence: str, language: str = "en") -> str:
        fake = self.fakers[language]
        return f"{fake.sentence()} {sentence} {fake.sentence()}"

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)

    def language(self) -> str:
        return self.rng.choice(tuple(LANGUAGES))

    def hide(self, value: str) -> str:
        """`value` with a zero-width character or soft hyphen inside."""
        at = self.rng.randrange(1, len(value))
        return value[:at] + self.pick(_ZERO_WIDTH) + value[at:]

    def space(self, value: str) -> str:
        """`value` with its spaces made no-break, thin or narrow no-break spaces."""
        return value.replace(" ", self.pick(_SPACES))


def luhn_complete(partial: str) -> str:
    """`partial` with the check digit that makes it pass the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(partial)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return partial + str(-total % 10)


def full_width(value: str) -> str:
    """`value` with its ASCII letters, digits and punctuation in full-width forms."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in value)


# --- positives --------------------------------------------------------------------------

Made = tuple[str, str, str]
"""(subtype, the value to find, the sentence around it before padding)."""

_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "email": {
        "en": ("Please send the invoice to {v} by Friday.", "You can reach me at {v}.", "{v}"),
        "fr": ("Envoyez la facture à {v} avant vendredi.", "Mon adresse\u00a0: {v}"),
        "de": ("Bitte schicken Sie die Rechnung an {v}.", "Meine E-Mail: {v}"),
        "es": ("Envía la factura a {v} antes del viernes.", "Mi correo es {v}."),
    },
    "phone": {  # international forms: no phone word needed
        "en": ("Call me back on {v} after lunch.", "My number is {v}.", "tel: {v}"),
        "fr": ("Mon numéro est le {v}.", "Tél.\u00a0: {v}"),
        "de": ("Meine Nummer ist {v}.", "Tel.: {v}"),
        "es": ("Mi número es el {v}.", "Tel.: {v}"),
    },
    "phone_context": {  # national forms: only after a phone word
        "en": (
            *("Call me on {v} tomorrow.", "Text me at {v}.", "WhatsApp: {v}", "mobile: {v}"),
            *("Please call us at {v}.", "My cell is {v}.", "Call Jane at {v} after 5.", "Fax {v}"),
            *("You can reach me at {v}.", "phone number: {v}", "contact_phone={v}"),
        ),
        "fr": (
            *("Appelez-moi au {v} demain.", "Mon portable\u00a0: {v}", "Tél. {v}"),
            *("Mon numéro\u00a0: {v}", "Téléphone\u00a0: {v}", "Rappelez-moi au {v}."),
        ),
        "de": (
            *("Rufen Sie mich unter {v} an.", "Handy: {v}", "Telefon {v}", "Tel.: {v}"),
            *("Meine Nummer ist {v}.", "Rufnummer: {v}", "Mobil: {v}"),
        ),
        "es": (
            *("Llámame al {v} mañana.", "Mi móvil es {v}.", "Teléfono: {v}", "Tel.: {v}"),
            *("Mi número es el {v}.", "Celular: {v}", "Llame al {v}."),
        ),
    },
    "payment_card": {
        "en": ("Charge it to my card {v}, expiry 04/27.", "card number: {v}"),
        "fr": ("Débitez ma carte {v}, expiration 04/27.", "numéro de carte\u00a0: {v}"),
        "de": ("Belasten Sie meine Karte {v}, gültig bis 04/27.", "Kartennummer: {v}"),
        "es": ("Cárguelo a mi tarjeta {v}, caduca 04/27.", "número de tarjeta: {v}"),
    },
    "us_ssn": {
        "en": ("My social security number is {v}.", "SSN {v} on file"),
        "fr": ("Mon numéro de sécurité sociale américain est {v}.",),
        "de": ("Meine US-Sozialversicherungsnummer (SSN) ist {v}.",),
        "es": ("Mi número de seguro social (SSN) es {v}.",),
    },
    "iban": {
        "en": ("Wire the refund to {v} please.", "IBAN: {v}"),
        "fr": ("Virez le remboursement sur {v} s'il vous plaît.", "IBAN\u00a0: {v}"),
        "de": ("Überweisen Sie die Erstattung bitte auf {v}.", "IBAN: {v}"),
        "es": ("Transfiera el reembolso a {v}, por favor.", "IBAN: {v}"),
    },
    "ip_address": {
        "en": ("The request came from {v} again.", "ssh into {v} and restart it"),
        "fr": ("La requête venait encore de {v}.",),
        "de": ("Die Anfrage kam wieder von {v}.",),
        "es": ("La petición vino otra vez de {v}.",),
    },
    "password": {
        "en": (
            *("password: {v}", "Password: {v}", "the password was: {v}", "my password is {v}"),
            *("PASSWORD={v}", "login admin / password {v}"),
        ),
        "fr": ("mot de passe\u00a0: {v}", "Mot de passe : {v}", "le mot de passe est {v}"),
        "de": ("Passwort: {v}", "Kennwort: {v}", "das Passwort ist {v}"),
        "es": ("contraseña: {v}", "Contraseña: {v}", "la contraseña es {v}", "senha: {v}"),
    },
    "secret": {
        "en": ("I pasted my config by mistake: {v}", "here it is {v} can you debug?"),
        "fr": ("J'ai collé ma config par erreur\u00a0: {v}",),
        "de": ("Aus Versehen meine Konfiguration eingefügt: {v}",),
        "es": ("Pegué mi configuración por error: {v}",),
    },
}


def _say(m: _Maker, template: str, language: str, snippet: str) -> str:
    return m.pick(_TEMPLATES[template][language]).format(v=snippet)


def _email(m: _Maker, language: str) -> Made:
    roll = m.rng.random()
    address = m.rng.choice([m.fake.email, m.fake.company_email, m.fake.free_email])()
    if roll < 0.4:
        return "email", address, _say(m, "email", language, address)
    if roll < 0.65:
        value = _idn_email(m)
        return "email_idn", value, _say(m, "email", language, value)
    if roll < 0.75:
        encoded = address.replace("@", m.pick(("%40", "%40", "%2540")))
        url = f"https://{m.fake.domain_name()}/unsubscribe?email={encoded}&list=news"
        return "email_url_encoded", encoded, _say(m, "email", language, url)
    if roll < 0.85:  # json.dumps(payload) in a log line or an exception message
        value = m.pick((_idn_email(m), address.replace("@", "\\u0040")))
        escaped = json.dumps(value)[1:-1]
        payload = f'{{"user": "{m.fake.user_name()}", "email": "{escaped}"}}'
        line = m.pick(("request payload: {p}", "ValueError: bad record {p}", "tool result {p}"))
        return "email_json_escaped", escaped, line.format(p=payload)
    value = m.pick((m.hide(address), address.replace("@", "\uff20"), full_width(address)))
    return "email_obfuscated", value, _say(m, "email", language, value)


_IDN_DOMAINS = ("exämple.de", "müller-bau.de", "café-paris.fr", "société.fr", "españa.es")
_SCRIPT_DOMAINS = ("пример.рф", "παράδειγμα.ελ", "例子.广告")


def _idn_email(m: _Maker) -> str:
    """An address with accented names (fr/de/es) or in Cyrillic, Greek or Chinese script."""
    if m.rng.random() < 0.75:
        fake = m.fakers[m.pick(("fr", "de", "es"))]
        local = f"{fake.first_name()}.{fake.last_name()}"
        domain = m.pick(_IDN_DOMAINS)
    else:
        script = m.rng.randrange(len(_SCRIPTS))
        fake = m.script_fakers[script]
        local = fake.first_name() + ("" if script == 2 else f".{fake.last_name()}")
        domain = _SCRIPT_DOMAINS[script]
    return "".join(char for char in local.lower() if char.isalnum() or char in ".-") + "@" + domain


def _phone(m: _Maker, language: str) -> Made:
    roll = m.rng.random()
    if roll < 0.3:
        value = _phone_international(m)
        return "phone_number", value, _say(m, "phone", language, value)
    if roll < 0.45:
        value = _phone_double_zero(m)
        return "phone_double_zero", value, _say(m, "phone", language, value)
    if roll < 0.75:
        value = _phone_national(m, language)
        return "phone_national", value, _say(m, "phone_context", language, value)
    if roll < 0.85:  # json.dumps(payload) with no-break spaces, in a log line
        plain = m.pick((f"+44 20 {m.digits(4)} {m.digits(4)}", f"+33 6 {m.digits(2)} 45 67 89"))
        escaped = json.dumps(plain.replace(" ", m.pick(_SPACES)))[1:-1]
        return "phone_json_escaped", escaped, f'request payload: {{"phone": "{escaped}"}}'
    plain = m.pick(
        (
            f"+44 20 {m.digits(4)} {m.digits(4)}",
            f"+49 151 {m.digits(8)}",
            f"+33 6 {m.digits(2)} 45 67 89",
        )
    )
    value = m.pick((m.space(plain), full_width(plain), plain.replace(" ", "\u2011")))
    return "phone_obfuscated", value, _say(m, "phone", language, value)


_PHONE_KEYS = {
    "en": ("phone", "mobile", "tel", "telephone", "cell", "fax", "whatsapp", "phone_number"),
    "fr": ("telephone", "téléphone", "portable", "mobile", "tel", "contact_phone"),
    "de": ("Telefon", "Handy", "Rufnummer", "telefonnummer", "mobil", "phoneNumber"),
    "es": ("telefono", "teléfono", "movil", "móvil", "celular", "contactPhone"),
}


def phone_under_key(m: _Maker, language: str) -> Sample:
    """Tool-call arguments with a national number (a string or a JSON number) under a phone key."""
    key = m.pick(_PHONE_KEYS[language])
    roll = m.rng.random()
    if roll < 0.25 and language in ("en", "es"):  # a JSON number: no leading 0
        number: str | int = int(_nanp(m) if language == "en" else f"6{m.digits(8)}")
    else:
        number = _phone_national(m, language)
    arguments = {"to_name": m.fakers[language].first_name(), key: number, "text": "Hi!"}
    text = json.dumps(arguments, ensure_ascii=m.rng.random() < 0.5)
    return Sample("phone", "phone_under_key", str(number), text, "gen_ai.tool.call.arguments")


def _nanp(m: _Maker) -> str:
    return f"{m.rng.randint(2, 9)}{m.digits(2)}{m.rng.randint(2, 9)}{m.digits(6)}"


def _phone_international(m: _Maker) -> str:
    area = f"{m.rng.randint(2, 9)}{m.digits(2)}"
    exchange = f"{m.rng.randint(2, 9)}{m.digits(2)}"
    line = m.digits(4)
    formats = (
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
    return m.pick(formats)


def _phone_double_zero(m: _Maker) -> str:
    area = f"{m.rng.randint(2, 9)}{m.digits(2)}"
    exchange = f"{m.rng.randint(2, 9)}{m.digits(2)}"
    formats = (
        f"0044 20 {m.digits(4)} {m.digits(4)}",
        f"0044 7700 {m.digits(6)}",
        f"0044 (0)20 {m.digits(4)} {m.digits(4)}",
        f"0049 40 {m.digits(8)}",
        f"0049 151 {m.digits(8)}",
        f"0033 {m.rng.randint(1, 9)} {m.digits(2)} {m.digits(2)} {m.digits(2)} {m.digits(2)}",
        f"0034 6{m.digits(2)} {m.digits(3)} {m.digits(3)}",
        f"0041 44 {m.digits(3)} {m.digits(2)} {m.digits(2)}",
        f"0039 06 {m.digits(8)}",
        f"001 {area} {exchange} {m.digits(4)}",
        f"0049-30-{m.digits(7)}",
    )
    return m.pick(formats)


def _phone_national(m: _Maker, language: str) -> str:
    pairs = " ".join(m.digits(2) for _ in range(4))
    nanp = _nanp(m)
    area = m.pick(("30", "40", "89", "69", "221", "711"))
    formats = {
        "fr": (
            f"0{m.rng.randint(1, 9)} {pairs}",
            f"0{m.rng.randint(1, 9)} {pairs}".replace(" ", "."),
        ),
        "de": (
            f"0{area} {m.digits(7)}",
            f"01{m.pick(('51', '52', '60', '70', '76'))} {m.digits(8)}",
            f"0{area}/{m.digits(7)}",
            f"0{area}-{m.digits(7)}",
        ),
        "es": (
            f"6{m.digits(2)} {m.digits(2)} {m.digits(2)} {m.digits(2)}",
            f"6{m.digits(2)} {m.digits(3)} {m.digits(3)}",
            f"9{m.digits(1)} {m.digits(3)} {m.digits(2)} {m.digits(2)}",
        ),
        "en": (
            f"07700 {m.digits(6)}",
            f"020 {m.rng.randint(3, 8)}{m.digits(3)} {m.digits(4)}",
            f"({nanp[:3]}) {nanp[3:6]}-{nanp[6:]}",
            f"{nanp[:3]}-{nanp[3:6]}-{nanp[6:]}",
            f"{nanp[:3]}.{nanp[3:6]}.{nanp[6:]}",
            f"{nanp[:3]} {nanp[3:6]} {nanp[6:]}",
            nanp,
            f"{m.rng.randint(2, 9)}{m.digits(2)}-{m.digits(4)}",
        ),
    }
    return m.pick(formats[language])


def _card(m: _Maker, language: str) -> Made:
    card_type = m.pick((*_CARD_TYPES, *_MORE_CARDS))
    if card_type in _MORE_CARDS:
        prefixes, length = _MORE_CARDS[card_type]
        prefix = m.pick(tuple(prefixes))
        number = luhn_complete(prefix + m.digits(length - len(prefix) - 1))
    else:
        number = m.fake.credit_card_number(card_type)
    style = m.rng.randint(0, 3)
    if style:
        separator = "-" if style == 2 else " "
        # As printed on the card: 4-6-5 (American Express), 4-6-4 (Diners), 4-4-5 (13 digits),
        # otherwise groups of four.
        cuts = {15: (4, 10), 14: (4, 10), 13: (4, 8)}.get(len(number), range(4, len(number), 4))
        bounds = [0, *cuts, len(number)]
        number = separator.join(number[a:b] for a, b in itertools.pairwise(bounds))
    if style == 3:  # written with no-break or thin spaces, or in full-width digits
        card_type, number = "card_obfuscated", m.pick((m.space(number), full_width(number)))
    return card_type, number, _say(m, "payment_card", language, number)


def _ssn(m: _Maker, language: str) -> Made:
    value, subtype = m.fake.ssn(), "ssn"
    if m.rng.random() < 0.15:
        value, subtype = m.pick((full_width(value), value.replace("-", "\u2011"))), "ssn_obfuscated"
    return subtype, value, _say(m, "us_ssn", language, value)


def _iban(m: _Maker, language: str) -> Made:
    iban, subtype = m.rng.choice(m.iban_fakers).iban(), "iban"
    if m.rng.random() < 0.5:
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        if m.rng.random() < 0.3:
            iban, subtype = m.space(iban), "iban_obfuscated"
    return subtype, iban, _say(m, "iban", language, iban)


def _ip(m: _Maker, language: str) -> Made:
    choice = m.rng.randint(0, 3)
    if choice == 0:
        subtype, value = "ipv4", m.fake.ipv4_public()
    elif choice == 1:
        subtype, value = "ipv4", m.fake.ipv4_private()
    elif choice == 2:
        subtype, value = "ipv6", m.fake.ipv6()
    else:
        subtype, value = "ipv6", f"2001:db8::{m.chars('0123456789abcdef', 4)}"
    return subtype, value, _say(m, "ip_address", language, value)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_QUERY_NAMES = ("api_key", "apikey", "access_token", "token", "key", "sig", "client_secret")
_LABEL_FORMS = (
    '"session_token": "{v}"',
    "X-Api-Key: {v}",
    "export PAYMENTS_API_KEY={v}",
    "the refresh token is {v}",
    "clientSecret: '{v}'",
    "auth_token={v}",
)
_BASIC_FORMS = (
    "Authorization: Basic {v}",
    '{{"Authorization": "Basic {v}"}}',
    "headers = {{'authorization': 'basic {v}'}}",
)


def _secret(m: _Maker, language: str) -> Made:
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
        lambda: ("basic_auth", v := _basic(m), m.pick(_BASIC_FORMS).format(v=v)),
        lambda: (
            "query_secret",
            v := m.token(32),
            f"https://api.{f.domain_name()}/v1/data?{m.pick(_QUERY_NAMES)}={v}&page=2",
        ),
        lambda: (
            "cookie",
            v := f"sessionid={m.token(32)}; csrftoken={m.token(32)}",
            f"Cookie: {v}",
        ),
        lambda: ("cookie", v := m.token(24), f"Set-Cookie: id={v}; Path=/; Secure; HttpOnly"),
        lambda: (
            "labelled_token",
            v := m.token(28, _ALNUM + "_-"),
            m.pick(_LABEL_FORMS).format(v=v),
        ),
        lambda: ("key_obfuscated", v := m.hide(f"sk-proj-{m.token(48, _ALNUM + '_-')}"), v),
    ]
    if m.rng.random() < 0.15:  # "password: ...", "Passwort:", "contraseña:" in a sentence
        value = f.password(length=m.rng.randint(8, 16), special_chars=m.rng.random() < 0.5)
        return "password", value, _say(m, "password", language, value)
    subtype, value, snippet = m.rng.choice(makers)()
    return subtype, value, _say(m, "secret", language, snippet)


def _basic(m: _Maker) -> str:
    credentials = f"{m.fake.user_name()}:{m.fake.password(length=12)}"
    return base64.b64encode(credentials.encode()).decode()


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


_POSITIVES: dict[str, Callable[[_Maker, str], Made]] = {
    "email": _email,
    "phone": _phone,
    "payment_card": _card,
    "us_ssn": _ssn,
    "iban": _iban,
    "ip_address": _ip,
    "secret": _secret,
}


def positives(
    maker: _Maker, per_kind: int, languages: tuple[str, ...] = tuple(LANGUAGES)
) -> list[Sample]:
    """`per_kind` sentences for each kind, with the sensitive value embedded.

    One phone sample in ten is instead tool-call arguments with the number under a phone key.
    """
    samples: list[Sample] = []
    for kind in KINDS:
        for _ in range(per_kind):
            language = maker.pick(languages)
            if kind == "phone" and maker.rng.random() < 0.1:
                samples.append(phone_under_key(maker, language))
                continue
            subtype, value, sentence = _POSITIVES[kind](maker, language)
            samples.append(Sample(kind, subtype, value, maker.pad(sentence, language)))
    return samples


# --- hard negatives ---------------------------------------------------------------------


def _negative(m: _Maker) -> tuple[str, str]:
    f = m.fake
    de, fr, es = m.fakers["de"], m.fakers["fr"], m.fakers["es"]
    hex_digits = "0123456789abcdef"
    count = m.rng.randint(100, 99_999)
    makers: list[Callable[[], tuple[str, str]]] = [
        lambda: ("order_number", f"Your order #{m.digits(m.rng.randint(6, 12))} has shipped."),
        lambda: ("order_number", f"Reference ORD-{f.year()}-{m.digits(6)} is confirmed."),
        lambda: ("order_number", f"Bestellnummer {m.digits(10)} wurde versandt."),
        lambda: ("order_number", f"Commande n° 00{m.digits(8)} expédiée le {fr.date('%d/%m/%Y')}."),
        lambda: (
            "order_number",
            f"Pedido {m.pick(('PV', 'SO', 'PO'))}-{m.digits(4)}-{m.digits(5)}",
        ),
        lambda: ("uuid", f"Request id {f.uuid4()} failed."),
        lambda: ("uuid", f"Object {str(f.uuid4()).upper()} was archived."),
        lambda: ("timestamp", f"Created at {f.iso8601()} by the nightly job."),
        lambda: ("timestamp", f"Last seen {f.date_time().isoformat()}+05:30 in Mumbai."),
        lambda: ("timestamp", f"{f.date()} {f.time()} INFO worker started"),
        lambda: ("timestamp", f"epoch {f.unix_time() * 1000:.0f} ms, {f.unix_time():.0f} s"),
        lambda: ("timestamp", f"Date: {f.date_time().strftime('%a, %d %b %Y %H:%M:%S')} +0000"),
        lambda: ("timestamp", f'ts={f.unix_time() * 1000:.0f} level=info msg="request done"'),
        lambda: ("timestamp", f"{f.date_time().isoformat(timespec='microseconds')}Z done"),
        lambda: ("timestamp", f"am {de.date('%d.%m.%Y')} um {de.time('%H:%M')} Uhr"),
        lambda: ("version", f"Upgrade to v{m.rng.randint(0, 12)}.{m.rng.randint(0, 40)}.1."),
        lambda: ("version", f"Python {f.numerify('3.1#.#')} and numpy {f.numerify('#.##.#')}"),
        lambda: ("version", f"Windows version 10.0.{m.digits(5)}.{m.digits(4)} build"),
        lambda: ("version", f"released in version {f.numerify('#.#.#.#')} last week"),
        lambda: (
            "version",
            f"Chrome/{m.rng.randint(90, 130)}.0.{m.digits(4)}.{m.digits(3)} Safari",
        ),
        lambda: (
            "id",
            f"Ticket {m.pick(('JIRA', 'OPS', 'SUP'))}-{m.digits(4)}, incident INC{m.digits(7)}",
        ),
        lambda: ("id", f"Request-Id: {m.chars(hex_digits, 16)}, object {m.chars(hex_digits, 32)}"),
        lambda: ("id", f"Customer #{m.digits(5)}, account {m.digits(8)}, batch {m.digits(12)}"),
        lambda: ("price", f"It costs {f.pricetag()} plus tax."),
        lambda: ("price", f"Total: EUR {m.rng.randint(1, 99999) / 100:,.2f}, was $1,299.00"),
        lambda: (
            "price",
            f"Prix\u00a0: {m.rng.randint(1, 9)}\u202f{m.digits(3)},{m.digits(2)}\u00a0€ TTC",
        ),
        lambda: ("price", f"Preis: {de.pricetag()} inkl. MwSt., Precio: {es.pricetag()}"),
        lambda: (
            "price",
            f"Budget {m.rng.randint(1, 999)} {m.digits(3)} {m.digits(3)},{m.digits(2)} EUR",
        ),
        lambda: (
            "trace_id",
            f"trace_id={m.chars(hex_digits, 32)} span_id={m.chars(hex_digits, 16)}",
        ),
        lambda: ("model", f"Using gpt-4o-2024-08-06 and claude-3-5-sonnet-{f.date('%Y%m%d')}."),
        lambda: ("numbers", f"Population {m.rng.randint(10**5, 10**8):,} in {f.year()}."),
        lambda: ("numbers", f"Meeting at {f.time('%H:%M')}, ratio 16:9, growth +{m.digits(2)}%."),
        lambda: ("numbers", f"Coordinates {f.latitude()}, {f.longitude()}."),
        lambda: ("numbers", f"ISBN 978-{m.digits(1)}-{m.digits(2)}-{m.digits(6)}-{m.digits(1)}"),
        # numbers near a phone word, in each language
        lambda: ("phone_word", f"Call #{m.rng.randint(1, 9)} at {f.time('%H:%M')} on {f.date()}."),
        lambda: ("phone_word", f"Telefonkonferenz am {de.date('%d.%m.%Y')} um {de.time('%H:%M')}."),
        lambda: (
            "phone_word",
            f"Llamada de {m.rng.randint(2, 90)} minutos el {es.date('%d/%m/%Y')}.",
        ),
        lambda: ("phone_word", f"Appel du {fr.date('%d/%m/%Y')} à {fr.time('%Hh%M')}."),
        lambda: (
            "phone_word",
            f"The tool call took {m.rng.random() * 9:.6f} s and {count} tokens.",
        ),
        lambda: (
            "phone_word",
            f"call id {f.unix_time() * 1000:.0f}, phone {m.pick(('iPhone 15', 'Pixel 8'))}",
        ),
        lambda: (
            "phone_word",
            f"calls per second: {m.rng.randint(1, 9)} {m.digits(3)} {m.digits(3)}",
        ),
        lambda: (
            "phone_word",
            f"Mobile app v{m.rng.randint(1, 20)}.{m.rng.randint(0, 9)}.{m.digits(2)}",
        ),
        # credential words without a credential
        lambda: ("credential_word", f"The prompt used {count} tokens (max_tokens={count})."),
        lambda: ("credential_word", f"Basic information about the {f.word()} plan."),
        lambda: ("credential_word", "Set api_key=YOUR_API_KEY in the config, token: <your token>."),
        lambda: ("credential_word", f"Our cookie policy changed on {f.date()}."),
        lambda: (
            "credential_word",
            f"See https://{f.domain_name()}/search?q={f.word()}&page={count}",
        ),
        lambda: ("credential_word", f"The session token is valid for {count} minutes."),
        lambda: ("code", "Use std::vector<int> and Foo::bar() in the C++ sample."),
        lambda: ("code", f"Task risk-assessment-{f.word()}-framework-{f.word()} is done."),
        lambda: ("code", f"See https://{f.domain_name()}:8443/api/v1/items?id={m.digits(5)}"),
        lambda: ("code", f"color #{m.chars(hex_digits, 6)} and sha {m.chars(hex_digits, 40)}"),
        # the hostile review's look-alikes (issue 15), with fresh digits
        lambda: ("version", f"Upgraded the driver to {_dotted(m)} last night."),
        lambda: ("version", f"{m.pick(_VERSION_NOUNS)} {_dotted(m)} is required."),
        lambda: ("version", f"See section {_dotted(m)} of the spec."),
        lambda: ("version", f"We updated the {m.pick(('kernel', 'package'))} to {_dotted(m)}."),
        lambda: ("code", f"Use Foo::add or {m.pick(('db', 'io', 'fs'))}::{f.word()} for that."),
        lambda: ("code", f"call {m.pick(('ABC::Dead', 'cafe::babe', 'Beef::Face'))} to stop"),
        lambda: ("code", "ipv6 looking hex: ace::1 and bad::"),
        lambda: ("id", f"Zoom meeting ID {_nanp_like(m, ' ')}"),
        lambda: ("id", f"Meeting ID: {m.rng.randint(200, 999)} {m.digits(4)} {m.digits(4)}"),
        lambda: ("id", f"Ticket {m.rng.randint(100, 899)}-{m.digits(2)}-{m.digits(4)} reopened"),
        lambda: ("id", f"Part no. {m.rng.randint(100, 899)}-{m.digits(2)}-{m.digits(4)}"),
        lambda: ("order_number", f"Invoice {_nanp_like(m, ' ')} due"),
        lambda: ("order_number", f"Order {_grouped(_luhn_id(m, 16))} shipped"),
        lambda: ("order_number", f"order_id={_luhn_id(m, 16)}"),
        lambda: ("order_number", f'{{"order_id": {_luhn_id(m, 16)}, "total": 49.99}}'),
        lambda: ("order_number", f"Tracking number {_luhn_id(m, 15)}"),
        lambda: ("timestamp", f"Flight times: {_nanp_like(m, ' ')}"),
        lambda: (
            "phone_word",
            f"we had a call about invoice {f.year()} {m.digits(4)} {m.digits(4)}",
        ),
        lambda: ("phone_word", f"Function call id {' '.join(m.digits(2) for _ in range(5))}"),
        lambda: ("phone_word", "Call stack depth 128 256 512 1024"),
        lambda: (
            "phone_word",
            f"text me the order number 00{m.digits(2)} {m.digits(4)} {m.digits(4)}",
        ),
        lambda: ("phone_word", f"Call me maybe - {f.year()} tour dates {f.date('%m %d %Y')}"),
        lambda: ("phone_word", f"Call center KPIs: {_nanp_like(m, ' ')}"),
        lambda: ("phone_word", f"our call volume was {m.digits(2)} {m.digits(3)} {m.digits(3)}"),
        lambda: ("phone_word", f"Temperatures: +33 {m.digits(2)} 45 67 89 over the week"),
        lambda: ("credential_word", f"https://maps.example.com/?q={f.city()}&key=Paris{f.year()}"),
        lambda: ("credential_word", "The password is required."),
        lambda: ("credential_word", "Password: ******"),
        lambda: ("credential_word", "Reset your password: click the link below."),
        lambda: ("credential_word", "Passwort: mindestens 8 Zeichen"),
        lambda: ("credential_word", "the password is incorrect, try again"),
        lambda: ("prose", "The bearer of this letter needs a password reset link."),
        lambda: ("prose", f.paragraph()),
        lambda: (
            "prose",
            f"{fr.sentence()[:-1]}\u00a0: {fr.sentence()[:-1]}\u202f! {fr.paragraph()}",
        ),
        lambda: ("prose", f"{de.paragraph()} {es.paragraph()}"),
    ]
    return m.rng.choice(makers)()


_VERSION_NOUNS = ("Assembly", "firmware", "Driver", "package", "kernel", "Chapter", "python")


def _dotted(m: _Maker) -> str:
    """A four-part version whose parts are all valid octets (it parses as an IPv4 address)."""
    return ".".join(str(m.rng.randint(0, 30)) for _ in range(4))


def _nanp_like(m: _Maker, separator: str) -> str:
    """Ten digits grouped 3-3-4 that fit the North American plan (an id, without a phone word)."""
    number = _nanp(m)
    return separator.join((number[:3], number[3:6], number[6:]))


def _luhn_id(m: _Maker, length: int) -> str:
    """A Luhn-valid id of `length` digits starting as a card does (one id in ten passes Luhn)."""
    return luhn_complete(m.pick(("4", "5", "37", "6011")) + m.digits(length - 1))[-length:]


def _grouped(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


_ID_KEYS = ("order_id", "media_id", "id", "orderId", "ids", "invoice_number", "tracking_no")


def _negative_under_key(m: _Maker) -> Sample:
    """A Luhn-valid or SSN-shaped id under an id key, as tool arguments carry them."""
    key = m.pick(_ID_KEYS)
    value: object = int(_luhn_id(m, m.rng.choice((16, 19))))
    if m.rng.random() < 0.3:
        value = f"{m.rng.randint(100, 899)}-{m.digits(2)}-{m.digits(4)}"
    elif m.rng.random() < 0.3:
        value = [value]
    text = json.dumps({key: value, "total": m.rng.randint(1, 9999) / 100})
    return Sample("", "id_under_key", text, text, "gen_ai.tool.call.arguments")


def negatives(maker: _Maker, count: int) -> list[Sample]:
    """`count` sentences of look-alikes that must not be redacted (some as tool arguments)."""
    samples: list[Sample] = []
    for _ in range(count):
        if maker.rng.random() < 0.03:
            samples.append(_negative_under_key(maker))
            continue
        subtype, sentence = _negative(maker)
        samples.append(Sample("", subtype, sentence, maker.pad(sentence, maker.language())))
    return samples


def generate(per_kind: int, negative_count: int, seed: int = 20240611) -> list[Sample]:
    """Positives (`per_kind` for each of KINDS) then hard negatives, reproducible by seed."""
    maker = _Maker(seed)
    return positives(maker, per_kind) + negatives(maker, negative_count)


def prompt(size: int, seed: int = 7, language: str = "en") -> str:
    """Prompt text of about `size` characters in `language`, one sensitive value per ~2 KB.

    English prompts are ASCII (no obfuscated or internationalised values), as most are.
    """
    maker = _Maker(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        if parts and maker.rng.random() < 0.15:
            part = ""
            while not part or (language == "en" and not part.isascii()):
                part = positives(maker, 1, (language,))[maker.rng.randrange(len(KINDS))].text
        else:
            part = maker.fakers[language].paragraph(nb_sentences=5)
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
    "phone words, short numbers": ("", "tel 1 ", "", 16_666),
    "phone words, then a number": ("", "call ", "0151 2345678", 20_000),
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
    "backslashes": ("", "\\", "", 100_000),
    "unicode escapes": ("", "\\u00e4", "", 16_666),
    "hex escapes": ("", "\\xc3", "", 25_000),
    "escaped escapes": ("", "\\\\u0040", "", 12_500),
    "password colons": ("", "password: ", "", 10_000),
    "password is": ("", "the password is ", "", 6_250),
    "call me words": ("", "call me ", "", 12_500),
    "phone keys": ("{", '"phone": "01 ', "}", 7_692),
    "id labels and cards": ("", "order_id=4111111111111111 ", "", 3_846),
    "version words and addresses": ("", "driver 1.2.3.4 ", "", 6_666),
    "ipv6 scopes": ("", "ace::1 ", "", 14_285),
}


def adversarial(name: str, scale: float = 1.0) -> str:
    """The hostile input `name`, its repeated part scaled by `scale` (1.0: about 100 KB)."""
    prefix, unit, suffix, repeats = HOSTILE[name]
    return prefix + unit * max(1, round(repeats * scale)) + suffix


ADVERSARIAL: dict[str, str] = {name: adversarial(name) for name in HOSTILE}
"""Inputs that make backtracking regexes take quadratic or exponential time (about 100 KB each)."""
