"""Calls ended by the garbage collector, ended on a worker thread instead of in the finalizer.

A finalizer (`__del__`) runs at whatever allocation triggers a collection, on whichever thread
made it, possibly while that thread holds a non-reentrant lock: one of otel-llm's (the
metric limiters', a call's own) or the SDK's (a span processor's, an exporter's). Ending a
call there takes those locks again and the thread waits for itself forever. So a finalizer
only notes when the stream was dropped and puts the ending on a queue whose `put` is safe in
a finalizer (`queue.SimpleQueue`, reentrant by design); a daemon thread ends the calls, with
the span's end time and the durations of the moment it was dropped.

The worker is started from ordinary code (`ready()`, when a stream proxy is made), never from
a finalizer: starting a thread takes `threading`'s own locks. After a fork the child gets a new
queue and starts its own worker when it next makes a stream. `flush()` (the span pipeline's
force_flush and shutdown, and interpreter exit) waits for what was queued before it.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from otel_llm._errors import log_internal_error

FLUSH_TIMEOUT_S = 5.0
"""How long flush() waits for the calls queued before it: exit must not hang on telemetry."""


class Moment(NamedTuple):
    """When a call ended: the span's clock and the durations' clock, read together."""

    wall_ns: int
    perf: float


def now() -> Moment:
    """This moment, on both clocks."""
    return Moment(time.time_ns(), time.perf_counter())


Ending = Callable[[Moment], None]

_queue: queue.SimpleQueue[tuple[Ending, Moment] | threading.Event] = queue.SimpleQueue()
_worker: threading.Thread | None = None
_atexit_registered = False


_running = False
"""The worker runs (a flag: `Thread.is_alive()` costs ~1 µs, paid for every stream)."""


def ready() -> None:
    """Make sure the worker runs; called when a stream proxy is made (ordinary code)."""
    if not _running:
        _start()


def _start() -> None:
    global _worker, _running, _atexit_registered  # noqa: PLW0603 - one worker per process
    with _start_lock:
        if _worker is not None and _worker.is_alive():
            _running = True
            return
        thread = threading.Thread(target=_run, args=(_queue,), name="otel-llm-ender", daemon=True)
        thread.start()
        _worker = thread
        _running = True
        if not _atexit_registered:
            # Registered after the SDK's providers (a stream exists only once calls run), so it
            # runs before their shutdown handlers: what was dropped is exported.
            atexit.register(flush)
            _atexit_registered = True


_start_lock = threading.Lock()


def defer(ending: Ending) -> None:
    """End a call later, on the worker, as of now. Safe inside a finalizer: takes no lock."""
    _queue.put((ending, now()))


def _run(items: queue.SimpleQueue[tuple[Ending, Moment] | threading.Event]) -> None:
    global _running  # noqa: PLW0603
    try:
        while True:
            _handle(items.get())
    finally:
        _running = False  # only in otel-llm's own tests (see _handle): the next stream restarts


def _handle(item: tuple[Ending, Moment] | threading.Event) -> None:
    if isinstance(item, threading.Event):
        item.set()
        return
    ending, moment = item
    try:
        ending(moment)
    except Exception:  # the worker must survive whatever one ending raises
        # (Raised again only in otel-llm's own tests: the worker then stops, the test sees
        # it, and the next stream starts another.)
        log_internal_error("ending a dropped GenAI stream")


def flush(timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
    """End every call queued so far; False if that did not finish within `timeout_s`."""
    worker = _worker
    if worker is None or not worker.is_alive() or threading.current_thread() is worker:
        # No worker here (a forked child that made no stream yet), or a flush from an
        # ending: end them on this thread, which is ordinary code, not a finalizer.
        while True:
            try:
                _handle(_queue.get_nowait())
            except queue.Empty:
                return True
    done = threading.Event()
    _queue.put(done)
    return done.wait(timeout_s)


def _after_fork_in_child() -> None:
    # The parent's worker did not survive the fork, and what its queue held are the parent's
    # calls, which the parent ends. A lock held at the fork would stay held: new ones too.
    global _queue, _worker, _running, _start_lock  # noqa: PLW0603
    _queue = queue.SimpleQueue()
    _worker = None
    _running = False
    _start_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)
