"""Tests for the generated otel_llm.semconv modules: constants, enums, factories and upgrades."""

import importlib
from collections.abc import Callable
from enum import Enum
from types import ModuleType
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader

from otel_llm.semconv import upgrades
from semconvgen.generate import enum_class_name, python_name
from semconvgen.model import Registry


def _module(kind: str, namespace: str) -> ModuleType:
    return importlib.import_module(f"otel_llm.semconv.{kind}.{namespace}")


def test_every_attribute_has_a_constant(registry: Registry) -> None:
    """Each registry attribute is a `Final` constant holding its key, in its namespace module."""
    for attribute in registry.attributes.values():
        module = _module("attributes", attribute.namespace)
        assert getattr(module, python_name(attribute.key)) == attribute.key


def test_enum_members_match_the_registry(registry: Registry) -> None:
    """Each attribute with members has a `...Values` Enum with exactly those values."""
    for attribute in registry.attributes.values():
        if not attribute.members:
            continue
        enum_class = getattr(
            _module("attributes", attribute.namespace), enum_class_name(attribute.key)
        )
        assert issubclass(enum_class, Enum)
        assert [m.value for m in enum_class] == [m.value for m in attribute.members]


@pytest.fixture
def reader_and_meter() -> tuple[InMemoryMetricReader, Any]:
    """A real SDK meter whose readings can be inspected."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    return reader, provider.get_meter("test")


def test_factories_create_the_declared_instruments(
    registry: Registry, reader_and_meter: tuple[InMemoryMetricReader, Any]
) -> None:
    """Each factory makes its declared instrument; histograms aggregate with declared buckets."""
    reader, meter = reader_and_meter
    for metric in registry.metrics:
        module = _module("metrics", metric.namespace)
        factory: Callable[[Any], Any] = getattr(
            module, f"create_{python_name(metric.name).lower()}"
        )
        instrument = factory(meter)
        if metric.instrument == "histogram":
            instrument.record(1, {})
        else:
            instrument.add(1, {})
    data = reader.get_metrics_data()
    assert data is not None
    exported = {m.name: m for m in data.resource_metrics[0].scope_metrics[0].metrics}
    assert set(exported) == {m.name for m in registry.metrics}
    for metric in registry.metrics:
        got = exported[metric.name]
        assert (got.unit, got.description) == (metric.unit, metric.brief)
        point = got.data.data_points[0]
        if metric.instrument == "histogram":
            assert isinstance(point, HistogramDataPoint)
            assert tuple(point.explicit_bounds) == metric.bucket_boundaries


def test_metric_attribute_sets_match_registry(registry: Registry) -> None:
    """`<METRIC>_ATTRIBUTES` lists exactly the registry's attributes for that metric."""
    for metric in registry.metrics:
        module = _module("metrics", metric.namespace)
        allowed = getattr(module, f"{python_name(metric.name)}_ATTRIBUTES")
        assert allowed == frozenset(r.attribute.key for r in metric.attributes)


def test_event_constants_match_registry(registry: Registry) -> None:
    """Each event has a name constant and, where declared, its severity number."""
    for event in registry.events:
        module = _module("events", event.namespace)
        const = python_name(event.name)
        assert getattr(module, const) == event.name
        if event.severity_number is not None:
            assert getattr(module, f"{const}_SEVERITY_NUMBER") == event.severity_number


def test_upgrade_table_is_complete_data(registry: Registry) -> None:
    """The generated upgrade tuples hold every row of upgrades.yaml, in order, per section."""
    sections = {
        "attribute": upgrades.ATTRIBUTE_UPGRADES,
        "attribute_pattern": upgrades.ATTRIBUTE_PATTERN_UPGRADES,
        "metric": upgrades.METRIC_UPGRADES,
        "event": upgrades.EVENT_UPGRADES,
    }
    for kind, rows in sections.items():
        expected = [(u.from_, u.to, u.action) for u in registry.upgrades if u.kind == kind]
        assert [(r.old, r.new, r.action) for r in rows] == expected
        assert rows, kind


def test_upgrade_table_covers_known_renames() -> None:
    """Key renames a processor relies on are present with their targets and value maps."""
    by_old = {u.old: u for u in upgrades.ATTRIBUTE_UPGRADES}
    assert by_old["gen_ai.system"].new == "gen_ai.provider.name"
    assert ("az.ai.openai", "azure.ai.openai") in by_old["gen_ai.system"].values
    assert by_old["gen_ai.usage.cache_creation.input_tokens"].new == (
        "gen_ai.usage.cache_write.input_tokens"
    )
    assert by_old["gen_ai.usage.prompt_tokens"].new == "gen_ai.usage.input_tokens"
    metrics = {u.old: u for u in upgrades.METRIC_UPGRADES}
    token_usage = metrics["gen_ai.client.token.usage"]
    assert token_usage.split_attribute == "gen_ai.token.type"
    assert ("input", "gen_ai.client.inference.usage.input_tokens") in token_usage.values
    origins = {o for u in upgrades.ATTRIBUTE_UPGRADES for o in u.origins}
    assert origins == {"otel-genai-core", "openllmetry", "openlit", "openinference"}
