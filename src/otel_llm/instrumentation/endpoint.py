"""The provider contract: what a provider module tells the engine about one SDK method.

A provider module builds one `Endpoint` per kind of call and lists the SDK methods to wrap
(`otel_llm.instrumentation.instrumentor.Target`); the engine does the rest (span, metrics,
events, streams, content capture, features). Nothing SDK-specific lives in the engine, so
everything an SDK does differently is one of these callables.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from otel_llm._reaper import Moment
from otel_llm.instrumentation.types import Content, ResponseInfo, StreamState
from otel_llm.semconv.attributes import otel_llm as ol

__all__ = [
    "Arguments",
    "CallHandle",
    "Endpoint",
    "ErrorClass",
    "Outcome",
    "RequestInfo",
    "default_error_class",
    "stream_types",
]

Outcome = ol.OtelLlmRequestOutcomeValues
"""The outcomes a call ends with: success, error, timeout, rate_limited, cancelled."""
Arguments = tuple[tuple[Any, ...], dict[str, Any]]
"""A call's positional and keyword arguments."""


@dataclass
class RequestInfo:
    """Facts about a request, known before it is sent; what an endpoint's `request` returns."""

    model: str | None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    """Request attributes for the span (parameters, the stream flag)."""
    stream: bool = False
    """The caller asked for a stream (results are looked into for streams whatever this says)."""
    params: Mapping[str, Any] | None = None
    """The request parameters `content` reads; None: the call's keyword arguments. An SDK
    whose method takes them positionally (botocore's `_make_api_call(operation_name,
    api_params)`) hands them over here."""
    endpoint: Endpoint | None = None
    """The endpoint that records this call, when one wrapped method serves several kinds of
    call (botocore's one hook serves Converse, ConverseStream and InvokeModel for chat and
    embeddings); None: the wrapped method's own. Its `request` is not called again."""


@dataclass(frozen=True, slots=True)
class ErrorClass:
    """How a failed call is counted: its outcome, and its `error.type` when not the class name."""

    outcome: str
    """An `otel_llm.request.outcome` value (Outcome): error, timeout, rate_limited, cancelled."""
    error_type: str | None = None
    """`error.type` on the span and metrics; None: the exception's qualified class name. A
    provider error code (`ThrottlingException`) suits SDKs with one exception class for all."""
    code: str | None = None
    """`otel_llm.error.code`: the provider's own error code (an identifier such as
    `RESOURCE_EXHAUSTED`, never a message) for SDKs whose errors otel-llm does not read
    itself; None: as `otel_llm._failure` reads it (openai's and anthropic's), or none."""


class CallHandle(Protocol):
    """What a provider module may do with the call a result belongs to (the engine's Call).

    Handed to `Endpoint.streams`, which finds the streams in a result, and available to
    provider code that ends calls itself (raw HTTP responses read as the caller reads them).
    """

    @property
    def stream(self) -> bool:
        """The request asked for a stream (RequestInfo.stream)."""

    @property
    def capturing(self) -> bool:
        """Output content is wanted: captured, or read by an online evaluator."""

    @property
    def endpoint(self) -> Endpoint:
        """The endpoint recording the call."""

    @property
    def span(self) -> Span:
        """The call's span (current while the SDK sends the request)."""

    def observe(self, stream: Any, state: StreamState | None = None) -> Any:
        """A transparent proxy for `stream` that ends the call however the stream ends.

        Iterators, iterables, async iterators and (async) generators are all recognised;
        `state` defaults to a new one from the endpoint's `stream_state`.
        """

    def on_chunk(self, state: StreamState, chunk: Any) -> None:
        """Note one chunk read (timing) and pass it to `state`."""

    def succeed(self, info: ResponseInfo, *, at: Moment | None = None) -> None:
        """End the call with its response (idempotent, as are fail and abandon).

        `at`: when it ended, if not now (a stream ended on the worker after it was dropped).
        """

    def fail(
        self, exc: BaseException, info: ResponseInfo | None = None, *, at: Moment | None = None
    ) -> None:
        """End the call with the exception that ended it."""

    def abandon(self, info: ResponseInfo, *, at: Moment | None = None) -> None:
        """End a call the caller gave up on (a stream closed or dropped early): not an error."""


