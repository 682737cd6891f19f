"""Headline numbers from spans and events: ratios by failure class, per-version quality, safety."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm.demo.summary import SAFETY_EVALUATIONS, summarise

MS = 1_000_000


def test_numbers_from_a_small_recorded_run() -> None:
    """Two requests, four LLM calls (one timeout, one 500), a tool failure, evals and feedback."""
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    tracer, logger = tracer_provider.get_tracer("t"), logger_provider.get_logger("t")

    def llm(parent: trace.Span, version: str, response: str, error: str | None = None) -> None:
        attributes: dict[str, str | float] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.prompt.version": version,
            "gen_ai.response.id": response,
            "otel_llm.cost.total": 0.01,
        }
        if error:
            attributes["error.type"] = error
        context = trace.set_span_in_context(parent)
        tracer.start_span("chat m", context=context, attributes=attributes).end()

    def evaluation(name: str, response: str, passed: bool) -> None:
        logger.emit(
            event_name="gen_ai.evaluation.result",
            attributes={
                "gen_ai.evaluation.name": name,
                "gen_ai.response.id": response,
                "otel_llm.evaluation.passed": passed,
            },
        )

    first = tracer.start_span("invoke_workflow support_chat", start_time=0)
    llm(first, "41", "r1")
    llm(first, "41", "r2", "openai.APITimeoutError")
    tracer.start_span(
        "execute_tool crm", context=trace.set_span_in_context(first), attributes={"error.type": "E"}
    ).end()
    first.end(end_time=100 * MS)
    second = tracer.start_span("invoke_workflow support_chat", start_time=0)
    llm(second, "42", "r3")
    llm(second, "42", "r4", "openai.InternalServerError")
    second.set_attribute("error.type", "openai.InternalServerError")
    second.end(end_time=300 * MS)
    evaluation("citation", "r1", True)
    evaluation("citation", "r3", False)
    evaluation("answer_length", "r3", True)
    evaluation("pii_in_output", "r3", False)
    tracer.start_span("user_feedback", attributes={"otel_llm.feedback.sentiment": "negative"}).end()

    summary = summarise(spans.get_finished_spans(), logs.get_finished_logs())
    assert summary.requests == 2
    assert summary.request_error_ratio == 0.5
    assert summary.llm_calls == 4
    assert (summary.provider_error_ratio, summary.timeout_ratio) == (0.25, 0.25)
    assert summary.rate_limited_ratio == 0
    assert summary.p95_request_ms == 300
    assert summary.mean_cost_per_request == 0.02
    assert summary.quality_pass_rate == 2 / 3
    assert summary.quality_pass_rate_by_version == {"41": 1.0, "42": 0.5}
    assert summary.safety_violations == 1
    assert (summary.tool_calls, summary.tool_failure_ratio) == (1, 1.0)
    assert (summary.feedback, summary.thumbs_down_ratio) == (1, 1.0)


def test_safety_evaluation_names_match_the_alert_convention() -> None:
    """pii_in_output, safety_* and policy_* are safety checks; the rest are quality checks."""
    assert SAFETY_EVALUATIONS.fullmatch("pii_in_output")
    assert SAFETY_EVALUATIONS.fullmatch("policy_tone")
    assert not SAFETY_EVALUATIONS.fullmatch("citation")


def test_empty_input_gives_zeros() -> None:
    """Nothing recorded: every ratio is 0 rather than a division error."""
    summary = summarise([], [])
    assert summary.requests == summary.llm_calls == 0
    assert summary.quality_pass_rate == summary.mean_cost_per_request == 0


def test_an_http_429_is_rate_limited_whatever_the_provider_calls_it() -> None:
    """Gemini's RESOURCE_EXHAUSTED (429) and Bedrock's ThrottlingException are rate-limited."""
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    tracer = tracer_provider.get_tracer("t")
    for error, status in (("RESOURCE_EXHAUSTED", 429), ("openai.RateLimitError", 429)):
        attributes: dict[str, str | int] = {
            "gen_ai.operation.name": "generate_content",
            "error.type": error,
            "http.response.status_code": status,
        }
        tracer.start_span("generate_content m", attributes=attributes).end()
    # Bedrock's ClientError carries no HTTP status: its AWS error code says it.
    tracer.start_span(
        "chat m", attributes={"gen_ai.operation.name": "chat", "error.type": "ThrottlingException"}
    ).end()
    tracer.start_span(
        "generate_content m",
        attributes={"gen_ai.operation.name": "generate_content", "error.type": "INTERNAL"},
    ).end()
    summary = summarise(spans.get_finished_spans(), [])
    assert summary.rate_limited_ratio == 3 / 4
    assert summary.provider_error_ratio == 1 / 4
