"""LiteLLM calls as the engine records them: provider, request, response, streams, errors.

LiteLLM speaks the OpenAI Chat Completions shapes whatever the provider behind it (its
`ModelResponse`, `ModelResponseStream` and `EmbeddingResponse` have OpenAI's fields), so the
OpenAI converters read its requests and responses; what is LiteLLM's own is the provider a
model string routes to, its usage extras (Anthropic's cache writes) and its exception classes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import wrapt
from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation.endpoint import CallHandle, Endpoint, ErrorClass, RequestInfo
from otel_llm.instrumentation.litellm._router import note_attempt, note_failure
from otel_llm.instrumentation.openai import _chat as openai_chat
from otel_llm.instrumentation.openai import embeddings_response
from otel_llm.instrumentation.types import ResponseInfo, Usage, get_field, server_attributes
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import openai as oa

__all__ = [
    "PROVIDERS",
    "chat_request",
    "chat_response",
    "classify",
    "embeddings_request",
    "provider_of",
]

_P = ga.GenAiProviderNameValues
_CHAT = ga.GenAiOperationNameValues.CHAT.value
_EMBEDDINGS = ga.GenAiOperationNameValues.EMBEDDINGS.value
PROVIDERS: Mapping[str, str] = {
    "openai": _P.OPENAI.value,
    "text-completion-openai": _P.OPENAI.value,
    "azure": _P.AZURE_AI_OPENAI.value,
    "azure_text": _P.AZURE_AI_OPENAI.value,
    "azure_ai": _P.AZURE_AI_INFERENCE.value,
    "anthropic": _P.ANTHROPIC.value,
    "bedrock": _P.AWS_BEDROCK.value,
    "vertex_ai": _P.GCP_VERTEX_AI.value,
    "vertex_ai_beta": _P.GCP_VERTEX_AI.value,
    "gemini": _P.GCP_GEMINI.value,
    # Upstream's well-known values our registry does not list (the enum is open).
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "mistral": _P.MISTRAL_AI.value,
    "groq": _P.GROQ.value,
    "deepseek": _P.DEEPSEEK.value,
    "xai": _P.X_AI.value,
    "perplexity": "perplexity",
    "watsonx": "ibm.watsonx.ai",
}
"""LiteLLM's provider names -> `gen_ai.provider.name`; others are recorded as LiteLLM names them
(upstream's list is open)."""


@functools.lru_cache(maxsize=512)
def _routed(model: str, custom_provider: str | None, api_base: str | None) -> tuple[str, str]:
    """(model as the provider sees it, LiteLLM's provider name) for a model string."""
    import litellm  # noqa: PLC0415 - imported by the call being recorded already

    try:
        routed_model, provider, _, _ = litellm.get_llm_provider(
            model=model, custom_llm_provider=custom_provider, api_base=api_base
        )
    except Exception:
        prefix, _, rest = model.partition("/")
        return (rest, prefix) if rest else (model, custom_provider or "litellm")
    return str(routed_model), str(provider)


def provider_of(model: str, kwargs: Mapping[str, Any]) -> tuple[str, str]:
    """(model, `gen_ai.provider.name`) of a call to `model` with these keyword arguments."""
    custom = kwargs.get("custom_llm_provider")
    api_base = kwargs.get("api_base") or kwargs.get("base_url")
    routed_model, provider = _routed(
        model,
        custom if isinstance(custom, str) else None,
        api_base if isinstance(api_base, str) else None,
    )
    return routed_model, PROVIDERS.get(provider, provider)


def _server(kwargs: Mapping[str, Any]) -> Mapping[str, AttributeValue]:
    api_base = kwargs.get("api_base") or kwargs.get("base_url")
    if api_base is None:
        # A provider SDK client handed to LiteLLM (`client=`) sends where it was built to.
        api_base = getattr(kwargs.get("client"), "base_url", None)
    return server_attributes(str(api_base)) if api_base is not None else {}


def _arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any], second: str) -> dict[str, Any]:
    """The call's keyword arguments, with `model` and `second` when passed positionally."""
    params = dict(kwargs)
    if args:
        params.setdefault("model", args[0])
        if len(args) > 1:
            params.setdefault(second, args[1])
    return params


_Endpoints = Callable[[str], Endpoint]
"""A provider's `gen_ai.provider.name` -> the endpoint recording its calls."""


