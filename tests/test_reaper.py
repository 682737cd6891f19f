"""Dropped streams' calls: ended on a worker thread, never inside the dropping finalizer."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from otel_llm import _reaper
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
    """Read a real OpenAI stream up to its usage chunk, then drop it while holding `lock`."""
    client = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
    stream: Any = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = iter(stream)
    for _ in fakes.chat_chunks():
        next(chunks)  # every chunk, usage included, but not the end: the call is still open
    with lock:
        times.append(time.time_ns())
        del stream, chunks  # the proxy's finalizer runs here, inside the locked section
        gc.collect()
        times.append(time.time_ns())


def test_a_stream_dropped_inside_a_locked_section_does_not_deadlock(
    instrumented: Captured,
) -> None:
    """Dropped while its thread holds a lock the ending takes: the thread goes on, the span ends.

    The lock is the SDK span exporter's (non-reentrant), which ending the span takes. The
    span's end time is when the stream was dropped, not when the worker ended it.
    """
    times: list[int] = []
    lock: AbstractContextManager[Any] = instrumented.spans._lock
    thread = threading.Thread(target=_drop_stream_holding, args=(lock, times), daemon=True)
    thread.start()
    thread.join(FINISHES_WITHIN_S)
    assert not thread.is_alive(), "deadlocked: the finalizer ended the call on its own thread"
    (span,) = instrumented.finished_spans()
    dropped, left = times
    assert dropped <= span.end_time <= left
    (request,) = instrumented.metric_points("otel_llm.client.requests")
    assert request.attributes["otel_llm.request.outcome"] == "cancelled"
    assert span.attributes["gen_ai.usage.output_tokens"] > 0  # read before the drop: priced
    (duration,) = instrumented.metric_points("gen_ai.client.inference.duration")
    assert duration.count == 1


def test_flush_waits_for_what_was_queued_before_it() -> None:
    """An ending queued before flush() has run when flush() returns, with the queued moment."""
    _reaper.ready()
    seen: list[_reaper.Moment] = []
    release = threading.Event()

    def busy(at: _reaper.Moment) -> None:
        release.wait(FINISHES_WITHIN_S)

    _reaper.defer(busy)  # the worker is busy with this one when the next is queued
    queued_after = time.time_ns()
    _reaper.defer(seen.append)
    release.set()
    assert _reaper.flush(FINISHES_WITHIN_S)
    (moment,) = seen
    assert moment.wall_ns >= queued_after


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_ends_the_calls_dropped_in_it() -> None:
    """After a fork the child starts its own worker, which runs the endings queued there."""
    _reaper.ready()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: only os._exit leaves it, so pytest never runs on in it
        code = 1
        try:
            ran = threading.Event()
            _reaper.ready()
            _reaper.defer(lambda at: ran.set())
            code = 0 if ran.wait(FINISHES_WITHIN_S) else 2
        finally:
            os.write(write_end, bytes([code]))
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.read(read_end, 1) == b"\x00"
    os.close(read_end)
    assert os.waitstatus_to_exitcode(status) == 0
