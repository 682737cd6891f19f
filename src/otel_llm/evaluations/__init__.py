"""Evaluations of LLM responses: record results, built-in evaluators, and online evaluation."""

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
from otel_llm.evaluations._worker import OnlineEvaluations, get_online, in_evaluation, install

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
