"""One RE2 pass telling which built-in detectors can match a text, so the others are skipped."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

try:  # google-re2: RE2::Set runs every pattern in one linear pass, in C++
    import re2
except ImportError:  # pragma: no cover - a platform without google-re2's wheels
    re2 = None

_logger = logging.getLogger(__name__)

_UPPER_BOUND = re.compile(r"\{(\d+),\d+\}")


def loosened(pattern: str) -> str:
    """`pattern` (RE2 syntax) without upper repetition bounds.

    It matches every span the original matches (and maybe more), and its DFA stays small on
    long runs of the repeated characters, where `{2,1000}` would make RE2 give up.
    """
    return _UPPER_BOUND.sub(r"{\1,}", pattern)


class Prefilter:
    """The RE2 set of some detectors' patterns: which of them match anywhere in a text."""

    __slots__ = ("match_utf8",)

    def __init__(self, patterns: Sequence[str]) -> None:
        if re2 is None:
            raise RuntimeError("google-re2 is not installed")
        options = re2.Options()
        options.log_errors = False
        found = re2.Set.SearchSet(options)
        for pattern in patterns:
            found.Add(loosened(pattern))
        found.Compile()
        self.match_utf8: Callable[[bytes], list[int]] = found._set.Match
        """Indices of the patterns matching in UTF-8 bytes: the set's own call, so no Python
        frame or second check per text (the hot path calls it directly for ASCII text)."""

    def matching(self, text: str) -> list[int] | None:
        """Indices of the patterns matching somewhere in `text` (None: unknown, scan them all)."""
        try:
            data = text.encode()
        except UnicodeEncodeError:  # lone surrogates: RE2 would see invalid UTF-8
            return None
        return self.match_utf8(data)


def build(patterns: Sequence[str]) -> Prefilter | None:
    """A Prefilter for `patterns`, or None when google-re2 is missing or refuses one."""
    if re2 is None:
        return None
    try:
        return Prefilter(patterns)
    except re2.error as exc:  # a detector outside the RE2 subset: scan without the prefilter
        _logger.warning("redaction prefilter disabled: %s", exc)
        return None
