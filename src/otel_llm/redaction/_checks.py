"""The detectors' Python validators: checksums, issuer ranges and the text around a match."""

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

# --- ids --------------------------------------------------------------------------------

# Nouns naming a number that is an identifier: after "Order", "Ticket #", "order_id=",
# "Bestellnummer" a Luhn-valid run, an SSN-shaped or a 00 number is that id.
_ID_NOUNS = frozenset(
    (
        # English
        *("id", "ids", "uid", "uuid", "guid", "order", "orders", "invoice", "invoices"),
        *("ticket", "tickets", "ref", "reference", "case", "tracking", "booking"),
        *("reservation", "confirmation", "shipment", "parcel", "receipt", "transaction"),
        *("txn", "sku", "part", "serial", "item", "product", "customer", "member"),
        *("policy", "claim", "incident", "request", "job", "batch", "build", "meeting"),
        *("flight", "record", "document", "message", "event", "trace", "span", "run"),
        *("task", "issue", "commit", "media", "object", "session", "user"),
        # French
        *("commande", "facture", "réf", "référence", "dossier", "billet", "réservation"),
        *("suivi", "colis", "identifiant"),
        # German
        *("bestellung", "bestellnummer", "rechnung", "rechnungsnummer", "auftrag"),
        *("auftragsnummer", "kundennummer", "vorgang", "vorgangsnummer", "sendung"),
        *("sendungsnummer", "ticketnummer", "referenznummer", "artikelnummer"),
        # Spanish
        *("pedido", "factura", "referencia", "reserva", "expediente", "seguimiento"),
    )
)
_NUMBER_WORDS = frozenset(
    ("number", "numbers", "num", "no", "nr", "nummer", "numero", "número", "n", "nº", "n°")
)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NAME_WORDS = re.compile(r"[^\W_]+")
_LABEL_SEPARATORS = " \t\"':=>#("
_LABEL_FILLERS = frozenset(("no.", "nr.", "n°", "nº", "#", *_NUMBER_WORDS))


def is_id_name(name: str) -> bool:
    """Whether a key or label names an identifier: `id`, `order_id`, `mediaId`, "Order no"."""
    words = _NAME_WORDS.findall(_CAMEL_HUMP.sub(" ", name).lower())
    while words and (words[-1].isdigit() or words[-1] in _NUMBER_WORDS):
        words.pop()
    return bool(words) and words[-1] in _ID_NOUNS


def labelled_as_id(text: str, start: int) -> bool:
    """Whether the number at `start` comes right after a label naming an id.

    The label is the word or identifier right before it, separators (":", "=", quotes, "#")
    and "no."/"number"/"n°" aside: "Order ", "order_id=", '"media_id": ', "Part no. ".
    """
    window_start = max(0, start - 40)
    window = text[max(window_start, text.rfind("\n", window_start, start) + 1) : start]
    chunks = window.rstrip(_LABEL_SEPARATORS).split()
    while chunks and chunks[-1].lower().rstrip(_LABEL_SEPARATORS) in _LABEL_FILLERS:
        chunks.pop()
    if not chunks:
        return False
    return is_id_name(chunks[-1].lstrip("{[(\"'").rstrip(_LABEL_SEPARATORS))


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


# Issuer ranges (IIN prefixes, first and last) and the lengths each scheme issues: a
# Luhn-valid id passes one time in ten, and most of them start where no card does.
_CARD_RANGES_TEXT = (
    "4-4:13,16,19 "  # Visa
    "51-55:16 2221-2720:16 "  # Mastercard
    "34-34:15 37-37:15 "  # American Express
    "6011-6011:16-19 644-649:16-19 65-65:16-19 "  # Discover
    "3528-3589:16-19 "  # JCB
    "300-305:14-19 3095-3095:14-19 36-36:14-19 38-39:14-19 "  # Diners Club
    "62-62:16-19 "  # UnionPay
    "5018-5018:12-19 5020-5020:12-19 5038-5038:12-19 5893-5893:12-19 "  # Maestro
    "6304-6304:12-19 6759-6759:12-19 6761-6763:12-19 "
    "2200-2204:16-19 "  # Mir
    "60-60:16 508-508:16 353-353:16 356-356:16"  # RuPay
)


def _lengths(text: str) -> frozenset[int]:
    low, _, high = text.partition("-")
    return frozenset(range(int(low), int(high or low) + 1))


