"""The tracer, meter, event logger and metric instruments every otel-llm signal is made with."""

from __future__ import annotations

import collections
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import Logger, LoggerProvider
from opentelemetry.metrics import Counter, Histogram, Meter, MeterProvider
from opentelemetry.trace import Tracer, TracerProvider

from otel_llm import __version__
from otel_llm._cardinality import Capping
from otel_llm._sums import Sums
from otel_llm.config import (
    MAX_CONTENT_BYTES,
    METRIC_ATTRIBUTE_VALUE_LIMIT,
    ContentCapturingMode,
    Settings,
    get_settings,
)
from otel_llm.semconv import SCHEMA_URL
from otel_llm.semconv.attributes.otel_llm import OTEL_LLM_REDACTION_KIND
from otel_llm.semconv.metrics import gen_ai as gm
from otel_llm.semconv.metrics import otel_llm as om

if TYPE_CHECKING:
    from otel_llm._guard import ContentGuard
    from otel_llm.processors.cost import Pricer
    from otel_llm.redaction import Redactor

SCOPE_NAME = "otel_llm"


@dataclass(frozen=True)
class Instruments:
    """Every metric instrument otel-llm records, created once from the generated factories.

    The counters every inference call adds to are `Sums`: summed here, observed by the SDK.
    Every instrument caps its open attributes (otel_llm._cardinality).
    """

    inference_duration: Histogram
    time_to_first_chunk: Histogram
    time_per_output_chunk: Histogram
    usage_input_tokens: Sums
    usage_output_tokens: Sums
    usage_cache_read_tokens: Sums
    usage_cache_write_tokens: Sums
    usage_reasoning_tokens: Sums
    operation_input_tokens: Histogram
    operation_output_tokens: Histogram
    operation_duration: Histogram
    execute_tool_duration: Histogram
    invoke_agent_duration: Histogram
    invoke_workflow_duration: Histogram
    requests: Sums
    cost: Sums
    request_cost: Histogram
    unpriced: Counter
    redaction_findings: Counter
    evaluation_score: Histogram
    evaluation_results: Counter
    evaluation_dropped: Counter
    feedback_received: Counter
    agent_steps: Histogram
    tool_invalid_arguments: Counter
    fallbacks: Counter

    @classmethod
    def create(cls, meter: Meter, value_limit: int | None = None) -> Instruments:
        """Create all instruments on `meter`, with the registry's units and bucket advice.

        Each caps its open attributes at `value_limit` values (default: the setting's default),
        see otel_llm._cardinality.
        """
        capped = Capping(meter, value_limit or METRIC_ATTRIBUTE_VALUE_LIMIT.default)
        histogram, counter, sums = capped.histogram, capped.counter, capped.sums
        return cls(
            inference_duration=histogram(
                gm.GEN_AI_CLIENT_INFERENCE_DURATION, gm.create_gen_ai_client_inference_duration
            ),
            time_to_first_chunk=histogram(
                gm.GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK,
                gm.create_gen_ai_client_inference_time_to_first_chunk,
            ),
            time_per_output_chunk=histogram(
                gm.GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
                gm.create_gen_ai_client_inference_time_per_output_chunk,
            ),
            usage_input_tokens=sums(
                gm.GEN_AI_CLIENT_INFERENCE_USAGE_INPUT_TOKENS,
                gm.observe_gen_ai_client_inference_usage_input_tokens,
            ),
            usage_output_tokens=sums(
                gm.GEN_AI_CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS,
                gm.observe_gen_ai_client_inference_usage_output_tokens,
            ),
            usage_cache_read_tokens=sums(
                gm.GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_READ_INPUT_TOKENS,
                gm.observe_gen_ai_client_inference_usage_cache_read_input_tokens,
            ),
            usage_cache_write_tokens=sums(
                gm.GEN_AI_CLIENT_INFERENCE_USAGE_CACHE_WRITE_INPUT_TOKENS,
                gm.observe_gen_ai_client_inference_usage_cache_write_input_tokens,
            ),
            usage_reasoning_tokens=sums(
                gm.GEN_AI_CLIENT_INFERENCE_USAGE_REASONING_OUTPUT_TOKENS,
                gm.observe_gen_ai_client_inference_usage_reasoning_output_tokens,
            ),
            operation_input_tokens=histogram(
                gm.GEN_AI_CLIENT_INFERENCE_OPERATION_INPUT_TOKENS,
                gm.create_gen_ai_client_inference_operation_input_tokens,
            ),
            operation_output_tokens=histogram(
                gm.GEN_AI_CLIENT_INFERENCE_OPERATION_OUTPUT_TOKENS,
                gm.create_gen_ai_client_inference_operation_output_tokens,
            ),
            operation_duration=histogram(
                gm.GEN_AI_CLIENT_OPERATION_DURATION, gm.create_gen_ai_client_operation_duration
            ),
            execute_tool_duration=histogram(
                gm.GEN_AI_EXECUTE_TOOL_DURATION, gm.create_gen_ai_execute_tool_duration
            ),
            invoke_agent_duration=histogram(
                gm.GEN_AI_INVOKE_AGENT_DURATION, gm.create_gen_ai_invoke_agent_duration
            ),
            invoke_workflow_duration=histogram(
                gm.GEN_AI_INVOKE_WORKFLOW_DURATION, gm.create_gen_ai_invoke_workflow_duration
            ),
            requests=sums(om.OTEL_LLM_CLIENT_REQUESTS, om.observe_otel_llm_client_requests),
            cost=sums(om.OTEL_LLM_CLIENT_COST, om.observe_otel_llm_client_cost),
            request_cost=histogram(
                om.OTEL_LLM_CLIENT_REQUEST_COST, om.create_otel_llm_client_request_cost
            ),
            unpriced=counter(om.OTEL_LLM_CLIENT_UNPRICED, om.create_otel_llm_client_unpriced),
            redaction_findings=counter(
                om.OTEL_LLM_REDACTION_FINDINGS, om.create_otel_llm_redaction_findings
            ),
            evaluation_score=histogram(
                om.OTEL_LLM_EVALUATION_SCORE, om.create_otel_llm_evaluation_score
            ),
            evaluation_results=counter(
                om.OTEL_LLM_EVALUATION_RESULTS, om.create_otel_llm_evaluation_results
            ),
            evaluation_dropped=counter(
                om.OTEL_LLM_EVALUATION_DROPPED, om.create_otel_llm_evaluation_dropped
            ),
            feedback_received=counter(
                om.OTEL_LLM_FEEDBACK_RECEIVED, om.create_otel_llm_feedback_received
            ),
            agent_steps=histogram(om.OTEL_LLM_AGENT_STEPS, om.create_otel_llm_agent_steps),
            tool_invalid_arguments=counter(
                om.OTEL_LLM_TOOL_INVALID_ARGUMENTS, om.create_otel_llm_tool_invalid_arguments
            ),
            fallbacks=counter(om.OTEL_LLM_CLIENT_FALLBACKS, om.create_otel_llm_client_fallbacks),
        )