def _no_response(result: Any, capture: bool) -> ResponseInfo:
    return ResponseInfo()


@dataclass(frozen=True)
class Endpoint:
    """One kind of GenAI call, as the engine needs to know it.

    Only `operation`, `provider` and `request` are required. Every callable is guarded: a bug
    in it is logged and never reaches the caller (under our own tests it is raised).
    """

    operation: str
    """`gen_ai.operation.name`: chat, text_completion and generate_content get the inference
    metrics (tokens, time to first chunk); embeddings get their input tokens counted."""
    provider: str | Callable[[Any], str]
    """`gen_ai.provider.name`, or a function of the client (resource) instance giving it."""
    request: Callable[[Any, tuple[Any, ...], Mapping[str, Any]], RequestInfo | None]
    """(instance, positional args, keyword args) -> the request's facts; None: not a GenAI
    call (e.g. an S3 call through botocore's shared hook), which then runs unrecorded."""
    response: Callable[[Any, bool], ResponseInfo] = _no_response
    """(result, capture content) -> the response's facts, for a result that is no stream."""
    streams: Callable[[Any, CallHandle], Any] | None = None
    """(result, call) -> the result to hand back with each stream in it replaced by
    `call.observe(stream)`; None when the result holds no stream (it is then read by
    `response`). A provider may also end `call` itself and return the result as it is."""
    stream_state: Callable[[bool], StreamState] | None = None
    """(capture content) -> a fresh accumulator for one stream's chunks."""
    content: Callable[[Mapping[str, Any]], Content] | None = None
    """Request parameters -> request content; called only when content is captured."""
    server: Callable[[Any], Mapping[str, AttributeValue]] | None = None
    """Client (resource) instance -> `server.address` and `server.port`."""
    classify: Callable[[BaseException], ErrorClass | None] | None = None
    """Exception -> how the provider's failure is counted; None: `default_error_class`."""
    metric_attributes: tuple[str, ...] = ()
    """Response attribute keys that are also metric dimensions (low-cardinality only)."""
    stream_usage: Callable[[tuple[Any, ...], Mapping[str, Any]], Arguments | None] | None = None
    """(args, kwargs) of a streamed call -> (args, kwargs) asking the provider to report the
    stream's usage, or None to leave the call alone (only with OTEL_LLM_STREAM_USAGE=true)."""
    strip_usage: Callable[[Any], bool] | None = None
    """A chunk the stream state has seen -> True when it is one only `stream_usage` made the
    provider send (it is then not passed on to the caller). Chunks are never changed."""


def stream_types(*types: type) -> Callable[[Any, CallHandle], Any]:
    """An `Endpoint.streams` for SDKs whose streamed result is itself the stream."""

    def streams(result: Any, call: CallHandle) -> Any:
        return call.observe(result) if isinstance(result, types) else None

    return streams


_CANCELLED = (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError, concurrent.futures.TimeoutError)


def default_error_class(exc: BaseException) -> ErrorClass:
    """The outcome of an exception no provider classified: cancelled, timeout or error."""
    if isinstance(exc, _CANCELLED):
        return _CANCELLED_CLASS
    if isinstance(exc, _TIMEOUTS):
        return _TIMEOUT_CLASS
    return _ERROR_CLASS


_CANCELLED_CLASS = ErrorClass(Outcome.CANCELLED.value)
_TIMEOUT_CLASS = ErrorClass(Outcome.TIMEOUT.value)
_ERROR_CLASS = ErrorClass(Outcome.ERROR.value)
