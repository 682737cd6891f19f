"""What provider modules hand the engine: request and response facts, stream accumulators."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry.util.types import AttributeValue

from otel_llm.semconv.attributes.gen_ai import GEN_AI_REQUEST_STREAM as _REQUEST_STREAM
from otel_llm.semconv.attributes.server import SERVER_ADDRESS as _SERVER_ADDRESS
from otel_llm.semconv.attributes.server import SERVER_PORT as _SERVER_PORT


def get_field(obj: Any, name: str) -> Any:
    """Field `name` of an SDK object (attribute) or of user-passed params (a mapping), else None."""
    # SDK objects are the common case: try attribute access before the (slow) Mapping ABC check.
    if type(obj) is dict:
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None and isinstance(obj, Mapping):
        return obj.get(name)
    return value


def server_attributes(resource: Any) -> dict[str, AttributeValue]:
    """`server.address` and `server.port` from the base URL of an SDK resource's client."""
    base_url = get_field(get_field(resource, "_client"), "base_url")
    # Cached on the resource per base URL object: it rarely changes, and this runs every call.
    cached = getattr(resource, "_otel_llm_server", None)
    if cached is not None and cached[0] is base_url:
        return dict(cached[1])
    host = get_field(base_url, "host")
    attributes: dict[str, AttributeValue] = {}
    if host:
        port = get_field(base_url, "port")
        if port is None:
            port = 443 if get_field(base_url, "scheme") in (None, "https") else 80
        attributes = {_SERVER_ADDRESS: str(host), _SERVER_PORT: int(port)}
    with contextlib.suppress(AttributeError, TypeError):  # slotted or frozen resources
        resource._otel_llm_server = (base_url, attributes)
    return dict(attributes)


def request_info(kwargs: Mapping[str, Any], attributes: dict[str, AttributeValue]) -> RequestInfo:
    """The RequestInfo for call `kwargs`: model, the stream flag, and the given attributes."""
    stream = kwargs.get("stream") is True
    if stream:
        attributes[_REQUEST_STREAM] = True
    model = kwargs.get("model")
    return RequestInfo(
        model=model if isinstance(model, str) else None, attributes=attributes, stream=stream
    )


@dataclass(frozen=True)
class Usage:
    """Token counts as the provider billed them (None where it did not report one)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    def __post_init__(self) -> None:
        # SDK responses are built without validation: a count may arrive as a string, a float
        # or an absurd number. Such a value is dropped here, not recorded or summed.
        for name in _TOKEN_FIELDS:
            value = getattr(self, name)
            if value is not None and token_count(value) is None:
                object.__setattr__(self, name, None)


_TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
_MAX_TOKENS = 2**63 - 1  # OTLP's int64


def token_count(value: object) -> int | None:
    """`value` if it is a plausible token count (an int in [0, 2**63), not a bool), else None."""
    if type(value) is int and 0 <= value <= _MAX_TOKENS:
        return value
    return None


@dataclass
class RequestInfo:
    """Facts about a request, known before it is sent."""

    model: str | None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    """Request attributes for the span (parameters, stream flag, server address and port)."""
    stream: bool = False


@dataclass
class ResponseInfo:
    """Facts about a response, known once it (or its stream) has ended."""

    response_id: str | None = None
    model: str | None = None
    finish_reasons: tuple[str, ...] = ()
    usage: Usage | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    """Provider-specific response attributes (e.g. OpenAI service tier, fingerprint)."""
    output: Any = None
    """The structured output messages, filled only when content is captured."""


@dataclass(frozen=True)
class Content:
    """Structured content of a request, in the upstream JSON shapes (only built when captured)."""

    input_messages: Any = None
    system_instructions: Any = None
    tool_definitions: Any = None


class StreamState(Protocol):
    """Accumulates what the engine needs from a stream's chunks; kept cheap per chunk."""

    def on_chunk(self, chunk: Any) -> None:
        """Take one chunk (called for every chunk, in order)."""

    def result(self) -> ResponseInfo:
        """What the stream amounted to, at its end (however it ended)."""


@dataclass(frozen=True)
class Endpoint:
    """One instrumented SDK method, described by its provider module.

    The engine calls `request` before the call, `response` on a non-stream result and
    `stream_state` for a stream; the content callables run only when content is captured.
    """

    operation: str
    provider: Callable[[Any], str]
    """The provider name for a client (resource) instance, e.g. openai vs azure.ai.openai."""
    request: Callable[[Any, Mapping[str, Any]], RequestInfo]
    """(resource instance, call kwargs) -> request facts."""
    response: Callable[[Any, bool], ResponseInfo]
    """(result, capture content) -> response facts."""
    stream_types: tuple[type, ...] = ()
    """Result types that are streams (wrapped in a transparent proxy)."""
    stream_state: Callable[[bool], StreamState] | None = None
    """(capture content) -> a fresh accumulator for one stream."""
    content: Callable[[Mapping[str, Any]], Content] | None = None
    """Call kwargs -> request content."""
    metric_attributes: tuple[str, ...] = ()
    """Response attribute keys that are also metric dimensions (low-cardinality only)."""
    raw_types: tuple[type, ...] = ()
    """Raw-response wrappers (`with_raw_response`, `with_streaming_response`): results whose
    `http_response` body is read as JSON (`response` gets a dict), or as server-sent events
    (`stream_state` gets each event's JSON as an attribute view), as the caller reads it."""
    final_events: frozenset[str] = frozenset()
    """SSE event names that end a raw stream's reply (besides `data: [DONE]`)."""
    stream_error: Callable[[str | None, Any, Any], BaseException | None] | None = None
    """(SSE event name, event data, HTTP response) -> the exception the SDK's stream raises for
    that event, or None; lets a raw stream that carried an error event end as failed."""
    stream_usage: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None
    """Streamed call kwargs -> the same kwargs asking the provider for usage, or None to leave
    the call alone (used only when OTEL_LLM_STREAM_USAGE opts in)."""
    strip_usage: Callable[[Any], bool] | None = None
    """Removes the usage that `stream_usage` asked for from a chunk the stream state has seen;
    True when the chunk carried nothing else (it is then not passed on to the caller)."""
