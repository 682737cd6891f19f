"""Start-up cost: `import otel_llm` and `otel_llm.configure()` time and memory, in fresh processes.

Each run is a new interpreter in the otel-llm benchmark virtualenv (openai and its resources
already imported, as in an application that has made a call), timed with perf_counter and
measured by RSS; a separate run under tracemalloc gives the Python-allocated memory. The
peers' import-and-instrument cost is timed the same way in their own virtualenvs, interleaved
with ours.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks import _venvs
from benchmarks.overhead import WORKER, worker_env

# Runs in the benchmark virtualenv; prints one JSON object. Exporters are OTLP (the default)
# to a closed local port: nothing is sent during the measurement, and os._exit skips the
# shutdown flush.
_OURS = r"""
import json, os, sys, time, tracemalloc
def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:")) * 1024
traced = sys.argv[1] == "tracemalloc"
import openai, openai.resources  # the app's own imports: its first call loads every resource
if traced:
    tracemalloc.start()
r0, t0 = rss(), time.perf_counter()
import otel_llm
t1, r1 = time.perf_counter(), rss()
m1 = tracemalloc.get_traced_memory() if traced else (0, 0)
otel_llm.configure()
t2, r2 = time.perf_counter(), rss()
m2 = tracemalloc.get_traced_memory() if traced else (0, 0)
print(json.dumps({"import_s": t1 - t0, "configure_s": t2 - t1, "import_rss": r1 - r0,
                  "configure_rss": r2 - r1, "import_traced": m1[0], "configure_traced": m2[0],
                  "configure_peak_traced": m2[1]}))
sys.stdout.flush()
os._exit(0)
"""
_ENV = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    "OTEL_SERVICE_NAME": "startup-benchmark",
}


def _run(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def run(
    runs: int = 9,
    peers: Sequence[str] = _venvs.ALL,
    python_for: Callable[[str], str] | None = None,
    *,
    traced: bool = True,
) -> dict[str, Any]:
    """Median import/configure time and memory over `runs` fresh processes, peers interleaved.

    `traced=False` skips the (slow) tracemalloc run; its figures are then 0.
    """
    if python_for is None:

        def python_for(peer: str) -> str:
            return str(_venvs.ensure(_venvs.PEERS_BY_NAME[peer]))

    env = {**worker_env(), **_ENV}
    ours = python_for("otel-llm")
    timed: list[dict[str, Any]] = []
    peer_runs: dict[str, list[dict[str, Any]]] = {peer: [] for peer in peers}
    shuffler = random.Random(3)  # noqa: S311 - orders runs, not a secret
    for _ in range(runs):
        jobs: list[str] = ["ours", *peers]
        shuffler.shuffle(jobs)
        for job in jobs:
            if job == "ours":
                timed.append(_run([ours, "-c", _OURS, "time"], env))
            else:
                command = [python_for(job), str(WORKER), f"--peer={job}", "--startup"]
                peer_runs[job].append(_run(command, worker_env()))
    memory = _run([ours, "-c", _OURS, "tracemalloc" if traced else "time"], env)
    return {
        "runs": runs,
        "ours": {
            "import_ms": _median([r["import_s"] for r in timed]) * 1e3,
            "configure_ms": _median([r["configure_s"] for r in timed]) * 1e3,
            "import_rss_mb": _median([r["import_rss"] for r in timed]) / 2**20,
            "configure_rss_mb": _median([r["configure_rss"] for r in timed]) / 2**20,
            "import_traced_mb": memory["import_traced"] / 2**20,
            "configure_traced_mb": (memory["configure_traced"] - memory["import_traced"]) / 2**20,
            "configure_peak_traced_mb": memory["configure_peak_traced"] / 2**20,
        },
        "peers_setup": {
            peer: {
                "setup_ms": _median([r["setup_s"] for r in results]) * 1e3,
                "setup_rss_mb": _median([r["setup_rss"] for r in results]) / 2**20,
            }
            for peer, results in peer_runs.items()
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2), file=sys.stdout)
