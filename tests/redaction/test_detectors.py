"""Tests for the built-in detectors: what each finds, what it must leave alone, and linear time."""

import json
import time

import pytest

from otel_llm.redaction import DETECTORS, Detector, Redactor
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
        # internationalised addresses (RFC 6531), whole
        "j\u00fcrgen.m\u00fcller@ex\u00e4mple.de",
        "D\u00f6rte@S\u00f6rensen.example.com",
        "jos\u00e9.garc\u00eda@correo.es",
        "\u043a\u043e\u043b\u044f@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",
        "\u03b8\u03c3\u03b5\u03c1@\u03b5\u03c7\u03b1\u03bc\u03c0\u03bb\u03b5.\u03c8\u03bf\u03bc",
        "\u0905\u091c\u092f@\u0921\u093e\u091f\u093e.\u092d\u093e\u0930\u0924",
        "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a",
        # URL-encoded and entity-encoded
        "john.doe%40example.com",
        "first.last%2540example.org",
        "john%2Edoe%40example%2Ecom",
        "jane&#64;example.com",
        "jane&#x40;example.com",
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
        # the international prefix written 00
        "0044 20 7517 5819",
        "0049 40 91311088",
        "0033 1 50 73 64 82",
        "001 415 555 0199",
        "0044 (0)20 7946 0958",
        "0049-40-91311088",
        # with an extension (Faker's en_US formats)
        "001-305-655-2667x869",
        "+1-415-555-0132x55",
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
        "3530111333300000",  # JCB
        "6200000000000005",  # UnionPay
        "6759649826438453",  # Maestro
        "2200000000000004",  # Mir
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
    # "password" followed by a colon, "is"/"was", a space; in French, German, Spanish...
    ("password: hunter2", "secret", "hunter2"),
    ("Password: Summer2024!", "secret", "Summer2024!"),
    ("the password was: Tr0ub4dor&3", "secret", "Tr0ub4dor&3"),
    ("my password is hunter2", "secret", "hunter2"),
    ("login with password hunter22 please", "secret", "hunter22"),
    ("Passwort: hunter2", "secret", "hunter2"),
    ("das Passwort ist 8Cl0h4Wip", "secret", "8Cl0h4Wip"),
    ("Kennwort: geheim123", "secret", "geheim123"),
    ("mot de passe : hunter2", "secret", "hunter2"),
    ("contrase\u00f1a: hunter2", "secret", "hunter2"),
    ("CONTRASE\u00d1A: hunter2", "secret", "hunter2"),
    ("senha: hunter2", "secret", "hunter2"),
    ("export DB_PASSWORD=s3cr3t", "secret", "s3cr3t"),
    ("dbPassword: letmein", "secret", "letmein"),
    ("{'password': 'hunter2'}", "secret", "hunter2"),
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
    # HTTP Basic credentials, in a header, a Python dict, JSON text
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "secret", "dXNlcjpwYXNzd29yZA=="),
    ("headers = {'Authorization': 'Basic dXNlcjpwYXNz'}", "secret", "dXNlcjpwYXNz"),
    (
        '{"authorization":"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}',
        "secret",
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    ),
    ("curl -u x -H 'Basic YWRtaW46aHVudGVyMg=='", "secret", "YWRtaW46aHVudGVyMg=="),
    # other Authorization schemes
    (
        "curl -H 'Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b'",
        "secret",
        "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
    ),
    ("Proxy-Authorization: ApiKey k3y-Abc123def456", "secret", "k3y-Abc123def456"),
    # credentials in URLs' query strings
    (
        "GET https://api.example.com/v1/items?api_key=a1b2c3d4e5f6g7h8&page=2",
        "secret",
        "a1b2c3d4e5f6g7h8",
    ),
    (
        "https://x.example.com/cb?code=ok&access_token=ya29.a0AfH6SMBx1234",
        "secret",
        "ya29.a0AfH6SMBx1234",
    ),
    (
        "https://app.example.com/oauth/callback?code=9f8e7d6c5b4a39281706f5e4d3c2b1a0&state=x",
        "secret",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    ),
    (
        "https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&sig=Zm9vYmFy%2BYmF6MTIz%3D",
        "secret",
        "Zm9vYmFy%2BYmF6MTIz%3D",
    ),
    (
        "https://maps.example.com/api/geocode/json?address=x&key=3f9a8b7c6d5e4f3a",
        "secret",
        "3f9a8b7c6d5e4f3a",
    ),
    (
        "/s3/obj?X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0&X-Amz-Date=1",
        "secret",
        "fe5f80f77d5fa3beca038a248ff027d0",
    ),
    ("webhook?token=4f2a9c1e8b7d6a5f", "secret", "4f2a9c1e8b7d6a5f"),
    ("GET /v1/data?api_key=supersecretvalue&page=2", "secret", "supersecretvalue"),
    ("token=abc123", "secret", "abc123"),
    ("login?user=bob&secret=Tr0ub4dor3xyz&next=/", "secret", "Tr0ub4dor3xyz"),
    # opaque values after credential labels, in text, headers, JSON, code, .env files
    ('"session_token": "FwoGZXIvYXdzEBYaDH4x9s"', "secret", "FwoGZXIvYXdzEBYaDH4x9s"),
    ("X-Api-Key: 5f4dcc3b5aa765d61d8327deb882cf99", "secret", "5f4dcc3b5aa765d61d8327deb882cf99"),
    ("the refresh token is 1//0gLq8Xyz12", "secret", "1//0gLq8Xyz12"),
    ("clientSecret: 'Abc123Def456Ghi789'", "secret", "Abc123Def456Ghi789"),
    ("export OPENAI_API_KEY=proj1234abcd5678", "secret", "proj1234abcd5678"),
    ("token => 'xoxe-1-My4xLTIyMDk'", "secret", "xoxe-1-My4xLTIyMDk"),
    # cookies: every name=value pair
    (
        "Cookie: sessionid=38afes7a8; csrftoken=u32t4o3tb3gg43",
        "secret",
        "sessionid=38afes7a8; csrftoken=u32t4o3tb3gg43",
    ),
    ("Cookie: a=b; c=d", "secret", "a=b; c=d"),
    ("Set-Cookie: id=a3fWa; Max-Age=2592000; Secure", "secret", "id=a3fWa; Max-Age=2592000"),
    ('{"set-cookie": "SID=31d4d96e407aad42; Path=/"}', "secret", "SID=31d4d96e407aad42; Path=/"),
]
"""Texts where only the value after a label or inside a URL is the secret."""


