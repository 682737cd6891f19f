"""Built-in evaluators and the LLM-as-judge hook: callables from a Sample to a Result."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from otel_llm.redaction import Redactor


def _default_redactor() -> Redactor:
    # Imported on first use: the detectors compile dozens of patterns, which `import otel_llm`
    # should not pay for.
    from otel_llm.redaction import Redactor  # noqa: PLC0415

    return Redactor()


__all__ = [
    "PII_KINDS",
    "Citation",
    "Evaluator",
    "JsonSchema",
    "JsonValid",
    "Judge",
    "LengthBounds",
    "Matches",
    "PiiInOutput",
    "Refusal",
    "Result",
    "Sample",
]


@dataclass(frozen=True)
class Sample:
    """One LLM response to evaluate, with what the evaluators may need about its request."""

    output: str
    prompt_name: str | None = None
    retrieved_ids: Sequence[str] = ()
    input: str | None = None


@dataclass(frozen=True)
class Result:
    """An evaluator's verdict: a score, a low-cardinality label and/or pass/fail, and why."""

    score: float | None
    label: str | None
    passed: bool | None
    explanation: str | None = None


class Evaluator(Protocol):
    """Anything with a low-cardinality `name` that turns a Sample into a Result."""

    @property
    def name(self) -> str:
        """The evaluation name (`gen_ai.evaluation.name`), a metric dimension."""
        ...

    def __call__(self, sample: Sample) -> Result:
        """Evaluate `sample`."""
        ...


def _verdict(passed: bool, good: str, bad: str, explanation: str | None = None) -> Result:
    return Result(score=None, label=good if passed else bad, passed=passed, explanation=explanation)


@dataclass(frozen=True)
class JsonValid:
    """Passes when the output parses as JSON."""

    name: str = "json_valid"

    def __call__(self, sample: Sample) -> Result:
        """Parse the output; the explanation is the parser's message (offsets, not content)."""
        try:
            json.loads(sample.output)
        except ValueError as exc:
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else "not JSON"
            where = f" at char {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
            return _verdict(False, "valid", "invalid", f"{message}{where}")
        return _verdict(True, "valid", "invalid")


@dataclass(frozen=True)
class JsonSchema:
    """Passes when the output is JSON valid against `schema` (needs the `jsonschema` package)."""

    schema: Mapping[str, Any]
    name: str = "json_schema"
    _validator: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        import jsonschema  # noqa: PLC0415 - optional: only this evaluator needs it

        schema = dict(self.schema)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)  # a bad schema is a configuration error: fail at setup
        object.__setattr__(self, "_validator", cls(schema))

    def __call__(self, sample: Sample) -> Result:
        """Validate; the explanation names the failed keyword and where in the schema.

        The schema's path, not the reply's: the reply's path holds its own keys (an e-mail
        address used as a key, say), which are content.
        """
        try:
            document = json.loads(sample.output)
        except ValueError:
            return _verdict(False, "valid", "invalid", "output is not JSON")
        error = next(iter(self._validator.iter_errors(document)), None)
        if error is None:
            return _verdict(True, "valid", "invalid")
        return _verdict(
            False,
            "valid",
            "invalid",
            f"{error.validator!r} failed at schema {_pointer(error.absolute_schema_path)}",
        )


def _pointer(path: Iterable[object]) -> str:
    """A JSON Pointer (RFC 6901) into the schema: `#/properties/customers/type`."""
    return "#" + "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in path)


@dataclass(frozen=True)
class Matches:
    """Passes when the output matches the regex `pattern` (or, with must=False, does not)."""

    pattern: str
    must: bool = True
    name: str = "matches"
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def __call__(self, sample: Sample) -> Result:
        """Search the output for the pattern."""
        found = self._compiled.search(sample.output) is not None
        return Result(score=None, label="match" if found else "no_match", passed=found == self.must)


PII_KINDS: frozenset[str] = frozenset(
    {"email", "phone", "payment_card", "us_ssn", "iban", "secret"}
)
"""The Redactor finding kinds that fail PiiInOutput (IP addresses and custom patterns do not)."""


