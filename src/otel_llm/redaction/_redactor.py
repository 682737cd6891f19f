"""The Redactor: replaces personal data and secrets in text, attribute values and attribute maps."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

from opentelemetry.util.types import AnyValue, AttributeValue

from otel_llm._settings import Settings
from otel_llm.redaction import _prefilter as prefilter
from otel_llm.redaction._config import (
    Callback,
    FileOptions,
    UserPattern,
    check_callback,
    read_config,
)
from otel_llm.redaction._detectors import (
    CUSTOM,
    DETECTOR_KINDS,
    DETECTORS,
    FAILED,
    SECRET,
    Scanner,
)
from otel_llm.redaction._keys import DEFAULT_SAFE_KEYS, is_credential_name
from otel_llm.redaction._normalize import canonical, normalize
from otel_llm.redaction._values import (
    JsonFloat,
    decode,
    encode,
    field_prefix,
    json_may_hide,
    number_text,
    secret_text,
)

_logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SAFE_KEYS",
    "FAILED_TOKEN",
    "Callback",
    "Finding",
    "RedactionResult",
    "Redactor",
]

FAILED_TOKEN = f"[REDACTED:{FAILED}]"
_NO_PATTERNS: Mapping[str, str] = MappingProxyType({})

BODY_KEY = "body"
"""The key a log record's body is redacted under (for the callback; never a safe key)."""

_JSON_START = re.compile(r"[ \t\r\n]*[\[{]")
_KEY_CACHE_SIZE = 4096
_MAX_SORT_DEPTH = 32
"""How deep `is_clean` follows structured values before it leaves them to the full walk."""


