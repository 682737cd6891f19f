"""OTLP/JSON files: one request per line, hex ids, integer enums, from real SDK pipelines."""

import json
from pathlib import Path

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from otel_llm.demo.otlp_json import (
    OtlpJsonFile,
    OtlpJsonLogExporter,
    OtlpJsonSpanExporter,
    write_metrics,
)


def test_spans_logs_and_metrics_are_written_as_otlp_json_lines(tmp_path: Path) -> None:
    """Each export is one JSON line; trace/span ids are lowercase hex as OTLP/JSON requires."""
    traces, logs, metrics = (OtlpJsonFile(tmp_path / n) for n in ("t.jsonl", "l.jsonl", "m.jsonl"))
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(OtlpJsonSpanExporter(traces)))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OtlpJsonLogExporter(logs)))
    tracer = tracer_provider.get_tracer("t")
    with tracer.start_as_current_span("parent") as parent, tracer.start_as_current_span("child"):
        logger_provider.get_logger("l").emit(event_name="gen_ai.evaluation.result", body="x")
    reader = InMemoryMetricReader()
    MeterProvider(metric_readers=[reader]).get_meter("m").create_counter("c").add(3)
    write_metrics(metrics, reader.get_metrics_data())  # type: ignore[arg-type]
    tracer_provider.shutdown()
    logger_provider.shutdown()
    metrics.close()

    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    spans = [
        span
        for line in lines
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    ctx = parent.get_span_context()
    child = next(s for s in spans if s["name"] == "child")
    assert child["traceId"] == f"{ctx.trace_id:032x}"
    assert child["parentSpanId"] == f"{ctx.span_id:016x}"
    assert child["kind"] == 1  # Integer enums (SPAN_KIND_INTERNAL), not names.
    [log_line] = (tmp_path / "l.jsonl").read_text().splitlines()
    record = json.loads(log_line)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert record["eventName"] == "gen_ai.evaluation.result"
    assert record["traceId"] == f"{ctx.trace_id:032x}"
    [metric_line] = (tmp_path / "m.jsonl").read_text().splitlines()
    metric = json.loads(metric_line)["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
    assert metric["name"] == "c"
    assert metric["sum"]["dataPoints"][0]["asInt"] == "3"


def test_writes_after_close_are_dropped(tmp_path: Path) -> None:
    """A late batch after shutdown neither raises nor reopens the file."""
    file = OtlpJsonFile(tmp_path / "x.jsonl")
    exporter = OtlpJsonSpanExporter(file)
    exporter.shutdown()
    exporter.export([])
    assert (tmp_path / "x.jsonl").read_text() == ""