@pytest.mark.parametrize(("text", "kind", "value"), LABELLED)
def test_labelled_secrets_redact_only_the_value(text: str, kind: str, value: str) -> None:
    """Passwords in URLs and connection strings, bearer tokens and AWS secrets lose only that."""
    assert found(text) == [(kind, value)]


NATIONAL_PHONES = [
    ("Call me on 01 50 73 64 82 tomorrow.", "01 50 73 64 82"),
    ("phone: (415) 555-0199", "(415) 555-0199"),
    ("text me at 555-0199", "555-0199"),
    ("My mobile is 07700 900123.", "07700 900123"),
    ("WhatsApp: 07700 900123", "07700 900123"),
    ("cell 4155550199", "4155550199"),
    ("Tel:0151 23456789", "0151 23456789"),
    ("Appelez-moi au 01.50.73.64.82 demain.", "01.50.73.64.82"),
    ("T\u00e9l. : 04 91 23 45 67", "04 91 23 45 67"),
    ("mon portable : 06 12 34 56 78", "06 12 34 56 78"),
    ("T\u00c9L\u00c9PHONE 0491234567", "0491234567"),
    ("Telefon: 030 12345678", "030 12345678"),
    ("Handy 0151/23456789", "0151/23456789"),
    ("Bitte rufen Sie mich unter 040 9131108 an.", "040 9131108"),
    ("Rufnummer 089-1234567", "089-1234567"),
    ("Ll\u00e1mame al 612 34 56 78.", "612 34 56 78"),
    ("mi m\u00f3vil es 612 345 678", "612 345 678"),
    ("tel\u00e9fono: 91 123 45 67", "91 123 45 67"),
    ("Tel. 00442075175819", "00442075175819"),
    # North American forms count only after a phone word too
    ("phone: (415) 555-0132", "(415) 555-0132"),
    ("Call me at 415-555-0132x123", "415-555-0132x123"),
    ("call (415)555-0132x86950", "(415)555-0132x86950"),
    ("Call Jane at 415.555.0132 ext. 12", "415.555.0132 ext. 12"),
    ("Please call us on 415 555 0132.", "415 555 0132"),
    ("Fax 1-800-555-0199", "1-800-555-0199"),
    ("my number is 020 7946 0958", "020 7946 0958"),
    ("Mon num\u00e9ro\u00a0: 06 12 34 56 78", "06 12 34 56 78"),
    ("Meine Nummer ist 0151 23456789.", "0151 23456789"),
    ("Mi n\u00famero es el 612 345 678.", "612 345 678"),
    ("contact_phone=4155550199", "4155550199"),
    ("user.phoneNumber: 4155550199", "4155550199"),
]
"""National numbers (no country code), each shortly after a phone word in EN/FR/DE/ES."""


