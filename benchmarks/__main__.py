"""Run every benchmark (or some), write benchmarks/results/*.json and benchmarks/RESULTS.md.

`.venv/bin/python -m benchmarks` runs everything (about 10 minutes on 2 cores);
`--only overhead --rounds 3` runs a part; `--quick` runs tiny sizes (proves it works only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import _report, _venvs, export_load, overhead, redaction_throughput, startup

HERE = Path(__file__).resolve().parent
COMMAND = ".venv/bin/python -m benchmarks"
NAMES = ("overhead", "startup", "redaction", "export")
LABELS = {peer.name: peer.label for peer in _venvs.PEERS}


AGAINST: dict[str, tuple[str, Path]] = {}
"""`--against` refs: peer name (`otel-llm@REF`) -> (commit, tree)."""


def _overhead(quick: bool, rounds: int | None) -> dict[str, Any]:
    sizes = overhead.QUICK if quick else overhead.Sizes()
    if rounds:
        sizes = overhead.Sizes(sizes.calls, sizes.stream_calls, sizes.blocks, rounds)
    sources = {peer: tree for peer, (_, tree) in AGAINST.items()}
    result = overhead.run(peers=(*_venvs.ALL, *AGAINST), sizes=sizes, sources=sources)
    result["versions"] = {peer.name: _venvs.versions(peer) for peer in _venvs.PEERS}
    result["against"] = {peer: commit for peer, (commit, _) in AGAINST.items()}
    result["commit"] = _commit()
    return result


def _commit() -> str:
    """This tree's commit, marked `+changes` when the work tree differs from it."""
    git = ["git", "-C", str(HERE.parent)]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD"], check=False).returncode
    return f"{commit}+changes" if dirty else commit


def _startup(quick: bool, rounds: int | None) -> dict[str, Any]:
    return startup.run(runs=1 if quick else rounds or 5)


def _redaction(quick: bool, rounds: int | None) -> dict[str, Any]:
    if quick:
        return redaction_throughput.run(sizes_kb=(1,), scales=(0.05, 0.1), budget=0.01)
    return redaction_throughput.run()


def _export(quick: bool, rounds: int | None) -> dict[str, Any]:
    return {"modes": export_load.run(seconds=0.5 if quick else 8.0)}


RUNNERS: dict[str, Callable[[bool, int | None], dict[str, Any]]] = {
    "overhead": _overhead,
    "startup": _startup,
    "redaction": _redaction,
    "export": _export,
}


def run(
    names: Sequence[str], *, quick: bool, rounds: int | None, results_dir: Path
) -> dict[str, dict[str, Any]]:
    """Run `names`, save each result with the machine facts, and rewrite RESULTS.md."""
    results_dir.mkdir(parents=True, exist_ok=True)
    info = _report.machine()
    print(json.dumps(info, indent=2), file=sys.stderr)
    for name in names:
        print(f"{name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = RUNNERS[name](quick, rounds)
        result["machine"] = info
        result["quick"] = quick
        result["wall_seconds"] = time.perf_counter() - started
        path = results_dir / f"{name}.json"
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"{name}: {result['wall_seconds']:.0f} s -> {path}", file=sys.stderr, flush=True)
    saved = {
        name: json.loads((results_dir / f"{name}.json").read_text(encoding="utf-8"))
        for name in NAMES
        if (results_dir / f"{name}.json").exists()
    }
    report = _report.markdown(saved, LABELS, COMMAND)
    (results_dir.parent / "RESULTS.md").write_text(report, encoding="utf-8")
    return saved


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default=",".join(NAMES), help="comma-separated names")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--rounds", type=int, help="rounds (overhead) or runs (startup)")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="REF",
        help="also measure otel-llm as of git REF, interleaved (an A/B; repeatable)",
    )
    args = parser.parse_args(argv)
    for ref in args.against:
        commit, tree = _venvs.checkout(ref)
        AGAINST[f"otel-llm@{ref}"] = (commit, tree)
        LABELS[f"otel-llm@{ref}"] = f"otel-llm at {ref} ({commit})"
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(names) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    run(names, quick=args.quick, rounds=args.rounds, results_dir=args.results)
    print((args.results.parent / "RESULTS.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
