"""The Telemetry handle: instruments, installed and removed, and the content mode in force."""

from pathlib import Path
from typing import Any

import pytest
from opentelemetry import _logs, metrics, trace

from otel_llm import _telemetry
from otel_llm._telemetry import Telemetry
from otel_llm.config import ConfigError, ContentCapturingMode, Settings
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


def test_redactor_follows_the_redaction_setting() -> None:
    """The Telemetry carries a Redactor when redaction is on and none when it is off."""
    assert make_captured(Settings(redaction_enabled=True)).telemetry.redactor is not None
    off = make_captured(Settings(redaction_enabled=False)).telemetry
    assert off.redactor is None
    assert off.redact("write to john.doe@example.com") == "write to john.doe@example.com"


def test_redact_counts_its_findings_as_the_processor_does() -> None:
    """Findings redacted before a cut are counted in otel_llm.redaction.findings by kind."""
    captured = make_captured(Settings(redaction_enabled=True))
    text = captured.telemetry.redact("john.doe@example.com and jane@example.org")
    assert text == "[REDACTED:email] and [REDACTED:email]"
    (point,) = captured.metric_points("otel_llm.redaction.findings")
    assert (dict(point.attributes), point.value) == ({"otel_llm.redaction.kind": "email"}, 2)


def test_a_bad_redaction_config_fails_when_the_telemetry_is_built(tmp_path: Path) -> None:
    """The redaction config file is read at set-up, naming the file, as the pipeline does."""
    config = tmp_path / "redaction.yaml"
    config.write_text("disabled: [emails]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=str(config)):
        _telemetry.Telemetry.create(settings=Settings(redaction_config=str(config)))
