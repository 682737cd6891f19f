"""Tests for the RE2 prefilter and the JSON fast path: they skip work, never a finding."""

import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_llm.redaction import DETECTORS, Redactor
from otel_llm.redaction import _prefilter as prefilter
from otel_llm.redaction._detectors import Scanner
from tests.redaction import load_corpus

SCANNERS = [Scanner(detector) for detector in DETECTORS]
PREFILTER = prefilter.build([detector.re2 for detector in DETECTORS])
CORPUS = load_corpus()
SAMPLES = [sample.text for sample in CORPUS.generate(per_kind=25, negative_count=150)]

LONG_S, KELVIN = "\u017f", "\u212a"  # case-fold to "s" and "k" in a regex, not in str.lower()
# Characters the detectors care about, so random text often comes close to a finding.
# Characters normalisation changes or keeps: no-break, thin and zero-width spaces, soft
# hyphens, full-width and Arabic-Indic digits, full-width "@", a non-breaking hyphen, a
# combining accent, accented and dotted letters.
UNICODE = "\u00a0\u2009\u202f\u200b\u00ad\uff14\u0664\uff20\u2011\u0301\u00fc\u00e9\u0130"
ALPHABET = (
    string.ascii_letters[:12]
    + "AKIZSX"
    + string.digits
    + " .-+@:/()_=\"'\\{}[],;&?%#\n\t"
    + LONG_S
    + KELVIN
    + UNICODE
)
FRAGMENTS = [
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "(415) 555-0132",
    "4111 1111 1111 1111",
    "078-05-1120",
    "GB82 WEST 1234 5698 7654 32",
    "192.168.0.1",
    "2001:db8::1",
    "sk-proj-abc123def456ghi789jkl012",
    "AKIAIOSFODNN7EXAMPLE",
    "Bearer a1b2c3d4e5f6g7h8",
    "postgres://bob:hunter2@db.example.com",
    "password=hunter2",
    "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
    "j\u00fcrgen.m\u00fcller@ex\u00e4mple.de",
    "john.doe%40example.com",
    "Authorization: Basic dXNlcjpwYXNz",
    "?api_key=abc123def456",
    "access_token: a1b2c3d4e5f6",
    "Cookie: a=b; c=d",
    "0044 20 7517 5819",
    "Tel. 01 50 73 64 82",
    "T\u00e9l\u00a0: 04\u00a091\u00a023\u00a045\u00a067",
    "call",
    "Handy",
    "\uff4a\uff4f\uff48\uff4e\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
    "4111\u00a01111\u20091111\u202f1111",
    "sk-proj-abc\u200b123def456ghi789jkl012",
    # escapes, passwords, phone words and keys, ids (issue 15's second review)
    "j\\u00fcrgen.m\\u00fcller@ex\\u00e4mple.de",
    "jane\\u0040example.com",
    "4111\\u00a01111\\u00a01111\\u00a01111",
    "'4111\\xa01111\\xa01111\\xa01111'",
    "password: hunter2",
    "Passwort ist Tr0ub4dor",
    "contrase\u00f1a: x1y2z3",
    "call me on 415-555-0132",
    "call stack",
    "phone_number=4155550199",
    '"contactPhone": "01 50 73 64 82"',
    "order_id=4539148803436467",
    "4539148803436467",
    "Ticket 517-22-4410",
    "ace::1",
    "driver 2.4.1.0",
]
TEXTS = st.lists(st.one_of(st.text(ALPHABET, max_size=30), st.sampled_from(FRAGMENTS)), max_size=8)


def reference() -> Redactor:
    """A Redactor that scans every text with every detector: no prefilter, no fast path."""
    redactor = Redactor()
    redactor._prefilter = None
    redactor._trigger = None
    redactor._builtin_only = False
    return redactor


REFERENCE = reference()
FAST = Redactor()


