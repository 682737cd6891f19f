"""Google Gen AI SDK (google-genai): request, response, stream and error facts of its calls."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeGuard
from urllib.parse import urlsplit

from opentelemetry.util.types import AttributeValue

from otel_llm._errors import error_type
from otel_llm.instrumentation._google_genai_content import (
    CONTENT_FILTER,
    Part,
    finish_reason,
    has_function_call,
    input_messages,
    output_messages,
    prompt_blocked,
    system_instructions,
    to_part,
    tool_definitions,
)
from otel_llm.instrumentation._google_genai_content import enum_value as _name
from otel_llm.instrumentation._google_genai_content import field as _get
from otel_llm.instrumentation._google_genai_content import is_number as _number
from otel_llm.instrumentation._google_genai_content import sequence as _seq
from otel_llm.instrumentation._google_genai_content import text_value as _str

# The engine's shared types: the one import that changes when they move to a public module.
from otel_llm.instrumentation._model import Content, RequestInfo, ResponseInfo, Usage, token_count
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.attributes import server

SUPPORTED = "google-genai >= 1.20.0, < 4"
"""The google-genai versions this module supports."""

_PROVIDER = ga.GenAiProviderNameValues
_OUTCOME = ol.OtelLlmRequestOutcomeValues
_OUTPUT = ga.GenAiOutputTypeValues
_GENERATE = ga.GenAiOperationNameValues.GENERATE_CONTENT.value
_EMBED = ga.GenAiOperationNameValues.EMBEDDINGS.value


_PARAMETERS = ("model", "contents", "config")
"""The public methods' parameters, in signature order (they are keyword-only today)."""


