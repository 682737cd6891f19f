"""The machine a run happened on, and the Markdown summary of all results (RESULTS.md)."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """CPU, cores, memory, OS, Python and the date (UTC), printed with every result."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text(encoding="utf-8").splitlines()[0]
        memory = int(first.split()[1]) * 1024
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in load],
        "otel_llm": _version("otel-llm"),
        "opentelemetry_sdk": _version("opentelemetry-sdk"),
        "openai": _version("openai"),
        "interpreter": sys.executable,
    }


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _us(value: float) -> str:
    return f"{value:,.0f}"


def _signed(value: float) -> str:
    return f"{value:+,.0f}"


def _overhead(result: dict[str, Any], labels: dict[str, str]) -> list[str]:
    summary = result["summary"]
    bare = summary.get("bare")
    lines = [
        "## Overhead per LLM call",
        "",
        f"Median over {result['sizes']['rounds']} interleaved rounds (interquartile range in"
        " brackets) of each subprocess's fastest block of calls; overhead = configuration"
        " minus the uninstrumented client in the same round;"
        " ratio = median time / uninstrumented median time. Streams have 10 or 100 content"
        " chunks; the per-chunk cost is the slope between them.",
        "",
    ]
    if bare:
        lines += [
            f"Uninstrumented client: {_us(bare['call_us']['median'])} µs per call,"
            f" {_us(bare['stream10_us']['median'])} µs per 10-chunk stream,"
            f" {_us(bare['stream100_us']['median'])} µs per 100-chunk stream.",
            "",
        ]
    lines += [
        "| instrumentation | content | call: overhead µs | ratio | 10-chunk stream: overhead µs"
        " | per chunk µs | spans/call | metric streams | events/call |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = sorted(
        (item for item in summary.items() if item[0] != "bare"),
        key=lambda item: (item[0].endswith("+content"), item[1]["call_us"]["overhead"]),
    )
    for key, entry in rows:
        peer = key.removesuffix("+content")
        call, stream = entry["call_us"], entry["stream10_us"]
        chunk = entry["per_chunk_us"]
        check = entry["check"]
        lines.append(
            f"| {labels.get(peer, peer)} | {'on' if key.endswith('+content') else 'off'}"
            f" | {_signed(call['overhead'])} ({_signed(call['overhead_q1'])}.."
            f"{_signed(call['overhead_q3'])}) | {call['ratio']:.2f}"
            f" | {_signed(stream['overhead'])} ({_signed(stream['overhead_q1'])}.."
            f"{_signed(stream['overhead_q3'])}) | {chunk['median']:+.1f}"
            f" | {check['spans_per_call']:.2f} | {len(check['metrics'])}"
            f" | {check['log_records_per_call']:.1f} |"
        )
    if result["problems"]:
        lines += ["", "**Invalid figures** (no spans recorded): " + "; ".join(result["problems"])]
    return [*lines, ""]


def _startup(result: dict[str, Any], labels: dict[str, str]) -> list[str]:
    ours = result["ours"]
    lines = [
        "## Start-up",
        "",
        f"Median of {result['runs']} fresh processes, each with openai and its resource"
        " modules already imported (as in an application that has made a call).",
        "",
        "| step | time ms | RSS MB | Python-allocated MB (tracemalloc) |",
        "|---|---|---|---|",
        f"| `import otel_llm` | {ours['import_ms']:.0f} | {ours['import_rss_mb']:.1f}"
        f" | {ours['import_traced_mb']:.1f} |",
        f"| `otel_llm.configure()` (OTLP exporters, processors, instrumentation)"
        f" | {ours['configure_ms']:.0f} | {ours['configure_rss_mb']:.1f}"
        f" | {ours['configure_traced_mb']:.1f} (peak {ours['configure_peak_traced_mb']:.1f}) |",
        "",
        "Import plus set-up of each instrumentation with the same SDK providers (the benchmark"
        " worker's set-up; `bare` is the SDK providers alone):",
        "",
        "| instrumentation | set-up ms | RSS MB |",
        "|---|---|---|",
    ]
    for peer, entry in sorted(result["peers_setup"].items(), key=lambda i: i[1]["setup_ms"]):
        lines.append(
            f"| {labels.get(peer, peer)} | {entry['setup_ms']:.0f} | {entry['setup_rss_mb']:.1f} |"
        )
    return [*lines, ""]


