"""The default processor chain: what is installed, in which order, and start-up errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm.config import ConfigError, ContentCapturingMode, Settings
from otel_llm.processors.content import ContentDropLogRecordProcessor, ContentDropSpanProcessor
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


def test_default_chain_is_content_drop_upgrade_derive_redaction_cost() -> None:
    """By default: content drop, upgrade, derived metrics, redaction, cost, then the exporter."""
    assert _chain(Settings()) == [
        ContentDropSpanProcessor,
        SemconvUpgradeSpanProcessor,
        DerivedMetricsSpanProcessor,
        RedactionSpanProcessor,
        CostSpanProcessor,
        SimpleSpanProcessor,
    ]


def test_upgrade_can_be_switched_off_and_metrics_are_still_derived() -> None:
    """Without the upgrade, the derived-metrics step reads foreign names through the table."""
    pipeline: Any = build_span_pipeline(
        SimpleSpanProcessor(InMemorySpanExporter()), Settings(semconv_upgrade=False)
    )
    chain = pipeline.next
    assert isinstance(chain, DerivedMetricsSpanProcessor)
    assert chain._normalise is not None


@pytest.mark.parametrize(
    "mode", [ContentCapturingMode.SPAN_ONLY, ContentCapturingMode.SPAN_AND_EVENT]
)
def test_content_on_spans_passes_to_redaction(mode: ContentCapturingMode) -> None:
    """With content captured on spans, other libraries' content is kept (and redacted)."""
    assert _chain(Settings(capture_message_content=mode))[:2] == [
        SemconvUpgradeSpanProcessor,
        DerivedMetricsSpanProcessor,
    ]


def test_switches_remove_processors() -> None:
    """Redaction and cost can each be switched off; the content drop and metrics steps stay."""
    assert _chain(Settings(redaction_enabled=False, cost_enabled=False)) == [
        ContentDropSpanProcessor,
        SemconvUpgradeSpanProcessor,
        DerivedMetricsSpanProcessor,
        SimpleSpanProcessor,
    ]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(), [ContentDropLogRecordProcessor, RedactionLogRecordProcessor]),
        (
            Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY),
            [ContentDropLogRecordProcessor, RedactionLogRecordProcessor],
        ),
        (
            Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY),
            [RedactionLogRecordProcessor],
        ),
        (Settings(redaction_enabled=False), [ContentDropLogRecordProcessor]),
    ],
)
def test_log_pipeline_drops_content_and_redacts(settings: Settings, expected: list[type]) -> None:
    """Log records lose other libraries' content unless events capture it, then are redacted."""
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor  # noqa: PLC0415

    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    processor: Any = build_log_pipeline(SimpleLogRecordProcessor(exporter), settings)
    kinds = []
    while hasattr(processor, "next"):
        kinds.append(type(processor))
        processor = processor.next
    assert kinds == expected


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
    assert first.next.next.next.redactor is second.next.next.next.redactor
    assert first.next.next.next.next._prices is second.next.next.next.next._prices


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
            "otel_llm.processors._content_keys",
            "otel_llm.processors._export",
            "otel_llm.processors._ledger",
            "otel_llm.processors._provider",
            "otel_llm.processors._rollup",
            "otel_llm.processors._span_metrics",
            "otel_llm.processors.content",
            "otel_llm.processors.foreign",
            "otel_llm.processors.pipeline",
            "otel_llm.processors.upgrade",
        ]
    )
