"""Every environment variable otel-llm reads, declared once and parsed once into frozen settings.

The declarations and the parsing live in otel_llm._settings; this module adds the settings the
process runs with (`get_settings`), checked with the files they name.
"""

from __future__ import annotations

import functools

from otel_llm._safe_mode import checked_settings
from otel_llm._settings import (
    CAPTURE_MESSAGE_CONTENT,
    COST_ENABLED,
    DISABLED_INSTRUMENTATIONS,
    ENV_VARS,
    EXPORTER_DEFAULTS,
    MAX_CONTENT_BYTES,
    METRIC_ATTRIBUTE_VALUE_LIMIT,
    OWN_AGGREGATION,
    PRICES_FILE,
    PROMPTS_DIR,
    REDACTION_CONFIG,
    REDACTION_ENABLED,
    REDACTION_HMAC_KEY,
    SDK_DISABLED,
    SEMCONV_UPGRADE,
    STANDARD_VARIABLES,
    STREAM_USAGE,
    ConfigError,
    ContentCapturingMode,
    EnvVar,
    Settings,
    apply_exporter_defaults,
    disable_instrumentations,
    disabled_instrumentations,
    load_settings,
    parse_settings,
    standard_variable,
)

__all__ = [
    "CAPTURE_MESSAGE_CONTENT",
    "COST_ENABLED",
    "DISABLED_INSTRUMENTATIONS",
    "ENV_VARS",
    "EXPORTER_DEFAULTS",
    "MAX_CONTENT_BYTES",
    "METRIC_ATTRIBUTE_VALUE_LIMIT",
    "OWN_AGGREGATION",
    "PRICES_FILE",
    "PROMPTS_DIR",
    "REDACTION_CONFIG",
    "REDACTION_ENABLED",
    "REDACTION_HMAC_KEY",
    "SDK_DISABLED",
    "SEMCONV_UPGRADE",
    "STANDARD_VARIABLES",
    "STREAM_USAGE",
    "ConfigError",
    "ContentCapturingMode",
    "EnvVar",
    "Settings",
    "apply_exporter_defaults",
    "disable_instrumentations",
    "disabled_instrumentations",
    "get_settings",
    "load_settings",
    "parse_settings",
    "standard_variable",
]


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings otel-llm runs with, from the environment, on first use.

    Never raises: a value or file otel-llm cannot use is logged in one ERROR and otel-llm runs in
    its safe mode (see otel_llm._safe_mode). load_settings() raises instead.
    """
    return checked_settings()
