"""AWS Bedrock Runtime (boto3/botocore): what to read from Converse and InvokeModel calls.

botocore sends every operation of every AWS service through one method, called with positional
arguments: `BaseClient._make_api_call(self, operation_name, api_params)`. Of the `bedrock-runtime`
client's operations four are inference: Converse and ConverseStream (one message format for
every model) and InvokeModel and InvokeModelWithResponseStream (each model family's own JSON
body, read in `_bedrock_invoke`). The operation name is known per call, so this module parses a
request once (`parse_request`) and every later step reads that. Streams come back inside the
result dict (`result["stream"]`, `result["body"]`); InvokeModel's reply body is a StreamingBody
that is read once here and handed back as an equivalent one (`take_body`).

These are plain functions and classes; wiring them to the engine is the provider's last step.
"""

from __future__ import annotations

import functools
import io
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.util.types import AttributeValue

from otel_llm._errors import error_type
from otel_llm.instrumentation import _bedrock_converse as converse
from otel_llm.instrumentation import _bedrock_invoke as invoke
from otel_llm.instrumentation._model import (
    Content,
    RequestInfo,
    ResponseInfo,
    StreamState,
    get_field,
)
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.attributes import server

SUPPORTED = "botocore >= 1.34.116"
"""The botocore versions with Converse (the oldest boto3 of the `bedrock` extra pulls it in)."""

PROVIDER_NAME = ga.GenAiProviderNameValues.AWS_BEDROCK.value
AWS_BEDROCK_GUARDRAIL_ID = "aws.bedrock.guardrail.id"
"""Upstream's attribute (registry `aws-bedrock`), Required on Bedrock inference spans."""

OPERATIONS = frozenset(
    {"Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"}
)
STREAM_KEYS = {"ConverseStream": "stream", "InvokeModelWithResponseStream": "body"}
"""Where a streaming operation's result holds its botocore EventStream."""
MAX_BODY_BYTES = 8 * 1024 * 1024
"""InvokeModel bodies larger than this are not parsed (images in, images out)."""

_SERVICE = "bedrock-runtime"
_OUTCOME = ol.OtelLlmRequestOutcomeValues
_RATE_LIMITED = frozenset({"throttlingexception", "toomanyrequestsexception"})


def is_inference_call(client: Any, operation_name: object) -> bool:
    """Whether a `_make_api_call` is one of ours: cheap, as every AWS call in the app passes."""
    if operation_name not in OPERATIONS:
        return False
    meta = getattr(client, "meta", None)
    return getattr(getattr(meta, "service_model", None), "service_name", None) == _SERVICE


@dataclass(frozen=True, slots=True)
class BedrockRequest:
    """One call's request, parsed once; every later step reads it."""

    api: str
    """The botocore operation name (`Converse`, ...)."""
    operation: str
    """`gen_ai.operation.name`: chat, text_completion or embeddings."""
    family: str | None
    """InvokeModel's body format (`anthropic`, `nova`, ...), None for Converse or unknown."""
    params: Mapping[str, Any]
    body: Any
    """InvokeModel's parsed JSON body (None when absent, unreadable or too large)."""
    info: RequestInfo

    @property
    def stream_key(self) -> str | None:
        """The result key holding this call's event stream (None: not a streaming call)."""
        return STREAM_KEYS.get(self.api)


def request_model(model_id: object) -> str | None:
    """`gen_ai.request.model` for a modelId: an ARN's model or profile id, else as given.

    Inference-profile ids keep their region prefix (`us.`, `eu.`, `global.`): it is what was
    asked for, and global and regional profiles are priced differently. ARNs of provisioned,
    custom or imported models and application profiles name no model and stay whole.
    """
    if not isinstance(model_id, str) or not model_id:
        return None
    if model_id.startswith("arn:"):
        resource = model_id.split(":", 5)[-1]
        kind, _, rest = resource.partition("/")
        if kind in ("foundation-model", "inference-profile") and rest:
            return rest
    return model_id


def _json_body(body: object) -> Any:
    """InvokeModel's `body` parameter as JSON, without consuming a file the caller passed."""
    data: object = body
    if hasattr(body, "read"):
        data = _peek(body)
    if not isinstance(data, bytes | bytearray | str) or len(data) > MAX_BODY_BYTES:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


