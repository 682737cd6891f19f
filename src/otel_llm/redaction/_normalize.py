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
# A maximal run of non-ASCII characters with the ASCII character before it (a combining mark
# may compose with it): only runs are normalised, so ASCII stretches cost nothing.
_RUN = re.compile("[\x00-\x7f]?[^\x00-\x7f]+")
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
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    original_starts: list[int] = []
    original_ends: list[int] = []
    last = 0  # the end of the original text copied so far
    length = 0  # the length of the normalised text so far
    for run in _RUN.finditer(text):
        segment = run.group()
        translated = segment.translate(_REPLACEMENTS)  # in C, one character at a time
        if _SPECIAL.isdisjoint(segment):
            # One character for one: the offsets do not move.
            if translated != segment:
                parts.append(text[last : run.start()])
                parts.append(translated)
                length += run.end() - last
                last = run.end()
            continue
        if translated == segment and unicodedata.is_normalized("NFKC", segment):
            continue  # combining marks, already composed
        for start, end in _clusters(text, run.start(), run.end()):
            cluster = text[start:end]
            replacement = _replacement(cluster)
            if replacement == cluster:
                continue
            parts.append(text[last:start])
            length += start - last
            parts.append(replacement)
            starts.append(length)
            length += len(replacement)
            ends.append(length)
            original_starts.append(start)
            original_ends.append(end)
            last = end
    if not parts:
        return None
    parts.append(text[last:])
    return Normalized(
        "".join(parts),
        tuple(starts),
        tuple(ends),
        tuple(original_starts),
        tuple(original_ends),
    )


def canonical(value: str) -> str:
    """`value` normalised as the detectors see it (so equal-looking values hash equally)."""
    normalized = normalize(value)
    return value if normalized is None else normalized.text


def _unchanged(text: str) -> bool:
    return unicodedata.is_normalized("NFKC", text) and _NEEDS_MORE.search(text) is None


def _clusters(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each character in text[start:end] with the combining marks after it."""
    clusters: list[tuple[int, int]] = []
    combining = unicodedata.combining
    index = start
    while index < end:
        after = index + 1
        limit = min(end, index + 1 + _MAX_MARKS)
        while after < limit and combining(text[after]):
            after += 1
        clusters.append((index, after))
        index = after
    return clusters


_CACHE_LIMIT = 1 << 16


def _replacement(cluster: str) -> str:
    replacement = unicodedata.normalize("NFKC", cluster).translate(_HYPHENS)
    if replacement.isascii():
        return replacement
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char
        for char in _IGNORABLE.sub("", replacement)
    )


_SPECIAL: set[str] = set()
"""Characters met so far that are not replaced one for one: combining marks (normalised with
their base), expansions ("\ufb01" is "fi") and invisible characters (dropped)."""


class _Replacements(dict[int, str]):
    """code point -> replacement, for `str.translate`, computed and cached as characters come."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        replacement = _replacement(char)
        if len(replacement) != 1 or unicodedata.combining(char):
            _SPECIAL.add(char)
        if len(self) < _CACHE_LIMIT:
            self[code] = replacement
        return replacement


_REPLACEMENTS = _Replacements()
