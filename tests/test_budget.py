"""Byte budgets for exported text: cut with a marker, redacted first, never a finding in part."""

from __future__ import annotations

import re

import pytest

from otel_llm._budget import (
    REDACTION_MARGIN,
    Redact,
    capture_mode,
    fit_text,
    truncation_marker,
    utf8_prefix,
    utf8_size,
)
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.redaction import Redactor
from tests.conftest import make_captured

BUDGET = 256
FILLER = "~"
# The three findings the review saw exported in part once a budget cut through them.
AWS_KEY = "aws_secret_access_key = "
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EMAIL = "john.doe@example.com"
CARD = "4111 1111 1111 1111"
FINDINGS = [(AWS_KEY, AWS_SECRET), ("", EMAIL), ("", CARD)]
_MARKER = re.compile(r"…\[truncated \d+ bytes\]")


def redactor_text() -> Redact:
    """What Telemetry.redact_part does, without the metric: the default Redactor's part."""
    redactor = Redactor()

    def redact(text: str, start: int, stop: int, margin: int) -> tuple[str, int, int]:
        part = redactor.redact_part(text, start, stop, margin)
        return part.result.text, part.start, part.stop

    return redact


def recording(seen: list[str]) -> Redact:
    """A redactor that changes nothing and records each window of text it was asked to scan."""

    def redact(text: str, start: int, stop: int, margin: int) -> tuple[str, int, int]:
        seen.append(text[max(0, start - margin) : stop + margin])
        return text[start:stop], start, stop

    return redact


def leaked_fragment(exported: str, secret: str, shortest: int = 4) -> str | None:
    """The longest piece of `secret` (at least `shortest` chars) left in `exported`, if any."""
    text = _MARKER.sub("", exported)
    for length in range(len(secret), shortest - 1, -1):
        for start in range(len(secret) - length + 1):
            if secret[start : start + length] in text:
                return secret[start : start + length]
    return None


def straddling_texts(prefix: str, secret: str, room: int, total: int) -> list[tuple[int, str]]:
    """Texts of `total` chars whose finding starts so that a cut at `room` falls at each offset.

    The finding (`prefix` + `secret`) ends a little before the cut, then the cut falls on every
    character inside it, then the finding starts up to 40 characters after it (where a cut
    that ignored the marker's size would fall); the size stays the same, so the marker and
    the cut do too.
    """
    finding = prefix + secret
    texts = []
    for start in range(room - len(finding) - 3, room + 40):
        text = FILLER * start + " " + finding + " "
        texts.append((start, text + FILLER * (total - len(text))))
    return texts