_CARD_RANGES = tuple(
    (first, last, frozenset().union(*(_lengths(part) for part in lengths.split(","))))
    for first, last, lengths in (
        (*item.partition(":")[0].split("-"), item.partition(":")[2])
        for item in _CARD_RANGES_TEXT.split()
    )
)


def card_issued(digits: str) -> bool:
    """Whether a card scheme issues numbers with this prefix and length."""
    return any(
        first <= digits[: len(first)] <= last and len(digits) in lengths
        for first, last, lengths in _CARD_RANGES
    )


def payment_card(match: re.Match[str]) -> bool:
    """An issuer's prefix and length, Luhn, and not labelled as an id ("order_id=", "Order")."""
    digits = _NON_DIGITS.sub("", match.group())
    if not (card_issued(digits) and luhn_valid(digits)):
        return False
    return not labelled_as_id(match.string, match.start())


def us_ssn(match: re.Match[str]) -> bool:
    """Area, group and serial numbers the SSA can issue, not labelled as an id ("Ticket")."""
    area, group, serial = match.group().split("-")
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return not labelled_as_id(match.string, match.start())


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


# --- addresses --------------------------------------------------------------------------

_VERSION_BEFORE = re.compile(r"(?i:\bv|\bversion|\bver|\brelease|\bbuild)[ :=]{0,2}$")
# Words after which a four-part dotted number is a version or a section ("Upgraded the
# driver to 2.4.1.0", "See section 3.2.1.4") unless a word for an address comes after them
# ("the firmware of the server at 10.0.0.1"); alone, "1.2.3.4" is an address.
_VERSION_WORDS = frozenset(
    (
        *("version", "versions", "release", "released", "build", "builds", "rev"),
        *("revision", "patch", "patched", "upgrade", "upgraded", "upgrades", "upgrading"),
        *("update", "updated", "updates", "updating", "downgrade", "downgraded", "driver"),
        *("drivers", "assembly", "firmware", "fw", "bios", "package", "pkg", "kernel"),
        *("library", "lib", "sdk", "module", "plugin", "python", "java", "jdk"),
        *("nodejs", "ruby", "php", "perl", "golang", "rust", "gcc", "clang", "dotnet"),
        *("chrome", "chromium", "firefox", "safari", "windows", "macos", "ios", "android"),
        *("ubuntu", "debian", "linux", "openssl", "cuda", "section", "sections", "chapter"),
        *("clause", "paragraph", "article", "figure", "appendix"),
    )
)
_ADDRESS_WORDS = frozenset(
    (
        *("ip", "ips", "ipv4", "address", "addresses", "addr", "host", "hosts", "hostname"),
        *("server", "servers", "gateway", "dns", "subnet", "route", "router", "proxy"),
        *("peer", "client", "ping", "ssh", "connect", "connected", "connecting"),
        *("connection", "from", "via", "at", "listen", "listening", "bind", "remote"),
        *("inet", "lan", "wan", "vpn", "endpoint", "nameserver", "machine", "box", "vm"),
    )
)
_WINDOW_WORDS = re.compile(r"[A-Za-z]+")
_SENTENCE_ENDS = re.compile(r"[.!?][ \t]+")


def _announced_as_version(text: str, start: int) -> bool:
    """Whether a version word comes before `start` on its line, with no address word after it."""
    window_start = max(0, start - 48)
    window = text[max(window_start, text.rfind("\n", window_start, start) + 1) : start]
    window = _SENTENCE_ENDS.split(window)[-1]
    for word in reversed(_WINDOW_WORDS.findall(window)):
        lowered = word.lower()
        if lowered in _ADDRESS_WORDS:
            return False
        if lowered in _VERSION_WORDS:
            return True
    return False


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
    if _announced_as_version(text, start):
        return False
    return _parses(ipaddress.IPv4Address, match.group())


def ipv6(match: re.Match[str]) -> bool:
    """A parseable IPv6 address, not a C++/Rust scope ("std::add") or part of a longer run.

    "db::abc", "ABC::Dead" and "cafe::babe" are scopes: a compressed address with no decimal
    digit and at most two groups is not counted, and neither is a compressed one whose first
    group lies outside the space IANA allocates (global unicast 2000::/3, unique and link
    local, multicast, ::/16, NAT64's 64:ff9b::), such as "ace::1".
    """
    text, start, end = match.string, match.start(), match.end()
    if start and (text[start - 1].isalnum() or text[start - 1] in "_:"):
        return False
    if text[end : end + 1] == ":":
        return False  # "dead::beef::1": a prefix of something that is not an address
    if not _parses(ipaddress.IPv6Address, match.group()):
        return False
    value = match.group().partition("%")[0]
    if "::" not in value:
        return True  # eight groups: no scope or ratio looks like that
    groups = [group for group in value.split(":") if group]
    if len(groups) <= 2 and not any(char.isdigit() for char in value):
        return False
    first = int(value.split(":", 1)[0] or "0", 16)
    return first in (0, 0x64, 0x100) or 0x2000 <= first <= 0x3FFF or first >= 0xFC00


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


