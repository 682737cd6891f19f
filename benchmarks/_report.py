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


_OURS = ("otel-llm", "otel-llm-core")


def _cell(entry: dict[str, Any]) -> str:
    return f"{_signed(entry['overhead'])} ({_signed(entry['q1'])}..{_signed(entry['q3'])})"


def _overhead(result: dict[str, Any], labels: dict[str, str]) -> list[str]:
    summary = result["summary"]
    bare = summary.get("bare")
    lines = [
        "## Overhead per LLM call",
        "",
        f"Median over {result['sizes']['rounds']} interleaved rounds (interquartile range in"
        " brackets). In each round every configuration runs in its own process, alternating"
        " blocks of instrumented calls with blocks of the same calls with the"
        " instrumentation's wrappers taken off; an overhead is instrumented minus"
        " uninstrumented, per call. **Calling thread**: CPU time of the application's thread."
        " **Total CPU**: CPU time of the whole process, every thread, including exporting the"
        " block's spans and log records and one metric collection (what moved off the thread"
        " is counted here). Wall: the calling thread's elapsed time. Streams have 10 or 100"
        " content chunks; the per-chunk cost is the slope between them. The `bare` row runs"
        " the same two arms with no instrumentation: it is the noise floor.",
        "",
    ]
    if bare:
        lines += [
            f"Uninstrumented client (calling thread): {_us(bare['call_thread_us']['bare'])} µs"
            f" per call, {_us(bare['stream10_thread_us']['bare'])} µs per 10-chunk stream,"
            f" {_us(bare['stream100_thread_us']['bare'])} µs per 100-chunk stream."
            f" Noise floor (bare, calling thread / total CPU per call):"
            f" {_signed(bare['call_thread_us']['overhead'])} /"
            f" {_signed(bare['call_cpu_us']['overhead'])} µs.",
            "",
        ]
    lines += [
        "| instrumentation | content | call: calling thread µs | call: total CPU µs"
        " | 10-chunk stream: calling thread µs | 10-chunk stream: total CPU µs"
        " | per chunk: calling thread / total CPU µs | call: wall µs"
        " | spans/call | metric streams | events/call |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = sorted(
        (item for item in summary.items() if item[0] != "bare"),
        key=lambda item: (item[0].endswith("+content"), item[1]["call_thread_us"]["overhead"]),
    )
    for key, entry in rows:
        peer = key.removesuffix("+content")
        check = entry["check"]
        lines.append(
            f"| {labels.get(peer, peer)} | {'on' if key.endswith('+content') else 'off'}"
            f" | {_cell(entry['call_thread_us'])} | {_cell(entry['call_cpu_us'])}"
            f" | {_cell(entry['stream10_thread_us'])} | {_cell(entry['stream10_cpu_us'])}"
            f" | {entry['per_chunk_thread_us']['overhead']:+.1f} /"
            f" {entry['per_chunk_cpu_us']['overhead']:+.1f}"
            f" | {_signed(entry['call_us']['overhead'])}"
            f" | {check['spans_per_call']:.2f} | {len(check['metrics'])}"
            f" | {check['log_records_per_call']:.1f} |"
        )
    lines += ["", *_targets(summary, labels)]
    lines += _against(result, labels)
    if result["problems"]:
        lines += ["", "**Invalid figures**: " + "; ".join(result["problems"])]
    return [*lines, ""]


def targets(summary: dict[str, Any], key: str) -> dict[str, Any] | None:
    """otel-llm configuration `key` against the best peer with the same content setting.

    Ratios of the calling thread's overhead (target: at most 0.5) and of total CPU (target:
    at most 1), for calls and 10-chunk streams, and the calling thread's cost per chunk
    (target: at most 2 µs). None when no peer was measured.
    """
    content = key.endswith("+content")
    peers = {
        k: e
        for k, e in summary.items()
        if k != "bare"
        and k.removesuffix("+content").split("@")[0] not in _OURS
        and k.endswith("+content") == content
    }
    if key not in summary or not peers:
        return None
    ours = summary[key]
    result: dict[str, Any] = {"per_chunk_thread_us": ours["per_chunk_thread_us"]["overhead"]}
    for mode in ("call_thread_us", "call_cpu_us", "stream10_thread_us", "stream10_cpu_us"):
        best_key = min(peers, key=lambda k: peers[k][mode]["overhead"])
        best = peers[best_key][mode]["overhead"]
        result[mode] = {
            "ours": ours[mode]["overhead"],
            "best_peer": best_key,
            "best": best,
            "ratio": ours[mode]["overhead"] / best if best > 0 else float("inf"),
        }
    return result


def _targets(summary: dict[str, Any], labels: dict[str, str]) -> list[str]:
    lines = [
        "Targets for the full default pipeline (otel-llm with spans, every metric, cost and"
        " redaction), against the best peer with the same content setting: calling thread"
        " ≤ 0.5x, total CPU ≤ 1x, per chunk ≤ 2 µs on the calling thread.",
        "",
        "| content | call: calling thread | call: total CPU | 10-chunk stream: calling thread"
        " | 10-chunk stream: total CPU | per chunk (calling thread) |",
        "|---|---|---|---|---|---|",
    ]
    for key in ("otel-llm", "otel-llm+content"):
        found = targets(summary, key)
        if found is None:
            continue
        cells = []
        for mode, limit in (
            ("call_thread_us", 0.5),
            ("call_cpu_us", 1.0),
            ("stream10_thread_us", 0.5),
            ("stream10_cpu_us", 1.0),
        ):
            item = found[mode]
            peer = labels.get(item["best_peer"].removesuffix("+content"), item["best_peer"])
            verdict = "met" if item["ratio"] <= limit else "missed"
            cells.append(
                f"{item['ratio']:.2f}x ({_signed(item['ours'])} vs {_signed(item['best'])},"
                f" {peer}): {verdict}"
            )
        chunk = found["per_chunk_thread_us"]
        cells.append(f"{chunk:+.1f} µs: {'met' if chunk <= 2 else 'missed'}")
        lines.append(f"| {'on' if key.endswith('+content') else 'off'} | {' | '.join(cells)} |")
    return lines


def _against(result: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """This tree against each `--against` ref, configuration by configuration (an A/B)."""
    summary = result["summary"]
    lines: list[str] = []
    for peer in result.get("against", {}):
        lines += [
            "",
            f"This tree ({result.get('commit', '?')}) against {labels.get(peer, peer)}, same"
            " rounds, same processes' bare arms: overhead µs, this tree / that ref.",
            "",
            "| content | call: calling thread | call: total CPU | 10-chunk stream: calling"
            " thread | 10-chunk stream: total CPU | per chunk: calling thread | per chunk:"
            " total CPU |",
            "|---|---|---|---|---|---|---|",
        ]
        for suffix in ("", "+content"):
            ours, theirs = summary.get(f"otel-llm{suffix}"), summary.get(f"{peer}{suffix}")
            if ours is None or theirs is None:
                continue
            cells = [
                f"{_signed(ours[mode]['overhead'])} / {_signed(theirs[mode]['overhead'])}"
                for mode in (
                    "call_thread_us",
                    "call_cpu_us",
                    "stream10_thread_us",
                    "stream10_cpu_us",
                )
            ]
            cells += [
                f"{ours[mode]['overhead']:+.1f} / {theirs[mode]['overhead']:+.1f}"
                for mode in ("per_chunk_thread_us", "per_chunk_cpu_us")
            ]
            lines.append(f"| {'on' if suffix else 'off'} | {' | '.join(cells)} |")
    return lines


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
