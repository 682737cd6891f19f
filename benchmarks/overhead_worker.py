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
import contextlib
import gc
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import openai
import wrapt
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
        self,
        span_processor: Callable[[SpanProcessor], SpanProcessor] | None = None,
        views: Sequence[Any] = (),
    ) -> None:
        wrap_spans = span_processor or (lambda p: p)
        self.spans = CountingSpanExporter()
        self.logs = CountingLogExporter()
        self.reader = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.span_processor = wrap_spans(BatchSpanProcessor(self.spans))
        self.tracer_provider.add_span_processor(self.span_processor)
        self.meter_provider = MeterProvider(metric_readers=[self.reader], views=views)
        self.logger_provider = LoggerProvider()
        trace.set_tracer_provider(self.tracer_provider)
        metrics.set_meter_provider(self.meter_provider)
        _logs.set_logger_provider(self.logger_provider)

    def flush(self) -> None:
        """Export what spans and log records are queued, and collect the metrics."""
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()
        self.reader.collect()

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
    # As configure() builds the MeterProvider: with otel-llm's View of its per-chunk histogram.
    views = otel_llm.metric_views() if hasattr(otel_llm, "metric_views") else ()
    providers = Providers(pipeline.build_span_pipeline, views)
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


Timing = dict[str, float]


def time_per_call(
    call: Callable[[openai.OpenAI], None],
    client: openai.OpenAI,
    calls: int,
    blocks: int,
    flush: Callable[[], object],
) -> Timing:
    """The instrumentation's cost per call, against the same calls with it taken out.

    Blocks of instrumented calls alternate with blocks of the same calls made with every
    wrapper the instrumentation put on openai's classes taken off (`_unwrapped`; `_check`
    verifies that no span comes out of them), in one process, so a machine shared with other
    jobs slows both alike. Measured: each call's wall time and the calling thread's CPU time,
    and each block's CPU time of the whole process (every thread) including the `flush` that
    ends it (spans and log records exported, metrics collected), so work moved off the calling
    thread is paid for in its block. An overhead is the median of the instrumented calls
    (blocks) minus the median of the uninstrumented ones, whose medians are reported too.
    """
    per_block = max(1, calls // blocks)
    call(client)  # an instrumentation may wrap a module only once the call imports it
    wrappers = _wrappers()
    samples: dict[tuple[bool, str], list[float]] = {}
    for block in range(blocks + 1):
        # Alternate which goes first, so neither always follows the other's flush.
        for bare in (False, True) if block % 2 else (True, False):
            with _unwrapped(wrappers) if bare else contextlib.nullcontext():
                flush()  # nothing of the previous block left to export
                gc.collect()
                process_start = time.process_time()
                wall, thread = _timed_block(call, client, per_block)
                flush()
                process = (time.process_time() - process_start) / per_block
            if block:  # the first block warms caches, the allocator and lazy imports
                samples.setdefault((bare, "us"), []).extend(wall)
                samples.setdefault((bare, "thread_us"), []).extend(thread)
                samples.setdefault((bare, "cpu_us"), []).append(process)
    result: Timing = {}
    for name in ("us", "thread_us", "cpu_us"):
        on = statistics.median(samples[False, name]) * 1e6
        off = statistics.median(samples[True, name]) * 1e6
        result[name] = on - off
        result[f"bare_{name}"] = off
    return result


def _timed_block(
    call: Callable[[openai.OpenAI], None], client: openai.OpenAI, calls: int
) -> tuple[list[float], list[float]]:
    """Each call's wall and calling-thread CPU seconds."""
    wall: list[float] = []
    thread: list[float] = []
    clock, cpu = time.perf_counter, time.thread_time
    for _ in range(calls):
        start, start_cpu = clock(), cpu()
        call(client)
        end_cpu, end = cpu(), clock()
        wall.append(end - start)
        thread.append(end_cpu - start_cpu)
    return wall, thread


Wrappers = list[tuple[Any, str, Any]]


def _wrappers() -> Wrappers:
    """Every wrapt wrapper on openai's modules and classes: (owner, name, wrapper).

    Every peer (otel-llm too) patches openai with wrapt.
    """
    found = []
    for name, module in list(sys.modules.items()):
        if name != "openai" and not name.startswith("openai."):
            continue
        owners = [module, *(v for v in vars(module).values() if isinstance(v, type))]
        for owner in owners:
            for attribute, value in list(vars(owner).items()):
                if isinstance(value, wrapt.FunctionWrapper):
                    found.append((owner, attribute, value))
    return found


@contextlib.contextmanager
def _unwrapped(wrappers: Wrappers) -> Iterator[None]:
    """The client as before any instrumentation: each wrapper replaced by what it wraps."""
    for owner, attribute, wrapper in wrappers:
        setattr(owner, attribute, wrapper.__wrapped__)
    try:
        yield
    finally:
        for owner, attribute, wrapper in wrappers:
            setattr(owner, attribute, wrapper)


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
        # Behind a batch processor otel-llm's run at export, in front of its exporter.
        exporter = getattr(getattr(processor, "_batch_processor", None), "_exporter", None)
        chain += [f"{type(step).__name__} (at export)" for step in getattr(exporter, "steps", ())]
        processor = getattr(processor, "next", None)
    return {
        "span_processors": chain,
        "spans_per_call": providers.spans.count / calls,
        "log_records_per_call": providers.logs.count / calls,
        "metrics": sorted(names),
        "metric_points": points,
        "span_name": first.name if first else None,
        "span_attributes": len(first.attributes or {}) if first else 0,
        "otel_llm_file": getattr(sys.modules.get("otel_llm"), "__file__", None),
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
    flush = providers.flush
    client = make_client(bodies["call"], "application/json")
    timing = time_per_call(_call, client, args.calls, blocks, flush)
    result.update({f"call_{name}": value for name, value in timing.items()})
    made += max(1, args.calls // blocks) * (blocks + 1) + 1  # the warm-up call too
    for chunks, body in bodies["streams"].items():
        client = make_client(body, "text/event-stream; charset=utf-8")
        timing = time_per_call(_stream_call, client, args.stream_calls, blocks, flush)
        result.update({f"stream{chunks}_{name}": value for name, value in timing.items()})
        made += max(1, args.stream_calls // blocks) * (blocks + 1) + 1
    result["check"] = _check(providers, made)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
