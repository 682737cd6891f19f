"""The metric instruments otel-llm records, and the set in use (the active Telemetry's).

Kept apart from _telemetry so the span processors can count (findings, spend) on the active
instruments without importing what builds a Telemetry (the content guard, which builds the
processors: an import cycle otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Histogram, Meter

from otel_llm._cardinality import Capping
from otel_llm._deferred import Deferred, deferred
from otel_llm._sums import Sums
from otel_llm._version import __version__
from otel_llm.config import METRIC_ATTRIBUTE_VALUE_LIMIT, get_settings
from otel_llm.semconv import SCHEMA_URL
from otel_llm.semconv.metrics import gen_ai as gm
from otel_llm.semconv.metrics import mcp as mcm
from otel_llm.semconv.metrics import otel_llm as om

SCOPE_NAME = "otel_llm"
"""The instrumentation scope of every otel-llm tracer, meter and logger."""


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
    mcp_client_duration: Histogram
    mcp_server_duration: Histogram
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
    deferred: Deferred
    """Where a call's metric points wait to be recorded off its thread (otel_llm._deferred)."""

    @classmethod
    def create(cls, meter: Meter, value_limit: int | None = None) -> Instruments:
        """Create all instruments on `meter`, with the registry's units and bucket advice.

        Each caps its open attributes at `value_limit` values (default: the setting's default),
        see otel_llm._cardinality.
        """
        # First: its callback replays the deferred points before any other otel-llm callback.
        buffer = deferred(meter)
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
            mcp_client_duration=histogram(
                mcm.MCP_CLIENT_OPERATION_DURATION, mcm.create_mcp_client_operation_duration
            ),
            mcp_server_duration=histogram(
                mcm.MCP_SERVER_OPERATION_DURATION, mcm.create_mcp_server_operation_duration
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
            deferred=buffer,
        )


_active: Instruments | None = None


def active_instruments() -> Instruments:
    """The active Telemetry's instruments; on the global meter provider while none is set.

    What the span processors count on: they run in the SDK's pipeline, whoever set it up.
    """
    global _active  # noqa: PLW0603 - one process-wide handle, swapped by set_telemetry()
    instruments = _active
    if instruments is None:
        meter = metrics.get_meter(SCOPE_NAME, __version__, schema_url=SCHEMA_URL)
        limit = get_settings().metric_attribute_value_limit
        instruments = _active = Instruments.create(meter, limit)
    return instruments


def set_active_instruments(instruments: Instruments | None) -> None:
    """Make `instruments` the active set (None: the global meter provider's, made when asked)."""
    global _active  # noqa: PLW0603 - see active_instruments
    _active = instruments
