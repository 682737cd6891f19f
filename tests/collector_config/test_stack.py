"""End to end on real servers: a faulty app pages through Alertmanager, a clean one stays silent."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.collector_config._stack import ScrapeTarget, Stack, missing_binaries
from tests.collector_config._target import SyntheticApp, Traffic

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(missing_binaries()),
        reason=f"{', '.join(missing_binaries())} not installed (Debian packages: `make debs`)",
    ),
]
BUDGET_S = 60.0


def test_provider_errors_reach_the_webhook_and_a_clean_job_fires_nothing(tmp_path: Path) -> None:
    """10 % provider errors page llm-platform with LLMProviderErrorRateHigh; 0 % fires nothing."""
    started = time.monotonic()
    with (
        SyntheticApp("faulty-bot", Traffic(error_ratio=0.1)) as faulty,
        SyntheticApp("clean-bot", Traffic(error_ratio=0.0)) as clean,
        Stack(tmp_path) as stack,
    ):
        # Targets are added to the running server (config rewrite + reload), as a caller
        # starting one app process per fault would.
        stack.set_targets(
            [ScrapeTarget("faulty-bot", faulty.address), ScrapeTarget("clean-bot", clean.address)]
        )
        alert = stack.wait_for_alert(
            "LLMProviderErrorRateHigh", timeout=BUDGET_S - 15, job="faulty-bot"
        )
        assert alert.receiver == "llm-platform-page"
        assert alert.labels == {
            "alertname": "LLMProviderErrorRateHigh",
            "job": "faulty-bot",
            "gen_ai_provider_name": "openai",
            "gen_ai_request_model": "gpt-4o-mini",
            "gen_ai_prompt_name": "support_answer",
            "gen_ai_prompt_version": "v42",
            "severity": "critical",
            "team": "llm-platform",
        }
        assert alert.annotations["runbook_url"].endswith("docs/alerts.md#llmprovidererrorratehigh")
        (firing,) = stack.rule_alerts(alertname="LLMProviderErrorRateHigh", job="faulty-bot")
        assert firing["state"] == "firing"
        assert 0.07 < float(firing["value"]) < 0.13

        # The clean job was scraped and evaluated the same way, and is below every threshold.
        (ratio,) = stack.wait_for_query(
            'otel_llm:provider_error_ratio:rate5m{job="clean-bot"}', timeout=5
        )
        assert float(ratio["value"][1]) == 0.0
        assert stack.rule_alerts(job="clean-bot") == []
        assert stack.webhook.alerts(job="clean-bot") == []
        assert {a.labels["job"] for a in stack.webhook.alerts()} == {"faulty-bot"}
    assert time.monotonic() - started < BUDGET_S
