"""Instrumentor plumbing: providers passed to instrument() become the active Telemetry."""

from otel_llm import _telemetry
from otel_llm.config import ContentCapturingMode, Settings
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
