"""Text as the detectors see it: escapes decoded, NFKC, ASCII digits and hyphens, no invisibles."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, replace

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
    _before: Normalized | None = None
    """The step before this one (escapes decoded), whose text this one normalised."""

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `text[start:end]` (non-empty) came from.

        A span that starts or ends inside a replaced cluster takes the whole cluster, and
        dropped characters inside the span are inside the original span.
        """
        span = self._position(start, False), self._position(end - 1, True)
        return span if self._before is None else self._before.original(*span)

    def _position(self, index: int, after: bool) -> int:
        change = bisect_right(self._ends, index)
        if change < len(self._starts) and self._starts[change] <= index:
            return self._original_ends[change] if after else self._original_starts[change]
        if not change:
            return index + after
        return index - self._ends[change - 1] + self._original_ends[change - 1] + after


def normalize(text: str) -> Normalized | None:
    """`text` as the detectors scan it, or None when that is `text` itself.

    Escapes a program wrote for characters are decoded first (see `_unescape`), so that a
    log line holding `json.dumps(payload)` or a repr reads as the payload. Then each
    character with its combining marks is replaced by its NFKC form, with decimal digits of
    any script as ASCII digits, Unicode hyphens and the minus sign as "-", and invisible
    characters (zero-width spaces and joiners, soft hyphens, BOMs, bidi controls) dropped.
    NFKC already makes no-break, thin and other spaces " ", and full-width letters, digits
    and "@" ASCII. ASCII text without a backslash is always returned as None.
    """
    unescaped = _unescape(text) if "\\" in text else None
    if unescaped is None:
        return _normalize(text)
    normalized = _normalize(unescaped.text)
    if normalized is None:
        return unescaped
    return replace(normalized, _before=unescaped)


def _normalize(text: str) -> Normalized | None:
    """NFKC and the rest of `normalize`, escapes aside."""
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


# --- escapes ----------------------------------------------------------------------------

# JSON's \u00e4 (surrogate pairs too), \/ and \", Python's \xa0, \u2009 and \U0001f600 in a
# repr or ascii(), and \n, \r, \t. A run of backslashes counts as one, so a payload escaped
# twice (JSON in a JSON string) reads as written too. Only the first backslash of a run
# starts an escape, which keeps the scan linear on long runs of them.
_ESCAPE = re.compile(
    r"(?<!\\)\\+(?:u([dD][89abAB][0-9A-Fa-f]{2})\\+u([dD][c-fC-F][0-9A-Fa-f]{2})"
    r"|u([0-9A-Fa-f]{4})|U(000[0-9A-Fa-f]{5}|0010[0-9A-Fa-f]{4})"
    r"|(x[0-9A-Fa-f]{2}(?:\\+x[0-9A-Fa-f]{2})*)"
    r"|([/\"'nrt]))"
)
_SIMPLE = {"/": "/", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t"}
_HEX_BYTE = re.compile(r"x([0-9A-Fa-f]{2})")


def _unescape(text: str) -> Normalized | None:
    r"""`text` with its character escapes decoded; each escape maps back to all its characters.

    A lone surrogate escape (`\ud800`) is kept as written. A run of `\xHH` escapes is read
    as UTF-8 where it is (`b'j\xc3\xbcrgen'` is "jürgen"), byte by byte as Latin-1 elsewhere.
    """
    built = _Builder()
    last = 0
    for found in _ESCAPE.finditer(text):
        start, end = found.span()
        high, low, code, wide, _, simple = found.groups()
        if (code or wide) is not None and 0xD800 <= int(code or wide, 16) <= 0xDFFF:
            continue  # a lone surrogate: no character to read
        built.copy(text[last:start])
        last = end
        if high is not None:
            pair = 0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00
            built.replace(text[start:end], chr(pair), start, end)
        elif code is not None or wide is not None:
            built.replace(text[start:end], chr(int(code or wide, 16)), start, end)
        elif simple is not None:
            built.replace(text[start:end], _SIMPLE[simple], start, end)
        else:
            _hex_run(built, text, start, end)
    if last == 0:
        return None
    built.copy(text[last:])
    return built.result(text)


def _hex_run(built: _Builder, text: str, start: int, end: int) -> None:
    r"""Append a run of `\xHH` escapes, one character per UTF-8 sequence or leftover byte."""
    escapes = [
        (found.start(), found.end(), int(found.group(1), 16))
        for found in _HEX_BYTE.finditer(text, start, end)
    ]
    # Each escape's backslashes belong to it: it starts after the previous one ended.
    bounds = [start] + [escape_end for _, escape_end, _ in escapes]
    data = bytes(value for _, _, value in escapes)
    index = 0
    while index < len(data):
        size = _utf8_length(data[index])
        try:
            char = data[index : index + size].decode() if size > 1 else ""
        except UnicodeDecodeError:
            char = ""
        if not char or len(char) != 1:
            size, char = 1, chr(data[index])
        first, after = bounds[index], bounds[index + size]
        built.replace(text[first:after], char, first, after)
        index += size


def _utf8_length(lead: int) -> int:
    """How many bytes a UTF-8 sequence starting with `lead` has (1 for anything else)."""
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 1
