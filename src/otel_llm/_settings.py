"""Every environment variable otel-llm reads, declared once, and how they parse into settings.

Public through otel_llm.config, with the settings this process runs with (get_settings).
Kept apart so the loaders of the files those settings name (redaction config, prices) can
import it while get_settings imports them to check the files.
"""

from __future__ import annotations

import enum
import logging
import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "ENV_VARS",
    "EXPORTER_DEFAULTS",
    "STANDARD_VARIABLES",
    "ConfigError",
    "ContentCapturingMode",
    "EnvVar",
    "Settings",
    "apply_exporter_defaults",
    "load_settings",
    "parse_settings",
    "standard_variable",
]

# Named for the public module, as before the declarations moved here: logging set up for
# `otel_llm.config` (and `otel-llm config --check`, which reads it) keeps seeing them.
_logger = logging.getLogger("otel_llm.config")
T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the variable and the problem."""


class ContentCapturingMode(enum.Enum):
    """Where message content may be recorded; OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_spans(self) -> bool:
        """Whether content goes on span attributes."""
        return self in (ContentCapturingMode.SPAN_ONLY, ContentCapturingMode.SPAN_AND_EVENT)

    @property
    def on_events(self) -> bool:
        """Whether content goes on the inference details event."""
        return self in (ContentCapturingMode.EVENT_ONLY, ContentCapturingMode.SPAN_AND_EVENT)