_SCHEME_AND_VALUE = re.compile(r"[A-Za-z][A-Za-z0-9-]*[ \t]+\S")


def authorization_value(match: re.Match[str]) -> bool:
    """After "Authorization:", generated-looking credentials, or any token after a scheme.

    "Authorization: Bearer abc.def.ghi" is a credential whatever it looks like; a bare
    word ("Authorization: Pending review") is not.
    """
    value = match.group(1)
    if _opaque(value):
        return True
    start = match.start(1) - match.start()
    scheme = _SCHEME_AND_VALUE.search(match.group(), 0, start + 1)
    return scheme is not None and any(char in "._~+/=-" for char in value.strip("._~+/=-"))


_GENERIC_NAMES = frozenset(
    ("token", "secret", "signature", "key", "sig", "auth", "pass", "pw", "code")
)
_LABEL_NAME = re.compile(r"[?&]?([A-Za-z_.-]+)")
_NOT_VALUES = frozenset(
    (
        *("none", "null", "undefined", "true", "false", "required", "optional", "string"),
        *("str", "bytes", "number", "integer", "boolean", "object", "secretstr", "changeme"),
        *("placeholder", "redacted", "example", "password", "secret", "token"),
    )
)


_WORD_AND_YEAR = re.compile(r"[A-Za-z][a-z]+(?:19|20)[0-9]{2}")


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
        # "?key=Paris2024" is a search term: a word and a year is not generated.
        return _opaque(value) and _WORD_AND_YEAR.fullmatch(value) is None
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


# Words that follow "password:" or "the password is" in prose and documentation, not a
# password: "Password: required", "the password is incorrect".
_PASSWORD_PROSE = frozenset(
    (
        *("incorrect", "invalid", "wrong", "expired", "reset", "changed", "updated", "set"),
        *("empty", "missing", "hidden", "masked", "protected", "needed", "must", "should"),
        *("will", "can", "cannot", "enter", "your", "the", "for", "of", "to", "and", "or"),
        *("not", "too", "here", "below", "above", "same", "unknown", "blank", "unchanged"),
        *("requirements", "policy", "manager", "strength", "length", "hint", "field"),
    )
)
_PROSE_VERB = re.compile(r"(?i:\b(?:is|was|ist|war|est|était|es|era|é)\b)")
_CODE_NAME = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+|[A-Z0-9_]*_[A-Z0-9_]*")
_GOES_ON = re.compile(r"[ \t]+\w")
_PLACEHOLDERS = ("${", "$(", "{{", "<", "%(", "%s", "env:")


def password_value(match: re.Match[str]) -> bool:
    """The value after "password", "Passwort", "mot de passe", "contraseña"... is one.

    After "=" (config, connection strings) any value but a placeholder or a name from code
    counts; after ":" also, unless it is a plain word the sentence goes on from ("Password:
    click the link"); after "is"/"was" or a space only a value with a digit or a symbol does
    ("the password is hunter2", not "the password is incorrect").
    """
    group = match.lastindex or 0
    value = match.group(group)
    quoted = group < len(match.groups())  # the quoted alternatives come first
    core = value if quoted else value.rstrip(".,;:!?)]}")
    lowered = core.lower()
    if not any(char.isalnum() for char in core) or len(set(lowered)) <= 2:
        return False  # "******", "xxxxxx"
    if lowered in _NOT_VALUES or lowered in _PASSWORD_PROSE or core.startswith(_PLACEHOLDERS):
        return False
    text, end = match.string, match.end()
    if _CODE_NAME.fullmatch(core.rstrip("[(")) or text[end : end + 1] in ("(", "["):
        return False  # settings.DB_PASSWORD, YOUR_PASSWORD, get_password()
    label_and_sign = text[match.start() : match.start(group)]
    if "=" in label_and_sign:
        return True
    letters_only = core.isalpha()
    if ":" in label_and_sign and _PROSE_VERB.search(label_and_sign) is None:
        goes_on = _GOES_ON.match(text, end) is not None
        return quoted or not (letters_only and goes_on)
    return len(core) >= 6 and not letters_only
