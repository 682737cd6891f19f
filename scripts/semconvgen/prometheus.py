"""Prometheus names of the semconv/ metrics, as OTLP→Prometheus translation produces them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from semconvgen.model import Metric

__all__ = ["label_name", "metric_family", "series_names"]

# The unit suffixes of the OpenTelemetry→Prometheus compatibility spec that our units use.
# Annotations in braces (`{token}`, `{USD}`) carry no unit and add no suffix.
_UNIT_SUFFIX = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "1": "ratio"}
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def label_name(attribute: str) -> str:
    """The Prometheus label of an attribute key (dots become underscores)."""
    return _INVALID.sub("_", attribute)


def metric_family(metric: Metric) -> str:
    """The family name: dots to underscores, the unit suffix, `_total` for counters."""
    name = _INVALID.sub("_", metric.name)
    suffix = _UNIT_SUFFIX.get(metric.unit)
    if suffix and not name.endswith(f"_{suffix}"):
        name = f"{name}_{suffix}"
    if metric.instrument == "counter":
        name = f"{name}_total"
    return name


def series_names(metrics: Iterable[Metric]) -> Mapping[str, Metric]:
    """Every series name a query may use (`_bucket`/`_count`/`_sum` for histograms), by metric."""
    names: dict[str, Metric] = {}
    for metric in metrics:
        family = metric_family(metric)
        if metric.instrument == "histogram":
            for part in ("_bucket", "_count", "_sum"):
                names[family + part] = metric
        else:
            names[family] = metric
    return names
