"""Tests for the detectors' Python validators: checksums, number plans, context, credentials."""

import re

import pytest

from otel_llm.redaction import DETECTORS, iban_valid, luhn_valid
from otel_llm.redaction import _checks as checks


def match(text: str, value: str, group: bool = False) -> re.Match[str]:
    """A match of `value` inside `text` (its only group too, when `group`)."""
    pattern = f"({re.escape(value)})" if group else re.escape(value)
    found = re.search(pattern, text)
    assert found is not None
    return found


def test_luhn_and_iban_checksums() -> None:
    """luhn_valid and iban_valid accept known-good numbers and reject one-digit changes."""
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("GB82 WEST 1234 5698 7654")  # GB IBANs have 22 characters


def test_basic_credentials_decode_to_user_and_password() -> None:
    """Base64 of "user:pass" counts; other words after "Basic" need a label and to look random."""
    pattern = re.compile(next(d.pattern for d in DETECTORS if d.name == "basic_auth"), re.ASCII)

    def confirmed(text: str) -> bool:
        found = pattern.search(text)
        assert found is not None
        return checks.basic_credentials(found)

    assert confirmed("Basic dXNlcjpwYXNz")
    assert not confirmed("Basic information")
    assert confirmed("Authorization: Basic k3yAbc123def456")
    assert confirmed('{"Authorization": "Basic k3yAbc123def456"}')
    assert not confirmed("the Basic k3yAbc123def456")
    assert not confirmed("Authorization: Basic Auth")


LABELLED = re.compile(next(d.pattern for d in DETECTORS if d.name == "labelled_secret"), re.ASCII)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("token=a1b2c3d4e5f6", True),
        ("token: Abc123Def456Ghi789", True),
        ("token: AbcDefGhiJklMnoPqr", True),  # mixed case, 16 or more
        ("max_token=12345678", False),  # a number
        ("token: supersecret", False),  # a generic name needs a generated-looking value
        ("token = tokenizer", False),
        ("api_key=supersecretvalue", True),  # a specific name takes any value...
        ('client_secret: "mysecret"', True),
        ("api_key: YOUR_API_KEY", False),  # ... but a constant's name,
        ("api_key = get_key()", False),  # a call,
        ("secret_key = settings.SECRET_KEY", False),  # a dotted name,
        ("client_secret: Optional[str]", False),  # a type,
        ("api_key=changeme", False),  # or a placeholder
        ("api_key=xxxxxxxx", False),
    ],
)
def test_labelled_values_must_look_like_credentials(text: str, valid: bool) -> None:
    """What follows a credential's name counts unless it is code, a type or a placeholder."""
    found = LABELLED.search(text)
    assert found is not None
    assert checks.labelled_value(found) is valid


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("j\u00fcrgen@ex\u00e4mple.de", True),
        ("\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a", True),
        ("jane@example.com", False),  # ASCII: the ASCII detector's
        ("\u8054\u7cfbjane@example.com", False),  # CJK glued to an ASCII address
        ("jane@example.com\u8c22", False),
    ],
)
def test_international_addresses(address: str, valid: bool) -> None:
    """Non-ASCII addresses count, unless they mix an unspaced script with ASCII letters."""
    assert checks.international_email(match(f" {address} ", address)) is valid


@pytest.mark.parametrize(
    ("digits", "issued"),
    [
        ("4111111111111111", True),  # Visa: 13, 16 or 19 digits
        ("4222222222222", True),
        ("411111111111111", False),
        ("5555555555554444", True),  # Mastercard 51-55 and 2221-2720, 16 digits
        ("2221000000000009", True),
        ("2721000000000004", False),
        ("378282246310005", True),  # Amex: 34/37, 15 digits
        ("3782822463100050", False),
        ("3530111333300000", True),  # JCB 3528-3589
        ("3500111333300000", False),
        ("6200000000000005", True),  # UnionPay
        ("6759649826438453", True),  # Maestro
        ("2200000000000004", True),  # Mir
        ("30569309025904", True),  # Diners
        ("3123456789012345678", False),  # no scheme issues 31
        ("2000000000000000", False),
    ],
)
def test_cards_need_an_issuer_prefix_and_its_length(digits: str, issued: bool) -> None:
    """A card number starts in a scheme's IIN range and has one of that scheme's lengths."""
    assert checks.card_issued(digits) is issued


