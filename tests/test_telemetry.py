"""The Telemetry handle: instruments from the generated factories, installed and removed."""

from opentelemetry import metrics, trace

from otel_llm import _telemetry
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