@pytest.mark.parametrize(("text", "number"), NATIONAL_PHONES)
def test_national_numbers_after_a_phone_word_are_found(text: str, number: str) -> None:
    """A national number is a phone number when "call", "Tel.", "Handy", "m\u00f3vil"... is near."""
    assert found(text) == [("phone", number)]


@pytest.mark.parametrize("number", sorted({number for _, number in NATIONAL_PHONES}))
def test_national_numbers_without_a_phone_word_stay(number: str) -> None:
    """Without context the same digits may be an order number, an id or an amount."""
    assert found(f"Reference {number} is in the ticket.") == []


def test_an_ssn_after_my_number_stays_an_ssn() -> None:
    """Spanish "my social security number" announces an SSN, not a phone number."""
    text = "Mi n\u00famero de seguro social (SSN) es 023-84-1420."
    assert found(text) == [("us_ssn", "023-84-1420")]


def test_several_numbers_after_one_phone_word_are_found() -> None:
    """Each number within reach of the context word is redacted, not only the first."""
    text = "Phone: 01 50 73 64 82 or 06 12 34 56 78"
    assert found(text) == [("phone", "01 50 73 64 82"), ("phone", "06 12 34 56 78")]


def test_a_phone_word_reaches_only_so_far() -> None:
    """Too far after the word, on another line or in another sentence, a number stays."""
    assert found("call " + "x" * 41 + " 01 50 73 64 82") == []
    assert found("call me\n01 50 73 64 82") == []
    assert found("I will call. Order 01 50 73 64 82 shipped") == []