def _peek(file: Any) -> object:
    """A seekable file's content from where the caller left it, which is where it stays."""
    try:
        if not file.seekable():
            return None  # cannot be read twice: botocore must have it whole
        position = file.tell()
    except (AttributeError, OSError, ValueError):  # no seekable(), or a closed file
        return None
    try:
        return file.read(MAX_BODY_BYTES + 1)
    except (OSError, ValueError):
        return None
    finally:
        file.seek(position)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _converse_attributes(params: Mapping[str, Any]) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    config = params.get("inferenceConfig")
    config = config if isinstance(config, Mapping) else {}
    if type(max_tokens := config.get("maxTokens")) is int:
        attributes[ga.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    for key, name in (
        (ga.GEN_AI_REQUEST_TEMPERATURE, "temperature"),
        (ga.GEN_AI_REQUEST_TOP_P, "topP"),
    ):
        if _number(config.get(name)):
            attributes[key] = config[name]
    stops = config.get("stopSequences")
    if isinstance(stops, list | tuple) and stops and all(isinstance(s, str) for s in stops):
        attributes[ga.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(stops)
    # Model-specific parameters travel in additionalModelRequestFields (Claude's top_k, ...).
    extra = params.get("additionalModelRequestFields")
    if isinstance(extra, Mapping):
        top_k = extra.get("top_k", extra.get("topK"))
        if type(top_k) is int:
            attributes[ga.GEN_AI_REQUEST_TOP_K] = top_k
    guardrail = params.get("guardrailConfig")
    if isinstance(guardrail, Mapping):
        attributes.update(_guardrail(guardrail.get("guardrailIdentifier")))
    return attributes


def _guardrail(identifier: object) -> dict[str, AttributeValue]:
    return (
        {AWS_BEDROCK_GUARDRAIL_ID: identifier} if isinstance(identifier, str) and identifier else {}
    )


def parse_request(operation_name: str, api_params: object) -> BedrockRequest:
    """The request facts of one call (`_make_api_call`'s two positional arguments)."""
    params = api_params if isinstance(api_params, Mapping) else {}
    model = request_model(params.get("modelId"))
    stream = operation_name in STREAM_KEYS
    body = None
    name = None
    if operation_name.startswith("InvokeModel"):
        body = _json_body(params.get("body"))
        name = invoke.family(
            params.get("modelId") if isinstance(params.get("modelId"), str) else None, body
        )
        operation = invoke.operation(name, body)
        attributes = invoke.request_attributes(name, body)
        attributes.update(_guardrail(params.get("guardrailIdentifier")))
    else:
        operation = ga.GenAiOperationNameValues.CHAT.value
        attributes = _converse_attributes(params)
    if stream:
        attributes[ga.GEN_AI_REQUEST_STREAM] = True
    info = RequestInfo(model=model, attributes=attributes, stream=stream)
    return BedrockRequest(operation_name, operation, name, params, body, info)


def request_content(request: BedrockRequest) -> Content | None:
    """The request content in upstream shapes (built only when content is captured)."""
    if request.api.startswith("InvokeModel"):
        return invoke.content(request.family, request.body)
    params = request.params
    return Content(
        input_messages=converse.input_messages(params.get("messages")),
        system_instructions=converse.system_instructions(params.get("system")),
        tool_definitions=converse.tool_definitions(params.get("toolConfig")),
    )


class _Unreadable(io.RawIOBase):
    """A raw stream whose reads raise what reading the real body raised."""

    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def readable(self) -> bool:
        """Readable, in that reading is how the caller learns of the failure."""
        return True

    def read(self, size: int = -1) -> bytes:
        """Raise the original failure."""
        raise self._exc


def take_body(result: object) -> bytes | None:
    """InvokeModel's reply body, read once; the caller gets an equivalent StreamingBody.

    None (body untouched) when there is no readable body or it is larger than MAX_BODY_BYTES.
    A failed read raises its exception, after the caller's body was replaced with one whose
    reads raise the same exception, as the original's would have.
    """
    if not isinstance(result, dict):
        return None
    body = result.get("body")
    from botocore.response import StreamingBody  # noqa: PLC0415 - loaded: botocore built `result`

    if not isinstance(body, StreamingBody):
        return None  # not what botocore returns (another hook replaced it): leave it be
    length = _headers(result).get("content-length")
    declared = int(length) if isinstance(length, str) and length.isdigit() else None
    if declared is not None and declared > MAX_BODY_BYTES:
        return None

    try:
        data = body.read()
    except BaseException as exc:
        result["body"] = StreamingBody(_Unreadable(exc), declared or 0)
        raise
    result["body"] = StreamingBody(_replay(body, data), len(data))
    return data if isinstance(data, bytes) else None


def _replay(body: object, data: bytes) -> Any:
    """A urllib3 response replaying `data`, as the original body's raw stream was one."""
    from urllib3.response import HTTPResponse  # noqa: PLC0415 - botocore's own dependency

    raw = getattr(body, "_raw_stream", None)
    return HTTPResponse(
        body=io.BytesIO(data),
        headers=getattr(raw, "headers", None),
        status=getattr(raw, "status", 200),
        reason=getattr(raw, "reason", None),
        preload_content=False,
        decode_content=False,  # `data` is decoded already
        enforce_content_length=False,
    )


def _headers(result: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = result.get("ResponseMetadata")
    headers = metadata.get("HTTPHeaders") if isinstance(metadata, Mapping) else None
    return headers if isinstance(headers, Mapping) else {}


def response_info(
    request: BedrockRequest, result: object, capture: bool, body: bytes | None = None
) -> ResponseInfo:
    """Response facts of a non-streaming result (InvokeModel: with the body `take_body` read)."""
    if not isinstance(result, Mapping):
        return ResponseInfo()
    if request.api == "InvokeModel":
        try:
            parsed = json.loads(body) if body else None
        except (ValueError, RecursionError):
            parsed = None
        return invoke.response(request.family, parsed, _headers(result), capture)
    message = get_field(result.get("output"), "message")
    stop = result.get("stopReason")
    return ResponseInfo(
        finish_reasons=(converse.finish_reason(stop),),
        usage=converse.usage(result.get("usage")),
        output=converse.output_messages(message, stop) if capture else None,
    )


class ConverseStreamState:
    """Accumulates ConverseStream events (`{"messageStart": ...}`, ..., `{"metadata": ...}`)."""

    __slots__ = ("_capture", "_events")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._events = converse.EventState(capture)

    def on_chunk(self, event: object) -> None:
        """Take one stream event."""
        self._events.on_event(event)

    def result(self) -> ResponseInfo:
        """What the events so far amount to."""
        events = self._events
        return ResponseInfo(
            finish_reasons=(converse.finish_reason(events.stop_reason),),
            usage=converse.usage(events.usage),
            output=events.output() if self._capture else None,
        )


def stream_state(request: BedrockRequest, capture: bool) -> StreamState:
    """A fresh accumulator for the call's event stream."""
    if request.api == "ConverseStream":
        return ConverseStreamState(capture)
    return invoke.ChunkState(request.family, capture)


def error_code(exc: BaseException) -> str | None:
    """A botocore ClientError's `Error.Code` (EventStreamError's too), else None."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, Mapping) else None
    code = error.get("Code") if isinstance(error, Mapping) else None
    return code if isinstance(code, str) and code else None


def classify_error(exc: BaseException) -> tuple[str, str] | None:
    """(`otel_llm.request.outcome`, `error.type`) of a failed call; None: the engine's default.

    A ClientError's error.type is its AWS error code, the same whether the HTTP reply or an
    exception event mid-stream carried it (stream events name it `throttlingException`).
    Throttling is rate_limited; read and connect timeouts (botocore's, or urllib3's while a
    stream is read) are timeout. ModelTimeoutException is the model running out of time on
    the server, not the client giving up: an error.
    """
    code = error_code(exc)
    if code is not None:
        outcome = _OUTCOME.RATE_LIMITED if code.lower() in _RATE_LIMITED else _OUTCOME.ERROR
        return outcome.value, code[:1].upper() + code[1:]
    if isinstance(exc, (TimeoutError, *_timeouts())):
        return _OUTCOME.TIMEOUT.value, error_type(exc)
    return None


def _timeouts() -> tuple[type[BaseException], ...]:
    """The timeout errors of botocore, and of urllib3 (raised mid-stream), if loaded."""
    found: list[type[BaseException]] = []
    for module, names in (
        ("botocore.exceptions", ("ReadTimeoutError", "ConnectTimeoutError")),
        ("urllib3.exceptions", ("TimeoutError",)),
    ):
        loaded = sys.modules.get(module)  # never imported here: the caller's are
        found.extend(getattr(loaded, name) for name in names if hasattr(loaded, name))
    return tuple(found)


@functools.lru_cache(maxsize=64)
def _server(endpoint_url: str) -> tuple[tuple[str, AttributeValue], ...]:
    parts = urlsplit(endpoint_url)
    if not parts.hostname:
        return ()
    try:
        port = parts.port or (80 if parts.scheme == "http" else 443)
    except ValueError:  # a port that is not a number
        return ()
    return ((server.SERVER_ADDRESS, parts.hostname), (server.SERVER_PORT, port))


def server_attributes(client: Any) -> dict[str, AttributeValue]:
    """`server.address` and `server.port` of a boto3 client's endpoint (`meta.endpoint_url`)."""
    url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    return dict(_server(url)) if isinstance(url, str) else {}
