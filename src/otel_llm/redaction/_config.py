"""What a user adds to redaction: the config file, RE2 extra patterns and a checked callback."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from otel_llm import _yaml
from otel_llm._settings import REDACTION_CONFIG, ConfigError
from otel_llm.redaction._detectors import CUSTOM, DETECTOR_KINDS
from otel_llm.redaction._scanner import _REDACTED_PREFIX, Detector, Scanner

try:  # google-re2: linear-time matching whatever the pattern
    import re2
except ImportError:  # pragma: no cover - a platform without google-re2's wheels
    re2 = None

Callback = Callable[[str, str], str | None]
"""(attribute key, already-redacted text) -> replacement text, or None to keep it."""

RE2_SYNTAX = "https://github.com/google/re2/wiki/Syntax"

_WHOLE = re.compile(r"(?s).*")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# What RE2 refuses that Python's `re` has, and how to do without it.
_RE2_FIXES = (
    ("invalid perl operator: (?=", "lookarounds"),
    ("invalid perl operator: (?!", "lookarounds"),
    ("invalid perl operator: (?<", "lookarounds"),
    ("invalid perl operator: (?>", "atomic groups"),
    ("bad repetition operator: ++", "possessive quantifiers"),
    ("bad repetition operator: *+", "possessive quantifiers"),
    ("bad repetition operator: ?+", "possessive quantifiers"),
)
_WHY = {
    "backreferences": "match the repeated text explicitly, or drop the repetition check",
    "lookarounds": "match the context as part of the pattern (it is redacted with the value), "
    "or leave it out",
    "atomic groups": "use a plain group: RE2 never backtracks, so nothing is lost",
    "possessive quantifiers": "use the plain quantifier: RE2 never backtracks, so nothing is lost",
}


def compile_user_pattern(pattern: str) -> Any:  # noqa: ANN401 - google-re2 is untyped
    """`pattern` compiled by RE2 (linear time on any text); ValueError says what to change."""
    if re2 is None:  # pragma: no cover - google-re2 is a dependency; a platform without wheels
        raise ValueError("extra patterns need google-re2 (pip install google-re2)")
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise ValueError(_re2_problem(pattern, exc)) from None


def _re2_problem(pattern: str, exc: Exception) -> str:
    detail = exc.args[0] if exc.args else exc
    message = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    missing = next((name for marker, name in _RE2_FIXES if message.startswith(marker)), None)
    if missing is None and (
        re.match(r"invalid escape sequence: \\[1-9]", message) or "(?P=" in pattern
    ):
        missing = "backreferences"
    if missing is not None:
        return (
            f"{pattern!r} is not RE2 syntax ({message}): RE2 has no {missing}, which is what "
            f"keeps every scan linear in the text; {_WHY[missing]} ({RE2_SYNTAX})"
        )
    return f"{pattern!r} is not RE2 syntax ({message}); see {RE2_SYNTAX}"


class UserPattern(Scanner):
    r"""A user's extra pattern, run by RE2 so that a scan stays linear whatever the pattern.

    RE2 semantics, not Python's: `\d`, `\w`, `\s` and `\b` are ASCII (`\pL`, `\pN` are
    Unicode), `$` is the end of the text, and alternatives are tried leftmost-first. Offsets
    are in characters, as for the built-in detectors.
    """

    __slots__ = ("_re2",)

    def __init__(self, name: str, pattern: str) -> None:
        # Not Scanner.__init__: Python's backtracking `re` must never see the pattern.
        self._re2 = compile_user_pattern(pattern)
        self.detector = Detector(name, CUSTOM, pattern)
        self.kind = CUSTOM
        self.regex = _WHOLE
        self.anchor = None
        self.anchor_groups = ()
        self.context = None
        self.extend = None
        self.hints = ()
        self.fold = False

    def next_match(self, text: str, pos: int, lowered: str | None = None) -> re.Match[str] | None:
        """The leftmost non-empty RE2 match at or after `pos`, as a `re.Match` over its span."""
        for start, end in self._matches(text, pos):
            return _WHOLE.match(text, start, end)
        return None

    def spans(self, text: str, lowered: str | None = None) -> Iterator[tuple[int, int]]:
        """The (start, end) of each non-empty match, left to right, never overlapping."""
        for start, end in self._matches(text, 0):
            if not text.startswith(_REDACTED_PREFIX, start):  # redacted on an earlier pass
                yield start, end

    def _matches(self, text: str, pos: int) -> Iterator[tuple[int, int]]:
        # One UTF-8 encoding per text, and byte offsets mapped back to characters in one
        # forward pass: the wrapper's own str API re-encodes the whole text on every search.
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: one replacement character each
            data = _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")
        ascii_only = len(data) == len(text)
        at = pos if ascii_only else len(text[:pos].encode("utf-8", "surrogatepass"))
        mapped_byte, mapped_char = at, pos  # a character boundary and its index
        search = self._re2.search
        while at <= len(data) and (match := search(data, at)) is not None:
            start, end = match.span()
            if end == start:  # an empty match: move on one character
                at = _char_end(data, end + 1)
                continue
            at = end
            if ascii_only:
                yield start, end
                continue
            # Only `\C` can end a match inside a character: widen to whole characters.
            start, end = max(_char_start(data, start), mapped_byte), _char_end(data, end)
            if end <= start:
                continue
            start_char = mapped_char + len(data[mapped_byte:start].decode("utf-8"))
            mapped_byte, mapped_char = end, start_char + len(data[start:end].decode("utf-8"))
            yield start_char, mapped_char


def _next_char(data: bytes, at: int) -> int:
    at += 1
    while at < len(data) and data[at] & 0xC0 == 0x80:
        at += 1
    return at


def _char_start(data: bytes, at: int) -> int:
    while 0 < at < len(data) and data[at] & 0xC0 == 0x80:
        at -= 1
    return at


def _char_end(data: bytes, at: int) -> int:
    while at < len(data) and data[at] & 0xC0 == 0x80:
        at += 1
    return at


def check_callback(callback: object) -> str | None:
    """What is wrong with `callback` as a redaction callback, or None when it can be one.

    A callback that cannot be called as `callback(key, text)` or does not return at once (a
    class, a coroutine or generator function) would fail on every value at run time, turning
    all content into `[REDACTED:failed]`.
    """
    problem = None
    if inspect.isclass(callback):
        problem = "is a class; give a function taking (key, text)"
    elif not callable(callback):
        problem = "is not callable"
    elif inspect.iscoroutinefunction(callback) or inspect.isasyncgenfunction(callback):
        problem = "is async; redaction runs synchronously, give a plain function"
    elif inspect.isgeneratorfunction(callback):
        problem = "is a generator function; it must return the text (or None), not yield it"
    if problem is not None or not callable(callback):
        return problem
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):  # some built-ins have no signature to check
        return None
    try:
        signature.bind("gen_ai.input.messages", "text")
    except TypeError:
        return (
            f"has the signature {signature}, but it is called as callback(key, text): two "
            "positional arguments, the attribute key and the already-redacted text, returning "
            "the replacement text or None"
        )
    return None


# --- the configuration file -------------------------------------------------------------


@dataclass(frozen=True)
class FileOptions:
    """The options an OTEL_LLM_REDACTION_CONFIG file sets."""

    disabled: tuple[str, ...] = ()
    extra_patterns: Mapping[str, str] = field(default_factory=dict)
    safe_keys: frozenset[str] = frozenset()
    callback: Callback | None = None


_FILE_KEYS = ("callback", "disabled", "extra_patterns", "safe_keys")


def read_config(path: str) -> FileOptions:
    """Parse the OTEL_LLM_REDACTION_CONFIG file; ConfigError names the file, field and fix."""

    def problem(message: str) -> ConfigError:
        return ConfigError(f"{REDACTION_CONFIG.name} file {path}: {message}")

    try:
        parsed = _yaml.read(path)
    except _yaml.YamlError as exc:
        message = str(exc)
        if not message.startswith(("cannot be read", "is not UTF-8")):
            message = f"is not valid YAML: {message}"
        raise problem(message) from None
    data = parsed.data
    if data is None:
        return FileOptions()
    if not isinstance(data, dict):
        raise problem(f"must be a mapping with the keys {', '.join(_FILE_KEYS)}")
    if unknown := sorted(str(key) for key in data if key not in _FILE_KEYS):
        raise problem(f"unknown key(s) {', '.join(unknown)}; expected {', '.join(_FILE_KEYS)}")

    disabled = _strings(data.get("disabled", []), "disabled", parsed, problem)
    if unknown := sorted(set(disabled) - DETECTOR_KINDS):
        raise problem(
            f"disabled: unknown kind(s) {', '.join(unknown)}; "
            f"the kinds are {', '.join(sorted(DETECTOR_KINDS))}"
        )
    patterns = _patterns(data.get("extra_patterns", {}), parsed, problem)
    safe_keys = frozenset(_strings(data.get("safe_keys", []), "safe_keys", parsed, problem))
    callback = data.get("callback")
    if callback is not None:
        if not isinstance(callback, str):
            raise problem("callback must be a string 'module:function'")
        callback = _import_callback(callback, problem)
    return FileOptions(tuple(disabled), patterns, safe_keys, callback)


def _patterns(
    raw: object, parsed: _yaml.Document, problem: Callable[[str], ConfigError]
) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise problem("extra_patterns must map names to regular expressions (strings)")
    for name, regex in raw.items():
        if not isinstance(name, str) or not isinstance(regex, str):
            node = parsed.node("extra_patterns", name) if isinstance(name, str) else None
            what = _yaml.not_text(node, regex, str(name)) if isinstance(name, str) else ""
            raise problem(
                f"extra_patterns.{name}: {what or 'names must be strings'}; extra_patterns "
                "maps names to regular expressions (strings)"
            )
        try:
            compile_user_pattern(regex)
        except ValueError as exc:
            raise problem(f"extra_patterns.{name}: {exc}") from None
    return cast(dict[str, str], raw)


def _strings(
    value: object, name: str, parsed: _yaml.Document, problem: Callable[[str], ConfigError]
) -> Sequence[str]:
    if not isinstance(value, list):
        raise problem(f"{name} must be a list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            node = parsed.node(name, index)
            raise problem(
                f"{_yaml.line(node)}{name}[{index}]: {_yaml.not_text(node, item, None)}; "
                f"{name} must be a list of strings"
            )
    return value


def _import_callback(spec: str, problem: Callable[[str], ConfigError]) -> Callback:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise problem(f"callback {spec!r} must have the form 'module:function'")
    try:
        target: object = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except Exception as exc:
        raise problem(f"callback {spec!r} cannot be imported: {exc}") from None
    if (wrong := check_callback(target)) is not None:
        raise problem(f"callback {spec!r} {wrong}")
    return cast(Callback, target)