def missed(text: str) -> list[str]:
    """Detectors that can find something in `text` but that the prefilter says cannot.

    "Can find" is a match before checks; for a detector whose RE2 pattern carries the context
    its check requires (a phone number after "call"), it is a confirmed finding.
    """
    assert PREFILTER is not None
    hits = PREFILTER.matching(text)
    assert hits is not None
    lowered = text.lower()
    return [
        scanner.detector.name
        for index, scanner in enumerate(SCANNERS)
        if index not in hits and _can_find(scanner, text, lowered)
    ]


def _can_find(scanner: Scanner, text: str, lowered: str) -> bool:
    if scanner.detector.context:
        return next(iter(scanner.spans(text, lowered)), None) is not None
    return scanner.next_match(text, 0, lowered) is not None


def test_google_re2_builds_a_set_of_every_builtin_detector() -> None:
    """Installed as a dependency, google-re2 accepts every detector's RE2 pattern."""
    assert PREFILTER is not None


def test_loosened_drops_upper_repetition_bounds_only() -> None:
    """{m,n} becomes {m,}; exact counts and other syntax are kept."""
    assert prefilter.loosened(r"a{2,1000}b{3}c{0,4}[x{]") == r"a{2,}b{3}c{0,}[x{]"


def test_prefilter_reports_every_detector_matching_the_corpus() -> None:
    """On the Faker corpus (positives and look-alike negatives) no match is ever skipped."""
    for text in SAMPLES:
        assert missed(text) == [], text


@pytest.mark.parametrize("name", sorted(CORPUS.ADVERSARIAL))
def test_prefilter_keeps_up_on_hostile_input(name: str) -> None:
    """100 KB runs built to stress engines: RE2 must not give up and report nothing."""
    assert missed(CORPUS.ADVERSARIAL[name]) == []


def test_long_runs_past_the_original_bounds_are_still_reported() -> None:
    """A megabyte of base64 with a JWT at the end: the loosened pattern's DFA stays small."""
    text = "a" * 1_000_000 + " eyJhbGciOi.eyJzdWIiOi.c2ln " + "7." * 300_000
    assert missed(text) == []


def test_text_that_is_not_utf8_encodable_is_scanned_in_full() -> None:
    """A lone surrogate makes the prefilter answer "unknown", so every detector runs."""
    assert PREFILTER is not None
    assert PREFILTER.matching("mail \ud800 jane.doe@example.com") is None
    assert "jane.doe" not in FAST.redact("mail \ud800 jane.doe@example.com").text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_prefilter_never_skips_a_matching_detector(parts: list[str]) -> None:
    """Random text near every detector's patterns: the set reports each one that matches."""
    assert missed(" ".join(parts)) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_fast_redactor_equals_the_full_scan_on_text(parts: list[str]) -> None:
    """Same text out, same findings, with and without the prefilter."""
    text = " ".join(parts)
    assert FAST.redact(text) == REFERENCE.redact(text)


CARDS = [4111111111111111, 5555555555554444, 378282246310005, 4111111111111111.0]
PHONES = [4155550199, 612345678]  # national numbers as JSON numbers (under a phone key)
NUMBERS = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(CARDS + PHONES),
    st.integers(min_value=10**12, max_value=10**19),  # card-length, Luhn-valid one time in ten
)
# Field names: content, credential names (some only by case folding), look-alikes that are
# not credentials, and keys that are themselves findings.
NAMED_KEYS = st.sampled_from(
    [
        *("content", "role", "password", "PassWord", LONG_S + "ecret", "api-key", "token"),
        *("session_token", "set-cookie", "X-Api-Key", "max_tokens", "input_tokens", "pin"),
        *("jane.doe@example.com", "4111111111111111", "[REDACTED:email]"),
        # keys that are context: phone numbers and ids
        *("phone", "mobile", "contactPhone", "Telefon", "m\u00f3vil", "to", "phone_number"),
        *("order_id", "mediaId", "ids", "id"),
    ]
)
KEYS = st.one_of(NAMED_KEYS, st.text(ALPHABET, max_size=12))
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXTS.map(" ".join)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=12,
)
# JSON number literals json.dumps never writes, which a scan of the raw text reads differently.
NUMBER_LITERALS = st.sampled_from(
    [
        "4111111111111111e0",
        "4.111111111111111E15",
        "4111111111111111.25",
        "411111111111111.1e1",
        "-0.5",
        "1e400",
        "0.4532015112830366",
        "1.10",
        "-4111111111111111",
    ]
)


