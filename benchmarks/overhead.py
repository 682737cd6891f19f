"""Per-call overhead of otel-llm on a non-streaming chat call (real openai client, mock transport).

Run: PYTHONPATH=. .venv/bin/python benchmarks/overhead.py
Bare and instrumented calls are interleaved in rounds so machine drift cancels; the figure is
the median over rounds of (instrumented - bare) per call.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.instrumentation import _fakes as fakes

from otel_llm.instrumentation.openai import OpenAIInstrumentor

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]
ROUNDS, CALLS = 30, 300


def _time(client: openai.OpenAI) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    return (time.perf_counter() - start) / CALLS


def main() -> None:
    """Print bare µs/call, instrumented µs/call and the overhead."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    instrumentor = OpenAIInstrumentor()
    bare, instrumented = [], []
    for _ in range(ROUNDS):
        bare.append(_time(client))
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, skip_dep_check=True
        )
        instrumented.append(_time(client))
        instrumentor.uninstrument()
        exporter.clear()
    b, i = statistics.median(bare) * 1e6, statistics.median(instrumented) * 1e6
    # Per-round differences: bare and instrumented runs of one round share the machine's state.
    deltas = sorted((x - y) * 1e6 for x, y in zip(instrumented, bare, strict=True))
    q1, q3 = deltas[len(deltas) // 4], deltas[3 * len(deltas) // 4]
    print(f"bare {b:.0f} µs/call, instrumented {i:.0f} µs/call")
    print(
        f"overhead median {statistics.median(deltas):+.0f} µs (interquartile {q1:+.0f}..{q3:+.0f})"
    )


if __name__ == "__main__":
    main()
