"""The Telemetry handle: instruments, installed and removed, and the content mode in force."""

from typing import Any

from opentelemetry import _logs, metrics, trace

from otel_llm import _telemetry
from otel_llm._telemetry import Telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.semconv import SCHEMA_URL
from tests.conftest import make_captured


def test_instruments_are_created_on_the_given_meter() -> None:
    """Every instrument records into the given provider under the registry's metric names."""
    captured = make_captured()
    instruments = captured.telemetry.instruments
    instruments.requests.add(1, {"otel_llm.request.outcome": "success"})
    instruments.inference_duration.record(0.5, {})
    assert captured.metric_points("otel_llm.client.requests")[0].value == 1
    (point,) = captured.metric_points("gen_ai.client.inference.duration")
    assert point.explicit_bounds[0] == 0.01


def test_scope_carries_name_version_and_schema() -> None:
    """Spans are emitted under the otel_llm scope with our schema URL."""
    captured = make_captured()
    with captured.telemetry.tracer.start_as_current_span("x"):
        pass
    (span,) = captured.finished_spans()
    assert span.instrumentation_scope.name == "otel_llm"
    assert span.instrumentation_scope.schema_url == SCHEMA_URL


def test_get_telemetry_falls_back_to_global_providers() -> None:
    """Without an installed Telemetry, one is built on the global (possibly no-op) providers."""
    _telemetry.set_telemetry(None)
    telemetry = _telemetry.get_telemetry()
    assert telemetry is _telemetry.get_telemetry()
    assert isinstance(telemetry.tracer, type(trace.get_tracer("x")))
    assert isinstance(telemetry.meter, type(metrics.get_meter("x")))
    _telemetry.set_telemetry(None)


def test_set_telemetry_installs_and_removes() -> None:
    """set_telemetry makes a Telemetry active; None removes it again."""
    captured = make_captured()
    _telemetry.set_telemetry(captured.telemetry)
    assert _telemetry.get_telemetry() is captured.telemetry
    _telemetry.set_telemetry(None)
    assert _telemetry.get_telemetry() is not captured.telemetry
    _telemetry.set_telemetry(None)


class _ForeignLoggerProvider(_logs.NoOpLoggerProvider):
    """A logger provider that is not the SDK's: otel-llm cannot see what it exports to."""

    def get_logger(self, *args: Any, **kwargs: Any) -> _logs.Logger:
        """A logger of its own kind."""
        return _ForeignLogger("foreign")


class _ForeignLogger(_logs.NoOpLogger):
    """Stands for a vendor's logger that exports records."""


def test_content_mode_drops_only_the_signal_that_cannot_be_guarded() -> None:
    """SPAN_AND_EVENT with the SDK's tracer but a foreign logger: content on spans only."""
    captured = make_captured()
    telemetry = Telemetry.create(
        captured.providers["tracer_provider"],
        captured.providers["meter_provider"],
        _ForeignLoggerProvider(),
        Settings(capture_message_content=ContentCapturingMode.SPAN_AND_EVENT),
    )
    assert telemetry.content_mode() is ContentCapturingMode.SPAN_ONLY


def test_content_mode_is_the_configured_one_without_redaction_or_capture() -> None:
    """Capture off, or redaction switched off (raw content accepted), is read as configured."""
    foreign = _ForeignLoggerProvider()
    for settings in (
        Settings(),
        Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY, redaction_enabled=False),
    ):
        telemetry = Telemetry.create(logger_provider=foreign, settings=settings)
        assert telemetry.content_mode() is settings.capture_message_content
