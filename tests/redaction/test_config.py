"""Tests for what users add to redaction: RE2 extra patterns, the callback check, the file."""

import functools
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from otel_llm.config import ConfigError, Settings
from otel_llm.redaction import Redactor
from otel_llm.redaction._config import RE2_SYNTAX, UserPattern, check_callback, read_config


def test_user_patterns_match_non_ascii_text_at_character_offsets() -> None:
    """RE2 runs on UTF-8 bytes; spans come back as character offsets into the str."""
    pattern = UserPattern("name", r"jürgen|ü+|\bx\b")
    text = "Grüße an jürgen, üü, x und ☕ x"
    spans = list(pattern.spans(text))
    assert [text[start:end] for start, end in spans] == ["ü", "jürgen", "üü", "x", "x"]
    assert spans[-1] == (len(text) - 1, len(text))
    match = pattern.next_match(text, 16)
    assert match is not None
    assert match.span() == (17, 19)


def test_user_patterns_have_re2_semantics() -> None:
    r"""\w and \b are ASCII in RE2 (\pL is Unicode); empty matches are skipped."""
    assert list(UserPattern("w", r"\w+").spans("jürgen")) == [(0, 1), (2, 6)]
    assert list(UserPattern("l", r"\pL+").spans("jürgen")) == [(0, 6)]
    assert list(UserPattern("e", r"x*").spans("éxé")) == [(1, 2)]


def test_user_patterns_survive_lone_surrogates() -> None:
    """A lone surrogate (not UTF-8 encodable) counts as one character; offsets stay right."""
    text = "a\ud800 TCK-1234"
    assert list(UserPattern("t", r"TCK-[0-9]{4}").spans(text)) == [(3, 11)]


def test_already_redacted_text_is_not_matched_again() -> None:
    """A value seen twice by the processor keeps its token instead of a token of a token."""
    assert list(UserPattern("r", r"\[REDACTED:[a-z]+\]").spans("[REDACTED:email]")) == []


def test_a_catastrophic_pattern_runs_in_linear_time() -> None:
    """(a+)+$ on 64 a's and a b: years for a backtracking engine, microseconds for RE2.

    Run in a subprocess so that a backtracking implementation is killed by the timeout
    instead of hanging the suite; the bound is four orders of magnitude above RE2's time.
    """
    script = textwrap.dedent(
        """
        from otel_llm.redaction import Redactor
        redactor = Redactor(extra_patterns={"runaway": "(a+)+$"})
        for _ in range(100):
            assert redactor.redact("a" * 64 + "b").findings == ()
        assert redactor.redact("x " + "a" * 64).text == "x [REDACTED:custom]"
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=120, check=False)
    assert done.returncode == 0


@pytest.mark.parametrize(
    ("pattern", "missing"),
    [
        (r"(a)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "backreferences"),
        (r"foo(?=bar)", "lookarounds"),
        (r"(?<!x)foo", "lookarounds"),
        (r"(?<=x)foo", "lookarounds"),
        (r"(?>a+)b", "atomic groups"),
        (r"a++b", "possessive quantifiers"),
    ],
)
def test_what_re2_cannot_run_is_refused_with_the_fix(pattern: str, missing: str) -> None:
    """Backreferences and lookarounds are refused at construction, saying what to do instead."""
    with pytest.raises(ValueError, match="is not RE2 syntax") as caught:
        Redactor(extra_patterns={"mine": pattern})
    message = str(caught.value)
    assert "'mine'" in message
    assert repr(pattern) in message
    assert f"RE2 has no {missing}" in message
    assert RE2_SYNTAX in message


def test_re2_only_syntax_is_accepted() -> None:
    r"""Unicode classes (\pN) are RE2 syntax Python's re lacks: they compile and match."""
    redactor = Redactor(extra_patterns={"badge": r"BADGE-\pN{4}"})
    assert redactor.redact("BADGE-١٢٣٤ ok").text == "[REDACTED:custom] ok"


def _two(key: str, text: str) -> str | None:
    return None


def _one(text: str) -> str | None:
    return None


def _three(key: str, text: str, extra: str) -> str | None:
    return None


def _defaulted(key: str, text: str, extra: str = "") -> str | None:
    return None


def _variadic(*args: str) -> str | None:
    return None


async def _async(key: str, text: str) -> str | None:
    return None


def _generator(key: str, text: str) -> Iterator[str]:
    yield text


async def _async_generator(key: str, text: str) -> AsyncIterator[str]:
    yield text


class _Class:
    def __init__(self, key: str, text: str) -> None:
        pass


@pytest.mark.parametrize(
    ("callback", "problem"),
    [
        (_one, "has the signature (text: str)"),
        (_three, "but it is called as callback(key, text)"),
        (_async, "is async"),
        (_async_generator, "is async"),
        (_generator, "is a generator function"),
        (_Class, "is a class"),
        ("text", "is not callable"),
    ],
)
def test_callbacks_that_would_fail_every_value_are_refused(callback: object, problem: str) -> None:
    """A callback that cannot take (key, text) and return text is refused, not run."""
    assert problem in (check_callback(callback) or "")
    with pytest.raises(ValueError, match="redaction callback"):
        Redactor(callback=callback)  # type: ignore[arg-type]


class _Callable:
    def __call__(self, key: str, text: str) -> str | None:
        return None


@pytest.mark.parametrize(
    "callback", [_two, _defaulted, _variadic, _Callable(), functools.partial(_three, extra="")]
)
def test_callbacks_that_take_key_and_text_are_accepted(callback: object) -> None:
    """Two positional parameters, defaults, *args, callable objects and partials pass."""
    assert check_callback(callback) is None


@pytest.fixture
def hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable module of redaction callbacks, good and bad."""
    (tmp_path / "redaction_hooks_for_tests.py").write_text(
        textwrap.dedent(
            """
            def good(key, text):
                return None

            def one(text):
                return None

            async def later(key, text):
                return None
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            "callback: redaction_hooks_for_tests:one\n",
            "callback 'redaction_hooks_for_tests:one' has the signature (text)",
        ),
        ("callback: redaction_hooks_for_tests:later\n", "is async"),
        ("callback: 'collections:OrderedDict'\n", "is a class"),
        (
            "extra_patterns:\n  ticket: 'TCK-(?=[0-9])'\n",
            "extra_patterns.ticket: 'TCK-(?=[0-9])' is not RE2 syntax",
        ),
        ("extra_patterns:\n  twice: '(x)\\1'\n", "RE2 has no backreferences"),
        ("extra_patterns:\n  t: a\n  t: b\n", "extra_patterns.t: the key is given twice"),
        ("extra_patterns:\n  year: 2026\n", "extra_patterns.year: YAML reads 2026 as the number"),
        ("disabled: [email]\ndisabled: []\n", "disabled: the key is given twice"),
    ],
)
def test_config_file_errors_name_file_field_and_fix(
    hooks: Path, content: str, problem: str
) -> None:
    """A callback, pattern or key that would misbehave at run time is refused at load."""
    path = hooks / "redaction.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        Redactor.from_settings(Settings(redaction_config=str(path)))
    message = str(caught.value)
    assert f"OTEL_LLM_REDACTION_CONFIG file {path}" in message
    assert problem in message


