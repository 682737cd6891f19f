"""Zero-code setup: the distro and configurator `opentelemetry-instrument` loads for otel-llm."""

from __future__ import annotations

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _OTelSDKConfigurator

from otel_llm.config import apply_exporter_defaults


class OtelLlmConfigurator(_OTelSDKConfigurator):
    """Sets up the SDK from OTEL_* variables; otel-llm's processors plug in here."""


class OtelLlmDistro(BaseDistro):  # type: ignore[misc]  # untyped base class
    """Defaults every signal's exporter to OTLP, as the OpenTelemetry distro does."""

    def _configure(self, **kwargs: object) -> None:
        apply_exporter_defaults()
