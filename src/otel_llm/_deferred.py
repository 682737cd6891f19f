"""Metric points recorded off the application's thread: a bounded buffer replayed into the SDK.

One SDK histogram record costs about 4 µs, plus 0.8 µs per attribute, 2 µs when it offers an
exemplar and 6 µs per further reader (the SDK copies, cleans and hashes the attributes every
time), and the SDK has no bulk record and no metric producer. A GenAI call makes a dozen such
records, a stream one more per chunk. So a call appends one compact record (a replay function
and its arguments) to its meter's `Deferred` buffer, and the points are made later, with the
same instruments and the same values:

- by otel-llm's own observable callback, which the SDK runs at the start of every collection
  (every reader's, before it reads any aggregation), and by the in-process counters before they
  are observed, so a collection includes every record made before it began;
- by a background drainer that keeps the buffer bounded (it wakes when a batch has built up,
  and at least every second).

A replay runs in a context holding the call's span, so the SDK's exemplar filter attaches the
call's trace and span ids as it would have on the application's thread. Replays are one at a
time: a collection that arrives while the drainer replays waits for it (the drainer never waits
for the SDK's collection lock, so they cannot deadlock). A full buffer drops the record and
counts it in `otel_llm.metric.dropped`. In a forked child the buffer, its locks and its thread
start afresh (the parent reports what it had buffered).
"""

from __future__ import annotations

import collections
import os
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_llm._errors import log_internal_error
from otel_llm.semconv.metrics import otel_llm as om

__all__ = ["CAPACITY", "Deferred", "deferred"]

CAPACITY = 8192
"""Records kept at most; one record is one call's metric points (a stream's gaps included)."""
BATCH = 256
"""Records that wake the drainer before its interval is up."""
INTERVAL = 1.0
"""Seconds the drainer sleeps at most (so idle spans are not kept alive longer than this)."""

Replay = Callable[..., object]
"""Makes one record's metric points; called with the record's arguments (what it returns is
ignored)."""


class Deferred:
    """One meter's buffer of records, replayed into its instruments off the calling thread."""

    __slots__ = (
        "__weakref__",
        "_dropped",
        "_drops",
        "_records",
        "_replaying",
        "_thread",
        "_wake",
        "capacity",
    )

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._records: collections.deque[tuple[Replay, tuple[Any, ...]]] = collections.deque()
        self._replaying = threading.Lock()
        """Held while records are replayed: a collection waits for a replay in progress."""
        self._drops = threading.Lock()
        self._dropped = 0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        if hasattr(os, "register_at_fork"):
            reinit = weakref.WeakMethod(self._after_fork)

            def after_in_child() -> None:
                method = reinit()
                if method is not None:
                    method()

            os.register_at_fork(after_in_child=after_in_child)

    def add(self, replay: Replay, args: tuple[Any, ...]) -> None:
        """Buffer one record (what the application's thread pays: an append, a length check)."""
        records = self._records
        size = len(records)
        if size >= self.capacity:
            with self._drops:
                self._dropped += 1
            self._wake.set()
            return
        records.append((replay, args))
        if self._thread is None:
            self._start()
        elif size >= BATCH and not self._wake.is_set():
            self._wake.set()

    @property
    def dropped(self) -> int:
        """Records dropped so far because the buffer was full."""
        return self._dropped

    def __len__(self) -> int:
        """Records waiting to be replayed."""
        return len(self._records)

    def drain(self) -> None:
        """Replay every record buffered before this call (after any replay in progress)."""
        records = self._records
        with self._replaying:
            # Only as many as were there: under a steady flow a collection must still end.
            for _ in range(len(records)):
                try:
                    replay, args = records.popleft()
                except IndexError:
                    return
                try:
                    replay(*args)
                except Exception:
                    log_internal_error("replaying deferred metric points")

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        """The SDK's collection callback: replay everything, then report the drops (if any)."""
        del options
        self.drain()
        dropped = self._dropped
        return [Observation(dropped)] if dropped else []

    def _start(self) -> None:
        with self._drops:
            if self._thread is not None:
                return
            thread = threading.Thread(
                target=_drain_forever,
                args=(weakref.ref(self), self._wake),
                name="otel-llm-metrics",
                daemon=True,
            )
            self._thread = thread
        thread.start()

    def _after_fork(self) -> None:
        # The child has no drainer thread, and locks may have been held by a parent thread.
        self._records = collections.deque()
        self._replaying = threading.Lock()
        self._drops = threading.Lock()
        self._dropped = 0
        self._wake = threading.Event()
        self._thread = None


def _drain_forever(ref: weakref.ref[Deferred], wake: threading.Event) -> None:
    """The drainer: replay whenever woken or every INTERVAL, until its buffer is gone."""
    while True:
        wake.wait(INTERVAL)
        wake.clear()
        buffer = ref()
        if buffer is None or buffer._wake is not wake:  # collected, or reset after a fork
            return
        try:
            buffer.drain()
        except Exception:  # a replay's error, raised again only under otel-llm's own tests
            log_internal_error("the metrics drainer")
        del buffer  # hold no reference while asleep, so the buffer can be collected


_registry: weakref.WeakKeyDictionary[Meter, Deferred] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def deferred(meter: Meter) -> Deferred:
    """The Deferred buffer of `meter`, its collection callback registered with the SDK once.

    The SDK keeps an observable instrument (and its callback) for the meter's life, so
    instrumenting again on the same meter must reuse the buffer, not make another.
    """
    with _registry_lock:
        found = _registry.get(meter)
        if found is None:
            found = _registry[meter] = Deferred()
            om.observe_otel_llm_metric_dropped(meter, [found.observe])
        return found
