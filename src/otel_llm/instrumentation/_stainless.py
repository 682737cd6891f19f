"""What the two Stainless-generated SDKs (openai, anthropic) share: client, errors, results.

Both keep their endpoint on `resource._client.base_url`, take keyword arguments only, raise
`APITimeoutError` and `RateLimitError` (or their HTTP library's timeouts, mid-stream), return
`Stream`/`AsyncStream` objects and offer `with_raw_response`/`with_streaming_response`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation._stainless_raw import RawResponses, observe_raw
from otel_llm.instrumentation.endpoint import CallHandle, ErrorClass, Outcome, RequestInfo
from otel_llm.instrumentation.types import ResponseInfo, get_field
from otel_llm.semconv.attributes.gen_ai import GEN_AI_REQUEST_STREAM
from otel_llm.semconv.attributes.server import SERVER_ADDRESS, SERVER_PORT

__all__ = ["Sdk", "request_info", "server"]

_TIMEOUT = ErrorClass(Outcome.TIMEOUT.value)
_RATE_LIMITED = ErrorClass(Outcome.RATE_LIMITED.value)


def server(resource: Any) -> Mapping[str, AttributeValue]:
    """`server.address` and `server.port` from the base URL of the resource's client."""
    base_url = get_field(get_field(resource, "_client"), "base_url")
    # Cached on the resource per base URL object: it rarely changes, and this runs every call.
    cached = getattr(resource, "_otel_llm_server", None)
    if cached is not None and cached[0] is base_url:
        return cached[1]  # type: ignore[no-any-return]
    host = get_field(base_url, "host")
    attributes: dict[str, AttributeValue] = {}
    if host:
        port = get_field(base_url, "port")
        if port is None:
            port = 443 if get_field(base_url, "scheme") in (None, "https") else 80
        attributes = {SERVER_ADDRESS: str(host), SERVER_PORT: int(port)}
    with contextlib.suppress(AttributeError, TypeError):  # slotted or frozen resources
        resource._otel_llm_server = (base_url, attributes)
    return attributes


def request_info(kwargs: Mapping[str, Any], attributes: dict[str, AttributeValue]) -> RequestInfo:
    """The RequestInfo for call `kwargs`: model, the stream flag, and the given attributes."""
    stream = kwargs.get("stream") is True
    if stream:
        attributes[GEN_AI_REQUEST_STREAM] = True
    model = kwargs.get("model")
    return RequestInfo(
        model=model if isinstance(model, str) else None, attributes=attributes, stream=stream
    )


@dataclass(frozen=True)
class Sdk:
    """One Stainless SDK's classes, read once it is imported (at instrument time)."""

    streams: tuple[type, ...]
    """Its Stream and AsyncStream."""
    timeouts: tuple[type, ...]
    """Its APITimeoutError, and its HTTP library's timeout (raised as such mid-stream)."""
    rate_limited: tuple[type, ...]
    """Its RateLimitError (HTTP 429)."""

    @classmethod
    def of(cls, module: Any) -> Sdk:
        """The classes of SDK `module` (openai or anthropic)."""
        timeouts = [module.APITimeoutError]
        for library in ("httpx", "httpx2"):  # whichever the SDK talks through, imported by it
            http = sys.modules.get(library)
            if http is not None:
                timeouts.append(http.TimeoutException)
        return cls(
            streams=(module.Stream, module.AsyncStream),
            timeouts=tuple(timeouts),
            rate_limited=(module.RateLimitError,),
        )

    def classify(self, exc: BaseException) -> ErrorClass | None:
        """Timeouts (the SDK's and its HTTP library's) and HTTP 429; None for the rest."""
        if isinstance(exc, self.timeouts):
            return _TIMEOUT
        if isinstance(exc, self.rate_limited) or getattr(exc, "status_code", None) == 429:
            return _RATE_LIMITED
        return None

    def stream_finder(
        self, raw: RawResponses, collect: Callable[[Any], None] | None = None
    ) -> Callable[[Any, CallHandle], Any]:
        """An `Endpoint.streams`: SDK streams proxied, `raw` responses read as they are read.

        `collect` gets every stream proxy made (for a stream helper that must end them).
        """
        streams = self.streams

        def find(result: Any, call: CallHandle) -> Any:
            if isinstance(result, streams):
                proxy = call.observe(result)
                if collect is not None:
                    collect(proxy)
                return proxy
            if raw.types and isinstance(result, raw.types):
                # Never `result.parse()`: it can raise (a reply that fails the caller's
                # response_format) and it caches what the caller's own parse() returns. The
                # body is read instead, now or as the caller reads it; the type is kept.
                if not observe_raw(call, raw, result):
                    call.succeed(ResponseInfo())
                return result
            return None

        return find
