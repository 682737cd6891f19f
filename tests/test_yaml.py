"""Tests for otel_llm._yaml: strict loading of user files and the quoting hint for misread text."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from otel_llm import _yaml


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: [x, {c: 2}]\n",
        "base: &b {p: 1}\nm:\n  <<: *b\n  p: 2\n",  # a merged key overridden on purpose
        "x: &a [1, *a]\n",  # an alias to itself
        "",
        "# only a comment\n",
    ],
)
def test_loads_what_safe_load_loads(text: str) -> None:
    """Without duplicate keys the data is exactly yaml.safe_load's."""
    assert repr(_yaml.load(text).data) == repr(yaml.safe_load(text))


@pytest.mark.parametrize(
    ("text", "where", "lines"),
    [
        ("a: 1\na: 2\n", "a:", "line 1 and line 2"),
        ("p:\n  m:\n    input: 1\n    input: 2\n", "p.m.input:", "line 3 and line 4"),
        ("l: [{x: 1}, {y: 1, y: 2}]\n", "l[1].y:", "line 1 and line 1"),
        ("1: a\n01: b\n", "01:", "line 1 and line 2"),  # both are the integer 1
    ],
)
def test_a_key_given_twice_is_refused_with_its_path_and_lines(
    text: str, where: str, lines: str
) -> None:
    """YAML keeps the last of two equal keys silently; here it is an error naming both lines."""
    with pytest.raises(_yaml.YamlError) as caught:
        _yaml.load(text)
    assert str(caught.value).startswith(where)
    assert lines in str(caught.value)


def test_syntax_errors_give_line_and_column() -> None:
    """Invalid YAML and a second document are errors with the position."""
    with pytest.raises(_yaml.YamlError, match="line 2, column 1"):
        _yaml.load("a: [\n")
    with pytest.raises(_yaml.YamlError, match="single document"):
        _yaml.load("a: 1\n---\nb: 2\n")


def test_not_text_names_what_yaml_read_and_the_quoted_fix() -> None:
    """A plain scalar YAML resolved to a non-string is explained; anything else is a type error."""
    document = _yaml.load("v: 0x2A\nq: '7'\nl: [1]\n")
    assert _yaml.not_text(document.node("v"), 42, "v") == (
        'YAML reads 0x2A as the hexadecimal number 42, not as the text 0x2A; quote it: v: "0x2A"'
    )
    assert _yaml.not_text(document.node("l"), [1], "l") == "expected a string, got list [1]"


def test_written_text_accepts_only_what_yaml_cannot_misread() -> None:
    """3, 0 and 2026-11-20 are their own text; 010, +3, 1_000, 2026-1-5, 1.5 and quoted are not."""
    document = _yaml.load(
        "a: 3\nb: 0\nc: 010\nd: +3\ne: 1_000\nf: '3'\ng: 2026-11-20\nh: 2026-1-5\ni: 1.5\n"
    )
    found = {key: _yaml.written_text(document.node(key)) for key in "abcdefghi"}
    assert found == {
        "a": "3",
        "b": "0",
        "c": None,
        "d": None,
        "e": None,
        "f": None,
        "g": "2026-11-20",
        "h": None,
        "i": None,
    }


def test_a_value_yaml_cannot_build_is_a_yaml_error() -> None:
    """A date that does not exist is reported as an invalid value, not a crash."""
    with pytest.raises(_yaml.YamlError, match="invalid value"):
        _yaml.load("d: 2026-13-45\n")


def test_node_and_key_node_lookups() -> None:
    """Nodes are found by key text and index; key_node finds a non-string key as constructed."""
    document = _yaml.load("m:\n  - {k: v}\n  - x\nn: {1.5: a}\n")
    node = document.node("m", 0, "k")
    assert isinstance(node, yaml.ScalarNode)
    assert node.value == "v"
    assert document.node("m", 5) is None
    assert document.node("m", "k") is None
    key = document.key_node("n", key=1.5)
    assert isinstance(key, yaml.ScalarNode)
    assert key.value == "1.5"
    assert document.key_node("m", key="k") is None


MERGED = "a: &p1 {x: 1, y: 2}\nb: &p2 {x: 5, z: 6}\nc:\n  <<: [*p1, *p2]\n"


def test_a_key_two_merged_mappings_give_is_refused() -> None:
    """`<<: [*p1, *p2]` keeps the first's value of a shared key silently; here it is an error."""
    with pytest.raises(_yaml.YamlError) as caught:
        _yaml.load(MERGED)
    message = str(caught.value)
    assert message.startswith("c.x: given by two of the mappings merged here")
    assert "(line 1: 1; line 2: 5)" in message
    assert "write x in c itself, or merge only one of them" in message


@pytest.mark.parametrize(
    "text",
    [
        MERGED + "  x: 9\n",  # the shared key written in the mapping itself decides
        "a: &a {p: 1}\nb: &b {<<: *a, q: 2}\nc: {<<: *b, r: 3}\n",  # merges of merges
        "a: &a {p: 1}\nb: &b {q: 2}\nc: {<<: [*a, *b]}\n",  # no key in common
    ],
)
def test_merges_without_a_conflict_load_as_safe_load_does(text: str) -> None:
    """A merged key overridden in the mapping, nested merges and disjoint merges are fine."""
    assert _yaml.load(text).data == yaml.safe_load(text)


