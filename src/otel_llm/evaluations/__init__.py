"""Evaluations of LLM responses: record results, built-in evaluators, and online evaluation."""

# Each name is imported from its module when first used (PEP 562): the instrumentation's
# online-evaluation hook lives in this package, and an application that evaluates nothing
# should not load the evaluators and the worker at start-up.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_llm.evaluations._evaluators import (
        PII_KINDS,
        Citation,
        Evaluator,
        JsonSchema,
        JsonValid,
        Judge,
        LengthBounds,
        Matches,
        PiiInOutput,
        Refusal,
        Result,
        Sample,
    )
    from otel_llm.evaluations._hook import OnlineEvaluationHook
    from otel_llm.evaluations._record import record_evaluation
    from otel_llm.evaluations._worker import (
        OnlineEvaluations,
        get_online,
        in_evaluation,
        install,
    )

__all__ = [
    "PII_KINDS",
    "Citation",
    "Evaluator",
    "JsonSchema",
    "JsonValid",
    "Judge",
    "LengthBounds",
    "Matches",
    "OnlineEvaluationHook",
    "OnlineEvaluations",
    "PiiInOutput",
    "Refusal",
    "Result",
    "Sample",
    "get_online",
    "in_evaluation",
    "install",
    "record_evaluation",
]

_EVALUATORS = "otel_llm.evaluations._evaluators"
_WORKER = "otel_llm.evaluations._worker"
_HOMES = {
    **dict.fromkeys(
        (
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
        ),
        _EVALUATORS,
    ),
    "OnlineEvaluationHook": "otel_llm.evaluations._hook",
    "record_evaluation": "otel_llm.evaluations._record",
    **dict.fromkeys(("OnlineEvaluations", "get_online", "in_evaluation", "install"), _WORKER),
}
"""Where each public name lives."""


def __getattr__(name: str) -> object:
    """The public name `name`, imported from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'otel_llm.evaluations' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups find it without coming here
    return value


def __dir__() -> list[str]:
    """The public names, loaded or not."""
    return sorted({*globals(), *__all__})