def call_params(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The call's arguments by name, positional ones bound in signature order."""
    if not args:
        return kwargs
    params = dict(zip(_PARAMETERS, args, strict=False))
    params.update(kwargs)
    return params


# --- Client facts -------------------------------------------------------------------------------
def provider_name(resource: Any) -> str:
    """`gcp.vertex_ai` for a client built for Vertex AI (`vertexai=True`), else `gcp.gemini`."""
    # `Models.vertexai` is public since 1.x; the API client's flag is what it reads.
    vertexai = getattr(resource, "vertexai", None)
    if vertexai is None:
        vertexai = getattr(getattr(resource, "_api_client", None), "vertexai", None)
    return _PROVIDER.GCP_VERTEX_AI.value if vertexai else _PROVIDER.GCP_GEMINI.value


def server_attributes(resource: Any) -> dict[str, AttributeValue]:
    """`server.address` / `server.port` of the client's base URL (cached per URL on `resource`)."""
    options = getattr(getattr(resource, "_api_client", None), "_http_options", None)
    base_url = getattr(options, "base_url", None)
    cached = getattr(resource, "_otel_llm_server", None)
    if cached is not None and cached[0] is base_url:
        return dict(cached[1])
    attributes: dict[str, AttributeValue] = {}
    if isinstance(base_url, str):
        try:
            url = urlsplit(base_url)
            port = url.port or (80 if url.scheme == "http" else 443)
        except ValueError:  # a malformed port in a user-supplied base URL
            url, port = urlsplit(""), 0
        if url.hostname:
            attributes = {server.SERVER_ADDRESS: url.hostname, server.SERVER_PORT: port}
    with contextlib.suppress(AttributeError, TypeError):  # slotted or frozen resources
        resource._otel_llm_server = (base_url, attributes)
    return dict(attributes)


# --- Requests ----------------------------------------------------------------------------------
_NUMBERS = (
    ("temperature", ga.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", ga.GEN_AI_REQUEST_TOP_P),
    ("presence_penalty", ga.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("frequency_penalty", ga.GEN_AI_REQUEST_FREQUENCY_PENALTY),
)
_INTEGERS = (("max_output_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS), ("seed", ga.GEN_AI_REQUEST_SEED))


def _config_attributes(config: Any, attributes: dict[str, AttributeValue]) -> None:
    for name, key in _NUMBERS:
        value = _get(config, name)
        if _number(value):
            attributes[key] = value
    for name, key in _INTEGERS:
        value = _get(config, name)
        if type(value) is int:
            attributes[key] = value
    top_k = _get(config, "top_k")  # a float in the SDK's types; upstream's top_k is an int
    if _number(top_k) and float(top_k).is_integer():
        attributes[ga.GEN_AI_REQUEST_TOP_K] = int(top_k)
    count = _get(config, "candidate_count")
    if type(count) is int and count != 1:
        attributes[ga.GEN_AI_REQUEST_CHOICE_COUNT] = count
    stops = _get(config, "stop_sequences")
    if isinstance(stops, list | tuple) and stops and all(isinstance(s, str) for s in stops):
        attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stops)
    output_type = _output_type(config)
    if output_type:
        attributes[ga.GEN_AI_OUTPUT_TYPE] = output_type
    level = _name(_get(_get(config, "thinking_config"), "thinking_level"))
    if level and level != "THINKING_LEVEL_UNSPECIFIED":
        attributes[ga.GEN_AI_REQUEST_REASONING_LEVEL] = level.lower()


def _output_type(config: Any) -> str | None:
    mime = _get(config, "response_mime_type")
    if mime == "application/json" or _get(config, "response_schema") is not None:
        return _OUTPUT.JSON.value
    if _get(config, "response_json_schema") is not None:
        return _OUTPUT.JSON.value
    modalities = {_name(m) for m in _seq(_get(config, "response_modalities"))}
    if "AUDIO" in modalities:
        return _OUTPUT.SPEECH.value
    if "IMAGE" in modalities:
        return _OUTPUT.IMAGE.value
    if mime in ("text/plain", "text/x.enum"):
        return _OUTPUT.TEXT.value
    return None


def model_name(model: Any) -> str | None:
    """The model a `model=` argument names, without the resource path around it.

    The SDK accepts `gemini-2.5-flash`, `models/gemini-2.5-flash`, `google/gemini-2.5-flash` and
    `projects/p/locations/l/publishers/google/models/gemini-2.5-flash` for the same model; all
    are recorded (and priced) as `gemini-2.5-flash`. Tuned models and endpoints stay as given.
    """
    if not isinstance(model, str) or not model:
        return None
    if model.startswith(("models/", "google/")):
        return model[7:] or model
    head, sep, tail = model.rpartition("/models/")
    return tail if sep and head and tail else model


def _request(resource: Any, params: Mapping[str, Any], stream: bool) -> RequestInfo:
    attributes = server_attributes(resource)
    config = params.get("config")
    if config is not None:
        _config_attributes(config, attributes)
    if stream:
        attributes[ga.GEN_AI_REQUEST_STREAM] = True
    return RequestInfo(model=model_name(params.get("model")), attributes=attributes, stream=stream)


def generate_content_request(
    resource: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of models.generate_content."""
    return _request(resource, call_params(args, kwargs), stream=False)


def generate_content_stream_request(
    resource: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of models.generate_content_stream (a stream by method, not by argument)."""
    return _request(resource, call_params(args, kwargs), stream=True)


def embed_content_request(
    resource: Any, args: Sequence[Any], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of models.embed_content."""
    params = call_params(args, kwargs)
    attributes = server_attributes(resource)
    dimensions = _get(params.get("config"), "output_dimensionality")
    if type(dimensions) is int:
        attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
    return RequestInfo(model=model_name(params.get("model")), attributes=attributes)


def generate_content_content(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Content:
    """Request content of a generate_content call, in the upstream shapes."""
    params = call_params(args, kwargs)
    config = params.get("config")
    tools = _get(config, "tools")
    return Content(
        input_messages=input_messages(params.get("contents")),
        system_instructions=system_instructions(_get(config, "system_instruction")),
        tool_definitions=tool_definitions(tools) if _seq(tools) else None,
    )


_USAGE_FIELDS = (
    "prompt_token_count",
    "tool_use_prompt_token_count",
    "candidates_token_count",
    "thoughts_token_count",
    "cached_content_token_count",
    "total_token_count",
)


def usage(metadata: Any) -> Usage | None:
    """`usage_metadata` as billed.

    Input is the prompt (cached tokens included) plus tool-use prompt tokens; output is the
    candidates plus thoughts (billed at the output rate), of which thoughts are reasoning.
    """
    if metadata is None:
        return None
    prompt, tool_prompt, candidates, thoughts, cached, total = (
        token_count(_get(metadata, name)) for name in _USAGE_FIELDS
    )
    input_tokens = (
        None if prompt is None and tool_prompt is None else (prompt or 0) + (tool_prompt or 0)
    )
    output = (
        None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    )
    if output is None and total is not None and input_tokens is not None:
        output = max(total - input_tokens, 0)  # e.g. a blocked answer reports no candidate count
    if input_tokens is None and output is None:
        return None
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output,
        cache_read_tokens=cached,
        reasoning_tokens=thoughts,
    )


def _finish_reasons(candidates: Sequence[Any], response: Any) -> tuple[str, ...]:
    if not candidates and prompt_blocked(response):
        return (CONTENT_FILTER,)  # the prompt was blocked: no candidate was generated
    return tuple(finish_reason(_get(c, "finish_reason"), has_function_call(c)) for c in candidates)


def generate_content_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a GenerateContentResponse."""
    candidates = _seq(_get(result, "candidates"))
    return ResponseInfo(
        response_id=_str(_get(result, "response_id")),
        model=_str(_get(result, "model_version")),
        finish_reasons=_finish_reasons(candidates, result),
        usage=usage(_get(result, "usage_metadata")),
        output=output_messages(candidates) if capture else None,
    )


def embed_content_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of an EmbedContentResponse: input tokens where the service reports them."""
    embeddings = _seq(_get(result, "embeddings"))
    attributes: dict[str, AttributeValue] = {}
    values = _seq(_get(embeddings[0], "values")) if embeddings else ()
    if values:
        attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(values)
    return ResponseInfo(usage=_embed_usage(result, embeddings), attributes=attributes)


def _embed_usage(result: Any, embeddings: Sequence[Any]) -> Usage | None:
    prompt = token_count(_get(_get(result, "usage_metadata"), "prompt_token_count"))
    if prompt is None and embeddings:
        # Vertex `predict` reports a (float) token count per text; the Gemini API reports none.
        counts = [_get(_get(e, "statistics"), "token_count") for e in embeddings]
        if all(_number(c) and float(c).is_integer() for c in counts):
            prompt = token_count(sum(int(c) for c in counts))
    return Usage(input_tokens=prompt) if prompt is not None else None


# --- Streams -------------------------------------------------------------------------------------
class _Candidate:
    """What the stream said about one candidate so far."""

    __slots__ = ("called", "parts", "reason")

    def __init__(self) -> None:
        self.reason: Any = None
        self.called = False
        self.parts: list[Part] = []

    def add(self, part: Part) -> None:
        # Text arrives in pieces, one part per chunk: consecutive pieces of the same kind join.
        last = self.parts[-1] if self.parts else None
        if (
            last is not None
            and part["type"] in ("text", "reasoning")
            and last["type"] == part["type"]
        ):
            last["content"].append(part["content"])
        elif part["type"] in ("text", "reasoning"):
            self.parts.append({"type": part["type"], "content": [part["content"]]})
        else:
            self.parts.append(part)

    def message(self) -> dict[str, Any]:
        parts = [
            {**p, "content": "".join(p["content"])} if p["type"] in ("text", "reasoning") else p
            for p in self.parts
        ]
        return {
            "role": "assistant",
            "parts": parts,
            "finish_reason": finish_reason(self.reason, self.called),
        }


class GenerateContentStreamState:
    """Accumulates generate_content_stream chunks: ids, usage, finish reasons, content if captured.

    Each chunk is a whole GenerateContentResponse. Within a request its usage counts are running
    totals (the SDK sums them across automatic-continuation hops), and Vertex leaves them out
    of all but the last chunk, so every count keeps its latest reported value.
    """

    __slots__ = ("_blocked", "_candidates", "_capture", "_model", "_response_id", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._response_id: str | None = None
        self._model: str | None = None
        self._usage: dict[str, int] = {}
        self._candidates: dict[int, _Candidate] = {}
        self._blocked = False

    def on_chunk(self, chunk: Any) -> None:
        """Note one streamed GenerateContentResponse."""
        # Every chunk repeats the id and model: the first ones seen are kept.
        if self._response_id is None:
            self._response_id = _str(_get(chunk, "response_id"))
        if self._model is None:
            self._model = _str(_get(chunk, "model_version"))
        metadata = _get(chunk, "usage_metadata")
        if metadata is not None:
            for name in _USAGE_FIELDS:
                value = token_count(_get(metadata, name))
                if value is not None:
                    self._usage[name] = value
        candidates = _seq(_get(chunk, "candidates"))
        if not candidates and not self._blocked:
            self._blocked = prompt_blocked(chunk)  # a blocked prompt gets no candidates
        for position, candidate in enumerate(candidates):
            index = _get(candidate, "index")
            key = index if type(index) is int else position
            state = self._candidates.get(key)
            if state is None:
                state = self._candidates[key] = _Candidate()
            reason = _get(candidate, "finish_reason")
            if reason is not None:
                state.reason = reason
            for part in _seq(_get(_get(candidate, "content"), "parts")):
                if _get(part, "function_call") is not None:
                    state.called = True
                if self._capture and (converted := to_part(part)) is not None:
                    state.add(converted)

    def result(self) -> ResponseInfo:
        """What the chunks so far amount to."""
        candidates = [c for _, c in sorted(self._candidates.items())]
        reasons = tuple(finish_reason(c.reason, c.called) for c in candidates)
        if not candidates and self._blocked:
            reasons = (CONTENT_FILTER,)
        return ResponseInfo(
            response_id=self._response_id,
            model=self._model,
            finish_reasons=reasons,
            usage=usage(self._usage) if self._usage else None,
            output=[c.message() for c in candidates] if self._capture else None,
        )


# --- Errors --------------------------------------------------------------------------------------
_TIMEOUT_CLASSES = frozenset(
    {
        ("httpx", "TimeoutException"),  # the SDK's default HTTP stack (httpx2) or the user's httpx
        ("httpx2", "TimeoutException"),
        ("requests", "Timeout"),  # google-auth's AuthorizedSession (Vertex with mTLS)
    }
)


def _is_timeout(exc: BaseException) -> bool:
    # aiohttp's timeouts are asyncio.TimeoutError, which is not TimeoutError before Python 3.11.
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return True
    return any(
        (cls.__module__.split(".", 1)[0], cls.__name__) in _TIMEOUT_CLASSES
        for cls in type(exc).__mro__
    )


def _is_status(value: Any) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 64
        and value.replace("_", "").isalpha()
        and value.isascii()
        and value.isupper()
    )


def classify_error(exc: BaseException) -> tuple[str, str]:
    """(`otel_llm.request.outcome`, `error.type`) of an exception a google-genai call raised.

    API errors are classified by HTTP code and google.rpc status: 429 / RESOURCE_EXHAUSTED is
    rate-limited, 408 / 504 / DEADLINE_EXCEEDED a timeout; their `error.type` is the status
    (e.g. `RESOURCE_EXHAUSTED`), else the code. Client-side timeouts of any HTTP stack the SDK
    uses are timeouts; everything else is an error, typed by its class.
    """
    if isinstance(exc, asyncio.CancelledError | GeneratorExit | KeyboardInterrupt):
        return _OUTCOME.CANCELLED.value, error_type(exc)
    api_error = getattr(sys.modules.get("google.genai.errors"), "APIError", None)
    if api_error is not None and isinstance(exc, api_error):
        code = getattr(exc, "code", None)
        status = getattr(exc, "status", None)
        if code == 429 or status == "RESOURCE_EXHAUSTED":
            outcome = _OUTCOME.RATE_LIMITED.value
        elif code in (408, 504) or status == "DEADLINE_EXCEEDED":
            outcome = _OUTCOME.TIMEOUT.value
        else:
            outcome = _OUTCOME.ERROR.value
        if _is_status(status):
            return outcome, status
        return outcome, str(code) if type(code) is int else error_type(exc)
    if _is_timeout(exc):
        return _OUTCOME.TIMEOUT.value, error_type(exc)
    return _OUTCOME.ERROR.value, error_type(exc)


# --- What to wrap --------------------------------------------------------------------------------
class Method(NamedTuple):
    """How one kind of call is described (the same for the sync and the async client)."""

    operation: str
    request: Callable[[Any, Sequence[Any], Mapping[str, Any]], RequestInfo]
    response: Callable[[Any, bool], ResponseInfo] | None = None
    stream_state: Callable[[bool], GenerateContentStreamState] | None = None
    content: Callable[[Sequence[Any], Mapping[str, Any]], Content] | None = None


GENERATE_CONTENT = Method(
    _GENERATE, generate_content_request, generate_content_response, None, generate_content_content
)
GENERATE_CONTENT_STREAM = Method(
    _GENERATE,
    generate_content_stream_request,
    stream_state=GenerateContentStreamState,
    content=generate_content_content,
)
EMBED_CONTENT = Method(_EMBED, embed_content_request, embed_content_response)

WRAPPED = {
    ("google.genai.models", "Models.generate_content"): GENERATE_CONTENT,
    # A generator: the request is sent on the first next(), so HTTP errors surface there.
    ("google.genai.models", "Models.generate_content_stream"): GENERATE_CONTENT_STREAM,
    ("google.genai.models", "Models.embed_content"): EMBED_CONTENT,
    ("google.genai.models", "AsyncModels.generate_content"): GENERATE_CONTENT,
    # A coroutine whose result is an async generator (closed with aclose(), not close()); the
    # request is sent on its first __anext__().
    ("google.genai.models", "AsyncModels.generate_content_stream"): GENERATE_CONTENT_STREAM,
    ("google.genai.models", "AsyncModels.embed_content"): EMBED_CONTENT,
}
"""The methods the provider wraps, by (module, qualified name), for the instrumentor's table."""
