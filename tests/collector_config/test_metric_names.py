"""Every metric and label the rules and their unit tests use is defined by semconv/ or recorded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from dashboards.promql import COLLECTOR_SERIES
from semconvgen.model import Metric, Registry
from semconvgen.prometheus import label_name, series_names
from tests.collector_config._overlay import PROMETHEUS_DIR, load_yaml

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_RANGE_OR_OFFSET = re.compile(r"\[[^\]]*\]|\boffset\s+-?[\dywdhms]+")
_NUMBER = re.compile(r"(?<![\w:.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right"}
)
TARGET_LABELS = frozenset({"job", "instance"})
"""Labels Prometheus adds to every scraped series (via the Collector, `job` comes from it)."""


@dataclass
class Usage:
    """The metric names and labels one PromQL expression uses."""

    metrics: set[str] = field(default_factory=set)
    selectors: list[tuple[str | None, set[str]]] = field(default_factory=list)
    """(metric name or None, label names matched) for each `{...}` selector."""
    grouping: set[str] = field(default_factory=set)
    """Labels named in by/without/on/ignoring/group_left/group_right."""


def promql_usage(expr: str) -> Usage:
    """The metric names and label names in a PromQL expression (a lexical scan, not a parser)."""
    usage = Usage()
    code = _STRING.sub('""', expr)
    for match in _SELECTOR.finditer(code):
        usage.selectors.append((match.group(1), set(_MATCHER.findall(match.group(2)))))
    code = _SELECTOR.sub(lambda m: m.group(1) or "", code)
    for labels in _GROUPING.findall(code):
        usage.grouping |= {label.strip() for label in labels.split(",") if label.strip()}
    code = _GROUPING.sub(" ", code)
    code = _NUMBER.sub(" ", _RANGE_OR_OFFSET.sub(" ", code))
    for match in _IDENTIFIER.finditer(code):
        is_call = code[match.end() :].lstrip().startswith("(")
        if not is_call and match.group(0) not in _KEYWORDS:
            usage.metrics.add(match.group(0))
    return usage


def _rules() -> list[dict[str, Any]]:
    return [
        rule
        for name in ("recording.yml", "alerts.yml")
        for group in load_yaml(PROMETHEUS_DIR / "rules" / name)["groups"]
        for rule in group["rules"]
    ]


def _metric_labels(metric: Metric) -> set[str]:
    return {label_name(ref.attribute.key) for ref in metric.attributes}


def _series_labels(name: str, metric: Metric) -> set[str]:
    """The labels a series of `metric` has once exported: its attributes, `le` on buckets."""
    return _metric_labels(metric) | TARGET_LABELS | ({"le"} if name.endswith("_bucket") else set())


def _dashboard_queries() -> list[tuple[str, str]]:
    """(dashboard/panel title, PromQL) of every panel target, Grafana's variables filled in."""
    queries = []
    for path in sorted((PROMETHEUS_DIR.parent / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board.get("panels", []):
            for target in panel.get("targets", []):
                expr = _GRAFANA_VARIABLE.sub("5m", target.get("expr", ""))
                if expr:
                    queries.append((f"{path.stem}/{panel.get('title')}", expr))
    return queries


_GRAFANA_VARIABLE = re.compile(r"\$__(?:rate_interval|range|interval)")


@pytest.fixture(scope="module")
def series(registry: Registry) -> dict[str, Metric]:
    """Every Prometheus series name semconv/ defines, with its metric."""
    return dict(series_names(registry.metrics))


@pytest.fixture(scope="module")
def known_labels(registry: Registry) -> set[str]:
    """Every label a rule may name: semconv attributes, target labels, `le`, rules' own labels."""
    labels = {label for metric in registry.metrics for label in _metric_labels(metric)}
    labels |= TARGET_LABELS | {"le"}
    return labels | {label for rule in _rules() for label in rule.get("labels", {})}


def test_promql_usage_finds_metrics_and_labels() -> None:
    """The scanner finds series, recorded names, matcher and grouping labels, and skips the rest."""
    usage = promql_usage(
        'histogram_quantile(0.95, sum by (job, le) (rate(a_bucket{x="[5m] b_total",y!~"z"}[5m])))'
        " / on (job) group_left () b:rec:rate5m offset 1h > 1.5 * c_total and bool 1e6"
    )
    assert usage.metrics == {"a_bucket", "b:rec:rate5m", "c_total"}
    assert usage.selectors == [("a_bucket", {"x", "y"})]
    assert usage.grouping == {"job", "le"}


def test_rule_expressions_use_only_semconv_series_and_recorded_names(
    series: dict[str, Metric], known_labels: set[str]
) -> None:
    """Each name in a rule is a semconv series or a recorded one; each label is one we know."""
    rules = _rules()
    recorded = {rule["record"] for rule in rules if "record" in rule}
    used: set[str] = set()
    for rule in rules:
        usage = promql_usage(rule["expr"])
        name = rule.get("record") or rule["alert"]
        unknown = usage.metrics - set(series) - recorded
        assert not unknown, f"{name}: {sorted(unknown)}"
        assert usage.grouping <= known_labels, f"{name}: {sorted(usage.grouping - known_labels)}"
        for metric, labels in usage.selectors:
            allowed = known_labels
            if metric in series:
                allowed = _series_labels(metric, series[metric])
            assert labels <= allowed, f"{name}: {metric} has no {sorted(labels - allowed)}"
        used |= usage.metrics
    assert {"otel_llm_client_requests_total", "otel_llm:requests:rate5m"} <= used


def test_unit_test_inputs_are_series_an_app_exports(
    series: dict[str, Metric], known_labels: set[str]
) -> None:
    """Unit test inputs are semconv series with their own labels (or a threshold override)."""
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    for path in sorted((PROMETHEUS_DIR / "tests").glob("*.yml")):
        for test in load_yaml(path)["tests"]:
            for item in test["input_series"]:
                usage = promql_usage(item["series"])
                ((metric, labels),) = usage.selectors
                assert metric in series or metric in recorded, f"{path.name}: {metric}"
                allowed = known_labels
                if metric in series:
                    allowed = _metric_labels(series[metric]) | TARGET_LABELS | {"service_name"}
                    allowed |= {"otel_scope_name"} | (
                        {"le"} if metric.endswith("_bucket") else set()
                    )
                assert labels <= allowed, f"{path.name}: {metric} has no {sorted(labels - allowed)}"


def test_dashboard_queries_use_only_semconv_series_and_their_labels(
    series: dict[str, Metric], known_labels: set[str]
) -> None:
    """Each dashboard query reads semconv series (as the exporter names them) and their labels.

    Or the Collectors' own series (dashboards.promql.COLLECTOR_SERIES), with the labels listed
    there: not semconv's, and test_grafana checks that no panel mixes them with ours.
    """
    queries = _dashboard_queries()
    assert len(queries) > 50
    for where, expr in queries:
        usage = promql_usage(expr)
        unknown = usage.metrics - set(series) - COLLECTOR_SERIES.keys()
        assert not unknown, f"{where}: {sorted(unknown)}"
        theirs = usage.metrics & COLLECTOR_SERIES.keys()
        labels_known = known_labels.union(*(COLLECTOR_SERIES[name] for name in theirs))
        grouping = usage.grouping - labels_known
        assert not grouping, f"{where}: {sorted(grouping)}"
        for metric, labels in usage.selectors:
            if metric in COLLECTOR_SERIES:
                allowed = set(COLLECTOR_SERIES[metric]) | TARGET_LABELS
                assert labels <= allowed, f"{where}: {metric} has no {sorted(labels - allowed)}"
                continue
            assert metric in series, f"{where}: selector without a semconv series"
            allowed = _series_labels(metric, series[metric])
            assert labels <= allowed, f"{where}: {metric} has no {sorted(labels - allowed)}"


def test_a_query_naming_an_undefined_label_is_caught(series: dict[str, Metric]) -> None:
    """The check fails on a label the registry does not give the series (not a silent pass)."""
    usage = promql_usage('sum(rate(otel_llm_agent_steps_count{gen_ai_tool_name="x"}[5m]))')
    ((metric, labels),) = usage.selectors
    assert metric == "otel_llm_agent_steps_count"
    assert not labels <= _series_labels(metric, series[metric])
