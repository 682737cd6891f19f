"""Fail closed: telemetry reaches only SDK processors with otel-llm's redaction in front.

Whoever set up the OpenTelemetry SDK (otel-llm's configurator, opentelemetry-distro's, the
application's own code), with redaction on every span and log record processor of the SDK's
TracerProvider and LoggerProvider that otel-llm's telemetry goes to ends up behind otel-llm's
pipeline (`otel_llm.processors.pipeline`): one that is not gets the pipeline put in front of
it ("retrofitted") when otel-llm instruments, whatever the capture mode, so application logs
and other instrumentations' spans are redacted too. While content capture is on this is
checked again on each call (a processor added later is retrofitted before content reaches
it); where a signal cannot be retrofitted (a provider that is not the SDK's, an SDK structure
we do not recognise) its content is not captured. Either is said once, as a WARNING naming the
fix.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from opentelemetry import _logs, trace
from opentelemetry._logs._internal import ProxyLogger
from opentelemetry.sdk import _logs as sdk_logs
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.trace import SpanLimits

from otel_llm.config import (
    CAPTURE_MESSAGE_CONTENT,
    REDACTION_ENABLED,
    ContentCapturingMode,
    Settings,
)
from otel_llm.processors._base import WrappingLogRecordProcessor, WrappingSpanProcessor
from otel_llm.processors._export import export_steps
from otel_llm.processors.pipeline import log_pipeline, span_pipeline
from otel_llm.processors.redaction import RedactionLogRecordProcessor, RedactionSpanProcessor

_logger = logging.getLogger("otel_llm")
_warned: set[str] = set()
"""The warnings given so far: each is said once per process."""

_MODES = {
    (False, False): ContentCapturingMode.NO_CONTENT,
    (True, False): ContentCapturingMode.SPAN_ONLY,
    (False, True): ContentCapturingMode.EVENT_ONLY,
    (True, True): ContentCapturingMode.SPAN_AND_EVENT,
}
_MAX_CHAIN = 32
"""How far down a chain of our wrapping processors redaction is looked for."""

SpanFanout: TypeAlias = (
    sdk_trace.SynchronousMultiSpanProcessor | sdk_trace.ConcurrentMultiSpanProcessor
)
LogFanout: TypeAlias = (
    sdk_logs.SynchronousMultiLogRecordProcessor | sdk_logs.ConcurrentMultiLogRecordProcessor
)
Fanout: TypeAlias = SpanFanout | LogFanout
"""The SDK object that hands each span (log record) to the provider's processors, in turn."""
_NO_OP_TRACERS = (trace.NoOpTracer, getattr(trace, "_DefaultTracer", trace.NoOpTracer))


@dataclass(frozen=True)
class _Found:
    """Where one signal's data goes, as far as otel-llm can tell."""

    fanout: Fanout | None = None
    """The SDK fan-out; None: nothing is exported (no-op), or see `obstacle`."""
    pending: bool = False
    """A proxy with no provider behind it yet: nothing is exported now; look again next call."""
    obstacle: str | None = None
    """Why otel-llm cannot put its redaction in front of the exporters (content must stay off)."""


def _span_route(tracer: object) -> _Found:
    if isinstance(tracer, trace.ProxyTracer):
        resolved = tracer._tracer  # the proxy's delegate, once a global provider is set
        if resolved is tracer._noop_tracer:
            return _Found(pending=True)
        tracer = resolved
    if type(tracer) in _NO_OP_TRACERS:  # exactly: a subclass may well export
        return _Found()  # records nothing, so exports nothing
    if not isinstance(tracer, sdk_trace.Tracer):
        return _Found(obstacle=f"the tracer {_name(tracer)} is not the OpenTelemetry SDK's")
    fanout: object = tracer.span_processor  # typed by the SDK, but set by whoever built it
    if isinstance(fanout, SpanFanout) and isinstance(fanout._span_processors, tuple):
        return _Found(fanout)
    return _Found(obstacle=f"the SDK tracer's processor {_name(fanout)} is of an unknown kind")


