"""PromQL for the dashboards: raw semconv series only, with Grafana variables as regex matchers."""

from __future__ import annotations

from collections.abc import Sequence

RATE = "$__rate_interval"
RANGE = "$__range"

SERVICE = ('job=~"$job"',)
"""The service: `job` is the scrape job (direct scrape) or `service.name` (Collector exporter).

Variable names (`job`, `model`, `prompt_name`, `prompt_version`, `tool`) are the `var-...` URL
parameters the alert annotations in collector-config/prometheus/rules/alerts.yml link with.
"""
PROMPT = ('gen_ai_prompt_name=~"$prompt_name"', 'gen_ai_prompt_version=~"$prompt_version"')
"""The prompt template and its version."""
CALLS = (
    *SERVICE,
    'gen_ai_provider_name=~"$provider"',
    'gen_ai_request_model=~"$model"',
    *PROMPT,
)
"""Every GenAI client call metric: provider, model and prompt template."""
SAFETY_EVALUATIONS = "pii_in_output|safety_.*|policy_.*"
"""Evaluation names that are safety or policy checks; every other evaluation is a quality one."""
QUALITY = f'gen_ai_evaluation_name!~"{SAFETY_EVALUATIONS}"'
SAFETY = f'gen_ai_evaluation_name=~"{SAFETY_EVALUATIONS}"'
SUCCESS = 'otel_llm_request_outcome="success"'
FAILED = 'otel_llm_request_outcome!="success"'

COLLECTOR_SERIES: dict[str, frozenset[str]] = {
    "otelcol_exporter_sent_spans": frozenset({"exporter"}),
    "otelcol_exporter_send_failed_spans": frozenset({"exporter"}),
    "otelcol_exporter_enqueue_failed_spans": frozenset({"exporter"}),
    "otelcol_exporter_queue_size": frozenset({"exporter", "data_type"}),
    "otelcol_exporter_queue_capacity": frozenset({"exporter", "data_type"}),
    "otelcol_receiver_refused_spans": frozenset({"receiver", "transport"}),
}
"""The Collectors' own metrics (service.telemetry, pulled on :8888) the dashboards read, and
their labels, as otelcol-llm 0.161.0 names them (counters without `_total`). Prometheus scrapes
each Collector under its own `job`; they are not semconv series."""


def sel(*matchers: str | Sequence[str]) -> str:
    """A `{...}` label selector from matcher strings and tuples of them."""
    flat: list[str] = []
    for matcher in matchers:
        flat.extend([matcher] if isinstance(matcher, str) else matcher)
    return "{" + ", ".join(flat) + "}"


def rate(series: str, selector: str, window: str = RATE) -> str:
    """`rate(series{...}[window])`."""
    return f"rate({series}{selector}[{window}])"


def increase(series: str, selector: str, window: str = RANGE) -> str:
    """`increase(series{...}[window])`, by default over the dashboard's whole range."""
    return f"increase({series}{selector}[{window}])"


def total(inner: str, by: Sequence[str] = ()) -> str:
    """`sum (inner)` or `sum by (labels) (inner)`."""
    return f"sum by ({', '.join(by)}) ({inner})" if by else f"sum ({inner})"


def quantile(
    q: float, histogram: str, selector: str, by: Sequence[str] = (), window: str = RATE
) -> str:
    """The q-quantile of a histogram family (`histogram` without `_bucket`) per `by` group."""
    buckets = total(rate(f"{histogram}_bucket", selector, window), ("le", *by))
    return f"histogram_quantile({q}, {buckets})"


def mean(histogram: str, selector: str, by: Sequence[str] = (), window: str = RATE) -> str:
    """The mean observation of a histogram family per `by` group."""
    sums = total(rate(f"{histogram}_sum", selector, window), by)
    counts = total(rate(f"{histogram}_count", selector, window), by)
    return f"{sums} / {counts}"


def share(series: str, part: str, whole: str, by: Sequence[str] = (), window: str = RATE) -> str:
    """The fraction of `whole` that matches `part`, 0 (not absent) for groups with no `part`."""
    numerator = total(rate(series, part, window), by)
    denominator = total(rate(series, whole, window), by)
    return f"({numerator} or {denominator} * 0) / {denominator}"