def chat_request(endpoints: _Endpoints) -> Callable[..., RequestInfo | None]:
    """The `request` of completion/acompletion: OpenAI's request facts, LiteLLM's routing."""

    def request(instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RequestInfo:
        params = _arguments(args, kwargs, "messages")
        model = params.get("model")
        info = openai_chat.chat_request(None, (), params)
        info.attributes.pop(oa.OPENAI_API_TYPE, None)  # not the OpenAI API unless routed there
        info.params = params
        provider = "litellm"
        if isinstance(model, str):
            info.model, provider = provider_of(model, params)
            info.endpoint = endpoints(provider)
        note_attempt(params, provider, info.model, _CHAT)
        info.attributes.update(_server(params))
        return info

    return request


def embeddings_request(endpoints: _Endpoints) -> Callable[..., RequestInfo | None]:
    """The `request` of embedding/aembedding."""

    def request(instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RequestInfo:
        params = _arguments(args, kwargs, "input")
        model = params.get("model")
        attributes: dict[str, AttributeValue] = dict(_server(params))
        encoding = params.get("encoding_format")
        if isinstance(encoding, str):
            attributes[ga.GEN_AI_REQUEST_ENCODING_FORMATS] = (encoding,)
        info = RequestInfo(model=None, attributes=attributes, params=params)
        provider = "litellm"
        if isinstance(model, str):
            info.model, provider = provider_of(model, params)
            info.endpoint = endpoints(provider)
        note_attempt(params, provider, info.model, _EMBEDDINGS)
        return info

    return request


def usage(value: Any) -> Usage | None:
    """LiteLLM's usage: OpenAI's fields, plus the cache writes it reports for Anthropic."""
    if value is None:
        return None
    prompt_details = get_field(value, "prompt_tokens_details")
    completion_details = get_field(value, "completion_tokens_details")
    cache_write = get_field(value, "cache_creation_input_tokens")
    if not cache_write:
        cache_write = get_field(prompt_details, "cache_write_tokens")
    return Usage(
        input_tokens=get_field(value, "prompt_tokens"),
        output_tokens=get_field(value, "completion_tokens"),
        cache_read_tokens=get_field(prompt_details, "cached_tokens") or None,
        cache_write_tokens=cache_write or None,
        reasoning_tokens=get_field(completion_details, "reasoning_tokens") or None,
    )


def chat_response(result: Any, capture: bool) -> ResponseInfo:
    """A ModelResponse's facts (OpenAI's shape), with LiteLLM's usage."""
    info = openai_chat.chat_response(result, capture)
    return replace(info, usage=usage(get_field(result, "usage")))


def embedding_response(result: Any, capture: bool) -> ResponseInfo:
    """An EmbeddingResponse's facts (OpenAI's shape)."""
    return embeddings_response(result, capture)


class ChatStreamState(openai_chat.ChatStreamState):
    """ModelResponseStream chunks, read as OpenAI's chunks, with LiteLLM's usage."""

    __slots__ = ()

    def result(self) -> ResponseInfo:
        """What the stream amounted to, its usage read as LiteLLM reports it."""
        info = super().result()
        return replace(info, usage=usage(self._last_usage))


class _SyncStream(wrapt.ObjectProxy[Any]):
    """A CustomStreamWrapper as returned by `completion`: iterated with `for`.

    LiteLLM's stream class is both an iterator and an async iterator; the view says which one
    this call's caller gets, so the engine observes the iteration actually used.
    """

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        return next(self.__wrapped__)

    def close(self) -> None:
        """Close the wrapper (defined on the view's class so that the engine ends the span)."""
        self.__wrapped__.close()


class _AsyncStream(wrapt.ObjectProxy[Any]):
    """A CustomStreamWrapper as returned by `acompletion`: iterated with `async for`."""

    def __aiter__(self) -> Any:
        return self

    async def __anext__(self) -> Any:
        return await self.__wrapped__.__anext__()


def streams(stream_type: type, asynchronous: bool) -> Callable[[Any, CallHandle], Any]:
    """An `Endpoint.streams` for LiteLLM's CustomStreamWrapper, sync or async by the call."""
    view = _AsyncStream if asynchronous else _SyncStream

    def found(result: Any, call: CallHandle) -> Any:
        return call.observe(view(result)) if isinstance(result, stream_type) else None

    return found


def classify(rate_limited: type, timeouts: tuple[type, ...]) -> Callable[..., ErrorClass | None]:
    """An `Endpoint.classify` from LiteLLM's exception classes (its own, mapped per provider)."""
    rate_limited_class = ErrorClass("rate_limited")
    timeout_class = ErrorClass("timeout")

    def classified(exc: BaseException) -> ErrorClass | None:
        found = None
        if isinstance(exc, rate_limited):
            found = rate_limited_class
        elif isinstance(exc, timeouts):
            found = timeout_class
        # A Router attempt that failed: why, should the router fall back after it.
        note_failure(found.outcome if found is not None else "error")
        return found

    return classified
