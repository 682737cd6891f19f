"""The demo's pipeline: memory, OTLP/JSON files, a real /metrics endpoint, and a clean close."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import openai

from otel_llm.config import Settings
from otel_llm.demo.provider import Behaviour, SimulatedProvider
from otel_llm.demo.telemetry import (
    DemoTelemetry,
    RecentSpans,
    metric_export_interval_ms,
    otlp_endpoint,
)

_UNWRAPPED = openai.resources.chat.completions.Completions.create


def test_one_call_reaches_memory_files_and_prometheus(tmp_path: Path) -> None:
    """A chat call shows in memory, in traces.jsonl (priced) and on /metrics; close() undoes all."""
    telemetry = DemoTelemetry(Settings(), tmp_path, prometheus_port=0)
    try:
        with SimulatedProvider(Behaviour(time_scale=0.0, seed=2)) as provider:
            client = openai.OpenAI(base_url=provider.base_url_openai, api_key="x", max_retries=0)
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
        telemetry.flush()
        with urllib.request.urlopen(telemetry.prometheus_url, timeout=5) as response:  # noqa: S310
            scraped = response.read().decode()
        [span] = telemetry.spans.get()
    finally:
        telemetry.close()
    assert span.name == "chat gpt-4o-mini"
    assert "otel_llm_client_requests_total{" in scraped
    assert 'otel_llm_request_outcome="success"' in scraped
    assert "gen_ai_client_inference_duration_seconds_bucket{" in scraped
    assert "otel_llm_client_cost_total{" in scraped
    assert telemetry.traces_path is not None
    assert telemetry.metrics_path is not None
    [line] = telemetry.traces_path.read_text().splitlines()
    [written] = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    keys = {a["key"] for a in written["attributes"]}
    assert "otel_llm.cost.total" in keys  # The cost processor ran before the file exporter.
    resource = json.loads(line)["resourceSpans"][0]["resource"]["attributes"]
    assert {"key": "service.name", "value": {"stringValue": "support-chatbot"}} in resource
    assert '"name":"otel_llm.client.requests"' in telemetry.metrics_path.read_text()
    assert openai.resources.chat.completions.Completions.create is _UNWRAPPED


def test_without_an_output_dir_nothing_is_written(tmp_path: Path) -> None:
    """Endless runs keep telemetry in memory (bounded) and write no files."""
    telemetry = DemoTelemetry(Settings(), None)
    telemetry.close()
    assert telemetry.traces_path is None
    assert list(tmp_path.iterdir()) == []


def test_recent_spans_forget_the_oldest() -> None:
    """The in-memory store is bounded: only the newest spans are kept."""
    store = RecentSpans(limit=2)
    spans: list[Any] = ["a", "b", "c"]
    store.export(spans)
    assert list(store.get()) == spans[1:]


def test_otlp_endpoint_from_the_standard_variables() -> None:
    """The generic or the traces-specific OTLP endpoint turns OTLP export on."""
    assert otlp_endpoint({}) is None
    assert otlp_endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}) == "http://c:4317"
    assert otlp_endpoint({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:4318"}) == "http://t:4318"


def test_metric_export_interval_follows_the_standard_variable() -> None:
    """OTEL_METRIC_EXPORT_INTERVAL sets the OTLP metric interval; unset or invalid means 5 s."""
    assert metric_export_interval_ms({}) == 5_000
    assert metric_export_interval_ms({"OTEL_METRIC_EXPORT_INTERVAL": "500"}) == 500
    for invalid in ("", "0", "-1", "1.5", "soon"):
        assert metric_export_interval_ms({"OTEL_METRIC_EXPORT_INTERVAL": invalid}) == 5_000
