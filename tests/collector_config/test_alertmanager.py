"""alertmanager.yml passes amtool, routes each alert right, inhibits and groups in a real server."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.collector_config._overlay import (
    ALERTMANAGER_CONFIG,
    PROMETHEUS_DIR,
    load_yaml,
    scale_alertmanager_config,
)
from tests.collector_config._stack import Stack, missing_binaries

AMTOOL = shutil.which("amtool")
needs_amtool = pytest.mark.skipif(
    AMTOOL is None, reason="amtool is not installed (Debian package prometheus-alertmanager)"
)
needs_servers = pytest.mark.skipif(
    bool(missing_binaries()),
    reason=f"{', '.join(missing_binaries())} not installed (Debian packages: `make debs`)",
)

EXPECTED_RECEIVER = {
    "LLMProviderErrorRateHigh": "llm-platform-page",
    "LLMTimeoutRateHigh": "llm-platform-ticket",
    "LLMLatencyP95High": "llm-platform-ticket",
    "LLMCostSpike": "finops-ticket",
    "LLMEvalPassRateLow": "ai-quality-ticket",
    "LLMSafetyViolation": "trust-safety-page",
    "LLMPromptReleaseRegression": "ai-quality-page",
    "LLMToolFailureRateHigh": "llm-platform-ticket",
    "LLMAgentRunaway": "llm-platform-ticket",
}
"""Where each shipped alert must go: critical pages, warning goes to the team's ticket queue."""

RELEASE = {
    "job": "support-bot",
    "gen_ai_provider_name": "openai",
    "gen_ai_request_model": "gpt-4o-mini",
    "gen_ai_prompt_name": "support_answer",
    "gen_ai_prompt_version": "v42",
}


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert AMTOOL is not None
    return subprocess.run([AMTOOL, *args], capture_output=True, text=True, timeout=60, check=False)


def _alert_labels() -> list[dict[str, str]]:
    """The alert name and static labels of every rule in alerts.yml."""
    document = load_yaml(PROMETHEUS_DIR / "rules" / "alerts.yml")
    return [
        {"alertname": rule["alert"], **rule["labels"]}
        for group in document["groups"]
        for rule in group["rules"]
    ]


def _postable(alertname: str, **labels: str) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {
        "labels": {"alertname": alertname, **labels},
        "annotations": {"summary": alertname},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }


