"""Prometheus names of semconv/ metrics match what a real OTel Prometheus exporter writes."""

from pathlib import Path

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry, generate_latest

from semconvgen.model import Metric, load_registry
from semconvgen.prometheus import label_name, metric_family, series_names


def test_label_names_replace_dots() -> None:
    """Attribute keys become labels with every non-[a-zA-Z0-9_:] character as `_`."""
    assert label_name("gen_ai.prompt.version") == "gen_ai_prompt_version"
    assert label_name("error.type") == "error_type"


def test_every_metric_name_matches_the_sdk_exporter(repo_root: Path) -> None:
    """For every semconv metric, the OTel SDK's Prometheus exporter writes exactly our name."""
    registry = load_registry(repo_root / "semconv")
    prom_registry = CollectorRegistry(auto_describe=True)
    reader = PrometheusMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        prom_registry.register(reader._collector)
        meter = provider.get_meter("names")
        for metric in registry.metrics:
            if metric.instrument == "histogram":
                meter.create_histogram(metric.name, unit=metric.unit).record(1)
            else:
                meter.create_counter(metric.name, unit=metric.unit).add(1)
        text = generate_latest(prom_registry).decode()
    finally:
        provider.shutdown()
    written = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
    expected = set(series_names(registry.metrics))
    assert expected <= written, sorted(expected - written)
    assert "otel_llm_client_cost_total" in expected
    assert "gen_ai_client_inference_duration_seconds_bucket" in expected


@pytest.mark.parametrize(
    ("name", "unit", "instrument", "family"),
    [
        ("otel_llm.client.request.cost", "{USD}", "histogram", "otel_llm_client_request_cost"),
        ("otel_llm.client.requests", "{request}", "counter", "otel_llm_client_requests_total"),
        ("gen_ai.execute_tool.duration", "s", "histogram", "gen_ai_execute_tool_duration_seconds"),
    ],
)
def test_family_names(name: str, unit: str, instrument: str, family: str) -> None:
    """Curly-brace units add no suffix, `s` adds `_seconds`, counters end in `_total`."""
    metric = Metric(name, "x", instrument, unit, "double", "", "f", ())
    assert metric_family(metric) == family