def test_text_that_fits_is_returned_as_it_is() -> None:
    """A value within the budget is the very same string, redaction or not."""
    text = "é" * (BUDGET // 2)
    calls: list[str] = []
    assert fit_text(text, BUDGET, recording(calls)) is text
    assert calls == []  # the common path costs nothing extra


def test_cut_keeps_budget_marks_original_size_and_never_splits_a_character() -> None:
    """A long value is cut on a character boundary and ends with the truncation marker."""
    text = "aé€😀" * 1000
    fitted = fit_text(text, BUDGET)
    assert utf8_size(fitted) <= BUDGET
    kept, marker = fitted.split("…[truncated ")
    assert marker == f"{utf8_size(text)} bytes]"
    assert text.startswith(kept)
    assert utf8_size(kept) > BUDGET - utf8_size(truncation_marker(utf8_size(text))) - 4


@pytest.mark.parametrize(("prefix", "secret"), FINDINGS, ids=["aws_secret", "email", "card"])
def test_a_cut_never_exports_part_of_a_finding(prefix: str, secret: str) -> None:
    """At every cut position around a finding, no 4-character piece of it survives the cut."""
    total = BUDGET * 3
    room = BUDGET - utf8_size(truncation_marker(total))
    redact = redactor_text()
    for start, text in straddling_texts(prefix, secret, room, total):
        fitted = fit_text(text, BUDGET, redact)
        assert utf8_size(fitted) <= BUDGET
        # What the exporter gets: the redaction processor runs on the cut value too.
        exported = Redactor().redact(fitted).text
        assert leaked_fragment(exported, secret) is None, (start, exported[-80:])


# The AWS secret is left out: its label alone now marks any value after it as a secret.
@pytest.mark.parametrize(("prefix", "secret"), FINDINGS[1:], ids=["email", "card"])
def test_without_redaction_first_a_cut_would_leak(prefix: str, secret: str) -> None:
    """The same cuts without redaction first leave a piece of the finding that nothing catches."""
    total = BUDGET * 3
    room = BUDGET - utf8_size(truncation_marker(total))
    leaks = [
        leaked_fragment(Redactor().redact(fit_text(text, BUDGET)).text, secret)
        for _, text in straddling_texts(prefix, secret, room, total)
    ]
    assert any(leak is not None and len(leak) >= len(secret) - 6 for leak in leaks)


def test_redaction_that_makes_a_value_fit_leaves_it_whole() -> None:
    """A value that fits once redacted is exported redacted and uncut, with no marker."""
    text = "key: " + "-----BEGIN PRIVATE KEY-----" + "A" * 400 + "-----END PRIVATE KEY-----"
    fitted = fit_text(text, BUDGET, redactor_text())
    assert fitted == "key: [REDACTED:secret]"


def test_a_huge_value_is_redacted_only_around_what_is_kept() -> None:
    """A 50 MB value costs the redactor the budget plus a margin, not 50 MB."""
    seen: list[str] = []
    text = "x" * (50 * 1024 * 1024)
    fitted = fit_text(text, 16 * 1024, recording(seen))
    assert utf8_size(fitted) <= 16 * 1024
    assert fitted.endswith(f"…[truncated {50 * 1024 * 1024} bytes]")
    assert [len(window) for window in seen] == [
        16 * 1024 - utf8_size(truncation_marker(len(text))) + REDACTION_MARGIN
    ]


def test_lone_surrogates_are_measured_and_cut_without_error() -> None:
    """A lone surrogate (not UTF-8) neither breaks the size check nor survives a cut in half."""
    text = "\ud800" * 300
    assert utf8_size(text) == 900
    fitted = fit_text(text, BUDGET)
    assert fitted.startswith("…[truncated 900 bytes]")


def test_utf8_prefix_stops_before_a_split_character() -> None:
    """The prefix of a multi-byte character's middle ends before that character."""
    assert utf8_prefix("a€b", 2) == "a"
    assert utf8_prefix("a€b", 4) == "a€"


def test_capture_mode_is_the_telemetry_settings_mode() -> None:
    """capture_mode reads the active settings' content capturing mode."""
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY))
    assert capture_mode(captured.telemetry) is ContentCapturingMode.EVENT_ONLY


def test_findings_that_shrink_the_kept_part_never_pull_in_unscanned_text() -> None:
    """Long findings before the cut, redacted to short tokens, never let text past the scan out.

    The kept part is cut by its original characters, not by the redacted text's length: a
    redacted window shorter than the budget must not end with an e-mail the scan cut in two.
    """
    jwt = "eyJhbGciOiJIUzI1NiJ9." + "a" * 1500 + ".sig"
    budget = 16 * 1024
    head = " ".join([jwt] * 12) + " "
    room = budget - utf8_size(truncation_marker(0)) - 8
    for offset in range(-30, 30, 3):
        edge = room + REDACTION_MARGIN + offset  # where a text-window edge would fall
        text = head + FILLER * (edge - len(head) - 10) + " " + EMAIL + " " + FILLER * 5000
        exported = Redactor().redact(fit_text(text, budget, redactor_text())).text
        assert utf8_size(exported) <= budget
        assert leaked_fragment(exported, EMAIL) is None, offset


def test_a_redacted_part_covers_whole_findings_at_both_edges() -> None:
    """redact_part widens the part to findings that straddle its edges, and scans a margin."""
    text = "~" * 100 + " " + EMAIL + " " + "~" * 100
    at = text.index(EMAIL)
    part = Redactor().redact_part(text, at + 5, at + 10, 30)
    assert (part.start, part.stop) == (at, at + len(EMAIL))
    assert part.result.text == "[REDACTED:email]"
    clean = Redactor().redact_part(text, 0, 50, 30)
    assert (clean.start, clean.stop, clean.result.text) == (0, 50, "~" * 50)
