"""One overhead measurement in one virtualenv: an openai client over a mock transport, timed.

Run by `benchmarks.overhead` with a peer virtualenv's interpreter; it imports only what every
such virtualenv has (openai, its HTTP library, the OpenTelemetry SDK) plus the peer's own
package, and prints one JSON object. The response bodies it serves come on stdin as JSON
(built by `benchmarks.overhead.bodies` from otel_llm.payloads, which a peer's virtualenv does
not have), so every peer answers the same recorded-shape completion and streams.

Every peer gets the same SDK setup: a TracerProvider with a BatchSpanProcessor, a MeterProvider
with an InMemoryMetricReader and a LoggerProvider with a BatchLogRecordProcessor, all exporting
to counting no-op exporters; otel-llm's span and log processors wrap its BatchSpanProcessor
exactly as its distro does.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import openai
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

MODEL = "gpt-4o-mini"
SYSTEM = "You are a support assistant for an online shop. Answer briefly and politely."
QUESTION = (
    "Hi, I ordered a pair of running shoes last Tuesday (order 48151623) and the tracking page "
    "still says 'label created'. Can you tell me when it will arrive, and whether I can change "
    "the delivery address to my office?"
)
MESSAGES: Any = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
REPLY = (
    "Thanks for waiting! Your order left our warehouse this morning and should arrive within "
    "two working days. You can change the delivery address from the tracking page until the "
    "parcel is out for delivery."
)


class CountingSpanExporter(SpanExporter):
    """Keeps a count and the first span, so memory stays flat however many calls run."""

    def __init__(self) -> None:
        self.count = 0
        self.first: ReadableSpan | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Count the batch."""
        if self.first is None and spans:
            self.first = spans[0]
        self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


class CountingLogExporter(LogRecordExporter):
    """Counts log records (GenAI events)."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Count the batch."""
        self.count += len(batch)
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True

    def shutdown(self) -> None:
        """Nothing to release."""


def _http() -> ModuleType:
    # openai 3.x talks through httpx2, 2.x through httpx (the smoke test runs the 3.x line).
    return importlib.import_module("httpx2" if openai.__version__.startswith("3.") else "httpx")


def make_client(body: str, content_type: str) -> openai.OpenAI:
    """A real OpenAI client whose requests all get the same canned body (no network)."""
    http = _http()
    content, headers = body.encode(), {"content-type": content_type}

    def handler(request: object) -> object:
        return http.Response(200, headers=headers, content=content)

    return openai.OpenAI(
        api_key="sk-benchmark",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(handler)),
    )


# --- the peers ---------------------------------------------------------------------------


class Providers:
    """The one SDK setup every peer gets (set as the global providers too)."""

    def __init__(
        self, span_processor: Callable[[SpanProcessor], SpanProcessor] | None = None
    ) -> None:
        wrap_spans = span_processor or (lambda p: p)
        self.spans = CountingSpanExporter()
        self.logs = CountingLogExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.span_processor = wrap_spans(BatchSpanProcessor(self.spans))
        self.tracer_provider.add_span_processor(self.span_processor)
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.logger_provider = LoggerProvider()
        trace.set_tracer_provider(self.tracer_provider)
        metrics.set_meter_provider(self.meter_provider)
        _logs.set_logger_provider(self.logger_provider)

    def add_log_processor(self, processor: LogRecordProcessor) -> None:
        """Install the (possibly wrapped) log processor."""
        self.logger_provider.add_log_record_processor(processor)

    def kwargs(self) -> dict[str, Any]:
        """The providers as BaseInstrumentor.instrument() takes them."""
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
        }


def _bare(capture: bool) -> Providers:
    del capture
    providers = Providers()
    providers.add_log_processor(BatchLogRecordProcessor(providers.logs))
    return providers


def _otel_llm(capture: bool) -> Providers:
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = (
        "SPAN_ONLY" if capture else "NO_CONTENT"
    )
    pipeline = importlib.import_module("otel_llm.processors.pipeline")
    otel_llm = importlib.import_module("otel_llm")
    providers = Providers(pipeline.build_span_pipeline)
    providers.add_log_processor(
        pipeline.build_log_pipeline(BatchLogRecordProcessor(providers.logs))
    )
    otel_llm.instrument(**providers.kwargs())
    return providers


def _otel_llm_core(capture: bool) -> Providers:
    # Spans, metrics and content as the peers record them: without redaction and pricing.
    os.environ["OTEL_LLM_REDACTION_ENABLED"] = "false"
    os.environ["OTEL_LLM_COST_ENABLED"] = "false"
    return _otel_llm(capture)


def _genai_openai(capture: bool) -> Providers:
    if capture:
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "span_only"
    providers = _bare(capture)
    module = importlib.import_module("opentelemetry.instrumentation.genai.openai")
    module.OpenAIInstrumentor().instrument(**providers.kwargs())
    return providers


def _openai_v2(capture: bool) -> Providers:
    # Its default conventions (v1.30): content, when captured, goes to log events.
    if capture:
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
    providers = _bare(capture)
    module = importlib.import_module("opentelemetry.instrumentation.openai_v2")
    module.OpenAIInstrumentor().instrument(**providers.kwargs())
    return providers


def _openllmetry(capture: bool) -> Providers:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true" if capture else "false"
    providers = _bare(capture)
    module = importlib.import_module("opentelemetry.instrumentation.openai")
    module.OpenAIInstrumentor().instrument(**providers.kwargs())
    return providers


