"""The gateway's tail-sampling policies, evaluated in Python on a trace's spans.

Read from the shipped gateway.yaml, so the end-to-end tests follow the config: which policies
say "keep" for a trace (status code, latency, OTTL comparisons of one attribute with a number,
numeric and string attributes), and the baseline share of the probabilistic policy. Only the
policy forms the config uses are understood; another form raises, so a new policy cannot be
silently ignored by the tests.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from localstack.collectors import load_deployment
from tests.collector_config._tier import Span

__all__ = ["Policies", "binomial_bound"]

_OTTL = re.compile(r'^attributes\["([^"]+)"\]\s*(>=|<=|>|<|==)\s*(-?\d+(?:\.\d+)?)$')
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class Policies:
    """The keep-policies of one gateway config and its probabilistic baseline share."""

    rules: tuple[tuple[str, Callable[[Sequence[Span]], bool]], ...]
    baseline_share: float
    decision_wait_s: float

    @classmethod
    def from_config(cls, deployment: str = "gateway") -> Policies:
        """The policies of the shipped `deployment` (gateway or gateway-ha)."""
        sampler = load_deployment(deployment)["processors"]["tail_sampling"]
        rules: list[tuple[str, Callable[[Sequence[Span]], bool]]] = []
        baseline = 0.0
        for policy in sampler["policies"]:
            kind, settings = policy["type"], policy.get(policy["type"], {})
            if kind == "probabilistic":
                baseline = settings["sampling_percentage"] / 100
                continue
            rules.append((policy["name"], _rule(kind, settings)))
        wait = str(sampler["decision_wait"])
        if not wait.endswith("s") or wait.endswith("ms"):
            raise ValueError(f"decision_wait {wait!r}: only whole seconds are understood")
        return cls(tuple(rules), baseline, float(wait[:-1]))

    def reasons(self, spans: Sequence[Span]) -> list[str]:
        """The names of the policies that keep this trace (empty: only the baseline may)."""
        return [name for name, rule in self.rules if rule(spans)]


def _rule(kind: str, settings: Mapping[str, Any]) -> Callable[[Sequence[Span]], bool]:
    if kind == "status_code":
        if list(settings["status_codes"]) != ["ERROR"]:
            raise ValueError(f"status codes {settings['status_codes']} are not understood")
        return lambda spans: any(span.error for span in spans)
    if kind == "latency":
        threshold_ns = settings["threshold_ms"] * 1_000_000
        return lambda spans: (
            max(s.end_ns for s in spans) - min(s.start_ns for s in spans) >= threshold_ns
        )
    if kind == "numeric_attribute":
        key, low, high = settings["key"], settings["min_value"], settings["max_value"]

        def numeric(spans: Sequence[Span]) -> bool:
            values = [_number(span.attributes.get(key)) for span in spans]
            return any(v is not None and low <= v <= high for v in values)

        return numeric
    if kind == "string_attribute":
        key, wanted = settings["key"], set(settings["values"])
        return lambda spans: any(span.attributes.get(key) in wanted for span in spans)
    if kind == "ottl_condition":
        conditions = [_OTTL.match(text) for text in settings["span"]]
        if not all(conditions):
            raise ValueError(f"OTTL conditions {settings['span']} are not understood")

        def ottl(spans: Sequence[Span]) -> bool:
            for match in conditions:
                assert match is not None
                key, op, bound = match.group(1), match.group(2), float(match.group(3))
                for span in spans:
                    value = _number(span.attributes.get(key))
                    if value is not None and _COMPARE[op](value, bound):
                        return True
            return False

        return ottl
    raise ValueError(f"policy type {kind} is not understood by the tests")


def binomial_bound(trials: int, share: float, sigmas: float = 4.5) -> tuple[float, float]:
    """The range of kept/trials outside which a fair `share` sampler is implausible.

    `sigmas` standard deviations of a binomial proportion on each side: at 4.5 a correct
    sampler falls outside about once in 150,000 runs.
    """
    deviation = sigmas * math.sqrt(share * (1 - share) / trials)
    return share - deviation, share + deviation
