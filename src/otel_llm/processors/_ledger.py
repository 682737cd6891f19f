"""What every exporter's processor chain knows about recent spans, shared by all of them."""

from __future__ import annotations

import threading
from collections.abc import Hashable

from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["LEDGER", "RecentKeys", "SpanLedger"]


class RecentKeys:
    """A bounded set of recent keys, the oldest forgotten first; safe across threads."""

    def __init__(self, size: int) -> None:
        self._keys: dict[Hashable, None] = {}
        self._size = size
        self._lock = threading.Lock()

    def add(self, key: Hashable) -> bool:
        """Add `key`; False when it was already there."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                del self._keys[next(iter(self._keys))]
            return True

    def __contains__(self, key: Hashable) -> bool:
        """Whether `key` was added and not forgotten yet."""
        return key in self._keys

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._keys)


class SpanLedger:
    """What the chains of all exporters know about recent spans, shared by every chain.

    Spans end in order (a child before its parent) and every chain sees a span within the same
    `on_end` of the SDK's processor fan-out, so a few thousand recent span ids are plenty.
    """

    def __init__(self, size: int = 4096) -> None:
        self.nested = RecentKeys(size)
        """Foreign spans started inside a call another span counts: one of our inference calls,
        or a tool execution (ours or another library's) they are part of."""
        self.covered = RecentKeys(size)
        """(span id, kind) of parents of our spans: a foreign span around an inference call
        ("inference") or a tool execution ("tool") we recorded."""
        self.claimed = RecentKeys(2 * size)
        """(span id, purpose) pairs one chain has handled, so the others skip them."""

    def claim(self, span: ReadableSpan, purpose: str) -> bool:
        """True for the first chain to ask about this span and purpose, False for the rest."""
        context = span.get_span_context()
        if context is None:
            return True
        return self.claimed.add((context.trace_id, context.span_id, purpose))

    def covered_by_ours(self, span: ReadableSpan, kind: str | None) -> bool:
        """Whether a recorded call of ours, or an outer span, already counts this span's call.

        `kind` is what the foreign span is ("inference", "tool"; None: neither): a span around
        our call is the same call only when it is the same kind (an agent's span around our
        inference span is still the agent's).
        """
        context = span.get_span_context()
        key = None if context is None else context.span_id
        return key in self.nested or (kind is not None and (key, kind) in self.covered)


LEDGER = SpanLedger()
