"""Redaction of personal data and secrets from telemetry, in Python and as Collector config."""

from otel_llm.redaction._collector import collector_redaction_config, render_collector_yaml
from otel_llm.redaction._detectors import DETECTORS, Detector, iban_valid, luhn_valid
from otel_llm.redaction._redactor import (
    DEFAULT_SAFE_KEYS,
    FAILED_TOKEN,
    Callback,
    Finding,
    PartResult,
    RedactionResult,
    Redactor,
)

__all__ = [
    "DEFAULT_SAFE_KEYS",
    "DETECTORS",
    "FAILED_TOKEN",
    "Callback",
    "Detector",
    "Finding",
    "PartResult",
    "RedactionResult",
    "Redactor",
    "collector_redaction_config",
    "iban_valid",
    "luhn_valid",
    "render_collector_yaml",
]
