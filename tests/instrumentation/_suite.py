"""The fixture interface each provider's test package implements for the shared provider suite.

A provider's tests live in `tests/instrumentation/<provider>/`; its `conformance.py` defines
`FIXTURES`, a `ProviderFixtures` that builds the SDK's real client over a fake HTTP layer
answering as told (`Answer`), makes the calls, and says what the telemetry must hold
(`Expected`). `test_providers.py` finds it through the provider's entry point and runs the
same checks on every provider.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from otel_llm.instrumentation.instrumentor import ProviderInstrumentor
from semconvgen.model import Attribute, Registry

SPAN_TYPES = {
    "chat": "gen_ai.client.inference",
    "text_completion": "gen_ai.client.inference",
    "generate_content": "gen_ai.client.inference",
    "embeddings": "gen_ai.embeddings.client",
    "execute_tool": "gen_ai.execute_tool.internal",
    "retrieval": "gen_ai.retrieval.client",
    "invoke_agent": "gen_ai.invoke_agent.internal",
    "invoke_workflow": "gen_ai.invoke_workflow.internal",
}
"""The span type (semconv/spans.yaml) recording each operation."""
SCHEMAS = {
    "gen_ai.input.messages": "gen-ai-input-messages.json",
    "gen_ai.output.messages": "gen-ai-output-messages.json",
    "gen_ai.system_instructions": "gen-ai-system-instructions.json",
    "gen_ai.tool.definitions": "gen-ai-tool-definitions.json",
    "gen_ai.retrieval.documents": "gen-ai-retrieval-documents.json",
}
"""The upstream JSON schema each content attribute must validate against."""


def type_ok(attribute: Attribute, value: Any) -> bool:
    """Whether `value` has the registry type of `attribute`."""
    kind = attribute.type
    if kind in ("any", "template[string]", "string"):
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "double":
        return isinstance(value, float | int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string[]":
        return isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)
    return False


def declared(registry: Registry, key: str) -> Attribute:
    """The registry attribute `key` is an instance of (a template's, for prompt variables)."""
    if key.startswith("gen_ai.prompt.variable."):
        return registry.attributes["gen_ai.prompt.variable"]
    assert key in registry.attributes, f"{key} is emitted but not declared in semconv/"
    return registry.attributes[key]


class Answer(enum.Enum):
    """What the fake HTTP layer answers every request of a client with."""

    REPLY = "a complete non-streamed reply"
    STREAM = "a complete streamed reply"
    EMBEDDINGS = "an embeddings reply"
    BROKEN_STREAM = "a streamed reply whose connection fails after the first chunks"
    STALLED_STREAM = "a streamed reply that stops sending after the first chunks (async only)"
    SERVER_ERROR = "HTTP 500 with the provider's error body"
    RATE_LIMITED = "HTTP 429 (or the provider's throttling error)"
    TIMEOUT = "no answer before the client's read timeout (the HTTP layer raises it)"
    STALLED = "no answer at all, ever (async only: the caller's task gets cancelled)"


@dataclass(frozen=True)
class Expected:
    """What one successful call's span must carry."""

    operation: str
    model: str
    """`gen_ai.request.model`, as the call passed it."""
    response_model: str | None
    """None: the provider's reply names no model (Bedrock's Converse), nor does the span."""
    input_tokens: int
    output_tokens: int | None = None
    finish_reasons: tuple[str, ...] = ()
    response_id: str | None = None


class ProviderFixtures(ABC):
    """One provider's side of the shared suite (see the module docstring)."""

    instrumentor: ClassVar[type[ProviderInstrumentor]]
    provider: ClassVar[str]
    """`gen_ai.provider.name` of the clients built here."""
    server: ClassVar[tuple[str, int]]
    """`server.address` and `server.port` of the clients built here."""
    plain: ClassVar[Expected]
    streamed: ClassVar[Expected]
    embedded: ClassVar[Expected | None] = None
    """None: the provider has no embeddings call."""
    stream_is_context_manager: ClassVar[bool] = True
    """Whether the stream supports `with` (a plain generator does not)."""
    stream_has_close: ClassVar[bool] = True
    has_async: ClassVar[bool] = True
    """Whether the SDK has an asynchronous client (boto3 has none): the async checks need one."""

    @abstractmethod
    def client(self, answer: Answer) -> Any:
        """A real synchronous client whose every request gets `answer`."""

    def async_client(self, answer: Answer) -> Any:
        """A real asynchronous client whose every request gets `answer` (when `has_async`)."""
        raise NotImplementedError

    @abstractmethod
    def call(self, client: Any) -> Any:
        """The plain (non-streamed) inference call; what the SDK returned."""

    async def acall(self, client: Any) -> Any:
        """The plain call on the async client (when `has_async`)."""
        raise NotImplementedError

    @abstractmethod
    def stream(self, client: Any) -> Any:
        """The streamed call; what the SDK returned (the stream, or a result holding it)."""

    async def astream(self, client: Any) -> Any:
        """The streamed call on the async client (when `has_async`)."""
        raise NotImplementedError

    def stream_of(self, result: Any) -> Any:
        """The stream in what `stream` returned (itself, for most SDKs)."""
        return result

    def embed(self, client: Any) -> Any:
        """The embeddings call (only when `embedded` is set)."""
        raise NotImplementedError

    def comparable(self, result: Any) -> Any:
        """`result` as compared between the bare and the instrumented client."""
        return result

    def chunks(self, result: Any) -> Iterator[Any]:
        """Iterate the stream in `result`."""
        return iter(self.stream_of(result))

    def achunks(self, result: Any) -> AsyncIterator[Any]:
        """Iterate the async stream in `result`."""
        stream: AsyncIterator[Any] = self.stream_of(result)
        return stream.__aiter__()
