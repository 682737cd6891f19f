"""Code-based setup: configure() the OpenTelemetry SDK, instrument() and uninstrument() the SDKs."""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from opentelemetry._logs import LoggerProvider
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from otel_llm._duplicates import report_duplicates
from otel_llm._telemetry import set_telemetry
from otel_llm.config import apply_exporter_defaults, get_settings

_lock = threading.Lock()
_configured = False


def _instrumentors() -> list[Any]:
    """One instrumentor per provider SDK that is installed in a supported version."""
    # Imported here: the dependency checker loads package metadata, too slow for `import otel_llm`.
    from opentelemetry.instrumentation.dependencies import (  # noqa: PLC0415
        get_dependency_conflicts,
    )

    from otel_llm.instrumentation.anthropic import SUPPORTED as ANTHROPIC  # noqa: PLC0415
    from otel_llm.instrumentation.anthropic import AnthropicInstrumentor  # noqa: PLC0415
    from otel_llm.instrumentation.openai import SUPPORTED as OPENAI  # noqa: PLC0415
    from otel_llm.instrumentation.openai import OpenAIInstrumentor  # noqa: PLC0415

    found = []
    for package, requirement, instrumentor in (
        ("openai", OPENAI, OpenAIInstrumentor),
        ("anthropic", ANTHROPIC, AnthropicInstrumentor),
    ):
        # Checked here so a provider SDK that is simply not installed is not logged as an error.
        if importlib.util.find_spec(package) is not None and not get_dependency_conflicts(
            [requirement]
        ):
            found.append(instrumentor())
    return found


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: LoggerProvider | None = None,
) -> None:
    """Instrument every installed provider SDK (openai, anthropic); calling it again does nothing.

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

        apply_exporter_defaults()  # OTLP for every signal the user did not choose, as the distro
        OtelLlmConfigurator().configure()  # type: ignore[no-untyped-call]
        _configured = True  # only after success, so a failed configure() can be retried
    instrument()