OBFUSCATED = [
    ("j\u200bane.d\u00adoe@exam\u200cple.com", "email"),  # zero-width space/joiner, soft hyphen
    ("\uff4a\uff41\uff4e\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "email"),
    ("jane\uff20example.com", "email"),  # full-width "@" only
    ("sk-proj-Ab3dEf6hIj9k\u200bLm2nOp5qRs8tUv1wXy4z", "secret"),
    ("AKIA\u2060IOSFODNN7EXAMPLE", "secret"),  # word joiner
    ("ghp_Ab3dEf6hIj9kLm2nOp5q\ufeffRs8tUv1wXy4zAb3d", "secret"),  # BOM
    ("4111\u00a01111\u00a01111\u00a01111", "payment_card"),  # no-break spaces
    ("4111\u20091111\u20091111\u20091111", "payment_card"),  # thin spaces
    ("4111\u202f1111\u202f1111\u202f1111", "payment_card"),  # narrow no-break spaces
    (" ".join(["\uff14\uff11\uff11\uff11"] + ["\uff11" * 4] * 3), "payment_card"),  # full-width
    ("4111\u20111111\u20111111\u20111111", "payment_card"),  # non-breaking hyphens
    ("\uff10\uff17\uff18-\uff10\uff15-\uff11\uff11\uff12\uff10", "us_ssn"),
    ("+44\u00a020\u00a07946\u00a00958", "phone"),
    ("+1 415\u2013555\u20130132", "phone"),  # en dashes
    ("DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000", "iban"),
    ("192.168.\u200b1.10", "ip_address"),
]
"""Values written with characters that look the same or are invisible."""


@pytest.mark.parametrize(("value", "kind"), OBFUSCATED)
def test_look_alike_and_invisible_characters_do_not_hide_a_value(value: str, kind: str) -> None:
    """Normalised, the value is found; its original characters (invisible ones too) are replaced."""
    text = f"Note:\u00a0{value} was in the ticket."
    result = REDACTOR.redact(text)
    assert [(f.kind, text[f.start : f.end]) for f in result.findings] == [(kind, value)]
    assert result.text == f"Note:\u00a0[REDACTED:{kind}] was in the ticket."


def test_offsets_stay_right_around_characters_normalisation_expands_or_drops() -> None:
    """Ligatures, marks and dropped characters before a finding do not shift its offsets."""
    text = "\ufb01le e\u0301\u200b\u200b: jane@example.com, \ufb03 +44 20 7946 0958"
    result = REDACTOR.redact(text)
    assert [text[f.start : f.end] for f in result.findings] == [
        "jane@example.com",
        "+44 20 7946 0958",
    ]
    assert result.text == "\ufb01le e\u0301\u200b\u200b: [REDACTED:email], \ufb03 [REDACTED:phone]"


PAYLOAD = {
    "email": "j\u00fcrgen.m\u00fcller@ex\u00e4mple.de",
    "card": "4111\u00a01111\u00a01111\u00a01111",
    "phone": "+44\u00a020\u00a07946\u00a00958",
    "alt": "anna.m\u00fcller@firma.de",
    "ascii": "john.doe@example.com",
}


@pytest.mark.parametrize(
    "template",
    [
        "request payload: {}",  # a log line
        "ValueError: invalid record {}",  # an exception message
        "tool returned {} (truncated)",
        "retrying with {!r}",  # a Python repr of the JSON text
        "{!a}",  # ascii() of the JSON text: escapes escaped again
    ],
)
def test_json_escaped_values_inside_plain_text_are_found(template: str) -> None:
    """json.dumps(payload) inside a string that is not JSON hides nothing; escapes go whole."""
    text = template.format(json.dumps(PAYLOAD))
    result = REDACTOR.redact(text)
    assert sorted(f.kind for f in result.findings) == [
        "email",
        "email",
        "email",
        "payment_card",
        "phone",
    ]
    assert "\\u00" not in result.text.replace("\\\\", "\\")  # no escape is left half
    for raw in ("@", "4111", "7946"):
        assert raw not in result.text


def test_python_reprs_of_values_with_invisible_characters_are_found() -> None:
    r"""A str repr writes no-break and thin spaces as \xa0 and \u2009: they are read as spaces."""
    text = f"card={'4111' + chr(0xA0) + '1111' + chr(0x2009) + '1111 1111'!r} phone=" + repr(
        "+44\u00a020\u00a07946\u00a00958"
    )
    assert [f.kind for f in REDACTOR.redact(text).findings] == ["payment_card", "phone"]


def test_equal_looking_values_get_equal_keyed_hashes() -> None:
    """With an HMAC key a full-width or zero-width-split address hashes as the plain one."""
    redactor = Redactor(hmac_key="k")
    plain = redactor.redact("jane@example.com").text
    assert redactor.redact("\uff4a\uff41\uff4e\uff45\uff20example.com").text == plain
    assert redactor.redact("ja\u200bne@example.com").text == plain


def test_custom_patterns_see_the_text_as_written() -> None:
    """User patterns scan the text as written, with offsets right next to normalised findings."""
    redactor = Redactor(extra_patterns={"ticket": r"TCK\x{00a0}[0-9]{4}"})
    text = "\u200b\u200bjane@example.com TCK\u00a01234"
    result = redactor.redact(text)
    assert result.text == "\u200b\u200b[REDACTED:email] [REDACTED:custom]"


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
        # C++/Rust scopes: no digit and two groups, or outside allocated space
        "Use Foo::add or db::abc for that",
        "call ABC::Dead to stop",
        "cafe::babe",
        "ace::1 and bad::",
        "::add(x)",
        # four-part versions and sections after the word that says so
        "Upgraded the driver to 2.4.1.0 last night",
        "Assembly 4.7.2.0 is required",
        "firmware 1.0.0.12 released",
        "See section 3.2.1.4 of the spec",
        "Chapter 1.2.3.4",
        "we updated the kernel package to 5.10.1.2",
        "python 3.12.1.2",
    ],
    "not phone numbers": [
        "115-555-0132",
        "415-155-0132",
        "call ext. 1234",
        "(415) 155-0132",
        # national forms without a phone word
        "Zoom meeting ID 815 442 1778",
        "Invoice 800 300 2024 due",
        "Flight times: 215 330 1045",
        "(415) 555-0199",
        "415-555-0132",
        "Temperatures: +33 12 45 67 89 over the week",  # France has nine digits after +33
    ],
    "numbers after a phone word that is not announcing one": [
        "we had a call about invoice 2024 0815 3321",
        "Function call id 81 22 33 44 55",
        "Call stack depth 128 256 512 1024",
        "text me the order number 0045 1123 9981",
        "Call me maybe - 2024 tour dates 06 15 2024",
        "Call center KPIs: 300 450 2000",
        "our call volume was 12 450 300 last year",
        "phone: order 415-555-0132",
    ],
    "SSN-shaped ids": ["Ticket 517-22-4410", "Part no. 212-34-5678", "case #123-45-6789"],
    "card-shaped ids": [
        "Order 4539 1488 0343 6467 shipped",
        "order_id=4539148803436467",
        '{"order_id": 4539148803436467, "total": 49.99}',
        '{"media_id": 3123456789012345678}',
        "Tracking number 449044304137821",
        "invoice no. 5555555555554444",
        "3123456789012345678",  # Luhn-valid, but no scheme issues 31...
        "4111111111111111111111",
        "3500 0000 0000 0007",  # JCB starts at 3528
        "3411 1111 1111 1111",  # Amex numbers have 15 digits
    ],
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
        "Basic information about the plan",
        "basic auth is disabled",
        "The BASIC language dates from 1964",
        "Authorization header is missing",
        "the token count is 4096",
        "max_token=4096",
        "token: YOUR_API_KEY",
        "api_key=${API_KEY}",
        "api_key: <your key here>",
        'api_key = os.environ["OPENAI_API_KEY"]',
        "token = tokenizer.encode(text)",
        "secret: true",
        "cookie: a delicious treat",
        "cookie_jar = requests.cookies.RequestsCookieJar()",
        "https://example.com/search?q=python&key=value",
        "client_secret: Optional[str] = None",
        "api_key = get_key()",
        "secret_key = settings.SECRET_KEY",
        "apiKey: process.env.API_KEY",
        "refresh_token: string",
        "api_key=changeme",
        "https://maps.google.com/?q=Paris&key=Paris2024",
        "The password is required.",
        "Password: ******",
        "the password is incorrect",
        "Passwort: mindestens 8 Zeichen",
        "Password: must be at least 8 characters",
        "password reset link",
        "password = os.environ['DB_PASSWORD']",
        "password=${DB_PASSWORD}",
        "PASSWORD: YOUR_PASSWORD",
        "the password policy changed",
    ],
    "numbers near a phone word": [
        "Call #2 at 10:30 on 2024-01-15",
        "call id 1718000000123",
        "the call lasted 00:12:45",
        "phone model iPhone 15, order 12345678",
        "Telefonkonferenz am 15.01.2024 um 10:30 Uhr",
        "llamada de 45 minutos el 15/01/2024",
        "appel du 15/01/2024 \u00e0 10h30",
        "call version 2.3.14.1",
        "call the API with ORD-2024-000123",
        "Call me tomorrow. Order 01234 567890",
        "tool call 3 of 12 took 1.234567 s",
        "phone: 3.14159265",
        "function call returned 1718000000",
        "call_count = 1234567",
        "calls per second: 1 234 567",
        "the phone costs 1.299,00 \u20ac",
        "Call ended at 2024-01-15T10:30:00Z after 1718000000 ms",
    ],
    "numbers starting 00": [
        "order #004412345678",
        "ref 0012 3456 7890",
        "0000 1234 5678",
        "2024-01-15 00:30:00",
        "DE89 3704 0044 0532 0130 01",
    ],
    "not encoded or international emails": [
        "100%40 off today",
        "na\u00efve caf\u00e9@home",
        "\u00fcber@mention",
    ],
}


