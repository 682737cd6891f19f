"""google-genai `models` calls: client, request, response, usage and error facts."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from opentelemetry.util.types import AttributeValue

from otel_llm.instrumentation.endpoint import ErrorClass, Outcome, RequestInfo
from otel_llm.instrumentation.google_genai._convert import (
    CONTENT_FILTER,
    enum_value,
    field,
    finish_reason,
    has_function_call,
    input_messages,
    output_messages,
    prompt_blocked,
    sequence,
    system_instructions,
    tool_definitions,
)
from otel_llm.instrumentation.types import (
    Content,
    ResponseInfo,
    Usage,
    server_attributes,
    token_count,
)
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = [
    "USAGE_FIELDS",
    "call_params",
    "classify",
    "embed_content_request",
    "embed_content_response",
    "generate_content_content",
    "generate_content_request",
    "generate_content_response",
    "generate_content_stream_request",
    "model_name",
    "provider_name",
    "server",
    "usage",
]

_PROVIDER = ga.GenAiProviderNameValues
_OUTPUT = ga.GenAiOutputTypeValues
_PARAMETERS = ("model", "contents", "config")
"""The public methods' parameters, in signature order (keyword-only in every release so far)."""


def call_params(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The call's arguments by name, positional ones bound in signature order."""
    if not args:
        return kwargs
    params = dict(zip(_PARAMETERS, args, strict=False))
    params.update(kwargs)
    return params


# --- the client ------------------------------------------------------------------------------
def provider_name(resource: Any) -> str:
    """`gcp.vertex_ai` for a client built for Vertex AI, else `gcp.gemini` (the Gemini API).

    `vertexai=True`, `enterprise=True` (3.x) or GOOGLE_GENAI_USE_VERTEXAI set the API
    client's flag, which `Models.vertexai` reads.
    """
    vertexai = getattr(getattr(resource, "_api_client", None), "vertexai", None)
    return _PROVIDER.GCP_VERTEX_AI.value if vertexai else _PROVIDER.GCP_GEMINI.value


def server(resource: Any) -> Mapping[str, AttributeValue]:
    """`server.address` / `server.port` of the base URL the client was built with."""
    options = getattr(getattr(resource, "_api_client", None), "_http_options", None)
    base_url = getattr(options, "base_url", None)
    return server_attributes(base_url) if isinstance(base_url, str) else {}


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


# --- requests ----------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_NUMBERS = (
    ("temperature", ga.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", ga.GEN_AI_REQUEST_TOP_P),
    ("presence_penalty", ga.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("frequency_penalty", ga.GEN_AI_REQUEST_FREQUENCY_PENALTY),
)
_INTEGERS = (("max_output_tokens", ga.GEN_AI_REQUEST_MAX_TOKENS), ("seed", ga.GEN_AI_REQUEST_SEED))


def _config_attributes(config: Any, attributes: dict[str, AttributeValue]) -> None:
    for name, key in _NUMBERS:
        value = field(config, name)
        if _is_number(value):
            attributes[key] = value
    for name, key in _INTEGERS:
        value = field(config, name)
        if type(value) is int:
            attributes[key] = value
    top_k = field(config, "top_k")  # a float in the SDK's types; upstream's top_k is an int
    if _is_number(top_k) and float(top_k).is_integer():
        attributes[ga.GEN_AI_REQUEST_TOP_K] = int(top_k)
    count = field(config, "candidate_count")
    if type(count) is int and count != 1:
        attributes[ga.GEN_AI_REQUEST_CHOICE_COUNT] = count
    stops = field(config, "stop_sequences")
    if isinstance(stops, list | tuple) and stops and all(isinstance(s, str) for s in stops):
        attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stops)
    output_type = _output_type(config)
    if output_type:
        attributes[ga.GEN_AI_OUTPUT_TYPE] = output_type
    level = enum_value(field(field(config, "thinking_config"), "thinking_level"))
    if level and level != "THINKING_LEVEL_UNSPECIFIED":
        attributes[ga.GEN_AI_REQUEST_REASONING_LEVEL] = level.lower()


def _output_type(config: Any) -> str | None:
    mime = field(config, "response_mime_type")
    if mime == "application/json" or field(config, "response_schema") is not None:
        return _OUTPUT.JSON.value
    if field(config, "response_json_schema") is not None:
        return _OUTPUT.JSON.value
    modalities = {enum_value(m) for m in sequence(field(config, "response_modalities"))}
    if "AUDIO" in modalities:
        return _OUTPUT.SPEECH.value
    if "IMAGE" in modalities:
        return _OUTPUT.IMAGE.value
    if mime in ("text/plain", "text/x.enum"):
        return _OUTPUT.TEXT.value
    return None


def _request(args: Sequence[Any], kwargs: Mapping[str, Any], stream: bool) -> RequestInfo:
    params = call_params(args, kwargs)
    attributes: dict[str, AttributeValue] = {}
    config = params.get("config")
    if config is not None:
        _config_attributes(config, attributes)
    if stream:
        attributes[ga.GEN_AI_REQUEST_STREAM] = True
    return RequestInfo(
        model=model_name(params.get("model")),
        attributes=attributes,
        stream=stream,
        params=params if args else None,
    )


def generate_content_request(
    resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of models.generate_content."""
    return _request(args, kwargs, stream=False)


def generate_content_stream_request(
    resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of models.generate_content_stream (a stream by method, not by argument)."""
    return _request(args, kwargs, stream=True)


def embed_content_request(
    resource: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RequestInfo:
    """Request facts of models.embed_content."""
    params = call_params(args, kwargs)
    attributes: dict[str, AttributeValue] = {}
    dimensions = field(params.get("config"), "output_dimensionality")
    if type(dimensions) is int:
        attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
    return RequestInfo(model=model_name(params.get("model")), attributes=attributes)


def generate_content_content(params: Mapping[str, Any]) -> Content:
    """Request content of a generate_content call, in the upstream shapes."""
    config = params.get("config")
    return Content(
        input_messages=input_messages(params.get("contents")),
        system_instructions=system_instructions(field(config, "system_instruction")),
        tool_definitions=tool_definitions(field(config, "tools")),
    )


# --- responses ---------------------------------------------------------------------------------
USAGE_FIELDS = (
    "prompt_token_count",
    "tool_use_prompt_token_count",
    "candidates_token_count",
    "thoughts_token_count",
    "cached_content_token_count",
    "total_token_count",
)
"""The `usage_metadata` counts `usage` reads."""


def usage(metadata: Any) -> Usage | None:
    """`usage_metadata` as billed.

    Input is the prompt (cached tokens included) plus tool-use prompt tokens; output is the
    candidates plus thoughts (billed at the output rate), of which thoughts are reasoning.
    """
    if metadata is None:
        return None
    prompt, tool_prompt, candidates, thoughts, cached, total = (
        token_count(field(metadata, name)) for name in USAGE_FIELDS
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


def finish_reasons(candidates: Sequence[Any], response: Any) -> tuple[str, ...]:
    """The finish reason of every candidate; a blocked prompt (no candidates) is filtered."""
    if not candidates and prompt_blocked(response):
        return (CONTENT_FILTER,)
    return tuple(finish_reason(field(c, "finish_reason"), has_function_call(c)) for c in candidates)


def generate_content_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of a GenerateContentResponse."""
    candidates = sequence(field(result, "candidates"))
    response_id = field(result, "response_id")
    model = field(result, "model_version")
    return ResponseInfo(
        response_id=response_id if isinstance(response_id, str) and response_id else None,
        model=model if isinstance(model, str) and model else None,
        finish_reasons=finish_reasons(candidates, result),
        usage=usage(field(result, "usage_metadata")),
        output=output_messages(candidates) if capture else None,
    )


def embed_content_response(result: Any, capture: bool) -> ResponseInfo:
    """Response facts of an EmbedContentResponse: input tokens where the service reports them."""
    embeddings = sequence(field(result, "embeddings"))
    attributes: dict[str, AttributeValue] = {}
    values = sequence(field(embeddings[0], "values")) if embeddings else ()
    if values:
        attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(values)
    return ResponseInfo(usage=_embed_usage(result, embeddings), attributes=attributes)


def _embed_usage(result: Any, embeddings: Sequence[Any]) -> Usage | None:
    prompt = token_count(field(field(result, "usage_metadata"), "prompt_token_count"))
    if prompt is None and embeddings:
        # Vertex `predict` reports a (float) token count per text; the Gemini API reports none.
        counts = [field(field(e, "statistics"), "token_count") for e in embeddings]
        if all(_is_number(c) and float(c).is_integer() for c in counts):
            prompt = token_count(sum(int(c) for c in counts))
    return Usage(input_tokens=prompt) if prompt is not None else None


# --- errors ------------------------------------------------------------------------------------
_TIMEOUT_TYPES = (
    ("httpx2", "TimeoutException"),  # the SDK's default HTTP stack
    ("httpx", "TimeoutException"),  # when the user hands it httpx clients
    ("requests.exceptions", "Timeout"),  # google-auth's session (Vertex with mTLS certificates)
)
_TIMEOUT = ErrorClass(Outcome.TIMEOUT.value)


def _is_status(value: Any) -> TypeGuard[str]:
    """Whether `value` is a google.rpc status name (`RESOURCE_EXHAUSTED`), not a reason phrase."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= 64
        and value.isascii()
        and value.isupper()
        and value.replace("_", "").isalpha()
    )


def classify(exc: BaseException) -> ErrorClass | None:
    """How a google-genai failure counts.

    API errors by HTTP code and google.rpc status: 429 / RESOURCE_EXHAUSTED is rate-limited,
    408 / 504 / DEADLINE_EXCEEDED a timeout, the rest errors, each with the status (or the
    code) as `error.type` and the status as `otel_llm.error.code`. A client timeout raises the
    HTTP stack's own exception, not an APIError: those of httpx2, httpx and requests are
    timeouts (aiohttp's are asyncio's, which the engine counts already). None for the rest:
    the engine's default rule.
    """
    errors = sys.modules.get("google.genai.errors")
    api_error = getattr(errors, "APIError", None)
    if isinstance(api_error, type) and isinstance(exc, api_error):
        code = getattr(exc, "code", None)
        status = getattr(exc, "status", None)
        if code == 429 or status == "RESOURCE_EXHAUSTED":
            outcome = Outcome.RATE_LIMITED.value
        elif code in (408, 504) or status == "DEADLINE_EXCEEDED":
            outcome = Outcome.TIMEOUT.value
        else:
            outcome = Outcome.ERROR.value
        if _is_status(status):
            return ErrorClass(outcome, status, code=status)
        return ErrorClass(outcome, str(code) if type(code) is int else None)
    for module, name in _TIMEOUT_TYPES:
        timeout = getattr(sys.modules.get(module), name, None)
        if isinstance(timeout, type) and isinstance(exc, timeout):
            return _TIMEOUT
    return None
