"""Token usage: read from span attributes, onto the usage metrics; one rule for ours and others'."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.util.types import AttributeValue

from otel_llm._instruments import Instruments
from otel_llm.instrumentation.types import Usage
from otel_llm.semconv.attributes import gen_ai as ga


def _count(value: object) -> int | None:
    # Others' spans may carry floats, strings or negative numbers: only whole non-negative
    # counts are tokens (a counter takes no negative amount).
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def usage_from_attributes(attributes: Mapping[str, Any]) -> Usage:
    """The token usage a span recorded, in current attribute names (upgraded ones for others')."""
    return Usage(
        input_tokens=_count(attributes.get(ga.GEN_AI_USAGE_INPUT_TOKENS)),
        output_tokens=_count(attributes.get(ga.GEN_AI_USAGE_OUTPUT_TOKENS)),
        cache_read_tokens=_count(attributes.get(ga.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)),
        cache_write_tokens=_count(attributes.get(ga.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS)),
        reasoning_tokens=_count(attributes.get(ga.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS)),
    )


def record_token_usage(
    instruments: Instruments,
    usage: Usage,
    counter_attributes: Mapping[str, AttributeValue],
    attributes: Mapping[str, AttributeValue],
    context: Context | None,
) -> None:
    """Count `usage` on the token counters and record it on the per-call token histograms.

    Input and output are counted for every call, as 0 when no usage arrived (upstream #536);
    cache and reasoning tokens only when non-zero (OpenAI reports 0 on most calls: adding 0
    changes no total and would only open an all-zero series). The histograms skip a missing
    count, which is not a zero-token call.
    """
    instruments.usage_input_tokens.add(usage.input_tokens or 0, counter_attributes)
    instruments.usage_output_tokens.add(usage.output_tokens or 0, counter_attributes)
    if usage.cache_read_tokens:
        instruments.usage_cache_read_tokens.add(usage.cache_read_tokens, counter_attributes)
    if usage.cache_write_tokens:
        instruments.usage_cache_write_tokens.add(usage.cache_write_tokens, counter_attributes)
    if usage.reasoning_tokens:
        instruments.usage_reasoning_tokens.add(usage.reasoning_tokens, counter_attributes)
    if usage.input_tokens is not None:
        instruments.operation_input_tokens.record(usage.input_tokens, attributes, context)
    if usage.output_tokens is not None:
        instruments.operation_output_tokens.record(usage.output_tokens, attributes, context)
