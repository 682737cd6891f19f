"""Fixtures for the MCP tests: the instrumentor on in-memory providers, the SDK's tracer too."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import mcp.shared._otel
import pytest

from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.mcp import MCPInstrumentor
from tests.conftest import Captured, make_captured

Instrumented = Callable[..., contextlib.AbstractContextManager[Captured]]


@pytest.fixture
def instrumented(monkeypatch: pytest.MonkeyPatch) -> Instrumented:
    """Instrument MCP with content capture `mode`; the SDK's own spans go to the same place.

    The SDK emits spans whenever a tracer provider is set; pointing its tracer at the test's
    provider makes any span it still starts visible, so "recorded once" can fail.
    """

    @contextlib.contextmanager
    def instrumented(
        mode: ContentCapturingMode = ContentCapturingMode.NO_CONTENT,
    ) -> Iterator[Captured]:
        captured = make_captured(Settings(capture_message_content=mode))
        tracer_provider = captured.providers["tracer_provider"]
        monkeypatch.setattr(
            mcp.shared._otel, "_tracer", tracer_provider.get_tracer("mcp-python-sdk")
        )
        instrumentor = MCPInstrumentor()
        instrumentor.instrument(
            **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
        )
        try:
            yield captured
        finally:
            instrumentor.uninstrument()
            set_telemetry(None)

    return instrumented