@dataclass(frozen=True)
class Telemetry:
    """Everything needed to emit otel-llm signals; built once when instrumentation starts."""

    tracer: Tracer
    meter: Meter
    logger: Logger
    instruments: Instruments
    settings: Settings = field(default_factory=get_settings)
    price: Pricer | None = None
    """Prices the engine's calls (sampled or not) and records the cost metrics; None: no cost."""
    redactor: Redactor | None = None
    """Built from the same settings as the redaction processor's (None: redaction is off). It
    runs only on values a byte budget must cut, before the cut, so no finding is ever split."""
    _guard: ContentGuard | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Put redaction in front of the providers' processors now, at start-up (otel_llm._guard).

        With content capture on, a guard also checks them again on each call (content_mode).
        """
        settings = self.settings
        # Redaction switched off is the user's explicit acceptance of raw content.
        if not settings.redaction_enabled:
            return
        # Imported here: the SDK internals are looked into only when redaction is on.
        from otel_llm._guard import ContentGuard, retrofit  # noqa: PLC0415

        if settings.capture_message_content is ContentCapturingMode.NO_CONTENT:
            # Nothing we record is content, but application logs and other instrumentations'
            # spans reach the same processors: retrofitted once, not checked per call.
            retrofit(self.tracer, self.logger, settings)
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
        pricing: bool = False,
    ) -> Telemetry:
        """Build from the given providers, or the global ones where None is given.

        With `pricing` (and cost enabled in the settings) the price data is loaded here. Without
        `settings`, the process's (get_settings(): a bad file there was logged and replaced by
        the safe mode); a bad prices or redaction config file in `settings` given in code
        raises a ConfigError now.
        """
        tracer = trace.get_tracer(SCOPE_NAME, __version__, tracer_provider, schema_url=SCHEMA_URL)
        meter = metrics.get_meter(SCOPE_NAME, __version__, meter_provider, schema_url=SCHEMA_URL)
        logger = _logs.get_logger(
            SCOPE_NAME, __version__, logger_provider=logger_provider, schema_url=SCHEMA_URL
        )
        settings = _within_sdk_limits(settings or get_settings(), tracer, logger)
        instruments = Instruments.create(meter, settings.metric_attribute_value_limit)
        price = None
        if pricing and settings.cost_enabled:
            # Imported here: the price data is loaded only by an instrumentation that prices.
            from otel_llm.cost import PriceBook  # noqa: PLC0415
            from otel_llm.processors.cost import pricer  # noqa: PLC0415

            price = pricer(PriceBook.from_settings(settings), instruments)
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
            price=price,
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
        _current = Telemetry.create()
    return _current


def set_telemetry(telemetry: Telemetry | None) -> None:
    """Install `telemetry` as the active one (None: fall back to the global providers again)."""
    global _current  # noqa: PLW0603 - see get_telemetry
    _current = telemetry
