"""Fault switches for the demo: one per production failure the alerts must catch."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["FAULTS", "FaultError", "Faults", "parse_faults"]


@dataclass(frozen=True)
class _Switch:
    """One fault switch: what it breaks, what its value means, and the range allowed."""

    help: str
    unit: str
    low: float
    high: float


FAULTS: Mapping[str, _Switch] = MappingProxyType(
    {
        "errors": _Switch("the provider answers HTTP 500", "share of LLM calls", 0, 1),
        "rate_limits": _Switch("the provider answers HTTP 429", "share of LLM calls", 0, 1),
        "timeouts": _Switch("the provider hangs past the client timeout", "share of calls", 0, 1),
        "latency": _Switch("the provider is slower, with a heavier tail", "latency factor", 1, 100),
        "cost_spike": _Switch(
            "the app stuffs the whole knowledge base into the prompt", "share of requests", 0, 1
        ),
        "eval_regression": _Switch(
            "canary prompt v42 stops citing its sources", "share of v42 answers", 0, 1
        ),
        "pii": _Switch(
            "answers leak a customer's e-mail and phone (a safety violation)",
            "share of answers",
            0,
            1,
        ),
        "tool_failures": _Switch("crm_account_lookup raises", "share of tool calls", 0, 1),
    }
)


class FaultError(ValueError):
    """A --fault switch that is unknown, malformed or out of range."""


@dataclass(frozen=True)
class Faults:
    """The active faults; every value 0 (or 1 for `latency`) means healthy."""

    errors: float = 0.0
    rate_limits: float = 0.0
    timeouts: float = 0.0
    latency: float = 1.0
    cost_spike: float = 0.0
    eval_regression: float = 0.0
    pii: float = 0.0
    tool_failures: float = 0.0

    def active(self) -> dict[str, float]:
        """The switches that differ from healthy, by name."""
        healthy = Faults()
        return {
            name: getattr(self, name)
            for name in FAULTS
            if getattr(self, name) != getattr(healthy, name)
        }


def parse_faults(specs: Iterable[str]) -> Faults:
    """Faults from `name=value` strings (`errors=0.08`); FaultError says what is wrong."""
    values: dict[str, float] = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip()
        if name not in FAULTS:
            known = ", ".join(FAULTS)
            raise FaultError(f"unknown fault {name!r} in {spec!r}; known faults: {known}")
        switch = FAULTS[name]
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not sep or not math.isfinite(value) or not switch.low <= value <= switch.high:
            example = 0.1 if switch.high <= 1 else 4
            raise FaultError(
                f"fault {spec!r}: {name} needs a {switch.unit} from {switch.low:g} to "
                f"{switch.high:g}, e.g. {name}={example:g}"
            )
        if name in values:
            raise FaultError(f"fault {name!r} given twice")
        values[name] = value
    return Faults(**values)
