"""Tests for the normalisation the detectors scan: what it changes, and offsets mapped back."""

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_llm.redaction._normalize import canonical, normalize


@pytest.mark.parametrize(
    "text",
    ["plain ASCII, with @ and 4111 1111", "", "café crème, jürgen@exämple.de", "用户@例子.广告"],
)
def test_text_that_needs_nothing_is_not_copied(text: str) -> None:
    """ASCII text and NFKC text without invisible characters or other digits give None."""
    assert normalize(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111\u00a01111\u20091111\u202f1111", "4111 1111 1111 1111"),  # no-break, thin spaces
        ("\u2007\u3000\u2002", "   "),  # figure, ideographic and en spaces
        ("\uff14\uff11\uff11\uff11", "4111"),  # full-width digits
        ("\u0664\u0661\u0661\u0661 \u096a\u0967", "4111 41"),  # Arabic-Indic, Devanagari
        ("\uff4a\uff4f\uff48\uff4e\uff20\uff45\uff58\uff0e\uff49\uff4f", "john@ex.io"),
        ("jane\ufe6bexample.com", "jane@example.com"),  # small commercial at
        ("j\u200ba\u200cn\u200de\u2060@\ufeffex\u00adample.com", "jane@example.com"),
        ("\u202eab\u202c \u200e\u200f", "ab "),  # bidi controls
        ("415\u2011555\u20130132 \u2212 1", "415-555-0132 - 1"),  # hyphens and minus
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),  # composed
        ("\ufb01le \u2460", "file 1"),  # compatibility forms expand
    ],
)
def test_normalised_forms(text: str, expected: str) -> None:
    """NFKC, ASCII digits, "-" for hyphens, invisible characters dropped."""
    normalized = normalize(text)
    assert normalized is not None
    assert normalized.text == expected


def test_offsets_map_back_to_the_original_characters() -> None:
    """A span of the normalised text maps to the original characters it came from."""
    text = "mail \uff4a\u200bo\u00adhn\uff20ex.io now"
    normalized = normalize(text)
    assert normalized is not None
    assert normalized.text == "mail john@ex.io now"
    start = normalized.text.index("john")
    end = start + len("john@ex.io")
    original_start, original_end = normalized.original(start, end)
    assert text[original_start:original_end] == "\uff4a\u200bo\u00adhn\uff20ex.io"


def test_a_span_inside_an_expanded_character_takes_all_of_it() -> None:
    """A span starting or ending inside a ligature's expansion maps to the whole ligature."""
    text = "x \ufb01le y"
    normalized = normalize(text)
    assert normalized is not None
    assert normalized.original(3, 5) == (2, 4)  # "ile" -> "\ufb01le"
    assert normalized.original(2, 3) == (2, 3)  # "f" -> "\ufb01"


def test_dropped_characters_at_the_edges_stay_outside() -> None:
    """Invisible characters just before or after a span are not part of its original span."""
    text = "a \u200bjane\u200b b"
    normalized = normalize(text)
    assert normalized is not None
    start = normalized.text.index("jane")
    assert normalized.original(start, start + 4) == (3, 7)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("j\\u00fcrgen\\u0040ex.de", "j\u00fcrgen@ex.de"),  # JSON's \u escapes
        ("a\\u00a0b\\u2009c", "a b c"),  # escaped no-break and thin spaces, then NFKC
        ("x \\ud83d\\ude00 y", "x \U0001f600 y"),  # a surrogate pair
        ("x \\ud800 y", None),  # a lone surrogate stays as written
        ("http:\\/\\/h", "http://h"),
        ('say \\"hi\\"', 'say "hi"'),
        ("a\\nb\\tc", "a\nb\tc"),
        ("jane\\\\u0040ex.de", "jane@ex.de"),  # escaped twice: JSON in a JSON string
        ("b'j\\xc3\\xbcrgen'", "b'j\u00fcrgen'"),  # a bytes repr holding UTF-8
        ("'4111\\xa01111'", "'4111 1111'"),  # a str repr's no-break space
        ("\\U0001F600", "\U0001f600"),
        ("C:\\Users\\bob", None),  # not escapes
    ],
)
def test_escapes_are_decoded(text: str, expected: str | None) -> None:
    """Escapes programs write for characters are read as those characters."""
    normalized = normalize(text)
    assert (None if normalized is None else normalized.text) == expected


