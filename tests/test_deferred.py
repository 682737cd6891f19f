"""Dropped streams' calls end on a worker thread, never inside the finalizer that dropped them."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from otel_llm import _cardinality, _deferred
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

FINISHES_WITHIN_S = 60.0
"""A bound no healthy run comes near; a deadlocked one never finishes (the thread is a daemon)."""


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """OpenAI instrumented against in-memory providers, uninstrumented afterwards."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()


def _drop_stream_holding(lock: AbstractContextManager[Any], times: list[int]) -> None:
    """Read one chunk of a real OpenAI stream, then drop it while this thread holds `lock`."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    stream: Any = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    next(iter(stream))
    with lock:
        times.append(time.time_ns())
        del stream  # the proxy's finalizer runs here, inside the locked section
        gc.collect()
        times.append(time.time_ns())


def _locks(captured: Captured) -> dict[str, AbstractContextManager[Any]]:
    """Non-reentrant locks that ending the call takes: the SDK exporter's, and otel-llm's.

    otel-llm's: the duration histogram's limiter, admitting the call's model (its first value).
    """
    histogram: Any = captured.telemetry.instruments.inference_duration
    limiter = histogram._cap.__self__
    assert isinstance(limiter, _cardinality.Limiter)
    exporter_lock: AbstractContextManager[Any] = captured.spans._lock
    return {"exporter": exporter_lock, "limiter": limiter._lock}


@pytest.mark.parametrize("held", ["exporter", "limiter"])
def test_a_stream_dropped_inside_a_locked_section_does_not_deadlock(
    instrumented: Captured, held: str
) -> None:
    """Dropped while its thread holds a lock the ending takes: the thread goes on, the span ends.

    The span's end time is when the stream was dropped, not when the worker ended it.
    """
    times: list[int] = []
    lock = _locks(instrumented)[held]
    thread = threading.Thread(target=_drop_stream_holding, args=(lock, times), daemon=True)
    thread.start()
    thread.join(FINISHES_WITHIN_S)
    assert not thread.is_alive(), "deadlocked: the finalizer ended the call on its own thread"
    (span,) = instrumented.finished_spans()
    dropped, left = times
    assert dropped <= span.end_time <= left
    (request,) = instrumented.metric_points("otel_llm.client.requests")
    assert request.attributes["otel_llm.request.outcome"] == "cancelled"
    (duration,) = instrumented.metric_points("gen_ai.client.inference.duration")
    assert duration.count == 1


def test_flush_waits_for_what_was_queued_before_it() -> None:
    """An ending queued before flush() has run when flush() returns, with the queued moment."""
    _deferred.ready()
    seen: list[_deferred.Moment] = []
    release = threading.Event()

    def busy(at: _deferred.Moment) -> None:
        release.wait(FINISHES_WITHIN_S)

    _deferred.defer(busy)  # the worker is busy with this one when the next is queued
    queued_after = time.time_ns()
    _deferred.defer(seen.append)
    release.set()
    assert _deferred.flush(FINISHES_WITHIN_S)
    (moment,) = seen
    assert moment.wall_ns >= queued_after


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_ends_the_calls_dropped_in_it() -> None:
    """After a fork the child starts its own worker, which runs the endings queued there."""
    _deferred.ready()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: only os._exit leaves it, so pytest never runs on in it
        code = 1
        try:
            ran = threading.Event()
            _deferred.ready()
            _deferred.defer(lambda at: ran.set())
            code = 0 if ran.wait(FINISHES_WITHIN_S) else 2
        finally:
            os.write(write_end, bytes([code]))
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.read(read_end, 1) == b"\x00"
    os.close(read_end)
    assert os.waitstatus_to_exitcode(status) == 0