@dataclass(frozen=True)
class PiiInOutput:
    """Fails when the output contains personal data or a secret; feeds the safety alert."""

    name: str = "pii_in_output"
    redactor: Redactor = field(default_factory=_default_redactor, repr=False, compare=False)

    def __call__(self, sample: Sample) -> Result:
        """Scan the output; the label lists the kinds found, the explanation only counts them."""
        counts: dict[str, int] = {}
        for finding in self.redactor.redact(sample.output).findings:
            if finding.kind in PII_KINDS:
                counts[finding.kind] = counts.get(finding.kind, 0) + 1
        if not counts:
            return Result(score=None, label="none", passed=True)
        kinds = sorted(counts)
        explanation = ", ".join(f"{counts[kind]} {kind}" for kind in kinds)
        return Result(score=None, label=",".join(kinds), passed=False, explanation=explanation)


_REFUSAL = re.compile(
    r"\bI(?:'m| am) sorry,? but I (?:can(?:'t|not)|won't|will not|(?:'m|am) (?:unable|not able))"
    r"|\bI (?:can(?:'t|not)|won't|will not|(?:'m|am) (?:unable|not able) to) "
    r"(?:help|assist|comply|provide|fulfil|support|do that|answer|share|create|generate)"
    r"|\bI must (?:decline|refuse)\b"
    r"|\bas an AI\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Refusal:
    """Fails when the output is a refusal ("I can't help with that", "As an AI ...")."""

    name: str = "refusal"
    scan_chars: int = 400
    """Refusals lead the answer; only this many leading characters are scanned."""

    def __call__(self, sample: Sample) -> Result:
        """Look for refusal phrases near the start of the output."""
        head = sample.output[: self.scan_chars].replace("\u2019", "'")
        refused = _REFUSAL.search(head) is not None
        return Result(score=None, label="refusal" if refused else "answer", passed=not refused)


@dataclass(frozen=True)
class LengthBounds:
    """Passes when the output has between `min_chars` and `max_chars` characters (inclusive)."""

    min_chars: int = 0
    max_chars: int | None = None
    name: str = "length_bounds"

    def __post_init__(self) -> None:
        if self.min_chars < 0 or (self.max_chars is not None and self.max_chars < self.min_chars):
            raise ValueError(
                f"LengthBounds needs 0 <= min_chars <= max_chars, got {self.min_chars}, "
                f"{self.max_chars}"
            )

    def __call__(self, sample: Sample) -> Result:
        """Compare the output's length with the bounds."""
        length = len(sample.output)
        if length < self.min_chars:
            return Result(None, "too_short", False, f"{length} < {self.min_chars} chars")
        if self.max_chars is not None and length > self.max_chars:
            return Result(None, "too_long", False, f"{length} > {self.max_chars} chars")
        return Result(score=None, label="ok", passed=True)


@dataclass(frozen=True)
class Citation:
    """Passes when the output cites at least one retrieved document id (its id appears in it).

    The score is the fraction of retrieved ids cited. Without retrieved ids there is nothing
    to cite: passed is None (no verdict) and the label `no_sources`.
    """

    name: str = "citation"

    def __call__(self, sample: Sample) -> Result:
        """Count the retrieved ids that appear in the output."""
        ids = [i for i in dict.fromkeys(sample.retrieved_ids) if i]
        if not ids:
            return Result(score=None, label="no_sources", passed=None)
        cited = sum(1 for i in ids if i in sample.output)
        return Result(
            score=cited / len(ids),
            label="cited" if cited else "uncited",
            passed=cited > 0,
            explanation=f"{cited} of {len(ids)} retrieved ids cited",
        )


async def _wait(awaitable: Awaitable[Result]) -> Result:
    return await awaitable


@dataclass(frozen=True)
class Judge:
    """LLM-as-judge: your `fn` (sync or async) grades a Sample, typically by calling a model.

    Online, only `sample_rate` of the samples are judged, and a judgement taking longer than
    `timeout_s` is abandoned and counted as dropped (reason `timeout`).
    """

    fn: Callable[[Sample], Result | Awaitable[Result]]
    name: str
    sample_rate: float = 1.0
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Judge needs a non-empty name")
        if not 0.0 <= self.sample_rate <= 1.0:
            raise ValueError(f"Judge sample_rate must be in [0, 1], got {self.sample_rate}")
        if not self.timeout_s > 0:
            raise ValueError(f"Judge timeout_s must be positive, got {self.timeout_s}")

    def __call__(self, sample: Sample) -> Result:
        """Run `fn` on `sample`, to completion (an async `fn` in a fresh event loop)."""
        result = self.fn(sample)
        if inspect.isawaitable(result):
            result = asyncio.run(_wait(result))
        if not isinstance(result, Result):
            raise TypeError(f"judge {self.name!r} returned {type(result).__name__}, not Result")
        return result
