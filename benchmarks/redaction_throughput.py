"""Redaction speed: the per-span fast path, MB/s on prompts, and time against size on hostile input.

The fast path is `Redactor.is_clean` on the overhead benchmark's chat span (content captured),
the check every span takes before any copy or walk, and `redact` on a short clean string.
Prompts are the seeded corpus's prose (English, and French with its no-break spaces) with a
sensitive value every ~2 KB, redacted as a plain string and as a span's `gen_ai.input.messages`
JSON value. Every hostile input of `_corpus` is redacted at growing sizes; the exponent of a
least-squares fit of log(time) on log(size) is ~1 for linear time and ~2 for quadratic.
"""

from __future__ import annotations

import functools
import json
import math
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks._corpus import HOSTILE, adversarial, prompt
from benchmarks.overhead_worker import QUESTION, REPLY, SYSTEM
from otel_llm.redaction import Redactor

SIZES_KB = (1, 16, 256)
SCALES = (0.25, 0.5, 1.0, 2.0)
"""Hostile input sizes relative to the ~100 KB corpus version: about 25 KB to 200 KB."""


def _seconds(work: Callable[[], object], budget: float, min_runs: int = 3) -> float:
    """Median seconds of `work` over as many runs as fit in `budget` (at least `min_runs`)."""
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - started < budget:
        begin = time.perf_counter()
        work()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def _messages(text: str) -> str:
    return json.dumps([{"role": "user", "parts": [{"type": "text", "content": text}]}])


def _chat_span() -> dict[str, Any]:
    """The attributes of the overhead benchmark's chat span with content captured."""
    inputs = [
        {"role": "system", "parts": [{"type": "text", "content": SYSTEM}]},
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]},
    ]
    output = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": REPLY}],
            "finish_reason": "stop",
        }
    ]
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2,
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.response.id": "chatcmpl-abc123",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.usage.output_tokens": 23,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.input.messages": json.dumps(inputs),
        "gen_ai.output.messages": json.dumps(output),
    }


def _micros(work: Callable[[], object], runs: int = 300, number: int = 100) -> float:
    """The fastest of `runs` batches of `number` calls, in µs per call."""
    best = min(timeit.repeat(work, number=number, repeat=runs))
    return best / number * 1e6


def fast_path(redactor: Redactor) -> dict[str, float]:
    """µs per call of the checks every span and short string take."""
    span = _chat_span()
    if not redactor.is_clean([span]):
        raise RuntimeError("the benchmark's chat span should take the fast path")
    return {
        "is_clean_chat_span_us": _micros(functools.partial(redactor.is_clean, [span])),
        "redact_short_clean_us": _micros(
            functools.partial(redactor.redact, "request timed out after 30 s")
        ),
        "redact_mapping_chat_span_us": _micros(
            functools.partial(redactor.redact_mapping, span), runs=100
        ),
    }


def realistic(
    redactor: Redactor, sizes_kb: Sequence[int], budget: float, language: str = "en"
) -> dict[str, Any]:
    """MB/s for each prompt size, as text and as a JSON messages attribute."""
    results = {}
    for size in sizes_kb:
        text = prompt(size * 1024, language=language)
        value = _messages(text)
        megabytes = len(text.encode("utf-8")) / 1e6
        as_text = _seconds(functools.partial(redactor.redact, text), budget)
        as_json = _seconds(
            functools.partial(redactor.redact_value, "gen_ai.input.messages", value), budget
        )
        results[f"{size}KB" if language == "en" else f"{language} {size}KB"] = {
            "text_mb_s": megabytes / as_text,
            "json_attribute_mb_s": len(value.encode("utf-8")) / 1e6 / as_json,
            "findings": len(redactor.redact(text).findings),
        }
    return results


def fit_exponent(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Slope of the least-squares line through (log size, log seconds)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-9)) for t in seconds]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return numerator / sum((x - mean_x) ** 2 for x in xs)


def hostile(
    redactor: Redactor, scales: Sequence[float], budget: float, names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Seconds per size and the fitted exponent for each hostile input."""
    results = {}
    for name in names or list(HOSTILE):
        texts = [adversarial(name, scale) for scale in scales]
        seconds = [
            _seconds(functools.partial(redactor.redact, t), budget, min_runs=2) for t in texts
        ]
        sizes = [len(t) for t in texts]
        results[name] = {
            "sizes": sizes,
            "seconds": seconds,
            "exponent": fit_exponent(sizes, seconds),
            "mb_s_at_largest": sizes[-1] / 1e6 / seconds[-1],
        }
    return results


def run(
    sizes_kb: Sequence[int] = SIZES_KB,
    scales: Sequence[float] = SCALES,
    budget: float = 0.4,
    names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Both measurements with the default redactor (as the pipeline builds it)."""
    redactor = Redactor()
    found = hostile(redactor, scales, budget / 4, names)
    return {
        "fast_path": fast_path(redactor),
        "realistic": realistic(redactor, sizes_kb, budget)
        | realistic(redactor, sizes_kb, budget, language="fr"),
        "hostile": found,
        "worst_exponent": max(entry["exponent"] for entry in found.values()),
        "slowest_at_largest_s": max(max(entry["seconds"]) for entry in found.values()),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2), file=sys.stdout)
