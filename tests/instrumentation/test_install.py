"""Instrumentor plumbing: providers passed to instrument() become the active Telemetry."""

import re
from pathlib import Path

import pytest

from otel_llm import _telemetry
from otel_llm.config import ConfigError, ContentCapturingMode, Settings
from otel_llm.instrumentation._install import install_telemetry, unwrap_all
from tests.conftest import make_captured


def test_install_telemetry_uses_given_providers_and_settings() -> None:
    """Spans go to the tracer provider passed in, with the settings passed in."""
    captured = make_captured()
    settings = Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY)
    install_telemetry({**captured.providers, "settings": settings})
    telemetry = _telemetry.get_telemetry()
    assert telemetry.settings is settings
    with telemetry.tracer.start_as_current_span("probe"):
        pass
    assert [s.name for s in captured.finished_spans()] == ["probe"]
    _telemetry.set_telemetry(None)


def test_unwrap_all_restores_wrapped_methods() -> None:
    """unwrap_all puts back what wrapt replaced."""
    import wrapt  # noqa: PLC0415

    class Resource:
        def create(self) -> str:
            return "original"

    original = Resource.__dict__["create"]
    wrapt.wrap_function_wrapper(Resource, "create", lambda w, i, a, k: "wrapped")
    assert Resource().create() == "wrapped"
    unwrap_all([(Resource, "create")])
    assert Resource.__dict__["create"] is original


def test_a_malformed_prices_file_stops_instrument_naming_the_file(tmp_path: Path) -> None:
    """The instrumentation prices its calls, so it reads the prices file at start-up too."""
    path = tmp_path / "prices.yaml"
    path.write_text("models: [not, a, mapping]\n")
    captured = make_captured()
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        install_telemetry({**captured.providers, "settings": Settings(prices_file=str(path))})
    _telemetry.set_telemetry(None)


def test_installed_telemetry_prices_unless_cost_is_disabled() -> None:
    """instrument() gets a pricer; OTEL_LLM_COST_ENABLED=false leaves it out."""
    captured = make_captured()
    assert install_telemetry(captured.providers).price is not None
    assert (
        install_telemetry({**captured.providers, "settings": Settings(cost_enabled=False)}).price
        is None
    )
    _telemetry.set_telemetry(None)