@pytest.mark.parametrize(
    "text", [text for texts in NEGATIVES.values() for text in texts], ids=lambda t: t[:40]
)
def test_leaves_look_alikes_alone(text: str) -> None:
    """Order numbers, UUIDs, timestamps, versions, prices, trace ids and near misses stay."""
    assert found(f"See {text} for details.") == []


def test_bare_four_part_dotted_number_counts_as_an_ip_address() -> None:
    """An address alone or after an address word; a version after a version word ("upgrade")."""
    assert found("connect to 10.0.0.1 now") == [("ip_address", "10.0.0.1")]
    assert found("the request came from 10.0.0.1") == [("ip_address", "10.0.0.1")]
    assert found("upgrade to 1.2.3.4 today") == []
    assert found("upgrade to version 1.2.3.4 today") == []
    assert found("the firmware of the server at 10.0.0.1") == [("ip_address", "10.0.0.1")]
    assert found("Driver updated. Then ping 10.0.0.1") == [("ip_address", "10.0.0.1")]


def test_compressed_ipv6_in_allocated_space_is_still_an_address() -> None:
    """Scopes are left alone, but addresses with few groups and no digit stay findings."""
    assert found("route fd00::abcd now") == [("ip_address", "fd00::abcd")]
    assert found("ping fe80::1%eth0") == [("ip_address", "fe80::1%eth0")]
    assert found("ping 2001:db8::") == [("ip_address", "2001:db8::")]


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
