"""Shared instrumentor plumbing: install the Telemetry from instrument() kwargs, undo wrapping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.instrumentation.utils import unwrap

from otel_llm._telemetry import Telemetry, set_telemetry


def install_telemetry(kwargs: Mapping[str, Any]) -> Telemetry:
    """The Telemetry for `Instrumentor().instrument(...)` kwargs (providers, else the globals).

    Each instrumentor binds its own into its wrappers, so two instrumentors given different
    providers never send each other's calls to the wrong place. It also becomes the active one
    for manual spans and processors. It prices the calls (unless cost is disabled): every call,
    sampled or not, so the cost metrics never depend on trace sampling.
    """
    telemetry = Telemetry.create(
        tracer_provider=kwargs.get("tracer_provider"),
        meter_provider=kwargs.get("meter_provider"),
        logger_provider=kwargs.get("logger_provider"),
        settings=kwargs.get("settings"),
        pricing=True,
    )
    set_telemetry(telemetry)
    return telemetry


def unwrap_all(wrapped: Iterable[tuple[Any, str]]) -> None:
    """Restore every (class, method) that instrumentation wrapped, exactly as it was."""
    for owner, method in wrapped:
        unwrap(owner, method)
