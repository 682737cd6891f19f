"""The config overlay rewrites only durations; what it writes still passes promtool and amtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from localstack.overlay import (
    ALERTMANAGER_CONFIG,
    PROMETHEUS_DIR,
    ScrapeTarget,
    load_yaml,
    parse_duration,
    project_rule_files,
    prometheus_flags,
    scale_alertmanager_config,
    scale_duration,
    scale_prometheus_config,
    scale_promql,
    scale_rules,
    write_prometheus_overlay,
)

_DURATION_TOKEN = re.compile(r"(?<![\w.])(?:\d+(?:ms|[ywdhms]))+(?![\w])")


@pytest.mark.parametrize(
    ("text", "milliseconds"),
    [("5m", 300_000), ("1h30m", 5_400_000), ("1d", 86_400_000), ("250ms", 250), ("0s", 0)],
)
def test_parse_duration(text: str, milliseconds: int) -> None:
    """Prometheus durations, compound ones included, parse to milliseconds."""
    assert parse_duration(text) == milliseconds


@pytest.mark.parametrize("text", ["", "5", "m5", "5 m", "1.5h", "5mx"])
def test_parse_duration_rejects_non_durations(text: str) -> None:
    """Anything that is not a whole Prometheus duration raises instead of being misread."""
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        parse_duration(text)


def test_scale_duration_divides_and_rounds_to_milliseconds() -> None:
    """Durations are divided by the speedup, in whole milliseconds, never below 1 ms unless 0."""
    assert scale_duration("5m", 30) == "10000ms"
    assert scale_duration("15s", 30) == "500ms"
    assert scale_duration("1ms", 30) == "1ms"
    assert scale_duration("0s", 30) == "0s"


def test_speedup_one_leaves_every_file_as_written() -> None:
    """At speedup 1 (the local stack) rules and Alertmanager timings keep their exact text."""
    assert scale_duration("1h30m", 1) == "1h30m"
    for path in project_rule_files():
        assert scale_rules(load_yaml(path), 1) == load_yaml(path)
    original = load_yaml(ALERTMANAGER_CONFIG)
    scaled = scale_alertmanager_config(original, 1, "http://h:1/alerts")
    assert scaled["route"] == original["route"]
    assert scaled["global"] == original["global"]
    assert prometheus_flags(1) == [
        "--query.lookback-delta=5m",
        "--rules.alert.resend-delay=1m",
        "--enable-feature=exemplar-storage",
    ]


def test_unscaled_prometheus_overlay_loads_the_project_rule_files(tmp_path: Path) -> None:
    """At speedup 1 prometheus.yml points at the shipped rule files and keeps its intervals."""
    targets = [ScrapeTarget("support-bot", "127.0.0.1:9464")]
    path = write_prometheus_overlay(tmp_path, 1, alertmanager="127.0.0.1:9093", targets=targets)
    config = load_yaml(path)
    assert config["rule_files"] == [str(rules) for rules in project_rule_files()]
    assert config["global"] == load_yaml(PROMETHEUS_DIR / "prometheus.yml")["global"]
    assert not (tmp_path / "rules").exists()


def test_scale_promql_rewrites_ranges_subqueries_and_offsets_only() -> None:
    """Range selectors, subqueries and offsets scale; string literals and numbers stay as is."""
    expr = 'max_over_time(rate(a{x="[5m] offset 1h"}[5m])[1h:1m] offset 1d) > 300 and b offset -10m'
    assert scale_promql(expr, 60) == (
        'max_over_time(rate(a{x="[5m] offset 1h"}[5000ms])[60000ms:1000ms] offset 1440000ms)'
        " > 300 and b offset -10000ms"
    )
    assert scale_promql("rate(a[5m:])", 60) == "rate(a[5000ms:])"


def test_project_rules_overlay_changes_nothing_but_durations() -> None:
    """Overlaid rules equal the shipped ones once every duration token is blanked out."""
    for path in project_rule_files():
        original = load_yaml(path)
        scaled = scale_rules(original, 30)
        for group, new_group in zip(original["groups"], scaled["groups"], strict=True):
            assert group.keys() == new_group.keys()
            for rule, new_rule in zip(group["rules"], new_group["rules"], strict=True):
                assert rule.keys() == new_rule.keys()
                assert _DURATION_TOKEN.sub("D", rule["expr"]) == _DURATION_TOKEN.sub(
                    "D", new_rule["expr"]
                )
                if "for" in rule:
                    assert parse_duration(new_rule["for"]) * 30 == parse_duration(rule["for"])
                assert {k: v for k, v in rule.items() if k not in ("expr", "for")} == {
                    k: v for k, v in new_rule.items() if k not in ("expr", "for")
                }
        assert scaled != original


def test_alertmanager_overlay_scales_timings_and_redirects_every_receiver() -> None:
    """Route timings shrink by the speedup and each receiver posts to the test webhook by name."""
    scaled = scale_alertmanager_config(load_yaml(ALERTMANAGER_CONFIG), 30, "http://h:1/alerts")
    assert scaled["route"]["group_wait"] == "1000ms"
    assert scaled["route"]["repeat_interval"] == "480000ms"
    urls = {
        receiver["name"]: [config["url"] for config in receiver["webhook_configs"]]
        for receiver in scaled["receivers"]
    }
    assert urls == {name: [f"http://h:1/alerts/{name}"] for name in urls}
    assert len(urls) == 7


def test_alertmanager_overlay_refuses_receivers_it_cannot_redirect() -> None:
    """A non-webhook integration raises rather than silently paging a real system from a test."""
    document = {
        "route": {"receiver": "pager"},
        "receivers": [{"name": "pager", "pagerduty_configs": [{"routing_key": "x"}]}],
    }
    with pytest.raises(ValueError, match="pagerduty_configs"):
        scale_alertmanager_config(document, 30, "http://h:1")


def test_prometheus_flags_scale_lookback_and_resend_delay() -> None:
    """Prometheus' lookback delta (5m) and alert resend delay (1m) shrink; exemplars are kept."""
    assert prometheus_flags(30) == [
        "--query.lookback-delta=10000ms",
        "--rules.alert.resend-delay=2000ms",
        "--enable-feature=exemplar-storage",
    ]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_written_prometheus_overlay_passes_promtool(tmp_path: Path) -> None:
    """The overlay's prometheus.yml and rewritten rule files pass `promtool check config`."""
    targets = [ScrapeTarget("a", "127.0.0.1:9001"), ScrapeTarget("b", "127.0.0.1:9002")]
    path = write_prometheus_overlay(tmp_path, 30, alertmanager="127.0.0.1:9093", targets=targets)
    config = load_yaml(path)
    assert [job["job_name"] for job in config["scrape_configs"]] == ["a", "b"]
    assert config["global"]["scrape_interval"] == "500ms"
    assert config["global"]["evaluation_interval"] == "500ms"
    promtool = shutil.which("promtool")
    assert promtool is not None
    result = subprocess.run(
        [promtool, "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (PROMETHEUS_DIR / "rules").resolve() not in [
        Path(name).resolve().parent for name in config["rule_files"]
    ]


def test_a_target_may_have_its_own_scrape_interval() -> None:
    """A target's own interval becomes its job's scrape interval and timeout, unscaled."""
    config = scale_prometheus_config(
        {"global": {"scrape_interval": "15s"}},
        30,
        rule_files=[],
        alertmanager="127.0.0.1:9093",
        targets=[ScrapeTarget("big", "127.0.0.1:1", interval="2s"), ScrapeTarget("small", "x:2")],
    )
    big, small = config["scrape_configs"]
    assert (big["scrape_interval"], big["scrape_timeout"]) == ("2s", "2s")
    assert "scrape_interval" not in small
    assert config["global"]["scrape_interval"] == "500ms"