def _redaction(result: dict[str, Any]) -> list[str]:
    lines = ["## Redaction throughput", ""]
    fast = result.get("fast_path")
    if fast:
        lines += [
            "Per-span fast path: `is_clean` on the overhead benchmark's chat span (content"
            f" captured) {fast['is_clean_chat_span_us']:.2f} µs; the full walk of that span"
            f" {fast['redact_mapping_chat_span_us']:.1f} µs; `redact` on a short clean string"
            f" {fast['redact_short_clean_us']:.2f} µs.",
            "",
        ]
    lines += [
        "| prompt | as text MB/s | as `gen_ai.input.messages` JSON MB/s | findings |",
        "|---|---|---|---|",
    ]
    for size, entry in result["realistic"].items():
        lines.append(
            f"| {size} | {entry['text_mb_s']:.1f} | {entry['json_attribute_mb_s']:.1f}"
            f" | {entry['findings']} |"
        )
    hostile = result["hostile"]
    worst = sorted(hostile.items(), key=lambda item: -item[1]["exponent"])[:5]
    sizes = next(iter(hostile.values()))["sizes"]
    lines += [
        "",
        f"Hostile inputs ({len(hostile)} kinds, {min(sizes) // 1000} to {max(sizes) // 1000} KB):"
        f" worst fitted time exponent **{result['worst_exponent']:.2f}** (1 = linear, 2 ="
        f" quadratic); slowest single call {result['slowest_at_largest_s'] * 1e3:.0f} ms."
        " Highest exponents:",
        "",
        "| input | exponent | MB/s at largest |",
        "|---|---|---|",
    ]
    for name, entry in worst:
        lines.append(f"| {name} | {entry['exponent']:.2f} | {entry['mb_s_at_largest']:.1f} |")
    return [*lines, ""]


def _export(result: dict[str, Any]) -> list[str]:
    lines = [
        "## Export under load",
        "",
        "BatchSpanProcessor (default settings) + OTLP/gRPC to a local receiver process, behind"
        " otel-llm's default processors; one application thread.",
        "",
        "| load | offered/s | exported/s | dropped | app-thread p50 / p99 µs"
        " | RSS before → peak MB |",
        "|---|---|---|---|---|---|",
    ]
    names = {"app": "instrumented openai calls", "spans": "GenAI spans started directly"}
    for mode, entry in result["modes"].items():
        latency, rss = entry["latency_us"], entry["rss_mb"]
        lines.append(
            f"| {names.get(mode, mode)} | {entry['offered_per_s']:,.0f}"
            f" | {entry['exported_per_s']:,.0f} | {entry['dropped']}"
            f" | {latency['p50']:,.0f} / {latency['p99']:,.0f}"
            f" | {rss['before']:.0f} → {rss['peak']:.0f} |"
        )
    return [*lines, ""]


def markdown(results: dict[str, dict[str, Any]], labels: dict[str, str], command: str) -> str:
    """RESULTS.md from whichever benchmark results exist."""
    info = next(iter(results.values()))["machine"] if results else machine()
    lines = [
        "# Benchmark results",
        "",
        f"Reproduce with `{command}` (first run installs `benchmarks/.venvs/`)."
        f" Run {info['date_utc']} on {info['cpu']}, {info['cores']} cores,"
        f" {info['memory_gb']} GB, {info['os']}, Python {info['python']}; load average at start"
        f" {info['load_average_at_start']} (a shared machine: other jobs ran alongside).",
        "",
    ]
    if "overhead" in results:
        versions = results["overhead"].get("versions", {})
        lines += ["Versions, one virtualenv each:", ""]
        lines += [
            f"- {labels.get(k, k)}: {', '.join(f'{n} {v}' for n, v in vs.items())}"
            for k, vs in versions.items()
        ]
        lines += [""]
        lines += _overhead(results["overhead"], labels)
    if "startup" in results:
        lines += _startup(results["startup"], labels)
    if "redaction" in results:
        lines += _redaction(results["redaction"])
    if "export" in results:
        lines += _export(results["export"])
    return "\n".join(lines).rstrip() + "\n"
