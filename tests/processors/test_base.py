"""Wrapping processors: transforms see a copy, the original is untouched, failures are contained."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm._errors
from otel_llm.processors._base import SpanData, WrappingSpanProcessor


class Tagging(WrappingSpanProcessor):
    """Adds one attribute to every span."""

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        data.attributes["tagged"] = True
        return data


class Broken(WrappingSpanProcessor):
    """Always fails."""

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        raise RuntimeError("transform bug")


def _run(processor_class: type[WrappingSpanProcessor]) -> tuple[list[Any], InMemorySpanExporter]:
    untouched = InMemorySpanExporter()
    transformed = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(untouched))
    provider.add_span_processor(processor_class(SimpleSpanProcessor(transformed)))
    with provider.get_tracer("t").start_as_current_span("s", attributes={"a": 1}):
        pass
    return list(transformed.get_finished_spans()), untouched


def test_next_processor_gets_a_transformed_copy() -> None:
    """The wrapped processor sees the change; another processor on the provider does not."""
    (span,), untouched = _run(Tagging)
    assert dict(span.attributes) == {"a": 1, "tagged": True}
    (original,) = untouched.get_finished_spans()
    assert dict(original.attributes or {}) == {"a": 1}
    assert span.context == original.context
    assert (span.start_time, span.end_time) == (original.start_time, original.end_time)


def test_failing_transform_passes_the_span_on_outside_pytest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside pytest a failing transform is logged and the span is still exported."""
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)
    (span,), _ = _run(Broken)
    assert dict(span.attributes) == {"a": 1}


def test_shutdown_and_flush_reach_the_next_processor() -> None:
    """shutdown() and force_flush() are delegated down the chain."""
    calls: list[str] = []

    class Recorder(SimpleSpanProcessor):
        def __init__(self) -> None:
            pass

        def shutdown(self) -> None:
            calls.append("shutdown")

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            calls.append("flush")
            return True

    processor = Tagging(Recorder())
    assert processor.force_flush()
    processor.shutdown()
    assert calls == ["flush", "shutdown"]
