"""The default processor chain: what is installed, in which order, and start-up errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm.config import ConfigError, Settings
from otel_llm.processors.cost import CostSpanProcessor
from otel_llm.processors.foreign import DerivedMetricsSpanProcessor
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline, span_pipeline
from otel_llm.processors.redaction import RedactionLogRecordProcessor, RedactionSpanProcessor
from otel_llm.processors.upgrade import SemconvUpgradeSpanProcessor


def _chain(settings: Settings) -> list[type]:
    processor = build_span_pipeline(SimpleSpanProcessor(InMemorySpanExporter()), settings)
    kinds = []
    while hasattr(processor, "next"):
        kinds.append(type(processor))
        processor = processor.next
    return [*kinds, type(processor)]


def test_default_chain_is_upgrade_derive_redaction_cost() -> None:
    """By default: upgrade, derived metrics, redaction, cost, then the exporter's processor."""
    assert _chain(Settings()) == [
        SemconvUpgradeSpanProcessor,
        DerivedMetricsSpanProcessor,
        RedactionSpanProcessor,
        CostSpanProcessor,
        SimpleSpanProcessor,
    ]


def test_upgrade_can_be_switched_off_and_metrics_are_still_derived() -> None:
    """Without the upgrade, the derived-metrics step reads foreign names through the table."""
    chain: Any = build_span_pipeline(
        SimpleSpanProcessor(InMemorySpanExporter()), Settings(semconv_upgrade=False)
    )
    assert isinstance(chain, DerivedMetricsSpanProcessor)
    assert chain._normalise is not None


def test_switches_remove_processors() -> None:
    """Redaction and cost can each be switched off; the metrics step always stays."""
    assert _chain(Settings(redaction_enabled=False, cost_enabled=False)) == [
        SemconvUpgradeSpanProcessor,
        DerivedMetricsSpanProcessor,
        SimpleSpanProcessor,
    ]


def test_log_pipeline_redacts() -> None:
    """Log records get the redaction processor (GenAI events carry content)."""
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor  # noqa: PLC0415

    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    assert isinstance(
        build_log_pipeline(SimpleLogRecordProcessor(exporter), Settings()),
        RedactionLogRecordProcessor,
    )


def test_bad_price_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    """A malformed price override file fails the pipeline build with the file's path."""
    prices = tmp_path / "prices.yaml"
    prices.write_text("models: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=str(prices)):
        build_span_pipeline(
            SimpleSpanProcessor(InMemorySpanExporter()), Settings(prices_file=str(prices))
        )


def test_one_factory_wraps_each_exporter_with_the_same_data() -> None:
    """span_pipeline loads the redactor and price book once; each exporter gets its own chain."""
    wrap = span_pipeline(Settings())
    first: Any = wrap(SimpleSpanProcessor(InMemorySpanExporter()))
    second: Any = wrap(SimpleSpanProcessor(InMemorySpanExporter()))
    assert first is not second
    assert first.next.next.redactor is second.next.next.redactor
    assert first.next.next.next._prices is second.next.next.next._prices


_IMPORTS = """
import sys
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from otel_llm.config import Settings
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline, span_pipeline
settings = Settings(redaction_enabled=False, cost_enabled=False, semconv_upgrade=False)
build_span_pipeline(SimpleSpanProcessor(InMemorySpanExporter()), settings)
build_log_pipeline(SimpleLogRecordProcessor(InMemoryLogRecordExporter()), settings)
heavy = ("genai_prices", "re2", "otel_llm.cost", "otel_llm.redaction", "otel_llm.processors")
print(sorted(m for m in sys.modules if m.startswith(heavy)))
"""


def test_steps_turned_off_are_not_imported() -> None:
    """With redaction, cost and upgrade off, neither their processors nor their data load.

    The derived-metrics step stays (it reads foreign names through the upgrade table).
    """
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split("\n")[0] == str(
        [
            "otel_llm.processors",
            "otel_llm.processors._base",
            "otel_llm.processors._ledger",
            "otel_llm.processors.foreign",
            "otel_llm.processors.pipeline",
            "otel_llm.processors.upgrade",
        ]
    )