def _log_route(logger: object) -> _Found:
    if isinstance(logger, ProxyLogger):
        resolved = logger._logger  # the proxy's delegate, once a global provider is set
        if resolved is logger._noop_logger:
            return _Found(pending=True)
        logger = resolved
    if type(logger) is _logs.NoOpLogger:
        return _Found()
    if not isinstance(logger, sdk_logs.Logger):
        return _Found(obstacle=f"the logger {_name(logger)} is not the OpenTelemetry SDK's")
    fanout: object = getattr(logger, "_multi_log_record_processor", None)
    if isinstance(fanout, LogFanout) and isinstance(fanout._log_record_processors, tuple):
        return _Found(fanout)
    return _Found(obstacle=f"the SDK logger's processor {_name(fanout)} is of an unknown kind")


def _name(value: object) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class _Signal:
    """How to find, recognise and wrap the SDK processors one signal (spans or events) goes to."""

    name: str
    processors: str
    """The fan-out's attribute holding its processors (a tuple the SDK replaces on each add)."""
    route: Callable[[object], _Found]
    wrapping: type[WrappingSpanProcessor] | type[WrappingLogRecordProcessor]
    redaction: type
    pipeline: Callable[[Settings], Callable[[Any], Any]]

    def guarded(self, processor: object) -> bool:
        """Whether our redaction runs before `processor`'s exporter sees anything.

        It does when `processor` is our redaction, or an SDK batch processor running it at
        export (otel_llm.processors._export), or leads to either through our wrapping
        processors (the derived metrics run inline in front of such a batch processor).
        """
        for _ in range(_MAX_CHAIN):
            steps = export_steps(processor)
            if steps is not None:
                return any(isinstance(step, self.redaction) for step in steps)
            if isinstance(processor, self.redaction):
                return True
            if not isinstance(processor, self.wrapping):
                return False
            processor = processor.next
        return False

    def retrofit(self, fanout: Fanout, settings: Settings) -> tuple[object, int]:
        """Put the pipeline in front of each processor not behind it: (new tuple, how many).

        The SDK adds a processor by replacing the tuple under the fan-out's lock, so the swap
        is made under that lock too, and only if nothing was added while pipelines were built.
        """
        while True:
            current = getattr(fanout, self.processors)
            todo = [p for p in current if not self.guarded(p)]
            if not todo:
                return current, 0
            wrap = self.pipeline(settings)  # price data and redaction config, loaded once
            wrapped = {id(p): wrap(p) for p in todo}
            with fanout._lock:
                if getattr(fanout, self.processors) is current:
                    replaced = tuple(wrapped.get(id(p), p) for p in current)
                    setattr(fanout, self.processors, replaced)
                    return replaced, len(todo)


_SPANS = _Signal(
    name="spans",
    processors="_span_processors",
    route=_span_route,
    wrapping=WrappingSpanProcessor,
    redaction=RedactionSpanProcessor,
    pipeline=span_pipeline,
)
_EVENTS = _Signal(
    name="events",
    processors="_log_record_processors",
    route=_log_route,
    wrapping=WrappingLogRecordProcessor,
    redaction=RedactionLogRecordProcessor,
    pipeline=log_pipeline,
)


@dataclass(frozen=True)
class _Checked:
    """One signal after a check."""

    safe: bool = True
    fanout: Fanout | None = None
    seen: object = None
    """The processor tuple checked (and retrofitted): unchanged means nothing to do."""
    wrapped: int = 0
    pending: bool = False
    obstacle: str | None = None


