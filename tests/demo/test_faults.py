"""Fault switches: parsing `name=value`, clear errors, and which switches are active."""

import pytest

from otel_llm.demo.faults import FAULTS, FaultError, Faults, parse_faults


def test_parses_each_switch_and_reports_the_active_ones() -> None:
    """Every documented switch parses into its field; active() lists only non-healthy ones."""
    faults = parse_faults(["errors=0.08", "tool_failures=0.1", "latency=4"])
    assert faults == Faults(errors=0.08, tool_failures=0.1, latency=4.0)
    assert faults.active() == {"errors": 0.08, "latency": 4.0, "tool_failures": 0.1}
    assert Faults().active() == {}
    assert set(FAULTS) == set(Faults.__dataclass_fields__)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bogus=0.1", "unknown fault 'bogus'"),
        ("errors", "errors needs a share of LLM calls from 0 to 1"),
        ("errors=lots", "errors needs a share of LLM calls from 0 to 1"),
        ("errors=1.5", "errors needs a share of LLM calls from 0 to 1"),
        ("errors=nan", "errors needs a share"),
        ("latency=0.5", "latency needs a latency factor from 1 to 100"),
    ],
)
def test_bad_switches_fail_with_a_message_naming_the_problem(spec: str, message: str) -> None:
    """Unknown names, missing or non-numeric values and out-of-range values are rejected."""
    with pytest.raises(FaultError, match=message):
        parse_faults([spec])


def test_a_switch_given_twice_is_an_error() -> None:
    """Repeating a switch is ambiguous, so it is refused rather than silently overridden."""
    with pytest.raises(FaultError, match="given twice"):
        parse_faults(["errors=0.1", "errors=0.2"])
