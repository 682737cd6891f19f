"""Code-based setup: configure() the OpenTelemetry SDK, instrument() and uninstrument() the SDKs."""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from typing import Any

from opentelemetry._logs import LoggerProvider
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from otel_llm._duplicates import report_duplicates
from otel_llm._telemetry import set_telemetry
from otel_llm.config import apply_exporter_defaults, get_settings

_logger = logging.getLogger("otel_llm")

_lock = threading.Lock()
_configured = False


ENTRY_POINT_GROUP = "opentelemetry_instrumentor"
_OURS = "otel_llm.instrumentation."


def _instrumentors() -> list[Any]:
    """One instrumentor per provider SDK that is installed in a supported version.

    Found through the `opentelemetry_instrumentor` entry points (the ones that are
    otel-llm's), as `opentelemetry-instrument` finds them: a provider module is added to
    otel-llm by declaring its entry point, never by listing it here.
    """
    # Imported here: the dependency checker loads package metadata, too slow for `import otel_llm`.
    from opentelemetry.instrumentation.dependencies import (  # noqa: PLC0415
        get_dependency_conflicts,
    )

    found = []
    for entry_point in _entry_points():
        instrumentor = entry_point.load()()  # our module only: it imports no SDK
        # Checked here, quietly: an SDK that is not installed (or not in a supported version)
        # is simply not instrumented, where instrument() would log an error for it.
        if not get_dependency_conflicts(list(instrumentor.instrumentation_dependencies())):
            found.append(instrumentor)
    return found


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    """otel-llm's instrumentor entry points, in name order (so instrumenting is repeatable)."""
    points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    ours = {point.name: point for point in points if point.value.startswith(_OURS)}
    return [ours[name] for name in sorted(ours)]


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
) -> None:
    """Instrument every installed provider SDK otel-llm supports; calling it again does nothing.

    Providers default to the global ones; pass your own to keep otel-llm's telemetry apart.
    """
    providers = {
        "tracer_provider": tracer_provider,
        "meter_provider": meter_provider,
        "logger_provider": logger_provider,
    }
    with _lock:
        for instrumentor in _instrumentors():
            if not instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.instrument(**providers, skip_dep_check=True)
    report_duplicates()  # e.g. the official OpenAI instrumentation, instrumented by your code


def uninstrument() -> None:
    """Remove all otel-llm instrumentation, restoring the SDK methods exactly."""
    with _lock:
        for instrumentor in _instrumentors():
            if instrumentor.is_instrumented_by_opentelemetry:
                instrumentor.uninstrument()
        set_telemetry(None)


def configure() -> None:
    """Set up the OpenTelemetry SDK from the standard OTEL_* variables, then instrument().

    Does what `opentelemetry-instrument` does, for applications that prefer code: exporters,
    resource and sampler come from the environment (OTLP by default). Idempotent; a no-op when
    OTEL_SDK_DISABLED=true. Global providers that are already set are kept.
    """
    global _configured  # noqa: PLW0603 - process-wide, set once
    if get_settings().sdk_disabled:
        return
    with _lock:
        if _configured:
            return
        from otel_llm.distro import OtelLlmConfigurator  # noqa: PLC0415 - SDK setup is optional

        _warn_if_providers_are_set()
        apply_exporter_defaults()  # OTLP for every signal the user did not choose, as the distro
        OtelLlmConfigurator().configure()  # type: ignore[no-untyped-call]
        _configured = True  # only after success, so a failed configure() can be retried
    instrument()


def _warn_if_providers_are_set() -> None:
    """Say so when another library set the global tracer provider before configure() ran.

    OpenTelemetry lets a global provider be set once: the exporters configure() builds from
    the OTEL_* variables would be attached to a provider nobody uses. otel-llm's processors still
    go in front of the existing provider's exporters (instrument()), so content stays guarded.
    """
    from opentelemetry import trace  # noqa: PLC0415

    current = trace.get_tracer_provider()
    if isinstance(current, trace.ProxyTracerProvider):
        return
    _logger.warning(
        "otel_llm.configure(): a global TracerProvider (%s) was already set, probably by "
        "another library (openlit.init() does when it runs first). It is kept: otel-llm adds "
        "its redaction, cost and upgrade steps in front of its exporters, but the exporters "
        "from the OTEL_* variables are not installed. Call otel_llm.configure() (or run under "
        "opentelemetry-instrument) before that library's setup.",
        type(current).__qualname__,
    )
