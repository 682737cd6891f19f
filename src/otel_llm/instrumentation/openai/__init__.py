"""OpenAI SDK (2.x and 3.x): Chat Completions, Responses and Embeddings, sync and async.

`opentelemetry-instrument` finds `OpenAIInstrumentor` as the `otel_llm_openai` entry point.
The SDK is imported only when instrumenting, never by importing this package.
"""

from __future__ import annotations

import contextvars
import importlib
from collections.abc import Callable, Mapping
from typing import Any

import wrapt
from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation import _stainless as stainless
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._engine import Wrapper
from otel_llm.instrumentation._stainless_raw import RawResponses
from otel_llm.instrumentation.endpoint import Endpoint, RequestInfo
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor, Target
from otel_llm.instrumentation.openai._chat import (
    ChatStreamState,
    chat_content,
    chat_request,
    chat_response,
    provider_name,
    stream_usage,
    strip_stream_usage,
)
from otel_llm.instrumentation.openai._responses import (
    ResponsesStreamState,
    responses_content,
    responses_request,
    responses_response,
)
from otel_llm.instrumentation.types import ResponseInfo, Usage
from otel_llm.instrumentation.types import get_field as _get
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import openai as oa

__all__ = ["SUPPORTED", "OpenAIInstrumentor"]

SUPPORTED = "openai >= 2.0.0, < 4"
"""The openai SDK versions this module supports (both major lines talk HTTP differently)."""

_CHAT = ga.GenAiOperationNameValues.CHAT.value
_STREAM_ERROR = "An error occurred during streaming"


def stream_error(event: str | None, data: Any, response: Any) -> BaseException | None:
    """The APIError openai's Stream raises for an error event (read from a raw body)."""
    if not isinstance(data, dict) or not data.get("error"):
        return None
    if event is not None and event.startswith("thread."):
        return None  # Assistants events are passed on whatever they hold
    import openai  # noqa: PLC0415 - only once a raw stream carried an error

    error = data["error"]
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        message = _STREAM_ERROR
    return openai.APIError(message=message, request=response.request, body=error)


# --- Embeddings --------------------------------------------------------------------------------
def embeddings_request(
    resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of embeddings.create."""
    attributes: dict[str, AttributeValue] = {}
    encoding = kwargs.get("encoding_format")
    if isinstance(encoding, str):
        attributes[ga.GEN_AI_REQUEST_ENCODING_FORMATS] = (encoding,)
    return stainless.request_info(kwargs, attributes)


def embeddings_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a CreateEmbeddingResponse."""
    del capture  # embeddings have no message content
    attributes: dict[str, AttributeValue] = {}
    data = _get(result, "data") or ()
    if data and isinstance(_get(data[0], "embedding"), list):
        attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(_get(data[0], "embedding"))
    usage = _get(result, "usage")
    return ResponseInfo(
        model=_get(result, "model"),
        usage=None if usage is None else Usage(input_tokens=_get(usage, "prompt_tokens")),
        attributes=attributes,
    )


# --- stream helpers: chat.completions.stream(...), responses.stream(...) ---------------------
_helper_streams: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "otel_llm_openai_helper_streams", default=None
)
"""Set while a stream helper's `with` block opens its stream, to collect our stream proxies."""


def _collect(proxy: Any) -> None:
    streams = _helper_streams.get()
    if streams is not None:
        streams.append(proxy)


class StreamManagerProxy(wrapt.ObjectProxy[Any]):
    """Wraps a stream helper's manager; its `create(stream=True)` call is recorded as usual.

    The helper's own stream closes the HTTP response directly, bypassing our stream proxy, so
    leaving the `with` block ends the calls of the streams opened inside it.
    """

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._self_streams: list[Any] = []

    def __enter__(self) -> Any:
        token = _helper_streams.set(self._self_streams)
        try:
            return self.__wrapped__.__enter__()
        finally:
            _helper_streams.reset(token)

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_end_streams()

    async def __aenter__(self) -> Any:
        token = _helper_streams.set(self._self_streams)
        try:
            return await self.__wrapped__.__aenter__()
        finally:
            _helper_streams.reset(token)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_end_streams()

    def _self_end_streams(self) -> None:
        for stream in self._self_streams:
            stream._self_end()  # abandons a stream left unfinished; no-op once it has ended