@dataclass(frozen=True)
class EnvVar(Generic[T]):
    """One environment variable: its name, default, parser and documentation."""

    name: str
    setting: str
    """The Settings field the parsed value goes into."""
    default: T
    parse: Callable[[str], T]
    doc: str
    values: str
    """What the variable accepts, as shown in the configuration reference."""
    standard: bool = False
    """True for OpenTelemetry-defined variables, False for ours (prefixed OTEL_LLM_)."""
    secret: bool = False
    """True when the value must never be printed (keys)."""

    @property
    def default_text(self) -> str:
        """The default as a user would type it."""
        return self.format(self.default)

    @staticmethod
    def format(value: object) -> str:
        """A parsed value as a user would type it."""
        if isinstance(value, enum.Enum):
            return str(value.value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def is_set(self, environ: Mapping[str, str] | None = None) -> bool:
        """Whether the variable has a non-blank value (default: in the process environment)."""
        env = os.environ if environ is None else environ
        return bool(env.get(self.name, "").strip())

    def read(self, environ: Mapping[str, str] | None = None) -> T:
        """The parsed value, or the default when unset or empty (default: from os.environ)."""
        env = os.environ if environ is None else environ
        raw = env.get(self.name, "").strip()
        if not raw:
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{self.name}={raw!r}: {exc}") from None


def _capture_mode(raw: str) -> ContentCapturingMode:
    # The spec says unknown values (legacy true/false included) fail closed, with a warning,
    # rather than stopping the application.
    try:
        return ContentCapturingMode[raw.upper()]
    except KeyError:
        _logger.warning(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=%r is not one of %s; "
            "message content will not be captured (NO_CONTENT)",
            raw,
            ", ".join(m.value for m in ContentCapturingMode),
        )
        return ContentCapturingMode.NO_CONTENT


def _otel_bool(raw: str) -> bool:
    # OpenTelemetry's rule for boolean variables: only "true" (any case) is true; other values
    # are false and deserve a warning.
    value = raw.lower()
    if value not in ("true", "false"):
        _logger.warning("%r is not a boolean (true/false); treating it as false", raw)
    return value == "true"


def _byte_budget(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("expected a whole number of bytes") from None
    if value < _MIN_CONTENT_BYTES:
        raise ValueError(f"must be at least {_MIN_CONTENT_BYTES} bytes")
    return value


_MIN_CONTENT_BYTES = 256


def _value_limit(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("expected a whole number of values") from None
    if not 1 <= value <= _MAX_VALUE_LIMIT:
        raise ValueError(f"must be between 1 and {_MAX_VALUE_LIMIT}")
    return value


_MAX_VALUE_LIMIT = 2000
"""The SDK's own series limit per metric: a cap above it could never act before the SDK's."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _strict_bool(raw: str) -> bool:
    # Ours are strict: a typo such as `flase` must not silently switch redaction off.
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected true or false")


def _text(raw: str) -> str | None:
    return raw


CAPTURE_MESSAGE_CONTENT: EnvVar[ContentCapturingMode] = EnvVar(
    name="OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    setting="capture_message_content",
    default=ContentCapturingMode.NO_CONTENT,
    parse=_capture_mode,
    values="`NO_CONTENT`, `SPAN_ONLY`, `EVENT_ONLY`, `SPAN_AND_EVENT` (case-insensitive)",
    standard=True,
    doc=(
        "Whether prompts, replies, system instructions and tool definitions are recorded, and "
        "where: on span attributes as JSON strings, on the gen_ai.client.inference.operation."
        "details event as structured values, or both. Off by default. Exception messages and "
        "full stack traces count as content on spans: without SPAN_ONLY or SPAN_AND_EVENT a "
        "failure is recorded by its type, HTTP status and provider error code only, and the "
        "redaction processor drops the failure text of other instrumentations' GenAI spans "
        "too. Evaluation explanations count as content on events (EVENT_ONLY, "
        "SPAN_AND_EVENT). The rule covers other libraries' telemetry passing through "
        "otel-llm's processors: without content on spans, the message content of other "
        "instrumentations' spans (pydantic-ai, OpenInference, OpenLLMetry, OpenLIT...) is "
        "dropped, and without content on events, their content log events. Any other value, "
        "the legacy `true`/`false` included, means NO_CONTENT and logs one warning."
    ),
)
SDK_DISABLED: EnvVar[bool] = EnvVar(
    name="OTEL_SDK_DISABLED",
    setting="sdk_disabled",
    default=False,
    parse=_otel_bool,
    values="`true` or `false`",
    standard=True,
    doc=(
        "When `true`, otel-llm sets up no providers, processors or instrumentation, as the "
        "OpenTelemetry SDK does. Values other than true/false count as false, with a warning."
    ),
)
MAX_CONTENT_BYTES: EnvVar[int] = EnvVar(
    name="OTEL_LLM_MAX_CONTENT_BYTES",
    setting="max_content_bytes",
    default=16 * 1024,
    parse=_byte_budget,
    values=f"whole number of bytes, at least {_MIN_CONTENT_BYTES}",
    doc=(
        "Budget for each recorded content value (UTF-8 bytes): messages, system instructions, "
        "tool definitions, tool arguments and results, prompt variables, evaluation "
        "explanations, feedback comments, exception messages and stack traces. A longer value "
        "is cut to fit and marked `…[truncated N bytes]` with its original size (JSON stays "
        "valid JSON), so one huge prompt cannot make an export batch too large for the "
        "collector. A value is redacted before it is cut, so no finding is exported in part. "
        "Lowered to the OpenTelemetry SDK's attribute value length limit when one is set "
        "(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT and its span and log-record variants, or limits "
        "given in code), which the SDK applies before any processor; evaluation and feedback "
        "labels get 256 bytes."
    ),
)

REDACTION_ENABLED: EnvVar[bool] = EnvVar(
    name="OTEL_LLM_REDACTION_ENABLED",
    setting="redaction_enabled",
    default=True,
    parse=_strict_bool,
    values="`true` or `false` (also 1/0, yes/no, on/off)",
    doc=(
        "Whether the redaction processor scrubs personal data and secrets from spans and log "
        "records before any exporter sees them. On by default, whoever set up the SDK: "
        "otel-llm puts its processors in front of every SDK span and log record processor its "
        "telemetry goes to when it instruments. Turning it off is for data that never leaves "
        "a trusted boundary."
    ),
)
REDACTION_CONFIG: EnvVar[str | None] = EnvVar(
    name="OTEL_LLM_REDACTION_CONFIG",
    setting="redaction_config",
    default=None,
    parse=_text,
    values="path to a YAML file",
    doc=(
        "Redaction settings file: detectors to disable, extra patterns (RE2 syntax, run by "
        "RE2 in linear time: no backreferences or lookarounds; `\\d`, `\\w`, `\\b` are ASCII), "
        "attribute keys that are never scanned, and a callback (`module:function`, called as "
        "`(key, text)` and checked at load). A missing or malformed file is "
        "logged as an error naming the file and the problem, and otel-llm runs in its safe "
        "mode (no message content, the built-in detectors) instead of stopping the application."
    ),
)
REDACTION_HMAC_KEY: EnvVar[str | None] = EnvVar(
    name="OTEL_LLM_REDACTION_HMAC_KEY",
    setting="redaction_hmac_key",
    default=None,
    parse=_text,
    values="any secret string",
    secret=True,
    doc=(
        "When set, each redacted value is replaced by a keyed hash of it (HMAC-SHA256), e.g. "
        "`[REDACTED:email:3f9a1c2b]`, so equal values can be correlated without being revealed. "
        "Never printed."
    ),
)
COST_ENABLED: EnvVar[bool] = EnvVar(
    name="OTEL_LLM_COST_ENABLED",
    setting="cost_enabled",
    default=True,
    parse=_strict_bool,
    values="`true` or `false` (also 1/0, yes/no, on/off)",
    doc=(
        "Whether GenAI calls are priced (cost attributes and cost metrics): otel-llm's own calls "
        "by the instrumentation, sampled or not, and spans from other instrumentations by the "
        "cost processor."
    ),
)
PRICES_FILE: EnvVar[str | None] = EnvVar(
    name="OTEL_LLM_PRICES_FILE",
    setting="prices_file",
    default=None,
    parse=_text,
    values="path to a YAML file",
    doc=(
        "Your own prices (model -> USD per million tokens), which win over the bundled "
        "genai-prices data. A missing or malformed file is logged as an error naming the file "
        "and the problem, and otel-llm runs in its safe mode (no message content, the bundled "
        "prices) instead of stopping the application."
    ),
)
METRIC_ATTRIBUTE_VALUE_LIMIT: EnvVar[int] = EnvVar(
    name="OTEL_LLM_METRIC_ATTRIBUTE_VALUE_LIMIT",
    setting="metric_attribute_value_limit",
    default=100,
    parse=_value_limit,
    values=f"whole number from 1 to {_MAX_VALUE_LIMIT}",
    doc=(
        "Distinct values kept per metric for each attribute the application, its users or a "
        "provider choose (provider, request and response model, server address and port, "
        "prompt name and version, evaluation, tool, agent and workflow names, error type, "
        "service tier). Later "
        "values are recorded as `_OTHER` and counted in otel_llm.metric.attribute.folded, so "
        "1,000 random model names make 101 series, not 1,000 (or the SDK's 2,000-series "
        "overflow, which drops every attribute)."
    ),
)
SEMCONV_UPGRADE: EnvVar[bool] = EnvVar(
    name="OTEL_LLM_SEMCONV_UPGRADE",
    setting="semconv_upgrade",
    default=True,
    parse=_strict_bool,
    values="`true` or `false` (also 1/0, yes/no, on/off)",
    doc=(
        "Rewrite spans from other instrumentations (older OpenTelemetry GenAI names, "
        "OpenLLMetry, OpenLIT, OpenInference, pydantic-ai's and LiteLLM's older names) to the "
        "current conventions before export, so one dashboard serves a mixed fleet and their "
        "calls are priced and counted in the metrics. On by default; `false` exports their "
        "spans as they were made (for a backend that reads OpenInference's or OpenLLMetry's "
        "own names); the metrics are derived from the current names either way."
    ),
)
STREAM_USAGE: EnvVar[bool] = EnvVar(
    name="OTEL_LLM_STREAM_USAGE",
    setting="stream_usage",
    default=False,
    parse=_strict_bool,
    values="`true` or `false` (also 1/0, yes/no, on/off)",
    doc=(
        "Opt in to token usage (and so cost) for streamed OpenAI Chat Completions calls that do "
        "not set `stream_options`: otel-llm sends them with "
        '`stream_options={"include_usage": true}` and keeps the extra usage-only chunk (empty '
        "`choices`) to itself; every other chunk reaches your code as sent (with the option, "
        'OpenAI adds `"usage": null` to each). Calls that set `stream_options` (or put '
        "it in `extra_body`) and raw-response calls (`with_raw_response`, "
        "`with_streaming_response`) are left as they are. Off by default, because a server "
        "that does not know the parameter (older Azure OpenAI API versions, some "
        "OpenAI-compatible servers) rejects the call with a 400."
    ),
)

PROMPTS_DIR: EnvVar[str | None] = EnvVar(
    name="OTEL_LLM_PROMPTS_DIR",
    setting="prompts_dir",
    default=None,
    parse=_text,
    values="path to a directory of prompt YAML files",
    doc=(
        "Where `otel_llm.prompts.load(name, version)` finds prompt files (default: `prompts/` "
        "in the working directory). A malformed prompt file fails at load with the file and "
        "the field named."
    ),
)

OWN_AGGREGATION: EnvVar[bool] = EnvVar(
    name="OTEL_LLM_OWN_AGGREGATION",
    setting="own_aggregation",
    default=True,
    parse=_strict_bool,
    values="`true` or `false` (also 1/0, yes/no, on/off)",
    doc=(
        "Where otel-llm builds the MeterProvider (`otel_llm.configure()`, "
        "`opentelemetry-instrument` with otel-llm's configurator), aggregate "
        "`gen_ai.client.inference.time_per_output_chunk` with otel-llm's own aggregation: a "
        "stream's gaps between chunks are added to the histogram as one measurement instead of "
        "one SDK record per chunk (the same exported buckets, sum, count, min and max, at a "
        "tenth of the CPU). Not applied when another histogram aggregation is asked for "
        "(OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION). `false`: the SDK's own."
    ),
)

ENV_VARS: tuple[EnvVar[Any], ...] = (
    CAPTURE_MESSAGE_CONTENT,
    SDK_DISABLED,
    MAX_CONTENT_BYTES,
    REDACTION_ENABLED,
    REDACTION_CONFIG,
    REDACTION_HMAC_KEY,
    COST_ENABLED,
    PRICES_FILE,
    METRIC_ATTRIBUTE_VALUE_LIMIT,
    SEMCONV_UPGRADE,
    STREAM_USAGE,
    OWN_AGGREGATION,
    PROMPTS_DIR,
)
"""Every variable otel-llm reads, in documentation order."""


@dataclass(frozen=True)
class Settings:
    """The parsed configuration; build it with load_settings() or otel_llm.config.get_settings()."""

    capture_message_content: ContentCapturingMode = CAPTURE_MESSAGE_CONTENT.default
    sdk_disabled: bool = SDK_DISABLED.default
    max_content_bytes: int = MAX_CONTENT_BYTES.default
    redaction_enabled: bool = REDACTION_ENABLED.default
    redaction_config: str | None = REDACTION_CONFIG.default
    redaction_hmac_key: str | None = field(default=REDACTION_HMAC_KEY.default, repr=False)
    cost_enabled: bool = COST_ENABLED.default
    prices_file: str | None = PRICES_FILE.default
    metric_attribute_value_limit: int = METRIC_ATTRIBUTE_VALUE_LIMIT.default
    semconv_upgrade: bool = SEMCONV_UPGRADE.default
    stream_usage: bool = STREAM_USAGE.default
    own_aggregation: bool = OWN_AGGREGATION.default
    prompts_dir: str | None = PROMPTS_DIR.default


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse `environ` (default: the process environment); raise ConfigError on a bad value."""
    env = os.environ if environ is None else environ
    return Settings(**{var.setting: var.read(env) for var in ENV_VARS})


def parse_settings(
    environ: Mapping[str, str] | None = None,
) -> tuple[Settings, list[ConfigError]]:
    """Like load_settings(), but a value that does not parse takes its default: the errors."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    errors: list[ConfigError] = []
    for var in ENV_VARS:
        try:
            values[var.setting] = var.read(env)
        except ConfigError as exc:
            errors.append(exc)
            values[var.setting] = var.default
    return Settings(**values), errors


EXPORTER_DEFAULTS: Mapping[str, str] = {
    "OTEL_TRACES_EXPORTER": "otlp",
    "OTEL_METRICS_EXPORTER": "otlp",
    "OTEL_LOGS_EXPORTER": "otlp",
    # The SDK's own health metrics: spans dropped on a full queue show as
    # otel.sdk.processor.span.processed{error.type="queue_full"}, failed exports in
    # otel.sdk.exporter.operation.duration. Off by default in the SDK.
    "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED": "true",
}
"""Standard variables the zero-code distro defaults when unset: OTLP for every signal (the SDK's
own default is none) and the SDK's self-observability metrics, so dropped telemetry is visible."""


def apply_exporter_defaults(environ: MutableMapping[str, str] | None = None) -> None:
    """Default every signal's exporter to OTLP, leaving variables the user set untouched."""
    env = os.environ if environ is None else environ
    for name, value in EXPORTER_DEFAULTS.items():
        env.setdefault(name, value)


DISABLED_INSTRUMENTATIONS = "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"
"""opentelemetry-instrument's list of instrumentor entry points not to load (comma-separated)."""


def disabled_instrumentations(environ: Mapping[str, str] | None = None) -> list[str]:
    """The entry-point names in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS, split as it splits them."""
    env = os.environ if environ is None else environ
    return [name.strip() for name in env.get(DISABLED_INSTRUMENTATIONS, "").split(",")]


def disable_instrumentations(
    names: list[str], environ: MutableMapping[str, str] | None = None
) -> None:
    """Add `names` to OTEL_PYTHON_DISABLED_INSTRUMENTATIONS, keeping the names already there.

    Effective only before opentelemetry-instrument reads it, as otel-llm's distro runs.
    """
    env = os.environ if environ is None else environ
    kept = [name for name in disabled_instrumentations(env) if name]
    env[DISABLED_INSTRUMENTATIONS] = ",".join(kept + [n for n in names if n not in kept])


STANDARD_VARIABLES: frozenset[str] = frozenset(
    {
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
        "OTEL_METRIC_EXPORT_INTERVAL",
        "OTEL_SERVICE_NAME",
    }
)
"""Standard OpenTelemetry variables otel-llm consults (the SDK owns and documents them)."""


def standard_variable(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The stripped value of one of STANDARD_VARIABLES; None when unset or blank."""
    if name not in STANDARD_VARIABLES:
        raise KeyError(f"{name} is not a standard variable otel-llm reads")
    env = os.environ if environ is None else environ
    return env.get(name, "").strip() or None