def _wait(condition: Any, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


@needs_amtool
def test_config_passes_amtool_check(tmp_path: Path) -> None:
    """The shipped config and its test overlay both pass `amtool check-config`."""
    result = _amtool("check-config", str(ALERTMANAGER_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    overlay = tmp_path / "alertmanager.yml"
    scaled = scale_alertmanager_config(load_yaml(ALERTMANAGER_CONFIG), 30, "http://127.0.0.1:9/a")
    overlay.write_text(yaml.safe_dump(scaled))
    result = _amtool("check-config", str(overlay))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_amtool
@pytest.mark.parametrize("labels", _alert_labels(), ids=lambda labels: labels["alertname"])
def test_each_alert_routes_to_its_team_and_severity_receiver(labels: dict[str, str]) -> None:
    """`amtool config routes test` sends each shipped alert, with its labels, to its receiver."""
    result = _amtool(
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"--verify.receivers={EXPECTED_RECEIVER[labels['alertname']]}",
        *(f"{key}={value}" for key, value in {**labels, **RELEASE}.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_amtool
@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["team=llm-platform", "severity=critical"], "llm-platform-page"),
        (["team=llm-platform", "severity=warning"], "llm-platform-ticket"),
        (["team=ai-quality", "severity=critical"], "ai-quality-page"),
        (["team=ai-quality", "severity=info"], "ai-quality-ticket"),
        (["team=trust-safety", "severity=warning"], "trust-safety-page"),
        (["team=finops", "severity=critical"], "finops-ticket"),
        (["team=someone-else", "severity=critical"], "default"),
        (["severity=critical"], "default"),
    ],
)
def test_routing_tree_by_team_then_severity(labels: list[str], receiver: str) -> None:
    """Team picks the branch, severity the page or ticket receiver; unknown teams go to default."""
    result = _amtool(
        "config",
        "routes",
        "test",
        f"--config.file={ALERTMANAGER_CONFIG}",
        f"--verify.receivers={receiver}",
        "alertname=Anything",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_servers
def test_provider_outage_inhibits_latency_eval_and_release_alerts(tmp_path: Path) -> None:
    """In a real Alertmanager, LLMProviderErrorRateHigh mutes only the alerts it explains."""
    platform = {"severity": "warning", "team": "llm-platform"}
    quality = {"severity": "warning", "team": "ai-quality"}
    source = _postable(
        "LLMProviderErrorRateHigh", **RELEASE, severity="critical", team="llm-platform"
    )
    muted = {
        "same model latency": _postable(
            "LLMLatencyP95High", **RELEASE, latency_scope="llm_call", **platform
        ),
        "same model evals": _postable("LLMEvalPassRateLow", **RELEASE, **quality),
        "workflow latency": _postable(
            "LLMLatencyP95High",
            job="support-bot",
            gen_ai_workflow_name="support_chat",
            latency_scope="workflow",
            **platform,
        ),
        "same prompt release": _postable(
            "LLMPromptReleaseRegression",
            job="support-bot",
            gen_ai_prompt_name="support_answer",
            gen_ai_prompt_version="v43",
            severity="critical",
            team="ai-quality",
        ),
    }
    delivered = {
        "other model": _postable(
            "LLMLatencyP95High",
            **{**RELEASE, "gen_ai_request_model": "claude-sonnet-4-6"},
            latency_scope="llm_call",
            **platform,
        ),
        "other job": _postable(
            "LLMEvalPassRateLow", **{**RELEASE, "job": "billing-bot"}, **quality
        ),
        "not a target": _postable(
            "LLMToolFailureRateHigh", job="support-bot", gen_ai_tool_name="crm", **platform
        ),
        "other prompt": _postable(
            "LLMPromptReleaseRegression",
            job="support-bot",
            gen_ai_prompt_name="classify_intent",
            gen_ai_prompt_version="v8",
            severity="critical",
            team="ai-quality",
        ),
    }
    with Stack(tmp_path, with_prometheus=False) as stack:
        stack.post_alerts([source, *muted.values(), *delivered.values()])

        def status(alert: dict[str, Any]) -> dict[str, Any]:
            for candidate in stack.alertmanager_alerts():
                if candidate["labels"] == alert["labels"]:
                    found: dict[str, Any] = candidate["status"]
                    return found
            return {}

        _wait(
            lambda: all(status(a).get("inhibitedBy") for a in muted.values()),
            timeout=15,
            message=f"not all inhibited: {stack.alertmanager_alerts()}",
        )
        _wait(
            lambda: len(stack.webhook.alerts()) >= 1 + len(delivered),
            timeout=15,
            message=f"not all delivered: {stack.webhook.notifications()}",
        )
        received = {(a.receiver, tuple(sorted(a.labels.items()))) for a in stack.webhook.alerts()}
        expected = {
            (receiver, tuple(sorted(alert["labels"].items())))
            for alert, receiver in [
                (source, "llm-platform-page"),
                (delivered["other model"], "llm-platform-ticket"),
                (delivered["other job"], "ai-quality-ticket"),
                (delivered["not a target"], "llm-platform-ticket"),
                (delivered["other prompt"], "ai-quality-page"),
            ]
        }
        assert received == expected
        assert not any(status(a).get("inhibitedBy") for a in delivered.values())


@needs_servers
def test_notifications_group_by_alert_release_and_model(tmp_path: Path) -> None:
    """Alerts differing only outside the group labels share a notification; other models do not."""
    labels = {**RELEASE, "latency_scope": "llm_call", "severity": "warning", "team": "llm-platform"}
    first = _postable("LLMLatencyP95High", **labels)
    same_group = _postable("LLMLatencyP95High", **{**labels, "gen_ai_provider_name": "azure"})
    other_model = _postable("LLMLatencyP95High", **{**labels, "gen_ai_request_model": "gpt-4.1"})
    with Stack(tmp_path, with_prometheus=False) as stack:
        stack.post_alerts([first, same_group, other_model])
        _wait(
            lambda: len(stack.webhook.alerts()) >= 3,
            timeout=15,
            message=f"not all delivered: {stack.webhook.notifications()}",
        )
        notifications = stack.webhook.notifications()
        sizes = sorted(len(payload["alerts"]) for _, payload in notifications)
        assert sizes == [1, 2]
        group_keys = {key for _, payload in notifications for key in payload["groupLabels"]}
        assert group_keys == {
            "alertname",
            "job",
            "gen_ai_prompt_name",
            "gen_ai_prompt_version",
            "gen_ai_request_model",
        }
