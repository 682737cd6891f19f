"""Tests for the built-in detectors: what each finds, what it must leave alone, and linear time."""

import time

import pytest

from otel_llm.redaction import DETECTORS, Detector, Redactor, iban_valid, luhn_valid
from otel_llm.redaction._detectors import Scanner
from tests.redaction import load_corpus

REDACTOR = Redactor()


def found(text: str) -> list[tuple[str, str]]:
    """(kind, value) for each finding in `text`."""
    return [(f.kind, text[f.start : f.end]) for f in REDACTOR.redact(text).findings]


POSITIVES = {
    "email": [
        "john.doe@example.com",
        "first_last+tag@mail.example.co.uk",
        "x@a-b.io",
        "Jane.O.Smith@Example.ORG",
    ],
    "phone": [
        "+1 (415) 555-0132",
        "+1-415-555-0132",
        "+1.415.555.0132",
        "+44 20 7946 0958",
        "+44 (0)20 7946 0958",
        "+49 30 12345678",
        "+4915112345678",
        "+33 1 23 45 67 89",
        "+91 98765 43210",
        "+86 138 0013 8000",
        "(415) 555-0132",
        "(415)555-0132",
        "415-555-0132",
        "415.555.0132",
        "415 555 0132",
    ],
    "payment_card": [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "378282246310005",
        "3782 822463 10005",
        "5555555555554444",
        "2223003122003222",
        "6011111111111117",
        "3056 930902 5904",
        "4222222222222",
    ],
    "us_ssn": ["123-45-6789", "078-05-1120", "665-99-0001"],
    "iban": [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "NO9386011117947",
    ],
    "ip_address": [
        "192.168.1.10",
        "8.8.8.8",
        "255.255.255.255",
        "0.0.0.0",  # noqa: S104 - a string to find, not an address to bind
        "2001:db8::1",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "fe80::1%eth0",
        "::1",
        "::ffff:192.0.2.1",
        "2001:db8:0:0:1::",
    ],
    "secret": [
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab3dEf6hIj9kLm2nOp5",
        "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",
        "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-Ab3dEf6hIj9kLm2nOp5AA",
        "AKIAIOSFODNN7EXAMPLE",
        "ASIAY34FZKBOKMUTVV7A",
        "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d",
        "gho_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d",
        "github_pat_11ABCDEFG0abcdefghijkl_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "xoxb-123456789012-1234567890123-Ab3dEf6hIj9kLm2nOp5qRs8t",
        "xoxp-123456789012-abcdef",
        "sk_live_Ab3dEf6hIj9kLm2nOp5qRs8t",
        "rk_live_Ab3dEf6hIj9kLm2nOp5qRs8t",
        "pk_live_Ab3dEf6hIj9kLm2nOp5qRs8t",
        "sk_test_Ab3dEf6hIj9kLm2nOp5qRs8t",
        "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n"
        "-----END PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n"
        "-----END OPENSSH PRIVATE KEY-----",
    ],
}


@pytest.mark.parametrize(
    ("kind", "value"),
    [(kind, value) for kind, values in POSITIVES.items() for value in values],
)
def test_finds_each_supported_format_in_a_sentence(kind: str, value: str) -> None:
    """Each supported format is found whole, with its kind, in the middle of ordinary text."""
    assert found(f"Note: {value} was in the ticket.") == [(kind, value)]


