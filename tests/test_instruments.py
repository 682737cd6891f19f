"""The metric instruments, and the set the span processors count on (the active Telemetry's)."""

from collections.abc import Iterator

import pytest

from otel_llm import _instruments
from otel_llm._instruments import Instruments, active_instruments, set_active_instruments
from otel_llm._telemetry import get_telemetry, set_telemetry
from tests.conftest import make_captured


@pytest.fixture
def nothing_active() -> Iterator[None]:
    """No Telemetry installed and no instruments active, restored afterwards."""
    set_telemetry(None)
    try:
        yield
    finally:
        set_telemetry(None)


def test_the_active_telemetrys_instruments_are_the_active_set(nothing_active: None) -> None:
    """Installing a Telemetry makes its instruments active; removing it lets them go."""
    captured = make_captured()
    set_telemetry(captured.telemetry)
    assert active_instruments() is captured.telemetry.instruments
    set_telemetry(None)
    assert _instruments._active is None


def test_the_default_telemetry_shares_the_default_instruments(nothing_active: None) -> None:
    """Asked before any Telemetry exists, the set made then is the default Telemetry's too."""
    first = active_instruments()
    assert isinstance(first, Instruments)
    assert get_telemetry().instruments is first
    set_active_instruments(None)