def test_an_escape_maps_back_to_all_its_characters() -> None:
    """A span covering a decoded character takes its whole escape in the original."""
    text = 'x {"a": "anna.m\\u00fcller@firma.de"} y'
    normalized = normalize(text)
    assert normalized is not None
    start = normalized.text.index("anna")
    end = normalized.text.index(".de") + 3
    original_start, original_end = normalized.original(start, end)
    assert text[original_start:original_end] == "anna.m\\u00fcller@firma.de"
    assert canonical("jane\\u0040ex.de") == "jane@ex.de"


def test_canonical_is_the_normalised_text() -> None:
    """canonical() gives what the detectors see, and ASCII unchanged."""
    assert canonical("\uff4a\u200bane") == "jane"
    assert canonical("jane") == "jane"


NASTY = st.text(
    st.sampled_from(
        list("ab1 @.-")
        + list("\u00a0\u2009\u200b\u00ad\uff14\u0664\uff20\u2011\u0301\u0316\u00e9\ufb01\u2460")
        + ["\u0130", "\U0001d400", "\ufeff", "\u1100", "\u1161"]
    ),
    max_size=40,
)


def assert_spans_map_back(text: str, data: st.DataObject) -> None:
    """A random span of `normalize(text)` maps in bounds, ordered, to a slice covering it."""
    normalized = normalize(text)
    if normalized is None:
        return
    size = len(normalized.text)
    if not size:
        return
    start = data.draw(st.integers(0, size - 1))
    end = data.draw(st.integers(start + 1, size))
    original_start, original_end = normalized.original(start, end)
    assert 0 <= original_start < original_end <= len(text)
    assert normalized.text[start:end] in canonical(text[original_start:original_end])
    assert normalized.original(0, size)[1] <= len(text)


@settings(max_examples=500, deadline=None)
@given(NASTY, st.data())
def test_every_span_maps_to_one_that_normalises_to_cover_it(text: str, data: st.DataObject) -> None:
    """Mapped spans are in bounds, ordered, and the original slice normalises to a superset."""
    assert_spans_map_back(text, data)


ESCAPED = st.lists(
    st.sampled_from(
        [
            *("a", "1", " ", "@", "\\", "u", "\\u00e4", "\\u0040", "\\ud83d\\ude00", "\\ud83d"),
            *("\\x41", "\\xc3\\xbc", "\\xc3", "\\/", '\\"', "\\n", "\u00a0", "\uff14", "\u200b"),
        ]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(ESCAPED, st.data())
def test_spans_of_decoded_escapes_map_to_whole_escapes(text: str, data: st.DataObject) -> None:
    """With escapes too, a mapped span's original slice normalises to a superset of it."""
    assert_spans_map_back(text, data)


@pytest.mark.parametrize(
    "hostile",
    [
        "a" + "\u0301\u0316" * 50_000,  # marks out of canonical order: reordering sorts them
        "\u0316\u0301" * 50_000,
        "a" + "\u0301" * 100_000,  # in order: NFKC's quick check says "maybe", then composes
        "e" + "\u0327\u0301" * 50_000,
        "\u1100\u1161" * 50_000,  # Hangul jamo compose without combining classes
        "\u00a0" * 100_000,
        "\u200b" * 100_000,
        "x\u00e9" * 50_000,  # many short runs
        "\uff14" * 100_000,
        "\ufb01" * 100_000,
        "\\" * 100_000,  # backslashes: only the first of a run starts an escape
        "\\\\u" * 50_000,
        "\\u00e4" * 20_000,
        "\\xc3" * 30_000,  # a run of \x escapes that is not UTF-8
        "\\xc3\\xbc" * 20_000,
    ],
    ids=lambda text: f"{unicodedata.name(text[1], '?')[:30]} {text[:6]!a} x{len(text)}",
)
def test_normalising_hostile_text_is_linear(hostile: str) -> None:
    """100 KB of marks, spaces, runs or expansions is normalised quickly (a hang guard)."""
    started = time.perf_counter()
    normalize(hostile)
    assert time.perf_counter() - started < 2.0