@pytest.mark.parametrize(
    ("before", "labelled"),
    [
        ("Order ", True),
        ("order_id=", True),
        ('{"media_id": ', True),
        ("mediaId: ", True),
        ("Part no. ", True),
        ("Ticket #", True),
        ("case ", True),
        ("text me the order number ", True),
        ("Commande n\u00b0 ", True),
        ("Bestellnummer ", True),
        ("pedido: ", True),
        ("card ", False),
        ("card number: ", False),
        ("Charge it to my card ", False),
        ("IBAN: ", False),
        ("order shipped, card ", False),
        ("", False),
    ],
)
def test_numbers_labelled_as_ids(before: str, labelled: bool) -> None:
    """Right after "Order", "order_id=", "Part no." or "Ticket #" a number is that id."""
    assert checks.labelled_as_id(f"{before}4111111111111111", len(before)) is labelled


PASSWORD = re.compile(next(d.pattern for d in DETECTORS if d.name == "password"), re.ASCII)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("password: hunter2", "hunter2"),
        ("Password: letmein", "letmein"),  # a word alone after a colon
        ("password: letmein please", None),  # the sentence goes on: prose
        ("Password: click the link", None),
        ("Password: required", None),
        ("Password: ******", None),
        ("password=changeme", None),  # a placeholder
        ("password = settings.DB_PASSWORD", None),  # code
        ("password=${DB_PASSWORD}", None),
        ("password=p@ss", "p@ss"),  # after "=" any value counts
        ('"password": "correct horse"', "correct horse"),
        ("the password is hunter2", "hunter2"),
        ("the password is incorrect", None),  # after "is" a plain word is prose
        ("the password was: Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("password hunter2", "hunter2"),
        ("password reset", None),
        ("password 1234", None),  # too short to be one after a space
        ("mot de passe : hunter2", "hunter2"),
        ("la contrase\u00f1a es Secreto99", "Secreto99"),
        ("das Passwort ist Geheim42!", "Geheim42!"),
    ],
)
def test_password_values(text: str, value: str | None) -> None:
    """After "=" anything but code or a placeholder; after ":" not prose; after "is" symbols."""
    found = PASSWORD.search(text)
    assert found is not None
    confirmed = checks.password_value(found)
    assert (found.group(found.lastindex or 0) if confirmed else None) == value


AUTHORIZATION = re.compile(
    next(d.pattern for d in DETECTORS if d.name == "authorization_header"), re.ASCII
)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("Authorization: Bearer abc.def.ghi", True),  # any token after a scheme
        ("Authorization: Token a1b2c3d4e5", True),
        ("Authorization: Pending reviewers", False),  # a scheme-like word, then a word
        ("Authorization: required-by-policy", False),  # no scheme: must look generated
    ],
)
def test_authorization_values(text: str, valid: bool) -> None:
    """After "Authorization:" a scheme makes any token a credential; a bare word is not one."""
    found = AUTHORIZATION.search(text)
    assert found is not None
    assert checks.authorization_value(found) is valid


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("2001:db8::1", True),
        ("fe80::1", True),
        ("fd12:3456::abcd", True),
        ("ff02::1", True),
        ("64:ff9b::192.0.2.1", True),
        ("1531:5136:9f2a:af3:eb0f:be2f:90e0:a3f9", True),  # eight groups: any space
        ("db::abc", False),  # scopes
        ("cafe::babe", False),
        ("ace::1", False),  # compressed, outside allocated space
        ("dead::beef:1", False),
        ("::add", False),
    ],
)
def test_ipv6_scopes_and_unallocated_compressed_forms_are_not_addresses(
    text: str, address: bool
) -> None:
    """C++/Rust scopes and compressed forms outside IANA's allocations are not addresses."""
    assert checks.ipv6(match(f" {text} ", text)) is address
