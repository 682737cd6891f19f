"""The ledger every exporter's chain shares: bounded memory, one claim per span and purpose."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext, TraceFlags

from otel_llm.processors._ledger import RecentKeys, SpanLedger


def _span(span_id: int) -> ReadableSpan:
    context = SpanContext(0xABC, span_id, is_remote=False, trace_flags=TraceFlags(1))
    return ReadableSpan(name="chat", context=context)


def test_recent_keys_forget_the_oldest_beyond_their_size() -> None:
    """Memory stays bounded: past `size` keys the oldest is forgotten first."""
    keys = RecentKeys(2)
    assert keys.add("a")
    assert keys.add("b")
    assert not keys.add("a")
    assert keys.add("c")
    assert "a" not in keys
    assert "b" in keys
    assert "c" in keys
    assert len(keys) == 2


def test_only_the_first_chain_claims_a_span_for_a_purpose() -> None:
    """The second exporter's chain is told the span's metrics were already recorded."""
    ledger = SpanLedger()
    span = _span(7)
    assert ledger.claim(span, "metrics")
    assert ledger.claim(span, "cost")
    assert not ledger.claim(span, "metrics")
    assert not ledger.claim(span, "cost")
    assert ledger.claim(_span(8), "metrics")


def test_a_span_around_or_inside_our_call_is_covered() -> None:
    """A parent of our span of the same kind, and spans started inside our calls, are ours."""
    ledger = SpanLedger()
    ledger.covered.add((7, "inference"))
    ledger.nested.add(9)
    assert ledger.covered_by_ours(_span(7), "inference")
    assert not ledger.covered_by_ours(_span(7), "tool")
    assert not ledger.covered_by_ours(_span(7), None)  # an agent's span around our call
    assert ledger.covered_by_ours(_span(9), None)
    assert not ledger.covered_by_ours(_span(8), "inference")