def _checked(signal: _Signal, source: object, settings: Settings) -> _Checked:
    """Find where `signal` goes from `source` (a tracer or logger) and retrofit what needs it."""
    found = signal.route(source)
    if found.fanout is None:
        return _Checked(safe=found.obstacle is None, pending=found.pending, obstacle=found.obstacle)
    try:
        seen, wrapped = signal.retrofit(found.fanout, settings)
    except Exception as exc:  # e.g. a bad file in Settings given in code: content stays off
        return _Checked(safe=False, obstacle=f"its processor pipeline failed to build: {exc}")
    return _Checked(fanout=found.fanout, seen=seen, wrapped=wrapped)


def _warn_retrofitted(spans: int, logs: int) -> None:
    if spans or logs:
        warn_once(
            "retrofit",
            "otel-llm: the OpenTelemetry SDK was set up without otel-llm's redaction (by "
            "another configurator, such as opentelemetry-distro's, or by code), so otel-llm "
            "put its processor pipeline (redaction, cost) in front of %d span and %d log "
            "record processor(s) before any telemetry reaches them. Fix: run "
            "opentelemetry-instrument with OTEL_PYTHON_CONFIGURATOR=otel_llm, or wrap each "
            "exporter's processor with otel_llm.processors.pipeline.build_span_pipeline / "
            "build_log_pipeline.",
            spans,
            logs,
        )


_retrofit_lock = threading.Lock()
"""Held while processor tuples are checked and swapped, by every Telemetry's check."""


def retrofit(tracer: trace.Tracer, logger: _logs.Logger, settings: Settings) -> bool:
    """Put the pipeline in front of every SDK processor `tracer` and `logger` reach, once.

    For content capture off: nothing otel-llm records is content then, but application logs,
    exception messages and other instrumentations' spans go to the same processors. Not
    checked again later (that is ContentGuard's per-call work, needed only for content).
    True when either is a proxy with no provider behind it yet: whoever sets one later
    brings its own exporters (openlit.init() does), which must be retrofitted when it comes.
    """
    with _retrofit_lock:
        spans = _checked(_SPANS, tracer, settings)
        events = _checked(_EVENTS, logger, settings)
    _warn_retrofitted(spans.wrapped, events.wrapped)
    return spans.pending or events.pending


def attribute_length_limit(tracer: trace.Tracer, logger: _logs.Logger) -> int | None:
    """The smallest attribute value length limit (characters) the SDK applies to our telemetry.

    The SDK cuts a longer string when it is set on a span, event or log record, before any
    processor sees it: SpanLimits' `max_span_attribute_length` (span attributes) and
    `max_attribute_length` (event attributes), LogRecordLimits' `max_log_record_attribute_length`,
    from code or from OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT and its span and log-record variants.
    A proxy with no provider yet is assumed to get one with the limits the environment sets.
    None: no limit.
    """
    limits: list[int | None] = []
    span_route = _span_route(tracer)
    if span_route.fanout is not None or span_route.pending:
        sdk_tracer = _resolved(tracer)
        span_limits = getattr(sdk_tracer, "_span_limits", None)
        if not isinstance(span_limits, SpanLimits):
            span_limits = SpanLimits()  # what a provider set up later from the environment gets
        limits += [span_limits.max_span_attribute_length, span_limits.max_attribute_length]
    log_route = _log_route(logger)
    if log_route.fanout is not None or log_route.pending:
        log_limits = getattr(_resolved(logger), "_log_record_limits", None)
        if not isinstance(log_limits, sdk_logs.LogRecordLimits):
            log_limits = sdk_logs.LogRecordLimits()
        limits.append(log_limits.max_log_record_attribute_length)
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def _resolved(source: object) -> object:
    """A proxy tracer's or logger's delegate (itself when it is not a proxy)."""
    if isinstance(source, trace.ProxyTracer):
        return source._tracer
    if isinstance(source, ProxyLogger):
        return source._logger
    return source