@dataclass(frozen=True)
class Finding:
    """One replaced value: its kind and its offsets in the string that held it."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class RedactionResult:
    """The redacted text and what was replaced in it (offsets into the original text)."""

    text: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class PartResult:
    """A redacted part of a text: the result, and which characters of the original it covers."""

    result: RedactionResult
    start: int
    stop: int


class Redactor:
    """Finds personal data and secrets and replaces them with `[REDACTED:<kind>]` tokens.

    Compile once, share freely: a Redactor holds no per-call state. Every public method fails
    closed: if redacting a value raises, the value becomes `[REDACTED:failed]`.
    """

    def __init__(
        self,
        *,
        disabled: Iterable[str] = (),
        extra_patterns: Mapping[str, str] = _NO_PATTERNS,
        safe_keys: Iterable[str] = DEFAULT_SAFE_KEYS,
        hmac_key: bytes | str | None = None,
        callback: Callback | None = None,
    ) -> None:
        off = frozenset(disabled)
        if unknown := sorted(off - DETECTOR_KINDS):
            raise ValueError(
                f"cannot disable unknown kind(s) {', '.join(unknown)}; "
                f"the kinds are {', '.join(sorted(DETECTOR_KINDS))}"
            )
        scanners = [Scanner(detector) for detector in DETECTORS if detector.kind not in off]
        # One RE2 pass says which built-in detectors can match a text; only those run here.
        self._prefilter = prefilter.build([scanner.detector.re2 for scanner in scanners])
        for name, pattern in extra_patterns.items():
            try:
                # The user's own regex, compiled and run by RE2: linear in the text.
                scanners.append(UserPattern(name, pattern))
            except ValueError as exc:
                raise ValueError(f"extra pattern {name!r}: {exc}") from None
        if callback is not None and (wrong := check_callback(callback)) is not None:
            raise ValueError(f"redaction callback {callback!r} {wrong}")
        self._scanners = tuple(scanners)
        builtin = len(self._scanners) - len(extra_patterns)
        self._custom: tuple[Scanner, ...] = self._scanners[builtin:]
        # Built-in detectors only: every match contains one of a few literals, so one search
        # for them rules a text out; a whole JSON text can be ruled out before it is parsed.
        self._builtin_only = not extra_patterns and callback is None
        self._trigger = _trigger(scanners) if not extra_patterns else None
        self._secrets_by_key = SECRET not in off
        self._safe_keys = frozenset(safe_keys)
        key = hmac_key.encode() if isinstance(hmac_key, str) else hmac_key
        if key is not None and not key:
            raise ValueError("hmac_key must not be empty")
        self._hmac_key = key
        self._callback = callback
        self._sensitive_keys: dict[str, bool] = {}
        self._prefixes: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor | None:
        """The Redactor the settings ask for, or None when redaction is turned off.

        One Redactor per configuration (the config file as it is now, the HMAC key): the
        span pipeline, the log pipeline and the instrumentation share it rather than each
        compiling the detectors again at start-up.
        """
        if not settings.redaction_enabled:
            return None
        path = settings.redaction_config
        key = (path, _file_state(path), settings.redaction_hmac_key)
        with _built_lock:
            built = _built.get(key)
            if built is None:
                built = _built[key] = cls._from_settings(settings)
        return built

    @classmethod
    def _from_settings(cls, settings: Settings) -> Redactor:
        options = FileOptions()
        if settings.redaction_config:
            options = read_config(settings.redaction_config)
        return cls(
            disabled=options.disabled,
            extra_patterns=options.extra_patterns,
            safe_keys=DEFAULT_SAFE_KEYS | options.safe_keys,
            hmac_key=settings.redaction_hmac_key,
            callback=options.callback,
        )

    @property
    def safe_keys(self) -> frozenset[str]:
        """The attribute keys whose values are passed through unscanned."""
        return self._safe_keys

    def redact(self, text: str) -> RedactionResult:
        """Replace every finding in `text`, then apply the callback (with an empty key)."""
        try:
            return self._redact_text("", text)
        except Exception as exc:
            return _failed(text, exc)

    def redact_part(self, text: str, start: int, stop: int, margin: int) -> PartResult:
        """`text[start:stop]` redacted, widened to whole findings, for a value a budget will cut.

        Only `text[start - margin : stop + margin]` is scanned, so a huge value costs its
        budget, not its size. The part returned covers `text[a:b]` with `a <= start` and
        `b >= stop`: a finding that straddles either edge is replaced whole (and widens the
        part), never cut, and every character of it was scanned with `margin` characters of
        context on each side, so no finding that is shorter than `margin` is missed at a
        window edge. With a callback (which may rewrite a text as it likes, so offsets no longer
        map) the whole text is redacted instead.
        """
        try:
            low, high = max(0, start - margin), min(len(text), stop + margin)
            if (low == 0 and high == len(text)) or self._callback is not None:
                return PartResult(self._redact_text("", text), 0, len(text))
            found = [(at + low, end + low, kind) for at, end, kind in self._find(text[low:high])]
            first, last = start, stop
            for at, end, _ in found:
                if at < start < end:
                    first = at
                if at < stop < end:
                    last = end
            parts: list[str] = []
            findings: list[Finding] = []
            position = first
            for at, end, kind in found:
                if first <= at < last:
                    parts.append(text[position:at])
                    parts.append(self._replacement(kind, text[at:end]))
                    findings.append(Finding(kind, at, end))
                    position = end
            parts.append(text[position:last])
            return PartResult(RedactionResult("".join(parts), tuple(findings)), first, last)
        except Exception as exc:
            return PartResult(_failed(text, exc), 0, len(text))

    def redact_value(
        self, key: str, value: AttributeValue
    ) -> tuple[AttributeValue, tuple[Finding, ...]]:
        """Redact one attribute value; JSON strings stay valid JSON, safe keys pass untouched.

        Every string, mapping key and number is scanned; strings holding a JSON object or
        array are parsed, walked and re-serialised compactly; bytes are decoded (UTF-8, other
        bytes kept as they are) and stay bytes. Under a credential-named key, at any depth
        (`password`, `api_key`, `token`, `cookie`...), every non-empty string, number or
        bytes value is a secret, redacted whole. A redacted number becomes its token (a
        string); booleans and None pass. Finding offsets are into the scanned text of a leaf.
        """
        if key in self._safe_keys:
            return value, ()
        return self._walk(key, value)

    def redact_body(self, body: AnyValue) -> tuple[AnyValue, tuple[Finding, ...]]:
        """Redact a log record's body exactly as `redact_value` redacts an attribute value.

        A JSON string body is walked as JSON, a bytes body stays bytes. The callback sees the
        key "body"; safe keys do not apply (the body is content, never a name or an id).
        """
        return self._walk(BODY_KEY, body)

    def redact_mapping(
        self, attributes: Mapping[str, AnyValue]
    ) -> tuple[dict[str, AnyValue], tuple[Finding, ...]]:
        """Redact every value and key of a span's, event's or log record's attributes.

        Values as `redact_value` redacts them (nested values included). A key is scanned as
        text unless it is a safe key (an e-mail address used as an attribute key is content
        too); a redacted key that clashes with another key is numbered, so no value is lost.
        The callback is not called on keys: it is keyed by attribute name.
        """
        redacted: dict[str, AnyValue] = {}
        findings: list[Finding] = []
        safe = self._safe_keys
        for key, value in attributes.items():
            new_value, found = self.redact_value(key, value)
            findings.extend(found)
            new_key = key
            if key not in safe and isinstance(key, str):
                new_key = self._attribute_key(key, attributes, redacted, findings)
            redacted[new_key] = new_value
        return redacted, tuple(findings)

    def _attribute_key(
        self,
        key: str,
        attributes: Mapping[str, object],
        redacted: Mapping[str, object],
        findings: list[Finding],
    ) -> str:
        """A top-level attribute key, its findings replaced (fails closed as values do)."""
        try:
            found = self._find(key)
        except Exception as exc:
            result = _failed(key, exc)
            findings.extend(result.findings)
            new_key = result.text
        else:
            if not found:
                return key
            parts: list[str] = []
            last = 0
            for start, end, kind in found:
                parts.append(key[last:start])
                parts.append(self._replacement(kind, key[start:end]))
                findings.append(Finding(kind, start, end))
                last = end
            parts.append(key[last:])
            new_key = "".join(parts)
        base, count = new_key, 1
        while new_key in redacted or new_key in attributes:
            count += 1
            new_key = f"{base} ({count})"
        return new_key

    def is_clean(
        self,
        mappings: Iterable[Mapping[str, AnyValue]],
        texts: Iterable[str] = (),
        bodies: Iterable[AnyValue] = (),
    ) -> bool:
        """Whether redacting these attribute maps, plain `texts` and log `bodies` finds nothing.

        Bodies count as `redact_body` redacts them. One RE2 pass over all their scanned
        strings, joined: a finding in any one string is a match in the joined text (no
        pattern is anchored, and the newline between strings is a word boundary as the ends
        of a string are). False means "not sure": redact them.
        """
        prefilter = self._prefilter
        if not self._builtin_only or prefilter is None:
            return False
        plain = list(texts)
        documents: list[str] = []
        safe = self._safe_keys
        for attributes in mappings:
            for key, value in attributes.items():
                if key in safe:
                    continue
                if type(key) is not str or not self._sort(key, value, plain, documents):
                    return False
                plain.append(key)  # keys are scanned as `redact_mapping` scans them
        for body in bodies:
            if not self._sort(BODY_KEY, body, plain, documents):
                return False
        if documents:
            # What _json_is_clean asks of each JSON text, asked of them all at once.
            joined = "\n".join(documents)
            if self._json_may_hide(joined):
                return False
            plain += documents
        return not plain or self._texts_are_clean("\n".join(plain))

    def _texts_are_clean(self, joined: str) -> bool:
        """The final RE2 pass of `is_clean`, over every scanned string joined by newlines."""
        prefilter = self._prefilter
        if prefilter is None:
            return False
        if joined.isascii() and "\\" not in joined:
            hits: list[int] | None = prefilter.match_utf8(joined.encode())
        else:  # what _candidates scans: the joined strings, normalised
            normalized = normalize(joined)
            joined = joined if normalized is None else normalized.text
            hits = prefilter.matching(joined)
        if not hits:
            return hits == []  # None: not UTF-8 encodable, not sure
        # A detector with context words (national phone numbers) is reported wherever a word
        # precedes a number on a line; its check (a date after "call" is not a phone number)
        # decides whether the joined strings really hold one of its findings.
        scanners = self._scanners
        return all(
            scanners[index].context is not None
            and next(iter(scanners[index].spans(joined)), None) is None
            for index in hits
        )

    def _sort(  # noqa: PLR0911, PLR0912 - one flat dispatch over every value type
        self,
        field: str,
        value: object,
        plain: list[str],
        documents: list[str],
        *,
        depth: int = 0,
        secret: bool = False,
    ) -> bool:
        """Put the texts `_walk` would scan in `plain` or (JSON) `documents`.

        `field` is what the full walk checks for a credential name: the attribute key, or the
        nearest mapping key for structured values (GenAI events carry messages as mappings);
        `secret` says a key above it was one. Mapping keys and numbers are scanned as text.
        False when the value needs the full walk: a non-empty value under a credential name,
        a type other than JSON's (or bytes), a non-string key, or nesting deeper than
        `_MAX_SORT_DEPTH`.
        """
        kind = type(value)
        if kind is str or kind is bytes:
            text = cast(str, value) if kind is str else decode(cast(bytes, value))
            if text and (secret or self._credential(field)):
                return False
            if not _JSON_START.match(text):
                plain.append(self._prefix(field) + text)
            elif self._prefix(field):
                return False  # JSON under a phone or id key: the walk reads it with the key
            else:
                documents.append(text)
            return True
        if value is None or kind is bool:
            return True
        if kind is int or kind is float:
            if secret or self._credential(field):
                return False
            plain.append(self._prefix(field) + number_text(cast(int | float, value)))
            return True
        deeper = depth + 1
        if deeper <= _MAX_SORT_DEPTH and (kind is tuple or kind is list):
            items = cast(Iterable[object], value)
            return all(
                self._sort(field, item, plain, documents, depth=deeper, secret=secret)
                for item in items
            )
        if deeper <= _MAX_SORT_DEPTH and kind is dict:
            inner = secret or self._credential(field)
            for key, item in cast(dict[object, object], value).items():
                if not isinstance(key, str) or type(key) is not str:
                    return False
                plain.append(key)
                if not self._sort(key, item, plain, documents, depth=deeper, secret=inner):
                    return False
            return True
        return False

    def _credential(self, field: str) -> bool:
        """Whether a value under `field` is a secret by its name (cached per key)."""
        if not self._secrets_by_key:
            return False
        known = self._sensitive_keys.get(field)
        if known is None:
            known = is_credential_name(field)
            if len(self._sensitive_keys) < _KEY_CACHE_SIZE:
                self._sensitive_keys[field] = known
        return known

    def _prefix(self, field: str) -> str:
        """What a value under `field` is scanned after (see `field_prefix`), cached per key."""
        known = self._prefixes.get(field)
        if known is None:
            known = field_prefix(field)
            if len(self._prefixes) < _KEY_CACHE_SIZE:
                self._prefixes[field] = known
        return known

    # --- internals ------------------------------------------------------------------------

    def _walk(self, key: str, value: AnyValue) -> tuple[AnyValue, tuple[Finding, ...]]:
        findings: list[Finding] = []
        try:
            redacted = self._any(key, key, value, findings, secret=False)
        except Exception as exc:
            result = _failed(value, exc)
            dropped = result.text.encode() if isinstance(value, bytes) else result.text
            return dropped, result.findings
        return redacted, tuple(findings)

    def _any(  # noqa: PLR0911 - one flat dispatch over every value type
        self, key: str, field: str, value: AnyValue, findings: list[Finding], *, secret: bool
    ) -> AnyValue:
        if isinstance(value, str):
            return self._string(key, field, value, findings, secret=secret)
        if isinstance(value, bytes):
            before = len(findings)
            redacted = self._string(key, field, decode(value), findings, secret=secret)
            return value if len(findings) == before else encode(redacted)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return self._number(key, field, value, findings, secret=secret)
        before = len(findings)
        if isinstance(value, Mapping):
            mapping = self._mapping(key, value, findings, secret=secret or self._credential(field))
            return value if len(findings) == before else mapping
        items = [self._any(key, field, item, findings, secret=secret) for item in value]
        if len(findings) == before:
            return value
        return items if isinstance(value, list) else tuple(items)

    def _mapping(
        self, key: str, value: Mapping[str, AnyValue], findings: list[Finding], *, secret: bool
    ) -> dict[str, AnyValue]:
        # Keys are strings in OpenTelemetry's types; a log body built by hand may hold others.
        redacted: dict[Any, AnyValue] = {}
        numbered: dict[object, int] = {}
        for name, item in cast(Mapping[object, AnyValue], value).items():
            new_name = self._key(key, name, findings)
            if new_name != name:
                # Two keys may redact to one token: number the later ones rather than lose a
                # value (and never take the name of a key that was kept). The next number is
                # remembered per token, so ten thousand e-mail keys are not quadratic.
                base, count = new_name, numbered.get(new_name, 1)
                while new_name in redacted or new_name in value:
                    count += 1
                    new_name = f"{base} ({count})"
                numbered[base] = count
            field = name if isinstance(name, str) else ""
            redacted[new_name] = self._any(key, field, item, findings, secret=secret)
        return redacted

    def _key(self, key: str, name: object, findings: list[Finding]) -> object:
        # An e-mail address or a card number used as a key is as much content as a value.
        if isinstance(name, str):
            result = self._redact_text(key, name)
            findings.extend(result.findings)
            return result.text
        if isinstance(name, int | float) and not isinstance(name, bool):
            return self._number(key, "", name, findings, secret=False)
        return name

    def _number(
        self, key: str, field: str, value: int | float, findings: list[Finding], *, secret: bool
    ) -> AnyValue:
        if secret or self._credential(field):
            text = secret_text(value)
            findings.append(Finding(SECRET, 0, len(text)))
            return self._token(SECRET, text)
        result = self._redact_text(key, number_text(value), self._prefix(field))
        if not result.findings:
            return value
        findings.extend(result.findings)
        return result.text

    def _string(
        self, key: str, field: str, value: str, findings: list[Finding], *, secret: bool
    ) -> str:
        if value and (secret or self._credential(field)):
            findings.append(Finding(SECRET, 0, len(value)))
            return self._token(SECRET, value)
        prefix = self._prefix(field)
        if _JSON_START.match(value):
            if not prefix and self._json_is_clean(value):
                return value
            try:
                # A float keeps its literal: it is scanned as written (see _number_text).
                parsed = json.loads(value, parse_float=JsonFloat)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict | list):
                before = len(findings)
                redacted = self._any(key, field, cast(AnyValue, parsed), findings, secret=secret)
                if len(findings) == before:
                    return value
                return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
        result = self._redact_text(key, value, prefix)
        findings.extend(result.findings)
        return result.text

    def _redact_text(self, key: str, text: str, prefix: str = "") -> RedactionResult:
        found = self._find(text, prefix)
        if not found and self._callback is None:
            return RedactionResult(text, ())  # most texts: nothing to build
        findings = [Finding(kind, start, end) for start, end, kind in found]
        redacted = text
        if found:
            parts: list[str] = []
            last = 0
            for start, end, kind in found:
                parts.append(text[last:start])
                parts.append(self._replacement(kind, text[start:end]))
                last = end
            parts.append(text[last:])
            redacted = "".join(parts)
        if self._callback is not None:
            replaced = self._callback(key, redacted)
            if replaced is not None and replaced != redacted:
                if not isinstance(replaced, str):
                    raise TypeError(f"redaction callback returned {type(replaced).__name__}")
                findings.append(Finding(CUSTOM, 0, len(text)))
                redacted = replaced
        return RedactionResult(redacted, tuple(findings))

    def _replacement(self, kind: str, value: str) -> str:
        # Equal-looking values get equal keyed hashes (full-width, zero-width...).
        return self._token(kind, value if value.isascii() else canonical(value))

    def _json_is_clean(self, value: str) -> bool:
        # Without escapes every leaf is a verbatim slice of the text between quotes (neither a
        # word character nor one any pattern needs at an edge), so a leaf's match is a match
        # here too: no candidate (before checks) here means no finding in any leaf, and no
        # sensitive stem means no credential-named field. Anything else takes the full walk.
        if not self._builtin_only or self._json_may_hide(value):
            return False
        return not self._candidates(value, first_only=True)

    def _json_may_hide(self, text: str) -> bool:
        return json_may_hide(text, credentials=self._secrets_by_key)

    def _find(self, text: str, prefix: str = "") -> list[tuple[int, int, str]]:
        candidates = self._candidates(text, first_only=False, prefix=prefix)
        if len(candidates) < 2:
            return candidates
        # Earliest start wins, then the longest, then the kind's name (scan order depends on
        # the prefilter); the part of a later finding that sticks out past the kept one is
        # still redacted, so an overlap never leaks a tail.
        candidates.sort(key=lambda c: (c[0], c[0] - c[1], c[2]))
        resolved: list[tuple[int, int, str]] = []
        covered = 0
        for start, end, kind in candidates:
            if end > covered:
                resolved.append((max(start, covered), end, kind))
                covered = end
        return resolved

    def _candidates(
        self, text: str, *, first_only: bool, prefix: str = ""
    ) -> list[tuple[int, int, str]]:
        """Confirmed findings (in no order), or with `first_only` one unconfirmed match.

        Built-in detectors scan `prefix` (what the value's key says it is, see
        `field_prefix`) then the normalised text (see `_normalize`), and their offsets are
        mapped back to `text`; custom patterns scan `text` as the user wrote it.
        """
        scanners: Sequence[Scanner] = self._scanners
        prefilter = self._prefilter
        if text.isascii() and "\\" not in text:
            normalized, scan = None, prefix + text
            hits = None if prefilter is None else prefilter.match_utf8(scan.encode())
        else:
            normalized = normalize(text)
            scan = prefix + (text if normalized is None else normalized.text)
            hits = None if prefilter is None else prefilter.matching(scan)
        if hits is not None:
            if not hits and not self._custom:
                return []
            scanners = [scanners[index] for index in hits]
        elif self._trigger is not None and self._trigger.search(scan) is None:
            return []
        else:
            scanners = scanners[: len(scanners) - len(self._custom)]
        if scan.isascii():  # the ASCII detector of their kind finds all they would
            scanners = [scanner for scanner in scanners if not scanner.detector.non_ascii]
        candidates = _scan(scanners, scan, first_only=first_only)
        if first_only and candidates:
            return candidates
        if prefix:
            shift = len(prefix)
            candidates = [
                (max(start - shift, 0), end - shift, kind)
                for start, end, kind in candidates
                if end > shift
            ]
        if normalized is not None:
            original = normalized.original
            candidates = [(*original(start, end), kind) for start, end, kind in candidates]
        if self._custom:
            candidates += _scan(self._custom, text, first_only=first_only)
        return candidates

    def _token(self, kind: str, value: str) -> str:
        if self._hmac_key is None:
            return f"[REDACTED:{kind}]"
        data = value.encode("utf-8", "surrogatepass")
        digest = hmac.new(self._hmac_key, data, hashlib.sha256).hexdigest()
        return f"[REDACTED:{kind}:{digest[:8]}]"


def _scan(
    scanners: Sequence[Scanner], text: str, *, first_only: bool
) -> list[tuple[int, int, str]]:
    """Each scanner's confirmed findings in `text`, or with `first_only` one unconfirmed match."""
    candidates: list[tuple[int, int, str]] = []
    present: dict[str, bool] = {}
    lowered: str | None = None
    for scanner in scanners:
        if scanner.fold and lowered is None:
            lowered = text.lower()
        # Unanchored scans visit every character; skip them when a required character
        # (a digit, ".", ":") is absent. Anchored scans are their own cheap pre-check.
        if (
            scanner.anchor is None
            and scanner.hints
            and not any(_present(present, hint, text) for hint in scanner.hints)
        ):
            continue
        kind = scanner.kind
        if first_only:
            match = scanner.next_match(text, 0, lowered)
            if match is not None:
                return [(match.start(), match.end(), kind)]
            continue
        candidates.extend((start, end, kind) for start, end in scanner.spans(text, lowered))
    return candidates


