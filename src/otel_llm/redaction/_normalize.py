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
_CACHE_LIMIT = 1 << 16
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
    translated = text.translate(_REPLACEMENTS)  # in C; meets (and classifies) every character
    present = _SPECIAL.intersection(text)
    if not present:
        # One character for one: the offsets do not move.
        return None if translated == text else Normalized(translated, (), (), (), ())
    parts: list[str] = []
    changes: tuple[list[int], list[int], list[int], list[int]] = ([], [], [], [])
    last = 0  # the end of the original text done so far
    length = 0  # the length of the normalised text so far
    combining = unicodedata.combining
    for segment in _segments(frozenset(present)).finditer(text):
        segment_start, segment_end = segment.span()
        chunk = segment.group()
        marks = not _MARKS.isdisjoint(chunk)
        if not marks and chunk[0] not in _SPECIAL:
            segment_start += 1  # no mark needs it as a base: it maps one for one
            chunk = chunk[1:]
        plain = text[last:segment_start].translate(_REPLACEMENTS)
        parts.append(plain)
        length += len(plain)
        if not marks or len(chunk) <= _MAX_SEGMENT:
            # One change for the segment (a span reaching into it takes all of it).
            replacement = _nfkc(chunk) if marks else chunk.translate(_REPLACEMENTS)
            if replacement != chunk:
                _record(changes, length, replacement, segment_start, segment_end)
            parts.append(replacement)
            length += len(replacement)
            last = segment_end
            continue
        # A long run with marks: each character with at most _MAX_MARKS marks after it.
        index = segment_start
        while index < segment_end:
            end = index + 1
            limit = min(segment_end, index + 1 + _MAX_MARKS)
            while end < limit and combining(text[end]):
                end += 1
            cluster = text[index:end]
            replacement = _nfkc(cluster)
            if replacement != cluster:
                _record(changes, length, replacement, index, end)
            parts.append(replacement)
            length += len(replacement)
            index = end
        last = segment_end
    parts.append(text[last:].translate(_REPLACEMENTS))
    joined = "".join(parts)
    if joined == text:
        return None
    starts, ends, original_starts, original_ends = changes
    return Normalized(
        joined, tuple(starts), tuple(ends), tuple(original_starts), tuple(original_ends)
    )


def _record(
    changes: tuple[list[int], list[int], list[int], list[int]],
    at: int,
    replacement: str,
    original_start: int,
    original_end: int,
) -> None:
    starts, ends, original_starts, original_ends = changes
    starts.append(at)
    ends.append(at + len(replacement))
    original_starts.append(original_start)
    original_ends.append(original_end)


def canonical(value: str) -> str:
    """`value` normalised as the detectors see it (so equal-looking values hash equally)."""
    normalized = normalize(value)
    return value if normalized is None else normalized.text


def _unchanged(text: str) -> bool:
    return unicodedata.is_normalized("NFKC", text) and _NEEDS_MORE.search(text) is None


_SEGMENT_CACHE: dict[frozenset[str], re.Pattern[str]] = {}


def _segments(special: frozenset[str]) -> re.Pattern[str]:
    """A regex for runs of these characters, each with the character before it (a mark's base)."""
    pattern = _SEGMENT_CACHE.get(special)
    if pattern is None:
        chars = "".join(re.escape(char) for char in sorted(special))
        pattern = re.compile(f"(?:[^{chars}]?[{chars}]+)+")
        if len(_SEGMENT_CACHE) < _CACHE_LIMIT:
            _SEGMENT_CACHE[special] = pattern
    return pattern


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_REPLACEMENTS)


def _replacement(char: str) -> str:
    replacement = unicodedata.normalize("NFKC", char).translate(_HYPHENS)
    if replacement.isascii():
        return replacement
    return "".join(
        str(unicodedata.decimal(part)) if part.isdecimal() and not part.isascii() else part
        for part in _IGNORABLE.sub("", replacement)
    )


_MARKS: set[str] = set()
"""The combining marks among them."""
_SPECIAL: set[str] = set()
"""Characters met so far that are not replaced one for one: combining marks (normalised with
their base), expansions ("\ufb01" is "fi") and invisible characters (dropped)."""


class _Replacements(dict[int, str]):
    """code point -> replacement, for `str.translate`, computed and cached as characters come."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        replacement = _replacement(char)
        if unicodedata.combining(char):
            _MARKS.add(char)
            _SPECIAL.add(char)
        elif len(replacement) != 1:
            _SPECIAL.add(char)
        if len(self) < _CACHE_LIMIT:
            self[code] = replacement
        return replacement


_REPLACEMENTS = _Replacements()
