"""Write the dashboards to collector-config/grafana/dashboards/, or with --check report drift."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from dashboards.boards import DASHBOARDS
from semconvgen.generate import read_file, sync_files

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = Path("collector-config/grafana/dashboards")
"""Where Grafana's file provider reads them (mounted into the container by docker-compose.yml)."""


def render_all() -> dict[Path, str]:
    """Every dashboard file, keyed by its path relative to the repository root."""
    rendered: dict[Path, str] = {}
    for factory in DASHBOARDS:
        board = factory().to_json()
        text = json.dumps(board, indent=2, ensure_ascii=False) + "\n"
        rendered[OUTPUT_DIR / f"{board['uid']}.json"] = text
    return rendered


def stale_files(rendered: dict[Path, str], root: Path) -> list[str]:
    """Paths whose committed content differs from a fresh render, plus orphaned dashboards."""
    stale = [str(path) for path, text in rendered.items() if read_file(root / path) != text]
    directory = root / OUTPUT_DIR
    if directory.exists():
        expected = {root / path for path in rendered}
        stale += [str(p.relative_to(root)) for p in directory.glob("*.json") if p not in expected]
    return sorted(stale)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: write the dashboards, or with --check fail on drift."""
    parser = argparse.ArgumentParser(prog="python -m dashboards", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if regenerating changes files")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root: Path = args.root
    rendered = render_all()
    return sync_files(
        rendered,
        stale_files(rendered, root),
        root,
        check=args.check,
        name="dashboards",
        hint="run `make generate` and commit the result",
    )
