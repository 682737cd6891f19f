"""One provider instrumented against in-memory telemetry: the fixtures its own test module uses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor
from tests.conftest import Captured, make_captured


def instrument(
    instrumentor: type[ProviderInstrumentor], settings: Settings | None = None
) -> Captured:
    """Instrument with `settings` (None: the defaults, no content) against fresh providers."""
    captured = make_captured(settings)
    instrumentor().instrument(
        **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    return captured


@contextmanager
def instrumenting(
    instrumentor: type[ProviderInstrumentor], settings: Settings | None = None
) -> Iterator[Captured]:
    """`instrument`, uninstrumented when the block ends, however it ends."""
    captured = instrument(instrumentor, settings)
    try:
        yield captured
    finally:
        instrumentor().uninstrument()


def provider_fixtures(instrumentor: type[ProviderInstrumentor]) -> tuple[Any, Any]:
    """The `instrumented` and `with_content` (content on spans) fixtures for one instrumentor.

    A test module binds them to those names: `instrumented, with_content = provider_fixtures(…)`.
    """

    @pytest.fixture(name="instrumented")
    def instrumented() -> Iterator[Captured]:
        """The provider instrumented with default settings, uninstrumented afterwards."""
        with instrumenting(instrumentor) as captured:
            yield captured

    @pytest.fixture(name="with_content")
    def with_content() -> Iterator[Captured]:
        """Like `instrumented`, with content captured on spans."""
        spans_only = Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY)
        with instrumenting(instrumentor, spans_only) as captured:
            yield captured

    return instrumented, with_content


def one_span(captured: Captured) -> Any:
    """The one span finished; an assertion naming them all when there is not exactly one."""
    spans = captured.finished_spans()
    assert len(spans) == 1, [span.name for span in spans]
    return spans[0]
