"""Tests for otel_llm._yaml: strict loading of user files and the quoting hint for misread text."""

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