def _json_text(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """JSON arrays and objects assembled as text from JSON texts."""
    return st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(KEYS, inner, max_size=4).map(
            lambda fields: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in fields.items()) + "}"
        ),
    )


JSON_TEXTS = st.recursive(
    st.one_of(
        NUMBER_LITERALS,
        JSON_VALUES.map(json.dumps),
        JSON_VALUES.map(lambda value: json.dumps(value, ensure_ascii=False)),
    ),
    _json_text,
    max_leaves=10,
).map(lambda text: text if text.startswith(("[", "{")) else f"[{text}]")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES, st.booleans())
def test_fast_redactor_equals_the_full_scan_on_json(value: object, ascii_only: bool) -> None:
    """JSON values (escaped or not; numbers, keys, credential-named fields) redact identically."""
    text = json.dumps({"messages": [value]}, ensure_ascii=ascii_only)
    assert FAST.redact_value("gen_ai.input.messages", text) == REFERENCE.redact_value(
        "gen_ai.input.messages", text
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_TEXTS)
def test_fast_redactor_equals_the_full_scan_on_json_as_written(text: str) -> None:
    """JSON with number literals json.dumps never writes (4111111111111111e0) redacts alike."""
    assert FAST.redact_value("gen_ai.tool.call.arguments", text) == REFERENCE.redact_value(
        "gen_ai.tool.call.arguments", text
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_fast_redactor_equals_the_full_scan_on_structured_values(value: Any) -> None:
    """Structured values (numbers, keys, nesting under credential names) redact alike."""
    assert FAST.redact_value("gen_ai.input.messages", value) == REFERENCE.redact_value(
        "gen_ai.input.messages", value
    )


@pytest.mark.parametrize(
    "text",
    [
        '[{"content":"write to jane\\u0040example.com"}]',  # an escape hides the "@"
        '[{"content":"x","PassWord":"hunter2"}]',  # a credential-named field
        '[{"content":"x","' + LONG_S + 'ecret":"hunter2"}]',  # a key the regex folds to "secret"
        '{"a":"postgres://x","b":"jane.doe@example.com"}',  # context spans two leaves
    ],
)
def test_json_fast_path_falls_back_when_it_cannot_rule_findings_out(text: str) -> None:
    """Escapes, credential-named fields and matches in any leaf all take the full walk."""
    redacted, findings = FAST.redact_value("gen_ai.input.messages", text)
    assert findings
    assert (redacted, findings) == REFERENCE.redact_value("gen_ai.input.messages", text)


def test_without_google_re2_the_python_scan_still_finds_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fallback for platforms without google-re2's wheels: same findings, just slower."""
    monkeypatch.setattr(prefilter, "re2", None)
    redactor = Redactor()
    assert redactor._prefilter is None
    for text in SAMPLES:
        assert redactor.redact(text) == REFERENCE.redact(text)


def test_extra_patterns_run_on_every_text() -> None:
    """A custom pattern has no RE2 counterpart in the set: it is scanned whatever RE2 says."""
    redactor = Redactor(extra_patterns={"ticket": r"TCK-[0-9]{4}"})
    text = '[{"content":"see TCK-1234"}]'
    redacted, findings = redactor.redact_value("gen_ai.input.messages", text)
    assert [f.kind for f in findings] == ["custom"]
    assert "TCK-1234" not in str(redacted)


# Bytes as attributes and log bodies carry: UTF-8 text, JSON, and anything else.
BYTES = st.one_of(
    TEXTS.map(" ".join).map(str.encode),
    JSON_VALUES.map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
    st.binary(max_size=24),
    st.lists(st.one_of(st.binary(max_size=4), st.sampled_from(FRAGMENTS).map(str.encode))).map(
        b" ".join
    ),
)
ATTRIBUTE_KEYS = st.sampled_from(
    [
        "gen_ai.input.messages",
        "app.user.phone",  # a phone key: its value is read after "phone:"
        "app.order_id",  # an id key
        "gen_ai.request.model",  # a safe key: never scanned
        "exception.message",
        "db.password",  # a credential-named attribute
        "app." + LONG_S + "ecret",
        "tags",
    ]
)
ATTRIBUTE_VALUES = st.one_of(
    st.none(),
    NUMBERS,
    st.floats(allow_nan=False),
    st.booleans(),
    TEXTS.map(" ".join),
    JSON_VALUES.map(lambda value: json.dumps([value], ensure_ascii=False)),
    JSON_VALUES.map(lambda value: json.dumps([value])),  # \u escapes
    JSON_TEXTS,
    st.lists(TEXTS.map(" ".join), max_size=3).map(tuple),
    st.lists(NUMBERS, max_size=3).map(tuple),
    st.just(""),
    JSON_VALUES,  # structured, as GenAI events carry messages
    st.lists(JSON_VALUES, max_size=3).map(tuple),
    st.dictionaries(KEYS, JSON_VALUES.map(json.dumps)),
    BYTES,
)
MAPPINGS = st.lists(st.dictionaries(ATTRIBUTE_KEYS, ATTRIBUTE_VALUES, max_size=5), max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MAPPINGS, st.lists(TEXTS.map(" ".join), max_size=2), st.lists(ATTRIBUTE_VALUES, max_size=2))
def test_is_clean_only_when_the_full_scan_finds_nothing(
    mappings: list[dict[str, Any]], texts: list[str], bodies: list[Any]
) -> None:
    """A span or log record the joined RE2 pass rules out has no finding anywhere in it."""
    if FAST.is_clean(mappings, texts, bodies):
        for attributes in mappings:
            assert REFERENCE.redact_mapping(attributes) == (attributes, ())
        for text in texts:
            assert REFERENCE.redact(text).findings == ()
        for body in bodies:
            assert REFERENCE.redact_body(body) == (body, ())


# Mostly clean structures, so that a finding hiding in one key, number, bytes value or
# credential-named field is often the only one.
QUIET_KEYS = st.sampled_from(
    [
        *("content", "role", "max_tokens", "pin", "password", "jane.doe@example.com"),
        *("4111111111111111", "phone", "mobileNumber", "order_id", "id"),
    ]
)
QUIET_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.sampled_from(["hi", "ok", "", "x y", "1.5", "01 50 73 64 82", "4155550199", "517-22-4410"]),
    NUMBERS,
)


