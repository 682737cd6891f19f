"""Metrics recorded from another library's span: outcome classification, exception types."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import Event
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from otel_llm.processors._span_metrics import (
    derived_outcome,
    exception_type,
    records_own_durations,
)


@pytest.mark.parametrize(
    ("attributes", "failed", "outcome"),
    [
        ({}, False, "success"),
        ({"error.type": "openai.APITimeoutError"}, True, "timeout"),
        ({"error.type": "RateLimitError"}, True, "rate_limited"),
        ({"error.type": "google_llm._ResourceExhaustedError"}, True, "rate_limited"),
        ({"error.type": "DEADLINE_EXCEEDED"}, True, "timeout"),
        ({"error.type": "strands.types.exceptions.ModelThrottledException"}, True, "rate_limited"),
        ({"http.response.status_code": 429, "error.type": "HTTPError"}, True, "rate_limited"),
        ({"error.type": "asyncio.CancelledError"}, True, "cancelled"),
        ({"error.type": "InternalServerError"}, True, "error"),
        ({}, True, "error"),
    ],
)
def test_outcomes_are_classified_as_ours_are(
    attributes: dict[str, Any], failed: bool, outcome: str
) -> None:
    """error.type and HTTP status map to the request outcome classes the alerts use."""
    assert derived_outcome(attributes, failed) == outcome


def test_the_last_exception_event_gives_the_type() -> None:
    """The type of the last `exception` event with one; None when no event says."""
    events = [
        Event("exception", {"exception.type": "ValueError"}),
        Event("retry", {"exception.type": "NotAnException"}),
        Event("exception", {"exception.type": "openai.RateLimitError"}),
        Event("exception", {"exception.message": "no type"}),
    ]
    assert exception_type(events) == "openai.RateLimitError"
    assert exception_type([Event("exception", {"exception.type": ""})]) is None
    assert exception_type([]) is None


@pytest.mark.parametrize(
    ("name", "version", "own"),
    [
        ("gcp.vertex.agent", "2.4.0", True),
        ("gcp.vertex.agent", "2.13.0", True),
        ("gcp.vertex.agent", "2.3.9", False),
        ("gcp.vertex.agent", None, False),
        ("gcp.vertex.agent", "2.10.0rc1", True),
        ("pydantic-ai", "2.78.0", False),
    ],
)
def test_emitters_recording_their_own_durations_by_version(
    name: str, version: str | None, own: bool
) -> None:
    """Google ADK records tool/agent/workflow durations itself from 2.4 on; others do not."""
    assert records_own_durations(InstrumentationScope(name, version)) is own
    assert records_own_durations(None) is False
