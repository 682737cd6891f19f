"""Byte budgets for exported text: a value over budget is redacted first, then cut and marked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from otel_llm.config import ContentCapturingMode


class ModeSource(Protocol):
    """What reads the content capture mode in force: a Telemetry.

    A protocol, so this module needs no import of what builds a Telemetry (the processors,
    which that imports, use budgets).
    """

    def content_mode(self) -> ContentCapturingMode:
        """The content capture mode in force."""
        ...


class Redact(Protocol):
    """Redacts part of a text for a budget's cut (Telemetry.redact_part, Redactor.redact_part).

    Returns `text[start:stop]` redacted, widened to whole findings, and the span of the
    original it covers; only `margin` characters around the part are scanned.
    """

    def __call__(self, text: str, start: int, stop: int, margin: int) -> tuple[str, int, int]:
        """(redacted part, first covered character, end of the covered characters)."""
        ...


REDACTION_MARGIN = 8192
"""Characters past the cut that are redacted with the kept part.

Redacting the kept part alone could miss a finding that the cut splits; redacting a whole
50 MB value would hold the application thread for seconds. A finding that starts in the kept
part is caught whole if it is shorter than this margin; the few unbounded kinds (PEM keys,
JWTs, bearer tokens) also match as a prefix, so a longer one is still caught at a cut that
keeps the start. Real keys and tokens are far shorter (an RSA-4096 PEM key is about 3.3 KB).
"""


LABEL_MAX_BYTES = 256
"""The budget of an evaluation or feedback label (UTF-8 bytes; the content budget if smaller).

A label is meant to be a verdict (`thumbs_down`, `helpful`), but any string is accepted, so
it is scanned like content and bounded far below it.
"""


def capture_mode(telemetry: ModeSource) -> ContentCapturingMode:
    """Where message content may be recorded (the one place the new code here reads it)."""
    return telemetry.content_mode()


def truncation_marker(original_bytes: int) -> str:
    """What ends a cut value: `…[truncated N bytes]`, N being the value's size before the cut."""
    return f"…[truncated {original_bytes} bytes]"


def utf8_size(text: str) -> int:
    """The UTF-8 size of `text` (a lone surrogate counts its 3 bytes instead of failing)."""
    return len(text.encode("utf-8", "surrogatepass"))


def fit_text(
    text: str, max_bytes: int, redact: Redact | None = None, *, keep_end: bool = False
) -> str:
    """`text` in at most `max_bytes` UTF-8 bytes: whole if it fits, else marked and cut.

    A cut keeps the start and ends with `…[truncated N bytes]`; with `keep_end` (a stack
    trace, whose last lines name the exception and where it was raised) it keeps the end and
    starts with the marker. Before a cut, `redact` replaces the findings in the part kept,
    widened to whole findings and scanned with `REDACTION_MARGIN` characters around it, so a
    finding that straddles the cut is replaced whole instead of exported in part, and a
    50 MB value costs the budget, not its size. Text that fits is returned as it is.
    """
    if len(text) <= max_bytes // 4:  # at most 4 UTF-8 bytes per character
        return text
    size = utf8_size(text)
    if size <= max_bytes:
        return text
    marker = truncation_marker(size)
    room = max(0, max_bytes - utf8_size(marker))
    kept = text
    if redact is not None:
        # `room` bytes hold at most `room` characters.
        length = len(text)
        start, stop = (max(0, length - room), length) if keep_end else (0, min(length, room))
        kept, first, last = redact(text, start, stop, REDACTION_MARGIN)
        if first == 0 and last == length and utf8_size(kept) <= max_bytes:
            return kept  # redaction alone made it fit
    if keep_end:
        return marker + "\n" + utf8_suffix(kept, room - 1)
    return utf8_prefix(kept, room) + marker


def utf8_prefix(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` in at most `max_bytes` UTF-8 bytes, never splitting a char."""
    encoded = text[:max_bytes].encode("utf-8", "surrogatepass")[:max_bytes]
    # A character split by the cut is dropped (as is a lone surrogate, which is not UTF-8).
    return encoded.decode("utf-8", "ignore")


def utf8_suffix(text: str, max_bytes: int) -> str:
    """The longest suffix of `text` in at most `max_bytes` UTF-8 bytes, never splitting a char."""
    if max_bytes <= 0:
        return ""
    encoded = text[-max_bytes:].encode("utf-8", "surrogatepass")[-max_bytes:]
    return encoded.decode("utf-8", "ignore")