def _trigger(scanners: Iterable[Scanner]) -> re.Pattern[str] | None:
    """A regex finding any literal some scanner's matches all contain (None: not every one has)."""
    exact: set[str] = set()
    folded: set[str] = set()
    for scanner in scanners:
        literals = scanner.detector.anchors or scanner.detector.hints
        if not literals:
            return None
        (folded if scanner.fold else exact).update(literals)
    branches = [re.escape(literal) for literal in sorted(exact, key=lambda x: (-len(x), x))]
    if folded:
        words = "|".join(
            re.escape(literal) for literal in sorted(folded, key=lambda x: (-len(x), x))
        )
        branches.append(f"(?i:{words})")  # Unicode folding: a superset of what the scans see
    return re.compile("|".join(branches))


def _present(cache: dict[str, bool], hint: str, haystack: str) -> bool:
    found = cache.get(hint)
    if found is None:
        found = cache[hint] = hint in haystack
    return found


_reported: set[str] = set()


def _failed(value: object, exc: Exception) -> RedactionResult:
    # Fail closed: the caller gets a placeholder, never the raw value. A broken callback or
    # detector is logged once per exception type, without the value.
    exc_type = type(exc).__name__
    if exc_type not in _reported:
        _reported.add(exc_type)
        _logger.warning(
            "redaction failed (%s); the value was replaced by %s", exc_type, FAILED_TOKEN
        )
    length = len(value) if isinstance(value, str) else 0
    return RedactionResult(FAILED_TOKEN, (Finding(FAILED, 0, length),))


_built: dict[tuple[object, ...], Redactor] = {}
_built_lock = threading.Lock()


def _file_state(path: str | None) -> tuple[int, int] | None:
    """What tells one version of a file from the next (None: no file, or none there)."""
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None  # read_config raises the error that names the problem
    return stat.st_mtime_ns, stat.st_size
