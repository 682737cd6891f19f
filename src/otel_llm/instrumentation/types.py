"""The facts of a GenAI call that provider modules, the engine, pricing and processors share."""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from opentelemetry.util.types import AttributeValue

from otel_llm.semconv.attributes.server import SERVER_ADDRESS as _SERVER_ADDRESS
from otel_llm.semconv.attributes.server import SERVER_PORT as _SERVER_PORT

__all__ = [
    "Content",
    "ResponseInfo",
    "StreamState",
    "Usage",
    "get_field",
    "server_attributes",
    "token_count",
]


def get_field(obj: Any, name: str) -> Any:
    """Field `name` of an SDK object (attribute) or of user-passed params (a mapping), else None."""
    # SDK objects are the common case: try attribute access before the (slow) Mapping ABC check.
    if type(obj) is dict:
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None and isinstance(obj, Mapping):
        return obj.get(name)
    return value


_MAX_TOKENS = 2**63 - 1  # OTLP's int64


def token_count(value: object) -> int | None:
    """`value` if it is a plausible token count (an int in [0, 2**63), not a bool), else None."""
    if type(value) is int and 0 <= value <= _MAX_TOKENS:
        return value
    return None


_TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


@dataclass(frozen=True)
class Usage:
    """Token counts as the provider billed them (None where it did not report one).

    `input_tokens` is the whole input, cached tokens included; `output_tokens` the whole
    output, reasoning tokens included (upstream's definitions).
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    def __post_init__(self) -> None:
        """Drop counts that are not plausible token counts."""
        # SDK responses are built without validation: a count may arrive as a string, a float
        # or an absurd number. Such a value is dropped here, not recorded or summed.
        for name in _TOKEN_FIELDS:
            value = getattr(self, name)
            if value is not None and token_count(value) is None:
                object.__setattr__(self, name, None)


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


_NO_SERVER: Mapping[str, AttributeValue] = MappingProxyType({})


@functools.lru_cache(maxsize=64)
def server_attributes(url: str) -> Mapping[str, AttributeValue]:
    """`server.address` and `server.port` of a base or endpoint URL (empty when it has no host).

    For clients that keep their endpoint as a string (botocore's `meta.endpoint_url`, the
    google-genai client's base URL). Cached per URL: a client's endpoint rarely changes and
    this runs on every call; the mapping returned is read-only.
    """
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError:  # not a URL, or a port out of range
        return _NO_SERVER
    if not parsed.hostname:
        return _NO_SERVER
    if port is None:
        port = 80 if parsed.scheme == "http" else 443
    return MappingProxyType({_SERVER_ADDRESS: parsed.hostname, _SERVER_PORT: port})