def test_merged_values_are_found_at_the_line_of_their_anchor() -> None:
    """After merging, node() finds a merged value where it was written, an override where it is."""
    document = _yaml.load("a: &a {p: 1, q: 2}\nb:\n  <<: *a\n  q: 3\n")
    p, q = document.node("b", "p"), document.node("b", "q")
    assert _yaml.line(p) == "line 1: "
    assert _yaml.line(q) == "line 4: "
    assert document.data == {"a": {"p": 1, "q": 2}, "b": {"p": 1, "q": 3}}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: {<<: 1}\n", "a.<<: a merge key takes a mapping or a list of mappings"),
        ("a: &a\n  <<: *a\n", "a mapping merges itself"),
    ],
)
def test_a_merge_that_cannot_work_is_refused(text: str, problem: str) -> None:
    """A merge of a scalar, or of the mapping itself, is an error naming it."""
    with pytest.raises(_yaml.YamlError, match=problem):
        _yaml.load(text)


def test_unless_strict_the_problems_are_listed_and_the_first_value_kept() -> None:
    """With strict=False every duplicate and merge conflict is listed for the caller's report."""
    document = _yaml.load("k: 1\nk: 2\n" + MERGED, strict=False)
    assert [problem.split(":")[0] for problem in document.problems] == ["k", "c.x"]
    assert document.data == {
        "k": 1,
        "a": {"x": 1, "y": 2},
        "b": {"x": 5, "z": 6},
        "c": {"x": 1, "y": 2, "z": 6},
    }


@pytest.mark.parametrize(
    ("written", "exact"),
    [
        ("3", "3"),
        ("0", "0"),
        ("0.15", "0.15"),
        (".5", "0.5"),
        ("5.", "5"),
        ("-2", "-2"),
        ("1e3", "1000"),  # YAML 1.1 reads this as text; a reader sees a thousand
        ("2.5e-7", "0.00000025"),
        ("0.1234567890123456789", "0.1234567890123456789"),  # more than a float holds
    ],
)
def test_number_reads_a_plain_decimal_exactly_from_its_text(written: str, exact: str) -> None:
    """A plain decimal number is read from the text as written, never through a float."""
    value = _yaml.number(_yaml.load(f"v: {written}\n").node("v"))
    assert isinstance(value, Decimal)
    assert value == Decimal(exact)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "010",
            "YAML reads 010 as the octal number 8, not 10; write it in plain decimal digits: "
            "input: 10 (or input: 8 if that is the number meant)",
        ),
        (
            "1:30",
            "YAML reads 1:30 as the base-60 number 90; write a number in plain decimal digits, "
            "such as input: 90",
        ),
        ("0x1A", "YAML reads 0x1A as the hexadecimal number 26; write a number in plain"),
        ("0b11", "YAML reads 0b11 as the binary number 3; write a number"),
        ("1_000", "YAML reads 1_000 as the number 1000; write it in plain decimal digits, no "),
        ("01.5", "YAML reads 01.5 as the number 1.5; write it in plain decimal digits, no lead"),
        (".inf", "expected a finite number, got .inf"),
        (".nan", "expected a finite number, got .nan"),
        ('"2.5"', "the number is quoted, so it is text: write input: 2.5"),
        ("cheap", "expected a number, got the text 'cheap'"),
        ("yes", "expected a number, got yes, which YAML reads as the boolean True"),
        ("", "expected a number, got nothing (null)"),
        ("[1]", "expected a number, got a list"),
    ],
)
def test_not_number_says_what_yaml_reads_and_what_to_write(written: str, message: str) -> None:
    """A value YAML and a reader could disagree on is never a number; the fix is spelled out."""
    node = _yaml.load(f"input: {written}\n").node("input")
    assert _yaml.number(node) is None
    assert _yaml.not_number(node, "input").startswith(message)


def test_whole_numbers_take_no_fraction_or_exponent() -> None:
    """With whole=True, `256` is a number but `256.0` and `1e3` are not."""
    document = _yaml.load("a: 256\nb: 256.0\nc: 1e3\n")
    assert _yaml.number(document.node("a"), whole=True) == 256
    assert _yaml.number(document.node("b"), whole=True) is None
    assert _yaml.not_number(document.node("b"), "b", whole=True) == (
        "expected a whole number, got 256.0"
    )
    assert _yaml.number(document.node("c"), whole=True) is None


def test_read_names_the_first_byte_that_is_not_utf8(tmp_path: Path) -> None:
    """A Latin-1 file is refused with the line and column of its first non-UTF-8 byte."""
    path = tmp_path / "f.yaml"
    path.write_bytes("a: 1\nb: caf\xe9\n".encode("latin-1"))
    with pytest.raises(_yaml.YamlError) as caught:
        _yaml.read(path)
    assert str(caught.value) == (
        "is not UTF-8 text (byte 0xe9 at line 2, column 7); save the file as UTF-8"
    )


def test_read_accepts_a_byte_order_mark_and_an_empty_file(tmp_path: Path) -> None:
    """A UTF-8 BOM is not part of the first key; an empty file has no data."""
    path = tmp_path / "f.yaml"
    path.write_bytes("\ufeffname: x\n".encode())
    assert _yaml.read(path).data == {"name": "x"}
    path.write_bytes(b"")
    assert _yaml.read(path).data is None


def test_a_tab_is_explained() -> None:
    """A tab where YAML wants spaces says so, with its position."""
    with pytest.raises(_yaml.YamlError) as caught:
        _yaml.load("a:\n\tb: 1\n")
    assert str(caught.value) == (
        "invalid YAML at line 2, column 1: a tab character; YAML indents with spaces only: "
        "replace the tab with spaces"
    )