def _openlit(capture: bool) -> Providers:
    providers = _bare(capture)  # global providers first: openlit.init() reuses them
    openlit = importlib.import_module("openlit")
    names = importlib.import_module("openlit._instrumentors").MODULE_NAME_MAP
    # A local price list: by default init() downloads one, and there is no network here.
    prices = {"chat": {m: {"promptPrice": 0.00015, "completionPrice": 0.0006} for m in (MODEL,)}}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(prices, file)
    openlit.init(
        capture_message_content=capture,
        # Only its openai instrumentation, like every other peer (it would also trace httpx).
        disabled_instrumentors=[name for name in names if name != "openai"],
        pricing_json=file.name,
    )
    return providers


def _openinference(capture: bool) -> Providers:
    os.environ["OPENINFERENCE_HIDE_INPUTS"] = "false" if capture else "true"
    os.environ["OPENINFERENCE_HIDE_OUTPUTS"] = "false" if capture else "true"
    providers = _bare(capture)
    module = importlib.import_module("openinference.instrumentation.openai")
    module.OpenAIInstrumentor().instrument(tracer_provider=providers.tracer_provider)
    return providers


SETUPS: dict[str, Callable[[bool], Providers]] = {
    "bare": _bare,
    "otel-llm": _otel_llm,
    "otel-llm-core": _otel_llm_core,
    "genai-openai": _genai_openai,
    "openai-v2": _openai_v2,
    "openllmetry": _openllmetry,
    "openlit": _openlit,
    "openinference": _openinference,
}


# --- timing ------------------------------------------------------------------------------


def _call(client: openai.OpenAI) -> None:
    client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0.2)


def _stream_call(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        temperature=0.2,
        stream=True,
        stream_options={"include_usage": True},
    )
    for _ in stream:
        pass


def time_per_call(
    call: Callable[[openai.OpenAI], None], client: openai.OpenAI, calls: int, blocks: int
) -> tuple[float, float]:
    """Fastest and median over `blocks` of the mean seconds per call (after a warm-up block).

    On a shared machine the fastest block is the one least disturbed by other processes, so
    it is the steadier estimate of what the code itself costs; the median is reported too.
    """
    per_block = max(1, calls // blocks)
    results: list[float] = []
    for block in range(blocks + 1):
        start = time.perf_counter()
        for _ in range(per_block):
            call(client)
        if block:  # the first block warms caches, the allocator and lazy imports
            results.append((time.perf_counter() - start) / per_block)
    return min(results), statistics.median(results)


def _check(providers: Providers, calls: int) -> dict[str, Any]:
    providers.tracer_provider.force_flush()
    providers.logger_provider.force_flush()
    data = providers.reader.get_metrics_data()
    points = 0
    names = set()
    for resource_metrics in data.resource_metrics if data else ():
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                names.add(metric.name)
                points += len(list(metric.data.data_points))
    first = providers.spans.first
    chain: list[str] = []
    processor: Any = providers.span_processor
    while processor is not None:  # otel-llm's processors each wrap the next one
        chain.append(type(processor).__name__)
        processor = getattr(processor, "next", None)
    return {
        "span_processors": chain,
        "spans_per_call": providers.spans.count / calls,
        "log_records_per_call": providers.logs.count / calls,
        "metrics": sorted(names),
        "metric_points": points,
        "span_name": first.name if first else None,
        "span_attributes": len(first.attributes or {}) if first else 0,
    }


def _rss() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) * 1024


def _startup(peer: str) -> dict[str, float]:
    """Seconds and RSS bytes the peer's import and set-up add to an app that imported openai."""
    # The app's own imports: its first call loads every openai resource module anyway.
    importlib.import_module("openai.resources")
    rss, start = _rss(), time.perf_counter()
    SETUPS[peer](False)
    return {"setup_s": time.perf_counter() - start, "setup_rss": _rss() - rss}


def main(argv: Sequence[str] | None = None) -> None:
    """Set the peer up, time each mode, check its telemetry and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=sorted(SETUPS), required=True)
    parser.add_argument("--capture", action="store_true", help="capture message content")
    parser.add_argument("--calls", type=int, default=300, help="non-streaming calls")
    parser.add_argument("--stream-calls", type=int, default=60, help="calls per stream size")
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--startup", action="store_true", help="time the set-up only")
    args = parser.parse_args(argv)

    if args.startup:
        json.dump(_startup(args.peer), sys.stdout)
        print()
        return
    bodies = json.load(sys.stdin)  # {"call": body, "streams": {chunks: body}}
    providers = SETUPS[args.peer](args.capture)
    gc.collect()
    result: dict[str, Any] = {"peer": args.peer, "capture": args.capture}
    made = 0
    blocks = args.blocks
    client = make_client(bodies["call"], "application/json")
    fastest, median = time_per_call(_call, client, args.calls, blocks)
    result["call_us"], result["call_median_us"] = fastest * 1e6, median * 1e6
    made += max(1, args.calls // blocks) * (blocks + 1)
    for chunks, body in bodies["streams"].items():
        client = make_client(body, "text/event-stream; charset=utf-8")
        fastest, median = time_per_call(_stream_call, client, args.stream_calls, blocks)
        result[f"stream{chunks}_us"] = fastest * 1e6
        result[f"stream{chunks}_median_us"] = median * 1e6
        made += max(1, args.stream_calls // blocks) * (blocks + 1)
    result["check"] = _check(providers, made)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
