"""The Grafana dashboards' PromQL, runnable outside Grafana: variables substituted, names listed.

`dashboard_queries(repo_root)` is what the end-to-end test runs against a real Prometheus.
Grafana's variables are replaced by `substitute`:

* built-in intervals: `$__rate_interval` -> 5m, `$__interval` -> 1m, `$__range` -> 1h (long
  enough for a short demo run, and at least four 15 s scrapes);
* every dashboard variable (`$service`, `${model}`...) -> `.*`, or the value given in
  `variables`. The dashboards only use variables inside regex matchers (`=~"$model"`), and
  multi-valued ones send `.*` for All, so `.*` is exactly what "All" selects in Grafana.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

DASHBOARD_DIR = Path("collector-config/grafana/dashboards")
BUILTIN_INTERVALS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
}
"""Grafana's interval variables and the fixed windows they become outside Grafana."""
ALL = ".*"
"""What a dashboard variable becomes when no value is given: Grafana's All (`allValue`)."""

_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENTIFIER = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2", "start", "end"}
)


def substitute(expr: str, variables: Mapping[str, str] | None = None) -> str:
    """Replace Grafana variables in `expr` as the module docstring describes."""
    if "[[" in expr:
        raise ValueError(f"deprecated [[var]] syntax is not supported: {expr}")
    given = variables or {}

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in BUILTIN_INTERVALS:
            return BUILTIN_INTERVALS[name]
        if name.startswith("__"):
            raise ValueError(f"unsupported Grafana variable ${name} in: {expr}")
        return given.get(name, ALL)

    return _VARIABLE.sub(value, expr)


def load_dashboards(repo_root: Path) -> list[dict[str, Any]]:
    """Every dashboard JSON under collector-config/grafana/dashboards, sorted by file name."""
    files = sorted((repo_root / DASHBOARD_DIR).glob("*.json"))
    return [json.loads(path.read_text(encoding="utf-8")) for path in files]


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(
    repo_root: Path, variables: Mapping[str, str] | None = None
) -> list[tuple[str, str, str]]:
    """(dashboard uid, panel title, PromQL with variables substituted) for every panel target."""
    queries: list[tuple[str, str, str]] = []
    for dashboard in load_dashboards(repo_root):
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if "expr" in target:
                    queries.append(
                        (dashboard["uid"], panel["title"], substitute(target["expr"], variables))
                    )
    return queries


def _without_strings(expr: str) -> str:
    return _STRING.sub('""', expr)


def selectors(expr: str) -> list[tuple[str, tuple[str, ...]]]:
    """(metric name or "", label names matched) for every `{...}` selector in `expr`."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for match in _SELECTOR.finditer(_without_strings(expr)):
        labels = tuple(_MATCHER_LABEL.findall(match.group(2)))
        found.append((match.group(1) or "", labels))
    return found


def grouping_labels(expr: str) -> set[str]:
    """Labels named in `by (...)`, `without (...)`, `on (...)`, `ignoring (...)`, `group_*`."""
    text = _RANGE.sub("", _SELECTOR.sub("", _without_strings(expr)))
    labels: set[str] = set()
    for match in _GROUPING.finditer(text):
        labels.update(label.strip() for label in match.group(1).split(",") if label.strip())
    return labels


def metric_names(expr: str) -> set[str]:
    """Every metric name `expr` reads.

    That is the names before `{...}` selectors plus bare identifiers that are not functions,
    aggregations, keywords or grouping labels.
    """
    text = _without_strings(expr)
    names = {name for name, _ in selectors(expr) if name}
    text = _GROUPING.sub(" ", _RANGE.sub(" ", _SELECTOR.sub(" ", text)))
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name in _KEYWORDS:
            continue
        names.add(name)
    return names
