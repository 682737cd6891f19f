"""The provider contract: the generic error classes and the simple stream finder."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import pytest

from otel_llm.instrumentation.endpoint import (
    Endpoint,
    ErrorClass,
    RequestInfo,
    default_error_class,
    stream_types,
)
from otel_llm.instrumentation.types import StreamState


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (asyncio.CancelledError(), "cancelled"),
        (KeyboardInterrupt(), "cancelled"),
        (GeneratorExit(), "cancelled"),
        (TimeoutError("read"), "timeout"),
        (concurrent.futures.TimeoutError(), "timeout"),
        (ConnectionResetError("peer"), "error"),
        (ValueError("Timeout in the name does not make a timeout"), "error"),
    ],
)
def test_default_error_class(error: BaseException, outcome: str) -> None:
    """Without a provider's word: cancellations, real timeouts, and errors for the rest."""
    assert default_error_class(error) == ErrorClass(outcome)


def test_an_exception_named_timeout_is_not_guessed_to_be_one() -> None:
    """Class names are not read: a provider says which of its exceptions are timeouts."""

    class ReadTimeoutError(Exception):
        pass

    assert default_error_class(ReadTimeoutError()).outcome == "error"


class Recorded:
    """A stand-in CallHandle that wraps what it observes in a tuple."""

    def observe(self, stream: Any, state: StreamState | None = None) -> Any:
        return ("observed", stream)


def test_stream_types_observes_only_results_of_those_types() -> None:
    """The simple finder proxies a result of a stream type and leaves the rest (None)."""
    find = stream_types(list)
    assert find([1], Recorded()) == ("observed", [1])  # type: ignore[arg-type]
    assert find({"a": 1}, Recorded()) is None  # type: ignore[arg-type]


def test_an_endpoint_needs_only_operation_provider_and_request() -> None:
    """Everything else has a default: no content, no streams, generic errors, empty response."""
    endpoint = Endpoint(
        operation="chat", provider="x", request=lambda i, a, k: RequestInfo(model=None)
    )
    assert endpoint.response(object(), True).usage is None
    assert endpoint.streams is None
    assert endpoint.content is None
    assert endpoint.classify is None
