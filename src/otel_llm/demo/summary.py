"""The demo's headline numbers, computed from the spans and events it recorded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan

from otel_llm.demo.records import SAFETY_EVALUATIONS, error_type, is_llm_call, percentile

__all__ = ["SAFETY_EVALUATIONS", "Summary", "summarise"]

_WORKFLOW = "invoke_workflow"


@dataclass(frozen=True)
class Summary:
    """One number per thing a fault switch can break, over a whole demo run."""

    requests: int
    request_error_ratio: float
    llm_calls: int
    provider_error_ratio: float
    """LLM calls that failed for a reason other than a timeout or a rate limit."""
    rate_limited_ratio: float
    timeout_ratio: float
    p95_request_ms: float
    mean_cost_per_request: float
    quality_pass_rate: float
    quality_pass_rate_by_version: dict[str, float]
    """Quality pass rate of `support_answer` answers, by prompt version."""
    safety_violations: int
    tool_calls: int
    tool_failure_ratio: float
    feedback: int
    thumbs_down_ratio: float


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def summarise(spans: Iterable[ReadableSpan], logs: Iterable[ReadableLogRecord]) -> Summary:
    """The headline numbers of a run (ratios are 0 when there is nothing to divide by)."""
    span_list = list(spans)
    workflows = [s for s in span_list if s.name.startswith(_WORKFLOW)]
    llm = [s for s in span_list if is_llm_call(s)]
    tools = [s for s in span_list if s.name.startswith("execute_tool")]
    feedback = [s for s in span_list if s.name == "user_feedback"]
    kinds = [error_type(s) for s in llm]
    timeouts = sum("Timeout" in k for k in kinds)
    # An HTTP 429 or a throttling error, whatever the provider calls it (RateLimitError,
    # RESOURCE_EXHAUSTED, Bedrock's ThrottlingException, whose ClientError carries no status).
    limited = sum(
        "RateLimit" in k
        or "Throttling" in k
        or (s.attributes or {}).get("http.response.status_code") == 429
        for s, k in zip(llm, kinds, strict=True)
    )
    failures = sum(bool(k) for k in kinds)
    cost = sum(
        float(v)
        for s in span_list
        if isinstance(v := (s.attributes or {}).get("otel_llm.cost.total"), float | int)
    )
    version_of = {
        str(attrs["gen_ai.response.id"]): str(attrs.get("gen_ai.prompt.version"))
        for s in llm
        if (attrs := s.attributes or {}).get("gen_ai.response.id") is not None
    }
    quality: list[bool] = []
    by_version: dict[str, list[bool]] = {}
    violations = 0
    for record in logs:
        attrs = record.log_record.attributes or {}
        passed = attrs.get("otel_llm.evaluation.passed")
        if record.log_record.event_name != "gen_ai.evaluation.result" or not isinstance(
            passed, bool
        ):
            continue
        if SAFETY_EVALUATIONS.fullmatch(str(attrs.get("gen_ai.evaluation.name"))):
            violations += not passed
            continue
        quality.append(passed)
        version = version_of.get(str(attrs.get("gen_ai.response.id")))
        if version is not None:
            by_version.setdefault(version, []).append(passed)
    durations = [((s.end_time or 0) - (s.start_time or 0)) / 1e6 for s in workflows]
    negative = sum(
        (s.attributes or {}).get("otel_llm.feedback.sentiment") == "negative" for s in feedback
    )
    return Summary(
        requests=len(workflows),
        request_error_ratio=_ratio(sum(bool(error_type(s)) for s in workflows), len(workflows)),
        llm_calls=len(llm),
        provider_error_ratio=_ratio(failures - timeouts - limited, len(llm)),
        rate_limited_ratio=_ratio(limited, len(llm)),
        timeout_ratio=_ratio(timeouts, len(llm)),
        p95_request_ms=percentile(durations, 95) or 0.0,
        mean_cost_per_request=cost / len(workflows) if workflows else 0.0,
        quality_pass_rate=_ratio(sum(quality), len(quality)),
        quality_pass_rate_by_version={
            v: _ratio(sum(f), len(f)) for v, f in sorted(by_version.items())
        },
        safety_violations=violations,
        tool_calls=len(tools),
        tool_failure_ratio=_ratio(sum(bool(error_type(s)) for s in tools), len(tools)),
        feedback=len(feedback),
        thumbs_down_ratio=_ratio(negative, len(feedback)),
    )