LABELLED = [
    ("Authorization: Bearer abc.def-123456", "secret", "abc.def-123456"),
    ("AUTHORIZATION: bearer Ab3dEf6hIj9kLm2nOp", "secret", "Ab3dEf6hIj9kLm2nOp"),
    ("postgres://admin:s3cr3t@db.example.com:5432/app", "secret", "s3cr3t"),
    ("redis://:pa@ss@cache.internal:6379/0", "secret", "pa@ss"),
    ("Server=db;User Id=sa;Password=hunter2;Encrypt=true", "secret", "hunter2"),
    ("host=db user=app pwd = 'Tr0ub4dor' port=5432", "secret", "Tr0ub4dor"),
    ('{"password": "correct horse"}', "secret", "correct horse"),
    ('PASSWORD = "p@ss; word"', "secret", "p@ss; word"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "secret",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "secret",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "the AWS secret access key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.",
        "secret",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
]
"""Texts where only the value after a label or inside a URL is the secret."""


@pytest.mark.parametrize(("text", "kind", "value"), LABELLED)
def test_labelled_secrets_redact_only_the_value(text: str, kind: str, value: str) -> None:
    """Passwords in URLs and connection strings, bearer tokens and AWS secrets lose only that."""
    assert found(text) == [(kind, value)]


NEGATIVES = {
    "order numbers": ["Order #4155550132", "order ORD-2024-000123", "invoice 20240115001"],
    "uuids": ["123e4567-e89b-12d3-a456-426614174000", "550E8400-E29B-41D4-A716-446655440000"],
    "timestamps": [
        "2024-01-15T10:30:00+05:30",
        "2024-01-15 10:30:00.123",
        "10:30:00",
        "epoch 1718000000000 ms",
        "1718000000 s",
    ],
    "versions": [
        "v1.2.3",
        "3.11.7",
        "version 1.2.3.4",
        "v1.2.3.4",
        "release 2.0.0.1",
        "1.2.3.4.5",
        "OID 1.3.6.1.4.1.311",
        "Windows 10.0.19045.3803",
    ],
    "prices": ["$1,234.56", "EUR 99.99", "+15% growth", "3+4 5678 9012"],
    "trace ids": [
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
        "12345678901234567890123456789012",
    ],
    "cards that fail Luhn or the issuer rules": [
        "4111 1111 1111 1112",
        "1234567890123456",
        "5123456789012",
        "12345678901234567890123",
    ],
    "numbers that are not SSNs": [
        "000-12-3456",
        "666-12-3456",
        "900-12-3456",
        "123-00-4567",
        "123-45-0000",
    ],
    "not IBANs": ["DE89 3704 0044 0532 0130 01", "GB82 WEST 1234 5698 7654", "ISO8601", "RFC3339"],
    "not IP addresses": [
        "256.1.1.1",
        "01.02.03.04",
        "192.168.1.1000",
        "00:1A:2B:3C:4D:5E",
        "ratio 16:9",
        "std::vector<int>",
        "std::add",
        "Foo::bar",
        "dead::beef::1",
    ],
    "not phone numbers": ["115-555-0132", "415-155-0132", "call ext. 1234", "(415) 155-0132"],
    "not emails": ["user@localhost", "@mention", "name@domain.c", "npm i left-pad@1.3.0"],
    "not secrets": [
        "task-management-system-overview-v2",
        "risk-assessment-framework-documentation",
        "sk-learn-is-not-a-key-just-words",
        "the bearer of bad news",
        "bearer instruments are old",
        "ghp_short",
        "Reset your password: click the link",
        "https://example.com:8443/path?q=1",
        "eyJhbGciOiJIUzI1NiJ9 alone",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n",
        "sk_test alone",
        "AKIA is a prefix",
    ],
}


@pytest.mark.parametrize(
    "text", [text for texts in NEGATIVES.values() for text in texts], ids=lambda t: t[:40]
)
def test_leaves_look_alikes_alone(text: str) -> None:
    """Order numbers, UUIDs, timestamps, versions, prices, trace ids and near misses stay."""
    assert found(f"See {text} for details.") == []


def test_bare_four_part_dotted_number_counts_as_an_ip_address() -> None:
    """'1.2.3.4' alone cannot be told from an address, so it is redacted; prefixed versions stay."""
    assert found("upgrade to 1.2.3.4 today") == [("ip_address", "1.2.3.4")]
    assert found("upgrade to version 1.2.3.4 today") == []


def test_card_followed_by_more_digits_is_still_found() -> None:
    """A grouped card number followed by a CVV or year is trimmed back to the valid number."""
    text = "card 4111 1111 1111 1111 123 exp 2027"
    assert found(text) == [("payment_card", "4111 1111 1111 1111")]


def test_iban_followed_by_a_number_group_is_still_found() -> None:
    """A spaced IBAN followed by a four-digit group is trimmed back to the checksum-valid IBAN."""
    assert found("BE68 5390 0754 7034 2024 invoices") == [("iban", "BE68 5390 0754 7034")]


def test_values_longer_than_the_re2_limit_are_redacted_whole() -> None:
    """JWTs, bearer tokens and PEM keys over 1000 characters are redacted to their end."""
    jwt = "eyJhbGciOiJIUzI1NiJ9." + "eyJ" + "a" * 3000 + "." + "s" * 1500
    body = "\n".join(["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ"] * 60)
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    bearer = "Bearer " + "Ab3" * 700
    for value, secret in ((jwt, jwt), (pem, pem), (bearer, bearer[7:])):
        assert found(f"x {value} y") == [("secret", secret)]


def test_truncated_private_key_is_redacted_to_the_end_of_its_body() -> None:
    """A PEM block cut off before its END line is still redacted (header and body)."""
    text = "key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yNiJ"
    assert REDACTOR.redact(text).text == "key: [REDACTED:secret]"


def test_url_userinfo_is_not_mistaken_for_an_email() -> None:
    """In scheme://user:pass@host the password is a secret, not the start of an email address."""
    result = REDACTOR.redact("dsn mysql://root:hunter2@db.example.com/app, mail ops@example.com")
    assert (
        result.text
        == "dsn mysql://root:[REDACTED:secret]@db.example.com/app, mail [REDACTED:email]"
    )


def test_already_redacted_text_is_not_redacted_again() -> None:
    """Redacting the output again finds nothing (the processor may see a value twice)."""
    text = "Password=hunter2; postgres://u:pw@h/db Bearer abcdef123456 a@b.io"
    once = REDACTOR.redact(text)
    assert len(once.findings) == 4
    assert REDACTOR.redact(once.text).findings == ()


def test_luhn_and_iban_checksums() -> None:
    """luhn_valid and iban_valid accept known-good numbers and reject one-digit changes."""
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not iban_valid("GB82 WEST 1234 5698 7654")  # GB IBANs have 22 characters


def test_every_detector_has_a_known_kind_and_a_unique_name() -> None:
    """Detector names are unique and kinds come from the otel_llm.redaction.kind enum."""
    kinds = {"email", "phone", "payment_card", "us_ssn", "iban", "ip_address", "secret"}
    assert {d.kind for d in DETECTORS} == kinds
    assert len({d.name for d in DETECTORS}) == len(DETECTORS)


# One list of hostile inputs, shared with benchmarks/redaction_quality.py.
ADVERSARIAL: dict[str, str] = load_corpus().ADVERSARIAL


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.name)
def test_each_detector_finishes_on_adversarial_input(detector: Detector) -> None:
    """No detector backtracks catastrophically on 100 KB of crafted input (a hang guard)."""
    scanner = Scanner(detector)
    for name, text in ADVERSARIAL.items():
        started = time.perf_counter()
        list(scanner.spans(text, text.lower()))
        assert time.perf_counter() - started < 2.0, name


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_whole_redactor_finishes_on_adversarial_input(name: str) -> None:
    """The whole pipeline (all detectors, overlaps, JSON sniffing) stays linear (a hang guard)."""
    started = time.perf_counter()
    REDACTOR.redact(ADVERSARIAL[name])
    REDACTOR.redact_value("gen_ai.input.messages", ADVERSARIAL[name])
    assert time.perf_counter() - started < 2.0