def _stream_helper(endpoint: Endpoint | None, recorder: Recorder) -> Wrapper:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        return StreamManagerProxy(wrapped(*args, **kwargs))

    return wrapper


# --- the instrumentor -------------------------------------------------------------------------
def _pair(module: str, owners: tuple[str, str], method: str, key: str) -> tuple[Target, ...]:
    sync, asynchronous = owners
    return Target(module, sync, method, key, "sync"), Target(
        module, asynchronous, method, key, "async"
    )


_CHAT_MODULE = "openai.resources.chat.completions"
_RESPONSES_MODULE = "openai.resources.responses"
_CHAT_OWNERS = ("Completions", "AsyncCompletions")
_RESPONSES_OWNERS = ("Responses", "AsyncResponses")
_TARGETS = (
    *_pair(_CHAT_MODULE, _CHAT_OWNERS, "create", "chat"),
    *_pair(_CHAT_MODULE, _CHAT_OWNERS, "parse", "chat"),
    *_pair(_RESPONSES_MODULE, _RESPONSES_OWNERS, "create", "responses"),
    *_pair(_RESPONSES_MODULE, _RESPONSES_OWNERS, "parse", "responses"),
    *_pair(
        "openai.resources.embeddings", ("Embeddings", "AsyncEmbeddings"), "create", "embeddings"
    ),
    # Stream helpers whose `with` block must end the span even when left early.
    *(
        Target(module, owner, "stream", None, _stream_helper)
        for module, owners in ((_CHAT_MODULE, _CHAT_OWNERS), (_RESPONSES_MODULE, _RESPONSES_OWNERS))
        for owner in owners
    ),
)


class OpenAIInstrumentor(ProviderInstrumentor):
    """Instruments the openai SDK; `opentelemetry-instrument` finds it as `otel_llm_openai`."""

    requirements = (SUPPORTED,)
    targets = _TARGETS

    def endpoints(self) -> Mapping[str, Endpoint]:
        """Chat Completions, Responses and Embeddings, read with the installed SDK's classes."""
        import openai  # noqa: PLC0415 - only when instrumenting

        legacy = importlib.import_module("openai._legacy_response").LegacyAPIResponse
        raw_types = (legacy, openai.APIResponse, openai.AsyncAPIResponse)
        chat_raw = RawResponses(raw_types, stream_error=stream_error)
        responses_raw = RawResponses(
            raw_types,
            final_events=frozenset(
                {"response.completed", "response.incomplete", "response.failed"}
            ),
            stream_error=stream_error,
        )
        sdk = stainless.Sdk.of(openai)
        common: dict[str, Any] = {
            "provider": provider_name,
            "server": stainless.server,
            "classify": sdk.classify,
        }
        metric_keys = (oa.OPENAI_RESPONSE_SERVICE_TIER,)
        return {
            "chat": Endpoint(
                operation=_CHAT,
                request=chat_request,
                response=chat_response,
                streams=sdk.stream_finder(chat_raw, _collect),
                stream_state=ChatStreamState,
                content=chat_content,
                metric_attributes=metric_keys,
                stream_usage=stream_usage((openai.NotGiven, openai.Omit)),
                strip_usage=strip_stream_usage,
                **common,
            ),
            "responses": Endpoint(
                operation=_CHAT,
                request=responses_request,
                response=responses_response,
                streams=sdk.stream_finder(responses_raw, _collect),
                stream_state=ResponsesStreamState,
                content=responses_content,
                metric_attributes=metric_keys,
                **common,
            ),
            "embeddings": Endpoint(
                operation=ga.GenAiOperationNameValues.EMBEDDINGS.value,
                request=embeddings_request,
                response=embeddings_response,
                streams=sdk.stream_finder(RawResponses(raw_types)),
                **common,
            ),
        }
