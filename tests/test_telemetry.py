"""The Telemetry handle: instruments, installed and removed, and the content mode in force."""

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_llm
from otel_llm import _guard, _telemetry
from otel_llm._telemetry import Telemetry, get_telemetry, set_telemetry
from otel_llm.config import ConfigError, ContentCapturingMode, Settings
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors.pipeline import build_log_pipeline, build_span_pipeline
from otel_llm.semconv import SCHEMA_URL
from tests.conftest import make_captured
from tests.instrumentation import _fakes as fakes


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


# --- the SDK's attribute length limits ----------------------------------------------------------

LIMIT = 1000
LIMITED_EMAIL = "zqxjkwvbmt.plorfex@quorvandix.com"
LIMITED_CARD = "4111 1111 1111 1111"


def _limited_providers(source: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """A tracer and a logger provider cutting attribute values to LIMIT characters."""
    if source == "environment":
        monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", str(LIMIT))
        return TracerProvider(), LoggerProvider()
    if source == "span and log-record variables":
        monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", str(LIMIT))
        monkeypatch.setenv("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", str(LIMIT + 500))
        # Span events follow the global limit, here the SDK's default (none).
        return TracerProvider(), LoggerProvider()
    return (
        TracerProvider(span_limits=SpanLimits(max_attribute_length=LIMIT)),
        LoggerProvider(log_record_limits=LogRecordLimits(max_attribute_length=LIMIT)),
    )


def _everything(spans: InMemorySpanExporter, logs: InMemoryLogRecordExporter) -> str:
    """Every attribute, event, status and log record exported, as one text."""
    out = []
    for span in spans.get_finished_spans():
        out.append(span.status.description or "")
        out.append(json.dumps(dict(span.attributes or {}), ensure_ascii=False, default=str))
        for event in span.events:
            out.append(json.dumps(dict(event.attributes or {}), ensure_ascii=False, default=str))
    for data in logs.get_finished_logs():
        record = data.log_record
        out.append(json.dumps(dict(record.attributes or {}), ensure_ascii=False, default=str))
        out.append(json.dumps(record.body, ensure_ascii=False, default=str))
    return "\n".join(out)


@pytest.mark.parametrize("source", ["environment", "span and log-record variables", "code"])
def test_an_sdk_length_limit_never_exports_part_of_a_finding(
    source: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Content near the SDK's limit is redacted, then cut, by otel-llm: never cut by the SDK.

    The review's positions: a finding starting 930 to 999 characters into a tool result, an
    exception message, and a chat input (on the span and the event).
    """
    monkeypatch.setattr(_guard, "_warned", set())
    tracer_provider, logger_provider = _limited_providers(source, monkeypatch)
    settings = Settings(capture_message_content=ContentCapturingMode.SPAN_AND_EVENT)
    spans = InMemorySpanExporter()
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    tracer_provider.add_span_processor(build_span_pipeline(SimpleSpanProcessor(spans), settings))
    logger_provider.add_log_record_processor(
        build_log_pipeline(SimpleLogRecordProcessor(logs), settings)
    )
    providers = {"tracer_provider": tracer_provider, "logger_provider": logger_provider}
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        OpenAIInstrumentor().instrument(**providers, settings=settings, skip_dep_check=True)
    try:
        assert get_telemetry().settings.max_content_bytes == LIMIT
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))

        def tool_result(text: str) -> None:
            with otel_llm.tool("t") as handle:
                handle.set_result(text)

        def exception_message(text: str) -> None:
            with contextlib.suppress(ValueError), otel_llm.tool("t"):
                raise ValueError(text)

        def chat_input(text: str) -> None:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": text}])

        leaks = []
        for emit in (tool_result, exception_message, chat_input):
            for needle in (LIMITED_EMAIL, LIMITED_CARD):
                for position in range(930, 1000):
                    spans.clear()
                    logs.clear()
                    emit("a" * position + " " + needle + " tail")
                    if needle[:12] in _everything(spans, logs):
                        leaks.append((emit.__name__, needle, position))
    finally:
        OpenAIInstrumentor().uninstrument()
        set_telemetry(None)
    assert leaks == []
    (warning,) = [
        r.getMessage() for r in caplog.records if "cuts attribute values" in r.getMessage()
    ]
    assert f"to {LIMIT} characters" in warning
    assert "raise or unset the limit" in warning
    assert "OTEL_LLM_MAX_CONTENT_BYTES" in warning


def test_no_length_limit_keeps_the_content_budget_and_says_nothing(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an SDK limit (the default) the budget is OTEL_LLM_MAX_CONTENT_BYTES, silently."""
    monkeypatch.setattr(_guard, "_warned", set())
    settings = Settings(max_content_bytes=4096)
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        telemetry = Telemetry.create(TracerProvider(), None, LoggerProvider(), settings)
    assert telemetry.settings is settings
    assert not [r for r in caplog.records if "cuts attribute values" in r.getMessage()]
