"""The project's Prometheus/Alertmanager configs rewritten for a local run, durations divided by N.

Used by the end-to-end tests (`tests/collector_config/_stack.py`, speedup 30) and by the
no-Docker local stack (`python -m localstack`, speedup 1: durations unchanged). The overlay is
a mechanical rewrite of the shipped files, never a second copy of the rules:

- every duration is divided by `speedup` (rounded to whole milliseconds, at least 1 ms): in
  PromQL range selectors and subqueries (`[5m]`, `[1h:1m]`) and `offset`s, in rules' `for:`,
  in groups' `interval:`, in Prometheus' global scrape and evaluation intervals and in
  Alertmanager's `resolve_timeout`, `group_wait`, `group_interval` and `repeat_interval`;
- Prometheus' own time constants follow (`prometheus_flags`: lookback delta, alert resend
  delay), and `scrape_timeout` becomes the scaled scrape interval (the most Prometheus allows);
- the deployment-specific parts are replaced: scrape jobs by the test's targets, rule file
  paths by the rewritten copies, the Alertmanager address, every webhook URL by the test
  receiver's URL plus `/<receiver name>`.

Thresholds and rate-based volume guards (`>= 100 / 300`, requests per second) are unchanged.
Count-based guards (`increase(...[1h]) >= 200`, `count_over_time(...) >= 60`) keep their
counts: the sample counts scale with the evaluation interval, request counts do not, so test
traffic must bring 200 requests per scaled hour.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository: this file is scripts/localstack/overlay.py."""
PROMETHEUS_DIR = REPO_ROOT / "collector-config" / "prometheus"
ALERTMANAGER_CONFIG = REPO_ROOT / "collector-config" / "alertmanager" / "alertmanager.yml"

DEFAULT_SPEEDUP = 30
"""15 s scrapes become 0.5 s, a 5-minute window 10 s, `for: 10m` 20 s, a day 48 minutes."""

_UNIT_MS = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
_PART = re.compile(r"(\d+)(ms|[ywdhms])")
_DURATION = r"(?:\d+(?:ms|[ywdhms]))+"
_RANGE = re.compile(rf"\[\s*({_DURATION})\s*(?::\s*({_DURATION})?\s*)?\]")
_OFFSET = re.compile(rf"\boffset(\s+)(-?)({_DURATION})\b")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_ROUTE_DURATIONS = ("group_wait", "group_interval", "repeat_interval")


@dataclass(frozen=True)
class ScrapeTarget:
    """One scrape job of the test Prometheus: a `job` name and a `host:port` serving /metrics."""

    job: str
    address: str
    honor_labels: bool = False
    interval: str = ""
    """A scrape interval (and timeout) of its own, unscaled, e.g. "2s"; else the global one.
    For a target whose page is large: a Collector's exporter with every app's series takes
    longer to render than the global interval allows at a high speedup on a busy machine."""


def parse_duration(text: str) -> int:
    """A Prometheus duration (`1h30m`, `500ms`) in milliseconds."""
    parts = list(_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(p.group(1)) * _UNIT_MS[p.group(2)] for p in parts)


def scale_duration(text: str, speedup: float) -> str:
    """`text` divided by `speedup`, in whole milliseconds (at least 1 ms unless it was 0).

    A speedup of 1 returns `text` as written (after checking it is a duration).
    """
    milliseconds = parse_duration(str(text))
    if speedup == 1:
        return str(text)
    if milliseconds == 0:
        return "0s"
    return f"{max(1, round(milliseconds / speedup))}ms"


def scale_promql(expr: str, speedup: float) -> str:
    """`expr` with range, subquery and offset durations scaled; string literals untouched."""

    def rewrite(code: str) -> str:
        def range_(match: re.Match[str]) -> str:
            window = scale_duration(match.group(1), speedup)
            if ":" not in match.group(0):
                return f"[{window}]"
            step = match.group(2)
            return f"[{window}:{scale_duration(step, speedup) if step else ''}]"

        def offset(match: re.Match[str]) -> str:
            space, sign, duration = match.groups()
            return f"offset{space}{sign}{scale_duration(duration, speedup)}"

        return _OFFSET.sub(offset, _RANGE.sub(range_, code))

    pieces: list[str] = []
    position = 0
    for literal in _STRING.finditer(expr):
        pieces += [rewrite(expr[position : literal.start()]), literal.group(0)]
        position = literal.end()
    pieces.append(rewrite(expr[position:]))
    return "".join(pieces)