def _quiet(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Objects (and lists of them) whose fields nest mostly clean leaves."""
    nested = st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(QUIET_KEYS, inner, max_size=3),
        ),
        max_leaves=6,
    )
    objects = st.dictionaries(QUIET_KEYS, nested, min_size=1, max_size=3)
    return st.one_of(objects, st.lists(objects, min_size=1, max_size=2))


QUIET_VALUES = _quiet(st.one_of(QUIET_LEAVES, st.sampled_from([b"hi", b"", b"\xff"])))
QUIET_JSON = _quiet(QUIET_LEAVES).map(json.dumps)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["gen_ai.input.messages", "tags"]),
    st.one_of(QUIET_VALUES, QUIET_VALUES, QUIET_JSON, ATTRIBUTE_VALUES),
)
def test_is_clean_agrees_with_the_full_walk_value_by_value(key: str, value: Any) -> None:
    """One value at a time (so that most are clean): as an attribute and as a log body."""
    if FAST.is_clean([{key: value}]):
        assert REFERENCE.redact_value(key, value) == (value, ())
    if FAST.is_clean([], bodies=[value]):
        assert REFERENCE.redact_body(value) == (value, ())


def test_is_clean_passes_an_ordinary_span_and_refuses_what_it_cannot_rule_out() -> None:
    """A typical GenAI span or event is clean in one pass; what could hold a finding is not.

    Findings (at any depth, in keys, numbers and bytes too), escapes, exponents,
    credential-named keys and fields, non-string keys and nesting past the depth limit all
    take the full walk, and so does everything when a callback or a custom pattern is
    configured.
    """
    span: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
        "gen_ai.usage.input_tokens": 12,
        "exception.message": "",
    }
    assert FAST.is_clean([span])
    assert FAST.is_clean([span], ["timed out after 30 s"])
    assert not FAST.is_clean([span], ["mail jane.doe@example.com"])
    message: Any = {"role": "user", "parts": ({"type": "text", "content": "hi"},)}
    assert FAST.is_clean([{**span, "gen_ai.input.messages": (message,)}])
    numbers: Any = {"max_tokens": 512, "temperature": 0.4532015112830366, "raw": b"hi"}
    assert FAST.is_clean([{**span, "gen_ai.request.settings": numbers}])
    deep: Any = "hi"
    for _ in range(40):
        deep = [deep]
    unclear: list[tuple[str, Any]] = [
        ("gen_ai.input.messages", ({"parts": ({"content": "jane.doe@example.com"},)},)),
        ("gen_ai.input.messages", ({"role": "user", "api_key": "abc"},)),
        ("gen_ai.input.messages", ({"content": '[{"content":"jane\\u0040example.com"}]'},)),
        ("nested", {1: "b"}),
        ("nested", deep),
        ("gen_ai.input.messages", '[{"content":"jane.doe@example.com"}]'),
        ("gen_ai.input.messages", '[{"content":"jane\\u0040example.com"}]'),
        ("gen_ai.input.messages", '[{"api_key":"abc"}]'),
        ("db.password", "hunter2"),
        ("tags", ("ok", "192.168.0.1")),
        ("app.raw", b"mail jane.doe@example.com"),  # bytes are scanned
        ("app.order", {"card": 4111111111111111}),  # so are numbers
        ("app.order", (4111111111111111.0,)),
        ("app.notes", {"jane.doe@example.com": "hi"}),  # and keys
        ("app.user", {"password": {"new": "x"}}),  # nested under a credential name
        ("app.user", {"pin": {"api_key": 1234}}),  # numeric secrets
        ("app.user", {"session_token": "opaque"}),
        ("gen_ai.tool.call.arguments", '{"card": 4.111111111111111e15}'),  # an exponent
    ]
    for key, value in unclear:
        assert not FAST.is_clean([{**span, key: value}]), key
    assert not Redactor(callback=lambda key, text: None).is_clean([span])
    assert not Redactor(extra_patterns={"t": "x"}).is_clean([span])


def test_is_clean_looks_for_phone_words_only_where_a_number_is() -> None:
    """A number without a phone word before it stays on the fast path; with one it does not."""
    span: dict[str, Any] = {"gen_ai.input.messages": '[{"content":"on 2024-01-15 at 10:30"}]'}
    assert FAST.is_clean([span])
    assert FAST.is_clean([span], ["Call #2 was on 2024-01-15, id 1718000000123"])
    assert not FAST.is_clean([span], ["Call me on 01 50 73 64 82"])
    assert not FAST.is_clean([{"x": "Handy: 0151 23456789"}])
    assert not FAST.is_clean([{"x": "T\u00e9l\u00a0: 04\u00a091\u00a023\u00a045\u00a067"}])


PROSE = st.lists(
    st.sampled_from(
        [
            *FRAGMENTS,
            "the order",
            "on 2024-01-15",
            "at 10:30",
            "id 1718000000123",
            "call",
            "T\u00e9l.",
            "Handy:",
            "m\u00f3vil",
            "01 50 73 64 82",
            "0151\u00a023456789",
            "\u200b",
            "caf\u00e9",
            "\n",
        ]
    ),
    max_size=6,
).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PROSE, max_size=3), PROSE)
def test_is_clean_agrees_with_the_full_scan_on_prose(texts: list[str], content: str) -> None:
    """Mostly clean prose with phone words, numbers and normalised characters: no finding missed."""
    span = {"gen_ai.input.messages": json.dumps([{"content": content}], ensure_ascii=False)}
    if FAST.is_clean([span], texts):
        assert REFERENCE.redact_mapping(span) == (span, ())
        for text in texts:
            assert REFERENCE.redact(text).findings == ()
