"""What the fuzz tests share: settings, raw mock responses, outcome capture, span counts."""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from opentelemetry.context import Context
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.payloads import sse as framing
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

FUZZ = settings(
    max_examples=40,
    deadline=None,  # wall-clock limits would make CI flaky; the example count bounds the time
    derandomize=True,  # the same examples on every run, so CI is reproducible
    database=None,
    # No shrinking: a failure is reported as found (with where it was raised), which keeps a
    # failing run as bounded as a passing one. Add Phase.shrink locally to minimise an example.
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=[
        # The instrumented fixture is reset by hand at the start of every example.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


class _LateCalls(logging.Handler):
    """Counts the SDK's warnings about ending (or changing) a span that has already ended."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "on an ended span" in record.getMessage():
            self.count += 1


class SpanCounter(SpanProcessor):
    """Counts span starts and ends, to show every span ends, and ends exactly once."""

    def __init__(self) -> None:
        self.started = 0
        self.ended: list[int] = []
        self.late_calls = _LateCalls()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.context.span_id if span.context else 0)

    def reset(self) -> None:
        """Forget what was counted (called at the start of every example)."""
        self.started = 0
        self.ended = []
        self.late_calls.count = 0

    def assert_each_ended_once(self, expected: int) -> None:
        """Exactly `expected` spans started, each ended once, and none was touched after."""
        assert self.started == expected
        assert len(self.ended) == expected
        assert len(set(self.ended)) == expected
        assert self.late_calls.count == 0, "a span was ended twice or changed after its end"


def raw_response(
    body: bytes, *, status: int = 200, content_type: str = "application/json"
) -> Callable[[Any], Any]:
    """A handler answering every request with `body` as is (valid JSON or not)."""

    def handler(request: Any) -> Any:
        return fakes.http.Response(status, headers={"content-type": content_type}, content=body)

    return handler


def json_bytes(body: Any) -> bytes:
    """`body` serialised as a provider would send it."""
    return json.dumps(body).encode()


def sse_bytes(events: Iterable[Any], *, named: bool, tail: bytes) -> bytes:
    """Server-sent events (strings raw, anything else as JSON data), then `tail` as it is.

    With `named`, a JSON object's `type` also goes on an `event:` line, as Anthropic sends it.
    """
    return framing.encode(events, named=named) + tail


@dataclass(frozen=True)
class Outcome:
    """What a caller saw: the returned value(s) as plain data, and the exception, if any."""

    values: tuple[Any, ...]
    error: tuple[type[BaseException], str] | None
    raised_at: str = field(default="", compare=False)
    """Where the exception was raised (for the failure report; not compared)."""


def failure(values: Iterable[Any], exc: BaseException) -> Outcome:
    """The outcome of a call that raised `exc` after producing `values`."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    return Outcome(tuple(values), (type(exc), str(exc)), where)


def dump(value: Any) -> Any:
    """A comparable form of an SDK object (pydantic models as dicts)."""
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(warnings=False)
    return value


def outcome(call: Callable[[], Any]) -> Outcome:
    """Run `call` and capture its result, or the exception it raised."""
    try:
        result = call()
    except Exception as exc:
        return failure((), exc)
    return Outcome((dump(result),), None)


def consume(stream: Any) -> Outcome:
    """Iterate a stream to its end, capturing every item and the exception that ended it."""
    values = []
    try:
        for item in stream:
            values.append(dump(item))
    except Exception as exc:
        return failure(values, exc)
    return Outcome(tuple(values), None)


async def aconsume(stream: Any) -> Outcome:
    """Async counterpart of consume()."""
    values = []
    try:
        async for item in stream:
            values.append(dump(item))
    except Exception as exc:
        return failure(values, exc)
    return Outcome(tuple(values), None)


def stream_outcome(open_stream: Callable[[], Any]) -> tuple[Outcome, Any]:
    """Open a stream and read it to its end: what the caller saw, and the stream (or None)."""
    try:
        stream = open_stream()
    except Exception as exc:
        return failure((), exc), None
    return consume(stream), stream


class Fuzzed:
    """Instrumented providers whose spans and events run through the full default pipeline."""

    def __init__(
        self,
        captured: Captured,
        counter: SpanCounter,
        processed_spans: InMemorySpanExporter,
        processed_logs: InMemoryLogRecordExporter,
    ) -> None:
        self.captured = captured
        self.counter = counter
        self.processed_spans = processed_spans
        self.processed_logs = processed_logs

    def __repr__(self) -> str:
        return "Fuzzed(...)"  # keeps hypothesis' failure reports readable

    def reset(self) -> None:
        """Forget the previous example's telemetry, its deferred metric points replayed first.

        They are replayed here, on the test's thread, rather than by the drainer: a replay may
        draw from `random` (the SDK's exemplar reservoirs), which hypothesis refuses while it
        draws the next example.
        """
        self.captured.telemetry.instruments.deferred.drain()
        self.captured.spans.clear()
        self.captured.logs.clear()
        self.processed_spans.clear()
        self.processed_logs.clear()
        self.counter.reset()


@contextmanager
def fuzzed(instrumentor: Any, mode: ContentCapturingMode) -> Iterator[Fuzzed]:
    """Instrument with `instrumentor` (capturing content per `mode`); uninstrument afterwards.

    Spans also pass through redaction and cost, and events through redaction, so those
    processors see every fuzzed value too; an internal error anywhere surfaces under pytest.
    """
    settings = Settings(capture_message_content=mode)
    captured = make_captured(settings)
    counter = SpanCounter()
    spans = InMemorySpanExporter()
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    tracer_provider = captured.providers["tracer_provider"]
    tracer_provider.add_span_processor(counter)
    tracer_provider.add_span_processor(build_span_pipeline(SimpleSpanProcessor(spans), settings))
    captured.providers["logger_provider"].add_log_record_processor(
        build_log_pipeline(SimpleLogRecordProcessor(logs), settings)
    )
    sdk_logger = logging.getLogger("opentelemetry.sdk.trace")
    sdk_logger.addHandler(counter.late_calls)
    # No drainer for this meter's buffer (see Fuzzed.reset): it counts as started.
    captured.telemetry.instruments.deferred._thread = threading.current_thread()
    instrumentor.instrument(**captured.providers, settings=settings, skip_dep_check=True)
    try:
        yield Fuzzed(captured, counter, spans, logs)
    finally:
        instrumentor.uninstrument()
        set_telemetry(None)
        sdk_logger.removeHandler(counter.late_calls)


def original(owner: Any, method: str) -> Callable[..., Any]:
    """The uninstrumented function behind an instrumented SDK method: the bare client."""
    function: Callable[..., Any] = getattr(owner, method).__wrapped__
    return function