def scale_rules(document: dict[str, Any], speedup: float) -> dict[str, Any]:
    """A rule file (parsed) with every group interval, `for:` and PromQL duration scaled."""
    result = copy.deepcopy(document)
    for group in result.get("groups", []):
        if "interval" in group:
            group["interval"] = scale_duration(group["interval"], speedup)
        for rule in group.get("rules", []):
            rule["expr"] = scale_promql(str(rule["expr"]), speedup)
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = scale_duration(rule[key], speedup)
    return result


def scale_prometheus_config(
    document: dict[str, Any],
    speedup: float,
    *,
    rule_files: Sequence[Path],
    alertmanager: str,
    targets: Sequence[ScrapeTarget],
) -> dict[str, Any]:
    """prometheus.yml with scaled global intervals and the test's rules, Alertmanager, targets."""
    global_ = dict(document.get("global", {}))
    scrape_interval = scale_duration(global_.get("scrape_interval", "1m"), speedup)
    global_["scrape_interval"] = scrape_interval
    if speedup != 1:
        global_["scrape_timeout"] = scrape_interval
    global_["evaluation_interval"] = scale_duration(
        global_.get("evaluation_interval", "1m"), speedup
    )
    return {
        "global": global_,
        "rule_files": [str(path) for path in rule_files],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": target.job,
                "honor_labels": target.honor_labels,
                **(
                    {"scrape_interval": target.interval, "scrape_timeout": target.interval}
                    if target.interval
                    else {}
                ),
                "static_configs": [{"targets": [target.address]}],
            }
            for target in targets
        ],
    }


def prometheus_flags(speedup: float) -> list[str]:
    """Prometheus' own time constants, scaled from their defaults like the configs.

    Exemplar storage is on, as in docker-compose.yml: the Collector's span metrics carry trace
    ids on their histogram buckets (Grafana's exemplar -> Jaeger links).
    """
    return [
        f"--query.lookback-delta={scale_duration('5m', speedup)}",
        f"--rules.alert.resend-delay={scale_duration('1m', speedup)}",
        "--enable-feature=exemplar-storage",
    ]


def scale_alertmanager_config(
    document: dict[str, Any], speedup: float, webhook_url: str
) -> dict[str, Any]:
    """alertmanager.yml with scaled timings and every receiver sent to `webhook_url`/<name>."""
    result = copy.deepcopy(document)
    global_ = result.setdefault("global", {})
    global_["resolve_timeout"] = scale_duration(global_.get("resolve_timeout", "5m"), speedup)

    def scale_route(route: dict[str, Any]) -> None:
        for key in _ROUTE_DURATIONS:
            if key in route:
                route[key] = scale_duration(route[key], speedup)
        for child in route.get("routes", []):
            scale_route(child)

    scale_route(result["route"])
    for receiver in result.get("receivers", []):
        name = receiver["name"]
        for key in receiver:
            if key not in ("name", "webhook_configs"):
                raise ValueError(f"receiver {name}: {key} cannot be sent to the test webhook")
        for config in receiver.get("webhook_configs", []):
            config["url"] = f"{webhook_url.rstrip('/')}/{name}"
    return result


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from `path`."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return document


def project_rule_files() -> list[Path]:
    """The rule files prometheus.yml loads, resolved against its directory."""
    config = load_yaml(PROMETHEUS_DIR / "prometheus.yml")
    return [PROMETHEUS_DIR / name for name in config["rule_files"]]


def write_prometheus_overlay(
    directory: Path,
    speedup: float,
    *,
    alertmanager: str,
    targets: Sequence[ScrapeTarget],
) -> Path:
    """Write the scaled rule files and prometheus.yml under `directory`; return the config.

    At speedup 1 the config loads the project's rule files themselves (edit, then reload).
    """
    directory.mkdir(parents=True, exist_ok=True)
    rule_files = project_rule_files()
    if speedup != 1:
        rules_dir = directory / "rules"
        rules_dir.mkdir(exist_ok=True)
        scaled = []
        for source in rule_files:
            target = rules_dir / source.name
            rules = scale_rules(load_yaml(source), speedup)
            target.write_text(yaml.safe_dump(rules, sort_keys=False))
            scaled.append(target)
        rule_files = scaled
    config = scale_prometheus_config(
        load_yaml(PROMETHEUS_DIR / "prometheus.yml"),
        speedup,
        rule_files=rule_files,
        alertmanager=alertmanager,
        targets=targets,
    )
    path = directory / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_alertmanager_overlay(directory: Path, speedup: float, webhook_url: str) -> Path:
    """Write the scaled alertmanager.yml under `directory`; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    config = scale_alertmanager_config(load_yaml(ALERTMANAGER_CONFIG), speedup, webhook_url)
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