def test_a_good_callback_and_re2_pattern_load(hooks: Path) -> None:
    """The same file with a (key, text) callback and an RE2 pattern loads."""
    path = hooks / "redaction.yaml"
    path.write_text("callback: redaction_hooks_for_tests:good\nextra_patterns: {t: 'TCK-\\d+'}\n")
    options = read_config(str(path))
    assert options.callback is not None
    assert options.callback.__name__ == "good"
    assert dict(options.extra_patterns) == {"t": "TCK-\\d+"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            "extra_patterns:\n  <<: [{t: 'A-[0-9]+'}, {t: 'B-[0-9]+'}]\n",
            "extra_patterns.t: given by two of the mappings merged here (line 2: A-[0-9]+; "
            "line 2: B-[0-9]+) and YAML would silently keep the first",
        ),
        (
            "disabled: [email, no]\n",
            "line 1: disabled[1]: YAML reads no as the boolean False, not as the text no; quote "
            'it: "no"',
        ),
    ],
)
def test_yaml_the_loader_would_misread_is_refused(
    tmp_path: Path, content: str, problem: str
) -> None:
    """A merge conflict or a list item YAML turns into a boolean is an error naming it."""
    path = tmp_path / "redaction.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        read_config(str(path))
    assert problem in str(caught.value)


def test_a_merge_with_an_override_is_applied(tmp_path: Path) -> None:
    """`<<: *base` plus a pattern written again takes the new one, as YAML defines merges."""
    path = tmp_path / "redaction.yaml"
    path.write_text(
        "extra_patterns:\n  <<: &base {a: 'A-[0-9]+', b: 'B-[0-9]+'}\n  b: 'BB-[0-9]+'\n"
    )
    assert dict(read_config(str(path)).extra_patterns) == {"a": "A-[0-9]+", "b": "BB-[0-9]+"}


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    """A Latin-1 config is refused with the position of its first non-UTF-8 byte."""
    path = tmp_path / "redaction.yaml"
    path.write_bytes("safe_keys: [caf\xe9]\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"is not UTF-8 text \(byte 0xe9 at line 1, column 16\)"):
        read_config(str(path))
