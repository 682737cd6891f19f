"""The Prometheus config and rules pass promtool, and the unit tests cover and bite every rule."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.collector_config._overlay import (
    ALERTMANAGER_CONFIG,
    PROMETHEUS_DIR,
    REPO_ROOT,
    load_yaml,
)

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package prometheus: `make debs`)"
)
RULES_DIR = PROMETHEUS_DIR / "rules"
UNIT_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
DASHBOARD_UIDS = {
    "otel-llm-overview",
    "otel-llm-release",
    "otel-llm-outliers",
    "otel-llm-safety",
    "otel-llm-tools",
}
RUNBOOK_BASE = "https://github.com/otel-llm/otel-llm/blob/main/docs/alerts.md#"
ANNOTATIONS = {"summary", "description", "runbook_url", "dashboard_url", "trace_search_url"}
_GUARD = re.compile(r"^\s*and\s+\S+\s*>=\s*[\d.]+(?:\s*/\s*\d+)?\s*$")


def _rules(name: str) -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES_DIR / name)["groups"] for rule in group["rules"]]


ALERT_RULES = _rules("alerts.yml")
RECORDING_RULES = _rules("recording.yml")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=180, check=False
    )


def _volume_guards() -> list[tuple[str, int, str]]:
    """(alert, index of its rule in alerts.yml, guard line) for every `and x >= n` line."""
    return [
        (rule["alert"], index, line.strip())
        for index, rule in enumerate(ALERT_RULES)
        for line in rule["expr"].splitlines()
        if _GUARD.match(line)
    ]


def _unit_test_cases() -> tuple[list[str], dict[str, list[int]]]:
    """Every promql_expr_test expression, and per alert the number of expected alerts per case."""
    exprs: list[str] = []
    alerts: dict[str, list[int]] = {}
    for path in UNIT_TESTS:
        for test in load_yaml(path)["tests"]:
            exprs += [case["expr"] for case in test.get("promql_expr_test", [])]
            for case in test.get("alert_rule_test", []):
                alerts.setdefault(case["alertname"], []).append(len(case.get("exp_alerts") or []))
    return exprs, alerts


def _github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the Markdown headings."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+)$", markdown, flags=re.MULTILINE):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return anchors


def _routed_teams(route: dict[str, Any]) -> set[str]:
    teams = set()
    for matcher in route.get("matchers", []):
        match = re.fullmatch(r'team="([^"]+)"', matcher)
        if match:
            teams.add(match.group(1))
    for child in route.get("routes", []):
        teams |= _routed_teams(child)
    return teams


@needs_promtool
def test_config_and_rule_files_pass_promtool_check() -> None:
    """prometheus.yml (with the rule files it loads) and both rule files pass promtool's checks."""
    config = _promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr
    rules = _promtool(
        "check", "rules", str(RULES_DIR / "recording.yml"), str(RULES_DIR / "alerts.yml")
    )
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 2 rule files found" in config.stdout


@needs_promtool
@pytest.mark.parametrize("unit_test", UNIT_TESTS, ids=lambda path: path.name)
def test_rule_unit_tests_pass(unit_test: Path) -> None:
    """Each promtool unit test file passes: recorded values and alerts match, firing and silent."""
    result = _promtool("test", "rules", str(unit_test))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_unit_tests_both_ways() -> None:
    """Every recorded series is checked; every alert fires in one case, stays silent in another."""
    exprs, alerts = _unit_test_cases()
    recorded = {rule["record"] for rule in RECORDING_RULES}
    untested = {
        name
        for name in recorded
        if not any(re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", e) for e in exprs)
    }
    assert not untested
    for name in {rule["alert"] for rule in ALERT_RULES}:
        counts = alerts.get(name, [])
        assert any(counts), f"{name}: no case where it fires"
        assert 0 in counts, f"{name}: no case where it stays silent"
    for path in UNIT_TESTS:
        assert load_yaml(path)["rule_files"] == ["../rules/recording.yml", "../rules/alerts.yml"]


@pytest.mark.parametrize("rule", ALERT_RULES, ids=lambda rule: rule["alert"])
def test_alert_has_routing_labels_runbook_and_links(rule: dict[str, Any]) -> None:
    """An alert has severity, a routed team, the five annotations, a runbook and a dashboard."""
    teams = _routed_teams(load_yaml(ALERTMANAGER_CONFIG)["route"])
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["labels"]["team"] in teams
    annotations = rule["annotations"]
    assert set(annotations) == ANNOTATIONS
    runbook = annotations["runbook_url"]
    assert runbook == RUNBOOK_BASE + rule["alert"].lower()
    anchors = _github_anchors((REPO_ROOT / "docs" / "alerts.md").read_text(encoding="utf-8"))
    assert runbook.removeprefix(RUNBOOK_BASE) in anchors
    dashboard = re.fullmatch(r"http://localhost:3000/d/([\w-]+)\?.*", annotations["dashboard_url"])
    assert dashboard is not None
    assert dashboard.group(1) in DASHBOARD_UIDS
    board = REPO_ROOT / "collector-config" / "grafana" / "dashboards" / f"{dashboard.group(1)}.json"
    variables = {v["name"] for v in json.loads(board.read_text())["templating"]["list"]}
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(annotations["dashboard_url"]).query)
    assert {key.removeprefix("var-") for key in query if key.startswith("var-")} <= variables
    assert annotations["trace_search_url"].startswith("http://localhost:16686/search?service=")


@needs_promtool
@pytest.mark.parametrize(
    ("alert", "index", "guard"),
    _volume_guards(),
    ids=[f"{alert}-{index}-{guard.split()[1]}" for alert, index, guard in _volume_guards()],
)
def test_unit_tests_fail_without_each_volume_guard(
    tmp_path: Path, alert: str, index: int, guard: str
) -> None:
    """Removing any one volume guard from an alert makes its unit tests fail: guards are tested."""
    shutil.copytree(PROMETHEUS_DIR / "tests", tmp_path / "tests")
    (tmp_path / "rules").mkdir()
    shutil.copy(RULES_DIR / "recording.yml", tmp_path / "rules" / "recording.yml")
    document = load_yaml(RULES_DIR / "alerts.yml")
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    lines = rules[index]["expr"].splitlines()
    rules[index]["expr"] = "\n".join(line for line in lines if line.strip() != guard)
    (tmp_path / "rules" / "alerts.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    unit_tests = [
        str(tmp_path / "tests" / path.name)
        for path in UNIT_TESTS
        if f"alertname: {alert}\n" in path.read_text(encoding="utf-8")
    ]
    assert unit_tests
    result = _promtool("test", "rules", *unit_tests)
    assert result.returncode != 0, f"{alert} still passes without `{guard}`"
