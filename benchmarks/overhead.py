"""Per-call overhead of otel-llm and its peers, each in its own virtualenv, run interleaved.

Every round runs one subprocess per (instrumentation, content capture) configuration, in a
shuffled order. Each subprocess (`overhead_worker.py`) times a non-streaming call and 10- and
100-chunk streams over the same mock transport, alternating blocks of instrumented calls with
blocks of the same calls with the instrumentation's wrappers taken off, so drift on a shared
machine hits both alike. Three figures per call: the calling thread's CPU time (what the
application's thread pays), the whole process's CPU time including span and log export and a
metric collection (what the instrumentation costs in all), and wall time. An overhead is the
median over rounds of (instrumented - uninstrumented) in the same subprocess; the per-chunk cost
is the slope between the 10- and 100-chunk streams. `bare` (no instrumentation at all) measures
nothing but the noise: its "overhead" is the spread of two identical arms. A peer named
`otel-llm@REF` is otel-llm as it was at git ref REF (`--against REF`): the same virtualenv and
set-up, with that tree's source first on the path, run interleaved with this tree's.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import _venvs
from benchmarks.overhead_worker import REPLY
from otel_llm.payloads import openai as openai_payloads
from otel_llm.payloads import sse

WORKER = Path(__file__).resolve().parent / "overhead_worker.py"
STREAM_CHUNKS = (10, 100)
"""Content chunks per timed stream."""
CALLS = ("call", *(f"stream{chunks}" for chunks in STREAM_CHUNKS))
FIGURES = ("thread_us", "cpu_us", "us")
"""Calling-thread CPU, process CPU (every thread, export and collection included), wall."""
MODES = tuple(f"{call}_{figure}" for call in CALLS for figure in FIGURES)
PROMPT_TOKENS = 58
_CLEAN_ENV_PREFIXES = ("OTEL_", "TRACELOOP_", "OPENINFERENCE_", "OPENLIT_")


def setup_name(peer: str) -> str:
    """The worker's set-up (and virtualenv) of `peer`: `otel-llm@main` is otel-llm's."""
    return peer.split("@", 1)[0]


@dataclass(frozen=True)
class Config:
    """One instrumentation with content capture off or on."""

    peer: str
    capture: bool

    @property
    def key(self) -> str:
        """A stable name, e.g. `otel-llm+content`."""
        return f"{self.peer}+content" if self.capture else self.peer


@dataclass(frozen=True)
class Sizes:
    """How much each subprocess runs."""

    calls: int = 240
    stream_calls: int = 40
    blocks: int = 10
    rounds: int = 5


QUICK = Sizes(calls=8, stream_calls=4, blocks=2, rounds=1)


def configs(peers: Sequence[str]) -> list[Config]:
    """The uninstrumented client once, every other peer with content capture off and on."""
    result = [Config("bare", capture=False)] if "bare" in peers else []
    for peer in peers:
        if peer != "bare":
            result += [Config(peer, capture=False), Config(peer, capture=True)]
    return result


def bodies(stream_chunks: Sequence[int] = STREAM_CHUNKS) -> dict[str, Any]:
    """What every worker's mock transport answers: the completion, and a stream per size.

    A stream of n chunks repeats the reply's words (n content chunks, n output tokens) with
    usage last, as stream_options.include_usage asks.
    """
    words = REPLY.split()

    def usage(output_tokens: int) -> dict[str, Any]:
        return openai_payloads.usage(
            PROMPT_TOKENS, output_tokens, cached_tokens=0, reasoning_tokens=0
        )

    streams = {}
    for chunks in stream_chunks:
        pieces = [f"{words[i % len(words)]} " for i in range(chunks)]
        events = openai_payloads.chat_chunks(pieces, usage=usage(chunks))
        streams[str(chunks)] = sse.encode(events, done=True).decode()
    completion = openai_payloads.chat_completion(REPLY, usage=usage(len(words)))
    return {"call": json.dumps(completion), "streams": streams}


def worker_env() -> dict[str, str]:
    """The environment without any OTel or peer settings of the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEAN_ENV_PREFIXES)}
    env["OTEL_SERVICE_NAME"] = "overhead-benchmark"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_worker(
    python: str,
    config: Config,
    sizes: Sizes,
    payload: str,
    timeout: float = 180,
    *,
    source: Path | None = None,
) -> dict[str, Any]:
    """One subprocess measurement serving `payload` (`bodies`, as JSON); raises if it fails.

    `source`: a tree whose `src/` is imported in place of the virtualenv's otel-llm.
    """
    env = worker_env()
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    command = [
        python,
        str(WORKER),
        f"--peer={setup_name(config.peer)}",
        f"--calls={sizes.calls}",
        f"--stream-calls={sizes.stream_calls}",
        f"--blocks={sizes.blocks}",
        *(["--capture"] if config.capture else []),
    ]
    done = subprocess.run(
        command,
        input=payload,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{config.key} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def summarise(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Per configuration and figure: the overhead over rounds, and the per-chunk slope.

    Each overhead is a median with its quartiles, beside the uninstrumented calls' median.
    """
    summary: dict[str, Any] = {}
    for key in rounds[0]:
        entry: dict[str, Any] = {"check": rounds[-1][key]["check"]}
        for mode in MODES:
            call, figure = mode.split("_", 1)
            q1, median, q3 = _quartiles([r[key][mode] for r in rounds])
            bare = statistics.median(r[key][f"{call}_bare_{figure}"] for r in rounds)
            entry[mode] = {"overhead": median, "q1": q1, "q3": q3, "bare": bare}
        for figure in FIGURES:
            # Chunk cost: the slope between the 10- and 100-chunk streams, per round.
            slopes = [
                (r[key][f"stream100_{figure}"] - r[key][f"stream10_{figure}"]) / 90 for r in rounds
            ]
            q1, slope, q3 = _quartiles(slopes)
            entry[f"per_chunk_{figure}"] = {"overhead": slope, "q1": q1, "q3": q3}
        summary[key] = entry
    return summary


def verify(summary: dict[str, Any]) -> list[str]:
    """Problems that make a figure meaningless: not exactly one span per instrumented call.

    None means no span at all; two, that the uninstrumented arm recorded too (its wrappers
    were not all taken off).
    """
    problems = []
    for key, entry in summary.items():
        spans = entry["check"]["spans_per_call"]
        expected = 0 if key == "bare" else 1
        if round(spans, 2) != expected:
            problems.append(f"{key}: {spans:.2f} spans per call, expected {expected}")
    return problems


def run(
    peers: Sequence[str] = _venvs.ALL,
    sizes: Sizes | None = None,
    python_for: Callable[[str], str] | None = None,
    seed: int = 8,
    sources: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """Measure every configuration over `sizes.rounds` interleaved rounds.

    `sources` gives the tree of each `otel-llm@REF` peer (see `benchmarks._venvs.checkout`).
    """
    sources = sources or {}
    if python_for is None:

        def python_for(peer: str) -> str:
            return str(_venvs.ensure(_venvs.PEERS_BY_NAME[setup_name(peer)]))

    sizes = sizes or Sizes()
    pythons = {peer: python_for(peer) for peer in peers}
    order = configs(peers)
    payload = json.dumps(bodies())
    shuffler = random.Random(seed)  # noqa: S311 - orders runs, not a secret
    rounds: list[dict[str, dict[str, Any]]] = []
    for number in range(sizes.rounds):
        shuffler.shuffle(order)
        results = {}
        for config in order:
            source = sources.get(config.peer)
            python = pythons[config.peer]
            results[config.key] = run_worker(python, config, sizes, payload, source=source)
        rounds.append(results)
        print(f"  overhead round {number + 1}/{sizes.rounds} done", file=sys.stderr, flush=True)
    summary = summarise(rounds)
    return {
        "sizes": vars(sizes),
        "configs": [c.key for c in configs(peers)],
        "summary": summary,
        "problems": verify(summary),
        "rounds": rounds,
    }


def main() -> None:
    """Run with the default sizes and print the summary as JSON."""
    print(json.dumps(run()["summary"], indent=2))


if __name__ == "__main__":
    main()
