"""The tracer, meter, event logger and metric instruments every otel-llm signal is made with."""

from __future__ import annotations

import collections
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import Logger, LoggerProvider
from opentelemetry.metrics import Meter, MeterProvider
from opentelemetry.trace import Tracer, TracerProvider

from otel_llm import _instruments
from otel_llm._instruments import SCOPE_NAME, Instruments
from otel_llm._version import __version__
from otel_llm.config import MAX_CONTENT_BYTES, ContentCapturingMode, Settings, get_settings
from otel_llm.semconv import SCHEMA_URL
from otel_llm.semconv.attributes.otel_llm import OTEL_LLM_REDACTION_KIND

if TYPE_CHECKING:
    from otel_llm._guard import ContentGuard
    from otel_llm.redaction import Redactor

__all__ = ["SCOPE_NAME", "Instruments", "Telemetry", "get_telemetry", "set_telemetry"]


@dataclass(frozen=True)
class Telemetry:
    """Everything needed to emit otel-llm signals; built once when instrumentation starts."""

    tracer: Tracer
    meter: Meter
    logger: Logger
    instruments: Instruments
    settings: Settings = field(default_factory=get_settings)
    redactor: Redactor | None = None
    """Built from the same settings as the redaction processor's (None: redaction is off). It
    runs only on values a byte budget must cut, before the cut, so no finding is ever split."""
    _guard: ContentGuard | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Put redaction in front of the providers' processors now, at start-up (otel_llm._guard).

        With content capture on (or off while no provider is set yet), a guard also checks
        them again on each call (content_mode).
        """
        settings = self.settings
        # Redaction switched off is the user's explicit acceptance of raw content.
        if not settings.redaction_enabled:
            return
        # Imported here: the SDK internals are looked into only when redaction is on.
        from otel_llm._guard import ContentGuard, retrofit  # noqa: PLC0415

        # Capture off: nothing we record is content, but application logs and other
        # instrumentations' spans reach the same processors: retrofitted once, not checked per
        # call. Unless no provider is set yet: the library that sets one later (openlit.init()
        # makes its own, with exporters, when none is set) would export other instrumentations'
        # content raw; then the guard retrofits it on our next call (content stays off).
        if settings.capture_message_content is ContentCapturingMode.NO_CONTENT and not retrofit(
            self.tracer, self.logger, settings
        ):
            return
        # Checks the providers now: retrofits and warns at start-up, not on the first call.
        guard = ContentGuard(self.tracer, self.logger, settings)
        object.__setattr__(self, "_guard", guard)  # frozen dataclass: set once, here

    def content_mode(self) -> ContentCapturingMode:
        """The content capture mode in force; every read of the capture mode goes through here.

        The configured mode, less any signal whose SDK processors otel-llm cannot put its
        redaction in front of (those it can, it does: see otel_llm._guard). Cheap enough for
        every call: an identity check of each provider's processor tuple.
        """
        guard = self._guard
        if guard is None:
            return self.settings.capture_message_content
        return guard.mode()

    def redact(self, text: str) -> str:
        """`text` redacted now, as the processor would; unchanged when redaction is off.

        Findings count in `otel_llm.redaction.findings` as the processor's do.
        """
        if self.redactor is None:
            return text
        return self.redact_part(text, 0, len(text), 0)[0]

    def redact_part(self, text: str, start: int, stop: int, margin: int) -> tuple[str, int, int]:
        """`text[start:stop]` redacted now, widened to whole findings (see Redactor.redact_part).

        For values a byte budget is about to cut: the processor still runs after, but would
        find only fragments. Returns the part and the span of `text` it covers; unchanged when
        redaction is off. Findings count in `otel_llm.redaction.findings`.
        """
        redactor = self.redactor
        if redactor is None:
            return text[start:stop], start, stop
        part = redactor.redact_part(text, start, stop, margin)
        findings = part.result.findings
        if findings:
            counter = self.instruments.redaction_findings
            for kind, count in collections.Counter(f.kind for f in findings).items():
                counter.add(count, {OTEL_LLM_REDACTION_KIND: kind})
        return part.result.text, part.start, part.stop

    @classmethod
    def create(
        cls,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        settings: Settings | None = None,
        *,
        instruments: Instruments | None = None,
    ) -> Telemetry:
        """Build from the given providers, or the global ones where None is given.

        Without `settings`, the process's (get_settings(): a bad file there was logged and
        replaced by the safe mode); a bad redaction config file in `settings` given in code
        raises a ConfigError now. `instruments`, when given, were made on the same meter.
        """
        tracer = trace.get_tracer(SCOPE_NAME, __version__, tracer_provider, schema_url=SCHEMA_URL)
        meter = metrics.get_meter(SCOPE_NAME, __version__, meter_provider, schema_url=SCHEMA_URL)
        logger = _logs.get_logger(
            SCOPE_NAME, __version__, logger_provider=logger_provider, schema_url=SCHEMA_URL
        )
        settings = _within_sdk_limits(settings or get_settings(), tracer, logger)
        if instruments is None:
            instruments = Instruments.create(meter, settings.metric_attribute_value_limit)
        redactor = None
        if settings.redaction_enabled:
            # Imported here: with redaction off the redaction engine (google-re2) never loads.
            from otel_llm.redaction import Redactor  # noqa: PLC0415

            redactor = Redactor.from_settings(settings)
        return cls(
            tracer=tracer,
            meter=meter,
            logger=logger,
            instruments=instruments,
            settings=settings,
            redactor=redactor,
        )


def _within_sdk_limits(settings: Settings, tracer: Tracer, logger: Logger) -> Settings:
    """`settings` with the content budget lowered to the SDK's attribute length limit, if any.

    The SDK cuts a value longer than its limit when the value is set, before the redaction
    processor sees it, so a finding could be exported in part. The limit counts characters
    and a budget UTF-8 bytes (at least one per character), so a value within the budget is
    never cut by the SDK: otel-llm's values are redacted, then cut, by otel-llm only.
    """
    # Imported here: reads SDK internals, as the guard does.
    from otel_llm._guard import attribute_length_limit, warn_once  # noqa: PLC0415

    limit = attribute_length_limit(tracer, logger)
    if limit is None:
        return settings
    if settings.redaction_enabled:
        warn_once(
            "length-limit",
            "otel-llm: the OpenTelemetry SDK cuts attribute values to %d characters "
            "(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, "
            "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT, or SpanLimits/LogRecordLimits in code) "
            "when they are set, before any processor sees them. otel-llm keeps its own values "
            "within that limit (redacted, then cut, by itself), but other instrumentations' "
            "values that the SDK cuts reach the redaction processor in part, and a finding "
            "split by that cut cannot be redacted whole. Fix: raise or unset the limit, and "
            "bound content with %s instead.",
            limit,
            MAX_CONTENT_BYTES.name,
        )
    if limit >= settings.max_content_bytes:
        return settings
    return dataclasses.replace(settings, max_content_bytes=limit)


_current: Telemetry | None = None


def get_telemetry() -> Telemetry:
    """The active Telemetry: the one instrumentation installed, else one on the global providers."""
    global _current  # noqa: PLW0603 - one process-wide handle, swapped only by (un)instrument
    if _current is None:
        # The instruments the processors may already count on, made on the same global meter.
        _current = Telemetry.create(instruments=_instruments.active_instruments())
    return _current


def set_telemetry(telemetry: Telemetry | None) -> None:
    """Install `telemetry` as the active one (None: fall back to the global providers again)."""
    global _current  # noqa: PLW0603 - see get_telemetry
    _current = telemetry
    _instruments.set_active_instruments(telemetry.instruments if telemetry is not None else None)
