"""Text as the detectors see it: NFKC, ASCII digits and hyphens, no invisible characters."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

# Invisible characters (Unicode's default-ignorable code points): dropped, so that
# "jane\u200b@example.com" or a key with a soft hyphen in it reads as what the user sees.
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)
# Hyphens and the minus sign NFKC leaves alone (word processors put them in phone and card
# numbers); NFKC already turns the full-width and small hyphen-minus into "-".
_HYPHENS = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2212", "-"))
# What NFKC leaves for us to do: invisible characters, hyphens, digits of other scripts.
_NEEDS_MORE = re.compile(f"{_IGNORABLE.pattern}|[\u2010-\u2013\u2212]|[^\\D0-9]")
_ASCII_BYTES = bytes(range(128))
_CACHE_LIMIT = 1 << 16
_PATTERN_CACHE_LIMIT = 256
_MAX_SEGMENT = 64
_MAX_MARKS = 30
"""Combining marks kept with their base (Unicode's stream-safe limit): longer runs are cut,
so normalising them stays linear (canonical reordering sorts a cluster's marks)."""


@dataclass(frozen=True)
class Normalized:
    """A normalised text and where its characters came from in the original."""

    text: str
    # One entry per replaced cluster, in order: its span here and in the original. Between
    # them the two texts are equal, shifted by the last entry's end difference.
    _starts: tuple[int, ...]
    _ends: tuple[int, ...]
    _original_starts: tuple[int, ...]
    _original_ends: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `text[start:end]` (non-empty) came from.

        A span that starts or ends inside a replaced cluster takes the whole cluster, and
        dropped characters inside the span are inside the original span.
        """
        return self._position(start, False), self._position(end - 1, True)

    def _position(self, index: int, after: bool) -> int:
        change = bisect_right(self._ends, index)
        if change < len(self._starts) and self._starts[change] <= index:
            return self._original_ends[change] if after else self._original_starts[change]
        if not change:
            return index + after
        return index - self._ends[change - 1] + self._original_ends[change - 1] + after


def normalize(text: str) -> Normalized | None:
    """`text` as the detectors scan it, or None when that is `text` itself (always for ASCII).

    Each character with its combining marks is replaced by its NFKC form, with decimal digits
    of any script as ASCII digits, Unicode hyphens and the minus sign as "-", and invisible
    characters (zero-width spaces and joiners, soft hyphens, BOMs, bidi controls) dropped.
    NFKC already makes no-break, thin and other spaces " ", and full-width letters, digits
    and "@" ASCII.
    """
    if text.isascii() or _unchanged(text):
        return None
    # Only the distinct non-ASCII characters are looked at one by one (a text has few); the
    # bytes of the others are dropped in C to find them.
    others = text.encode(errors="surrogatepass").translate(None, _ASCII_BYTES)
    replaced = {char: _replacement_of(char) for char in set(others.decode(errors="surrogatepass"))}
    special = frozenset(char for char, new in replaced.items() if len(new) != 1 or char in _MARKS)
    scan = text
    for char, new in replaced.items():
        if new != char and char not in special:  # one for one: the offsets do not move
            scan = scan.replace(char, new)
    if not special:
        return None if scan == text else Normalized(scan, (), (), (), ())
    built = _Builder()
    last = 0  # the end of `scan` done so far
    for found in _segments(special).finditer(scan):
        start, end = found.span()
        built.copy(scan[last:start])
        last = end
        if scan[start] not in special and _MARKS.isdisjoint(found.group()):
            built.copy(scan[start])  # no mark needs it as a base
            start += 1
        built.segment(scan, start, end)
    built.copy(scan[last:])
    return built.result(text)


class _Builder:
    """The normalised text as it is put together, and where its replaced parts came from."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.original_starts: list[int] = []
        self.original_ends: list[int] = []

    def copy(self, piece: str) -> None:
        """Append text whose offsets map one for one."""
        self.parts.append(piece)
        self.length += len(piece)

    def replace(self, original: str, replacement: str, start: int, end: int) -> None:
        """Append `replacement` for text[start:end] (`original`), recording the change."""
        if replacement != original:
            self.starts.append(self.length)
            self.ends.append(self.length + len(replacement))
            self.original_starts.append(start)
            self.original_ends.append(end)
        self.copy(replacement)

    def segment(self, text: str, start: int, end: int) -> None:
        """Append text[start:end]: dropped, expanded or combining characters."""
        chunk = text[start:end]
        if len(chunk) <= _MAX_SEGMENT or _MARKS.isdisjoint(chunk):
            # One change for the segment (a span reaching into it takes all of it).
            self.replace(chunk, _replacement(chunk), start, end)
            return
        # Each character with at most _MAX_MARKS marks after it, so that canonical
        # reordering (a sort of each cluster's marks) stays linear.
        combining = unicodedata.combining
        index = start
        while index < end:
            after = index + 1
            limit = min(end, index + 1 + _MAX_MARKS)
            while after < limit and combining(text[after]):
                after += 1
            cluster = text[index:after]
            self.replace(cluster, _replacement(cluster), index, after)
            index = after

    def result(self, text: str) -> Normalized | None:
        """The normalised text, or None when it is `text` itself."""
        joined = "".join(self.parts)
        if joined == text:
            return None
        return Normalized(
            joined,
            tuple(self.starts),
            tuple(self.ends),
            tuple(self.original_starts),
            tuple(self.original_ends),
        )


def canonical(value: str) -> str:
    """`value` normalised as the detectors see it (so equal-looking values hash equally)."""
    normalized = normalize(value)
    return value if normalized is None else normalized.text


def _unchanged(text: str) -> bool:
    return unicodedata.is_normalized("NFKC", text) and _NEEDS_MORE.search(text) is None


_SEGMENTS: dict[frozenset[str], re.Pattern[str]] = {}


def _segments(special: frozenset[str]) -> re.Pattern[str]:
    """A regex for runs of `special` characters, each with the one before it (a mark's base)."""
    pattern = _SEGMENTS.get(special)
    if pattern is None:
        chars = "".join(re.escape(char) for char in sorted(special))
        pattern = re.compile(f"(?:[^{chars}]?[{chars}]+)+")
        if len(_SEGMENTS) < _PATTERN_CACHE_LIMIT:  # a compiled regex is not small
            _SEGMENTS[special] = pattern
    return pattern


def _replacement(text: str) -> str:
    """NFKC, then ASCII hyphens and digits, without invisible characters."""
    replacement = unicodedata.normalize("NFKC", text).translate(_HYPHENS)
    if replacement.isascii():
        return replacement
    return "".join(
        str(unicodedata.decimal(part)) if part.isdecimal() and not part.isascii() else part
        for part in _IGNORABLE.sub("", replacement)
    )


_MARKS: set[str] = set()
"""Combining marks met so far (normalised with the character before them)."""
_REPLACED: dict[str, str] = {}


def _replacement_of(char: str) -> str:
    """A character's replacement, computed once (marks are remembered as such)."""
    known = _REPLACED.get(char)
    if known is None:
        known = _replacement(char)
        if unicodedata.combining(char):
            _MARKS.add(char)
        if len(_REPLACED) < _CACHE_LIMIT:
            _REPLACED[char] = known
    return known