class ContentGuard:
    """The capture mode in force for one Telemetry: the configured one, where it is safe.

    Built only while content capture is on and redaction enabled (turning redaction off is the
    user's explicit acceptance of raw content). Both signals are retrofitted whatever the mode
    asks for. `mode()` runs on each call that may capture content; while the processor tuples
    are the ones last checked it is two identity checks.
    """

    def __init__(self, tracer: trace.Tracer, logger: _logs.Logger, settings: Settings) -> None:
        """Check the providers behind `tracer` and `logger` now (retrofitting what needs it)."""
        self._sources: dict[_Signal, object] = {_SPANS: tracer, _EVENTS: logger}
        self._settings = settings
        self._requested = settings.capture_message_content
        self._lock = threading.Lock()
        self._mode = ContentCapturingMode.NO_CONTENT
        self._span_fanout: Any = None  # Any: the hot path reads the SDK's private tuple
        self._span_seen: object = None
        self._log_fanout: Any = None
        self._log_seen: object = None
        self._waiting_tracer: Any = None
        """A proxy tracer with no provider behind it yet (so nothing is exported for now)."""
        self._waiting_logger: Any = None
        self._waiting = False
        self._check()

    def mode(self) -> ContentCapturingMode:
        """The capture mode to use now; re-checks (and retrofits) when a processor was added."""
        spans = self._span_fanout
        logs = self._log_fanout
        if (
            (spans is not None and spans._span_processors is not self._span_seen)
            or (logs is not None and logs._log_record_processors is not self._log_seen)
            or (self._waiting and self._provider_arrived())
        ):
            return self._check()
        return self._mode

    def _provider_arrived(self) -> bool:
        """Whether a proxy that had no provider behind it has one now."""
        tracer, logger = self._waiting_tracer, self._waiting_logger
        return (tracer is not None and tracer._tracer is not tracer._noop_tracer) or (
            logger is not None and logger._logger is not logger._noop_logger
        )

    def _check(self) -> ContentCapturingMode:
        requested = self._requested
        with self._lock, _retrofit_lock:
            # Both signals: a log processor carries application logs and exception messages
            # even when content goes on spans only.
            spans = _checked(_SPANS, self._sources[_SPANS], self._settings)
            events = _checked(_EVENTS, self._sources[_EVENTS], self._settings)
            mode = _MODES[requested.on_spans and spans.safe, requested.on_events and events.safe]
            # The mode first: a reader that still sees the old tuples checks again anyway.
            self._mode = mode
            self._span_fanout, self._span_seen = spans.fanout, spans.seen
            self._log_fanout, self._log_seen = events.fanout, events.seen
            self._waiting_tracer = self._sources[_SPANS] if spans.pending else None
            self._waiting_logger = self._sources[_EVENTS] if events.pending else None
            self._waiting = spans.pending or events.pending
        _warn_retrofitted(spans.wrapped, events.wrapped)
        blocked = [
            (signal.name, checked.obstacle)
            for signal, checked, wanted in (
                (_SPANS, spans, requested.on_spans),
                (_EVENTS, events, requested.on_events),
            )
            if wanted and checked.obstacle is not None
        ]
        if blocked:
            warn_once(
                "content-off",
                "otel-llm: message content is NOT captured on %s although %s=%s, because otel-llm "
                "cannot put its redaction in front of what exports them: %s. Fix: give otel-llm "
                "the OpenTelemetry SDK's TracerProvider and LoggerProvider (it wraps their "
                "processors), or set %s=false to accept raw content.",
                " and ".join(name for name, _ in blocked),
                CAPTURE_MESSAGE_CONTENT.name,
                requested.value,
                "; ".join(str(obstacle) for _, obstacle in blocked),
                REDACTION_ENABLED.name,
            )
        return mode


def warn_once(kind: str, message: str, *args: object) -> None:
    """Log `message` as a WARNING of otel-llm's, unless a warning of `kind` was given before."""
    if kind not in _warned:
        _warned.add(kind)
        _logger.warning(message, *args)
