"""A self-contained example: one GenAI chat span and its metrics, built from the generated names."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.metrics.export import NumberDataPoint as _NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from otel_llm import __version__
from otel_llm.config import Settings
from otel_llm.semconv import SCHEMA_URL
from otel_llm.semconv.attributes import gen_ai, server
from otel_llm.semconv.metrics import gen_ai as gen_ai_metrics

_SCOPE = "otel_llm.example"
_TRUNCATION_MARK = "…[truncated]"


@dataclass(frozen=True)
class ExampleResult:
    """What the example produced: finished spans and metric points by metric name."""

    spans: tuple[ReadableSpan, ...]
    metrics: Mapping[str, Sequence[tuple[Mapping[str, AttributeValue], str]]]


def fit_to_budget(text: str, max_bytes: int) -> str:
    """Cut `text` to at most `max_bytes` UTF-8 bytes, marking the cut; never splits a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(_TRUNCATION_MARK.encode("utf-8"))
    return data[:room].decode("utf-8", errors="ignore") + _TRUNCATION_MARK


def run_example(settings: Settings, prompt: str = "Hi there!") -> ExampleResult:
    """Record one simulated `chat gpt-4o-mini` call through a real in-memory SDK pipeline."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    tracer = tracer_provider.get_tracer(_SCOPE, __version__, schema_url=SCHEMA_URL)
    meter = meter_provider.get_meter(_SCOPE, __version__, schema_url=SCHEMA_URL)
    duration = gen_ai_metrics.create_gen_ai_client_inference_duration(meter)
    input_tokens = gen_ai_metrics.create_gen_ai_client_inference_usage_input_tokens(meter)
    output_tokens = gen_ai_metrics.create_gen_ai_client_inference_usage_output_tokens(meter)

    model = "gpt-4o-mini"
    chat = gen_ai.GenAiOperationNameValues.CHAT.value
    provider = gen_ai.GenAiProviderNameValues.OPENAI.value
    start_attributes: dict[str, AttributeValue] = {
        gen_ai.GEN_AI_OPERATION_NAME: chat,
        gen_ai.GEN_AI_PROVIDER_NAME: provider,
        gen_ai.GEN_AI_REQUEST_MODEL: model,
        server.SERVER_ADDRESS: "api.openai.com",
        server.SERVER_PORT: 443,
    }
    started = time.perf_counter()
    with tracer.start_as_current_span(
        f"{chat} {model}", kind=SpanKind.CLIENT, attributes=start_attributes
    ) as span:
        span.set_attributes(
            {
                gen_ai.GEN_AI_REQUEST_TEMPERATURE: 0.2,
                gen_ai.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
                gen_ai.GEN_AI_RESPONSE_ID: "chatcmpl-example-0001",
                gen_ai.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
                gen_ai.GEN_AI_USAGE_INPUT_TOKENS: 42,
                gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS: 9,
            }
        )
        if settings.capture_message_content.on_spans:
            # The budget applies to the text inside the message, so the JSON stays valid.
            content = fit_to_budget(prompt, settings.max_content_bytes)
            messages = [{"role": "user", "parts": [{"type": "text", "content": content}]}]
            span.set_attribute(gen_ai.GEN_AI_INPUT_MESSAGES, json.dumps(messages))
    metric_attributes = dict(start_attributes)
    metric_attributes[gen_ai.GEN_AI_RESPONSE_MODEL] = "gpt-4o-mini-2024-07-18"
    duration.record(time.perf_counter() - started, metric_attributes)
    modality = {gen_ai.GEN_AI_TOKEN_MODALITY: gen_ai.GenAiTokenModalityValues.TEXT.value}
    input_tokens.add(42, {**metric_attributes, **modality})
    output_tokens.add(9, {**metric_attributes, **modality})

    result = ExampleResult(spans=exporter.get_finished_spans(), metrics=_collect(reader))
    tracer_provider.shutdown()
    meter_provider.shutdown()
    return result


def _collect(
    reader: InMemoryMetricReader,
) -> dict[str, list[tuple[Mapping[str, AttributeValue], str]]]:
    points: dict[str, list[tuple[Mapping[str, AttributeValue], str]]] = {}
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    points.setdefault(metric.name, []).append(
                        (point.attributes or {}, _describe_point(point))
                    )
    return points


def _describe_point(point: object) -> str:
    if isinstance(point, HistogramDataPoint):
        return f"count={point.count} sum={point.sum:.6f} buckets={list(point.explicit_bounds)}"
    if isinstance(point, _NumberDataPoint):
        return f"value={point.value}"
    return repr(point)


def format_result(result: ExampleResult) -> str:
    """Human-readable rendering of what run_example() recorded."""
    lines = [
        "otel-llm example: one GenAI chat call recorded through a real OpenTelemetry SDK",
        "pipeline, using the names generated from semconv/ (no network, no provider).",
        "",
    ]
    for span in result.spans:
        lines.append(f"span  {span.name!r}  kind={span.kind.name}")
        for key, value in sorted((span.attributes or {}).items()):
            lines.append(f"      {key} = {value!r}")
    lines.append("")
    for name, points in sorted(result.metrics.items()):
        for attributes, description in points:
            dims = ", ".join(f"{k}=" + str(v) for k, v in sorted(attributes.items()))
            lines.append(f"metric {name}  {description}")
            lines.append(f"      {{{dims}}}")
    return "\n".join(lines)
