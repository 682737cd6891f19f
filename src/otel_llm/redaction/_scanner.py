"""Detectors and their scanners: a regex in the RE2 subset, where to look, and a Python check."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from otel_llm.redaction._checks import Check, word_finder

_REDACTED_PREFIX = "[REDACTED:"
_NON_ASCII = re.compile("[^\x00-\x7f]")


@dataclass(frozen=True)
class Detector:
    """One kind of sensitive value: a regex to find candidates and a check to confirm them.

    Every pattern is written in the subset Python's `re` and RE2 share (no backreferences, no
    lookarounds) and has only bounded or non-overlapping repetition, so a scan is linear in the
    text even on Python's backtracking engine.
    """

    name: str
    kind: str
    pattern: str
    """The regex, compiled with re.ASCII so that \\b and classes mean what they mean in RE2."""
    check: Check | None = None
    """Python-only confirmation; None accepts every match. The collector cannot run it."""
    group: int = 0
    """The group holding the value to redact (0: the whole match; -1: the last one matched)."""
    word_start: bool = False
    """Matches start at a word boundary: RE2 gets a leading \\b, Python checks it itself (so
    `re` can skip ahead to the pattern's first character class instead of trying everywhere)."""
    anchors: tuple[str, ...] = ()
    """Literals one of which every match contains, starting at most `anchor_back` characters
    into the match (and not earlier in it): Python tries match starts only near them, which
    beats a scan when the anchor is rarer than the pattern's possible first characters."""
    anchor_back: int = 0
    anchor_follow: str = ""
    """A Python regex that must follow an anchor occurrence for it to count (an assignment
    after a credential's name): prose mentioning "token" or "key" then costs no attempts."""
    fold: bool = False
    """Anchors and hints are lower case and looked for in the lower-cased text."""
    hints: tuple[str, ...] = ()
    """Substrings of which one must occur for an unanchored scan to be worth running. (A
    pattern that starts with a literal needs no anchor: `re` already searches for it.)"""
    trim: bool = False
    """When the check fails, retry with trailing space/dash-separated groups dropped."""
    extend: str | None = None
    """Python-only regex continuing a match past the RE2 repetition limit of 1000."""
    re2_pattern: str | None = None
    """The Collector's pattern when it differs (unbounded where Python needs a bound, or with
    the context the check looks for)."""
    prefilter: str | None = None
    """A simpler RE2 pattern for the prefilter set (its DFA costs every text a little): it must
    match somewhere in every text where a finding is confirmed."""
    non_ascii: bool = False
    """Finds only values with non-ASCII characters: not run on ASCII text."""
    context: str | None = None
    """A regex (Python, on lower-cased text) of words a finding must follow: only the
    `context_window` characters after each are searched, and the check confirms the rest."""
    context_window: int = 0

    @property
    def collector(self) -> str:
        """The pattern for the OpenTelemetry Collector (RE2 syntax, no validator)."""
        if self.re2_pattern is not None:
            pattern = self.re2_pattern
        else:
            pattern = rf"\b(?:{self.pattern})" if self.word_start else self.pattern
        return _re2_escaped(pattern)

    @property
    def re2(self) -> str:
        """The pattern of the RE2 prefilter set: `prefilter`, or else the Collector's."""
        return self.collector if self.prefilter is None else _re2_escaped(self.prefilter)


def _re2_escaped(pattern: str) -> str:
    # RE2 reads the characters themselves too, but escapes keep the Collector's YAML ASCII.
    return _NON_ASCII.sub(lambda char: f"\\x{{{ord(char.group()):X}}}", pattern)


def _is_word(char: str) -> bool:
    # What \b means under re.ASCII and in RE2.
    return char.isascii() and (char.isalnum() or char == "_")


_MAX_ANCHOR_GROUPS = 8


class Scanner:
    """A detector compiled once, yielding the spans of its confirmed findings in a text."""

    __slots__ = (
        "anchor",
        "anchor_groups",
        "context",
        "detector",
        "extend",
        "fold",
        "hints",
        "kind",
        "regex",
    )

    def __init__(self, detector: Detector, flags: int = re.ASCII) -> None:
        self.detector = detector
        self.kind = detector.kind
        self.regex = re.compile(detector.pattern, flags)
        # `re` finds literals sharing a first character fast, an alternation of others at
        # several ns a character: anchors starting differently ("%40", "&#") are searched
        # for separately when they are few.
        follow = f"(?={detector.anchor_follow})" if detector.anchor_follow else ""
        groups: dict[str, list[str]] = {}
        for anchor in detector.anchors:
            groups.setdefault(anchor[0], []).append(re.escape(anchor))
        compiled = tuple(re.compile(f"(?:{'|'.join(group)}){follow}") for group in groups.values())
        self.anchor_groups = compiled if 2 <= len(compiled) <= _MAX_ANCHOR_GROUPS else ()
        anchors = "|".join(re.escape(anchor) for anchor in detector.anchors)
        single = re.compile(f"(?:{anchors}){follow}") if anchors else None
        self.anchor = None if self.anchor_groups else single
        self.extend = re.compile(detector.extend, re.ASCII) if detector.extend else None
        self.hints = detector.hints
        self.fold = detector.fold
        self.context = word_finder(detector.context) if detector.context else None

    def next_match(self, text: str, pos: int, lowered: str | None = None) -> re.Match[str] | None:
        """The leftmost regex match at or after `pos` (before checks), as RE2 would find it.

        `lowered` is `text.lower()`, needed by folded anchors. A detector with context words
        finds only matches starting within its window after one of them.
        """
        if self.context is not None:
            return self._after_context(text, self.context(text), pos)
        if self.anchor_groups:
            haystack = lowered if self.fold else text
            if haystack is not None and len(haystack) == len(text):
                return self._near_hits(text, self._anchor_hits(haystack), pos)
        if self.anchor is not None:
            haystack = lowered if self.fold else text
            if haystack is not None and len(haystack) == len(text):
                return self._near_anchors(self.anchor, text, haystack, pos)
        search, word_start = self.regex.search, self.detector.word_start
        while (match := search(text, pos)) is not None:
            start = match.start()
            if word_start and start and _is_word(text[start - 1]):
                pos = start + 1
                continue
            return match
        return None

    def _near_anchors(
        self, anchor: re.Pattern[str], text: str, haystack: str, pos: int
    ) -> re.Match[str] | None:
        # A match's first anchor occurrence is the one it is built around, so the starts worth
        # trying for an occurrence at `at` lie after the previous occurrence and at most
        # `anchor_back` before `at`; the previous occurrence's starts are then never retried.
        back, match, find = self.detector.anchor_back, self.regex.match, anchor.search
        word_start = self.detector.word_start
        while (hit := find(haystack, pos)) is not None:
            at = hit.start()
            for start in range(max(pos, at - back), at + 1):
                if word_start and start and _is_word(text[start - 1]):
                    continue
                if (found := match(text, start)) is not None:
                    return found
            pos = at + 1
        return None

    def _anchor_hits(self, haystack: str) -> list[int]:
        """Where each anchor occurs (overlapping occurrences too), in order."""
        hits: list[int] = []
        for group in self.anchor_groups:
            pos = 0
            while (hit := group.search(haystack, pos)) is not None:
                hits.append(hit.start())
                pos = hit.start() + 1
        hits.sort()
        return hits

    def _near_hits(self, text: str, hits: Sequence[int], pos: int) -> re.Match[str] | None:
        # _near_anchors over anchor occurrences found beforehand.
        back, match = self.detector.anchor_back, self.regex.match
        word_start = self.detector.word_start
        for index in range(bisect_left(hits, pos), len(hits)):
            at = hits[index]
            for start in range(max(pos, at - back), at + 1):
                if word_start and start and _is_word(text[start - 1]):
                    continue
                if (found := match(text, start)) is not None:
                    return found
            pos = at + 1
        return None

    def _after_context(self, text: str, word_ends: Sequence[int], pos: int) -> re.Match[str] | None:
        # The leftmost candidate at or after `pos` that starts within the window after a word
        # (a word before `pos` may still reach past it). Windows are searched for a start
        # only, each character once; the match found there may run past the window.
        window, search, match = self.detector.context_window, self.regex.search, self.regex.match
        searched = pos  # no candidate starts in [pos, searched)
        for index in range(bisect_left(word_ends, pos - window), len(word_ends)):
            start = max(searched, word_ends[index])
            reach = word_ends[index] + window + 1
            if start >= reach:
                continue
            found = search(text, start, reach)
            if found is not None:
                return match(text, found.start())
            searched = reach
        return None

    def spans(self, text: str, lowered: str | None = None) -> Iterator[tuple[int, int]]:
        """The (start, end) of each confirmed finding, left to right, never overlapping."""
        group = self.detector.group
        pos = 0
        # Context words and split anchors are found once per text.
        word_ends = None if self.context is None else self.context(text)
        hits = None
        if self.anchor_groups:
            haystack = lowered if self.fold else text
            if haystack is not None and len(haystack) == len(text):
                hits = self._anchor_hits(haystack)
        while (
            match := self._after_context(text, word_ends, pos)
            if word_ends is not None
            else self._near_hits(text, hits, pos)
            if hits is not None
            else self.next_match(text, pos, lowered)
        ) is not None:
            pos = match.end()
            if pos == match.start():  # a user pattern that matches the empty string
                pos += 1
                continue
            confirmed = self._confirm(match)
            if confirmed is None:
                continue
            start, end = confirmed.span((confirmed.lastindex or 0) if group < 0 else group)
            if start == end or text.startswith(_REDACTED_PREFIX, start):
                continue  # already redacted (the processor may see a value twice)
            if self.extend is not None and end == confirmed.end():
                more = self.extend.match(text, end)
                if more is not None:
                    end = more.end()
            pos = max(pos, end)
            yield start, end

    def _confirm(self, match: re.Match[str]) -> re.Match[str] | None:
        check = self.detector.check
        if check is None or check(match):
            return match
        if not self.detector.trim:
            return None
        # "4111 1111 1111 1111 123": the greedy match took the trailing group; drop groups until
        # the check passes, so a card followed by a CVV or a year is still found.
        text, start, cut = match.string, match.start(), match.end()
        while (cut := max(text.rfind(" ", start, cut), text.rfind("-", start, cut))) > start:
            shorter = self.regex.fullmatch(text, start, cut)
            if shorter is not None and check(shorter):
                return shorter
        return None
