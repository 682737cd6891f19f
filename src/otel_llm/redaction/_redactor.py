"""The Redactor: replaces personal data and secrets in text, attribute values and attribute maps."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import cast

import yaml
from opentelemetry.util.types import AnyValue, AttributeValue

from otel_llm.config import REDACTION_CONFIG, ConfigError, Settings
from otel_llm.redaction import _prefilter as prefilter
from otel_llm.redaction._detectors import (
    CUSTOM,
    DETECTOR_KINDS,
    DETECTORS,
    FAILED,
    SECRET,
    Detector,
    Scanner,
)
from otel_llm.redaction._normalize import canonical, normalize

_logger = logging.getLogger(__name__)

Callback = Callable[[str, str], str | None]
"""(attribute key, already-redacted text) -> replacement text, or None to keep it."""

FAILED_TOKEN = f"[REDACTED:{FAILED}]"
_NO_PATTERNS: Mapping[str, str] = MappingProxyType({})

_SAFE_KEY_TEXT = (
    # What was called and how: names, enums and parameters the developer chose.
    "gen_ai.operation.name gen_ai.provider.name gen_ai.system gen_ai.request.model "
    "gen_ai.response.model gen_ai.request.max_tokens gen_ai.request.temperature "
    "gen_ai.request.top_p gen_ai.request.top_k gen_ai.request.frequency_penalty "
    "gen_ai.request.presence_penalty gen_ai.request.seed gen_ai.request.choice.count "
    "gen_ai.request.stream gen_ai.request.encoding_formats gen_ai.request.reasoning.level "
    "gen_ai.output.type gen_ai.token.modality gen_ai.response.finish_reasons "
    "gen_ai.response.time_to_first_chunk gen_ai.embeddings.dimension.count "
    "gen_ai.agent.name gen_ai.tool.name gen_ai.tool.type gen_ai.prompt.name "
    "gen_ai.prompt.version gen_ai.workflow.name gen_ai.evaluation.name "
    "gen_ai.evaluation.score.value gen_ai.evaluation.score.label gen_ai.conversation.compacted "
    # Identifiers, which dashboards join on; opaque by construction.
    "gen_ai.response.id gen_ai.request.previous_response.id gen_ai.conversation.id "
    "gen_ai.agent.id gen_ai.tool.call.id gen_ai.data_source.id otel_llm.session.id "
    "otel_llm.tenant.id trace_id span_id "
    # Counts.
    "gen_ai.usage.input_tokens gen_ai.usage.output_tokens gen_ai.usage.cache_read.input_tokens "
    "gen_ai.usage.cache_write.input_tokens gen_ai.usage.reasoning.output_tokens "
    "gen_ai.usage.text.input_tokens gen_ai.usage.text.output_tokens "
    "gen_ai.usage.text.cache_read.input_tokens gen_ai.usage.audio.input_tokens "
    "gen_ai.usage.audio.output_tokens gen_ai.usage.audio.cache_read.input_tokens "
    "gen_ai.usage.image.input_tokens gen_ai.usage.image.output_tokens "
    "gen_ai.usage.image.cache_read.input_tokens "
    # The endpoint and the outcome.
    "server.address server.port error.type openai.api.type openai.request.service_tier "
    "openai.response.service_tier openai.response.system_fingerprint otel_llm.request.outcome "
    # otel-llm's own derived values (free-text feedback comments are scanned).
    "otel_llm.cost.total otel_llm.cost.input otel_llm.cost.output otel_llm.cost.cache_read "
    "otel_llm.cost.cache_write otel_llm.cost.currency otel_llm.cost.price_source "
    "otel_llm.cost.price_version otel_llm.cost.unpriced otel_llm.cost.unpriced_reason "
    "otel_llm.redaction.count otel_llm.redaction.kind otel_llm.redaction.kinds "
    "otel_llm.prompt.template_hash otel_llm.evaluation.passed otel_llm.feedback.score "
    "otel_llm.feedback.label otel_llm.feedback.sentiment"
)
DEFAULT_SAFE_KEYS: frozenset[str] = frozenset(_SAFE_KEY_TEXT.split())
"""Attribute keys whose values are never scanned: model names, ids, counts, enums, the endpoint."""

# A string under one of these keys (an attribute, or a field of a JSON value) is a credential
# whatever it looks like: "password": "hunter2" has no pattern to find.
_SENSITIVE_KEY = re.compile(
    r"(?i)(?:^|[._-])(?:password|passwd|pwd|secret|client[_-]?secret|secret[_-]?key"
    r"|secret[_-]?access[_-]?key|api[_-]?key|apikey|access[_-]?token|refresh[_-]?token"
    r"|auth[_-]?token|authorization|private[_-]?key|credentials?)$"
)


_JSON_START = re.compile(r"[ \t\r\n]*[\[{]")
_SCALARS = frozenset({bool, int, float, bytes})
_KEY_CACHE_SIZE = 4096
_MAX_SORT_DEPTH = 32
"""How deep `is_clean` follows structured values before it leaves them to the full walk."""
# Any key _SENSITIVE_KEY could match contains one of these stems, compared in lower case.
_SENSITIVE_STEMS = (
    "passw",
    "pwd",
    "secret",
    "api_key",
    "api-key",
    "apikey",
    "token",
    "authorization",
    "private_key",
    "private-key",
    "privatekey",
    "credential",
)
# Characters whose one-character lower case is an ASCII letter although str.lower() does not
# give it: the regex's case-insensitive matching sees through them, `in` does not.
_FOLD_EXCEPTIONS = re.compile("[\u0130\u0131\u017f\u212a]")


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
                # The user's own regex, with Python's default (Unicode) semantics.
                scanners.append(Scanner(Detector(name, CUSTOM, pattern), flags=0))
            except re.error as exc:
                raise ValueError(f"extra pattern {name!r} does not compile: {exc}") from None
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

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor | None:
        """The Redactor the settings ask for, or None when redaction is turned off."""
        if not settings.redaction_enabled:
            return None
        options = _FileOptions()
        if settings.redaction_config:
            options = _read_config(settings.redaction_config)
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

    def redact_value(
        self, key: str, value: AttributeValue
    ) -> tuple[AttributeValue, tuple[Finding, ...]]:
        """Redact one attribute value; JSON strings stay valid JSON, safe keys pass untouched.

        Strings holding a JSON object or array have every string leaf redacted (keys are kept)
        and are re-serialised compactly; sequences and mappings are walked; numbers, booleans,
        bytes and None are returned as they are. Finding offsets are into the string leaf.
        """
        if key in self._safe_keys:
            return value, ()
        findings: list[Finding] = []
        try:
            redacted = self._any(key, key, value, findings)
        except Exception as exc:
            result = _failed(value, exc)
            return result.text, result.findings
        return redacted, tuple(findings)

    def redact_mapping(
        self, attributes: Mapping[str, AnyValue]
    ) -> tuple[dict[str, AnyValue], tuple[Finding, ...]]:
        """Redact every value of a span's or event's attributes (nested values included)."""
        redacted: dict[str, AnyValue] = {}
        findings: list[Finding] = []
        for key, value in attributes.items():
            redacted[key], found = self.redact_value(key, value)
            findings.extend(found)
        return redacted, tuple(findings)

    def is_clean(
        self, mappings: Iterable[Mapping[str, AnyValue]], texts: Iterable[str] = ()
    ) -> bool:
        """Whether redacting these attribute maps (and plain `texts`) would certainly find nothing.

        One RE2 pass over all their scanned strings, joined: a finding in any one string is a
        match in the joined text (no pattern is anchored, and the newline between strings is
        a word boundary as the ends of a string are). False means "not sure": redact them.
        """
        prefilter = self._prefilter
        if not self._builtin_only or prefilter is None:
            return False
        plain = list(texts)
        documents: list[str] = []
        for attributes in mappings:
            for key, value in attributes.items():
                if key not in self._safe_keys and not self._sort(key, value, plain, documents):
                    return False
        if documents:
            # What _json_is_clean asks of each JSON text, asked of them all at once.
            joined = "\n".join(documents)
            if self._json_may_hide(joined):
                return False
            plain += documents
        if not plain:
            return True
        if len(plain) != len(documents):  # else the JSON documents joined above are all of it
            joined = "\n".join(plain)
        if joined.isascii():
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

    def _sort(
        self, field: str, value: object, plain: list[str], documents: list[str], depth: int = 0
    ) -> bool:
        """Put the strings `redact_value` would scan in `plain` or (JSON) `documents`.

        `field` is what the full walk checks for a credential name: the attribute key, or the
        nearest mapping key for structured values (GenAI events carry messages as mappings).
        False when the value needs the full walk: a non-empty string under a credential-named
        field, a type other than JSON's, or nesting deeper than `_MAX_SORT_DEPTH`.
        """
        kind = type(value)
        if kind is str:
            text = cast(str, value)
            if text and self._secrets_by_key and self._sensitive_key(field):
                return False
            (documents if _JSON_START.match(text) else plain).append(text)
            return True
        if value is None or kind in _SCALARS:
            return True
        deeper = depth + 1
        if deeper <= _MAX_SORT_DEPTH and (kind is tuple or kind is list):
            items = cast(Iterable[object], value)
            return all(self._sort(field, item, plain, documents, deeper) for item in items)
        if deeper <= _MAX_SORT_DEPTH and kind is dict:
            mapping = cast(dict[object, object], value)
            return all(
                type(key) is str and self._sort(key, item, plain, documents, deeper)
                for key, item in mapping.items()
            )
        return False

    def _sensitive_key(self, key: str) -> bool:
        known = self._sensitive_keys.get(key)
        if known is None:
            known = _SENSITIVE_KEY.search(key) is not None
            if len(self._sensitive_keys) < _KEY_CACHE_SIZE:
                self._sensitive_keys[key] = known
        return known

    # --- internals ------------------------------------------------------------------------

    def _any(self, key: str, field: str, value: AnyValue, findings: list[Finding]) -> AnyValue:
        if isinstance(value, str):
            return self._string(key, field, value, findings)
        if isinstance(value, (bool, int, float, bytes)) or value is None:
            return value
        before = len(findings)
        if isinstance(value, Mapping):
            mapping = {k: self._any(key, k, v, findings) for k, v in value.items()}
            return value if len(findings) == before else mapping
        items = [self._any(key, field, item, findings) for item in value]
        if len(findings) == before:
            return value
        return items if isinstance(value, list) else tuple(items)

    def _string(self, key: str, field: str, value: str, findings: list[Finding]) -> str:
        if value and self._secrets_by_key and _SENSITIVE_KEY.search(field):
            findings.append(Finding(SECRET, 0, len(value)))
            return self._token(SECRET, value)
        if _JSON_START.match(value):
            if self._json_is_clean(value):
                return value
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, (dict, list)):
                before = len(findings)
                redacted = self._any(key, field, cast(AnyValue, parsed), findings)
                if len(findings) == before:
                    return value
                return json.dumps(redacted, ensure_ascii=False, separators=(",", ":"))
        result = self._redact_text(key, value)
        findings.extend(result.findings)
        return result.text

    def _redact_text(self, key: str, text: str) -> RedactionResult:
        found = self._find(text)
        if not found and self._callback is None:
            return RedactionResult(text, ())  # most texts: nothing to build
        findings = [Finding(kind, start, end) for start, end, kind in found]
        redacted = text
        if found:
            parts: list[str] = []
            last = 0
            for start, end, kind in found:
                parts.append(text[last:start])
                value = text[start:end]
                # Equal-looking values get equal keyed hashes (full-width, zero-width...).
                parts.append(self._token(kind, value if value.isascii() else canonical(value)))
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

    def _json_is_clean(self, value: str) -> bool:
        # Without escapes every leaf is a verbatim slice of the text between quotes (neither a
        # word character nor one any pattern needs at an edge), so a leaf's match is a match
        # here too: no candidate (before checks) here means no finding in any leaf, and no
        # sensitive stem means no credential-named field. Anything else takes the full walk.
        if not self._builtin_only or self._json_may_hide(value):
            return False
        return not self._candidates(value, first_only=True)

    def _json_may_hide(self, text: str) -> bool:
        # An escape can hide a finding from a scan of the raw text; a credential-named field
        # is a finding whatever its value looks like.
        return "\\" in text or (self._secrets_by_key and _has_sensitive_stem(text))

    def _find(self, text: str) -> list[tuple[int, int, str]]:
        candidates = self._candidates(text, first_only=False)
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

    def _candidates(self, text: str, *, first_only: bool) -> list[tuple[int, int, str]]:
        """Confirmed findings (in no order), or with `first_only` one unconfirmed match.

        Built-in detectors scan the normalised text (see `_normalize`) and their offsets are
        mapped back to `text`; custom patterns scan `text` as the user wrote it.
        """
        scanners: Sequence[Scanner] = self._scanners
        prefilter = self._prefilter
        if text.isascii():
            normalized, scan = None, text
            hits = None if prefilter is None else prefilter.match_utf8(text.encode())
        else:
            normalized = normalize(text)
            scan = text if normalized is None else normalized.text
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


def _has_sensitive_stem(text: str) -> bool:
    if not text.isascii() and _FOLD_EXCEPTIONS.search(text):
        return True  # rare enough to take the full walk
    lowered = text.lower()
    return any(stem in lowered for stem in _SENSITIVE_STEMS)


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


# --- the configuration file -------------------------------------------------------------


@dataclass(frozen=True)
class _FileOptions:
    disabled: tuple[str, ...] = ()
    extra_patterns: Mapping[str, str] = field(default_factory=dict)
    safe_keys: frozenset[str] = frozenset()
    callback: Callback | None = None


_FILE_KEYS = ("callback", "disabled", "extra_patterns", "safe_keys")


def _read_config(path: str) -> _FileOptions:
    """Parse the OTEL_LLM_REDACTION_CONFIG file; ConfigError names the file and the problem."""

    def problem(message: str) -> ConfigError:
        return ConfigError(f"{REDACTION_CONFIG.name} file {path}: {message}")

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise problem(f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise problem("is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise problem(f"is not valid YAML: {exc}") from None
    if data is None:
        return _FileOptions()
    if not isinstance(data, dict):
        raise problem(f"must be a mapping with the keys {', '.join(_FILE_KEYS)}")
    if unknown := sorted(str(key) for key in data if key not in _FILE_KEYS):
        raise problem(f"unknown key(s) {', '.join(unknown)}; expected {', '.join(_FILE_KEYS)}")

    disabled = _strings(data.get("disabled", []), "disabled", problem)
    if unknown := sorted(set(disabled) - DETECTOR_KINDS):
        raise problem(
            f"disabled: unknown kind(s) {', '.join(unknown)}; "
            f"the kinds are {', '.join(sorted(DETECTOR_KINDS))}"
        )
    patterns = data.get("extra_patterns", {})
    if not isinstance(patterns, dict) or not all(
        isinstance(name, str) and isinstance(regex, str) for name, regex in patterns.items()
    ):
        raise problem("extra_patterns must map names to regular expressions (strings)")
    for name, regex in patterns.items():
        try:
            re.compile(regex)
        except re.error as exc:
            raise problem(f"extra_patterns: {name!r} does not compile: {exc}") from None
    safe_keys = frozenset(_strings(data.get("safe_keys", []), "safe_keys", problem))
    callback = data.get("callback")
    if callback is not None:
        if not isinstance(callback, str):
            raise problem("callback must be a string 'module:function'")
        callback = _import_callback(callback, problem)
    return _FileOptions(tuple(disabled), dict(patterns), safe_keys, callback)


def _strings(value: object, name: str, problem: Callable[[str], ConfigError]) -> Sequence[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise problem(f"{name} must be a list of strings")
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
    if not callable(target):
        raise problem(f"callback {spec!r} is not callable")
    return cast(Callback, target)
