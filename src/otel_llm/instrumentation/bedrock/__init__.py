"""AWS Bedrock Runtime through boto3/botocore: Converse, ConverseStream, InvokeModel and its stream.

botocore sends every operation of every AWS service through one method, called positionally:
`BaseClient._make_api_call(self, operation_name, api_params)`. That is the one method wrapped,
so one span covers a call with all of botocore's retries. Its `request` lets any other call
(S3, STS, Bedrock's control plane...) pass after a set lookup, and picks for each Bedrock
inference call the endpoint that records it: Converse and ConverseStream speak one message
format for every model (`_converse`); InvokeModel passes each model family's own JSON body
through (`_invoke`), as chat, text completion or embeddings. Streams come back inside the
result dict (`result["stream"]`, `result["body"]`); InvokeModel's reply body is read once and
handed back as an equivalent `StreamingBody` (`_body`).

`opentelemetry-instrument` finds `BedrockInstrumentor` as the `otel_llm_bedrock` entry point.
botocore is imported only when instrumenting, never by importing this package.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.util.types import AttributeValue

from otel_llm import _otel_botocore
from otel_llm.instrumentation.bedrock import _body, _converse, _invoke
from otel_llm.instrumentation.endpoint import CallHandle, Endpoint, ErrorClass, Outcome, RequestInfo
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor, Target
from otel_llm.instrumentation.types import server_attributes
from otel_llm.semconv.attributes import aws
from otel_llm.semconv.attributes import gen_ai as ga

__all__ = ["SUPPORTED", "BedrockInstrumentor"]

SUPPORTED = "botocore >= 1.34.116"
"""The botocore versions with Converse (the oldest boto3 of the `bedrock` extra pulls it in)."""

PROVIDER = ga.GenAiProviderNameValues.AWS_BEDROCK.value
SERVICE = "bedrock-runtime"
"""The botocore service name (`client.meta.service_model.service_name`) of Bedrock Runtime."""
STREAMS = {"ConverseStream": "stream", "InvokeModelWithResponseStream": "body"}
"""Where a streaming operation's result holds its botocore EventStream."""
OPERATIONS = frozenset({"Converse", "InvokeModel", *STREAMS})
"""The botocore operations recorded; every other call through the hook passes unrecorded."""

_CHAT = ga.GenAiOperationNameValues.CHAT.value
_EMBEDDINGS = ga.GenAiOperationNameValues.EMBEDDINGS.value
_GUARDRAIL = aws.AWS_BEDROCK_GUARDRAIL_ID
_RATE_LIMITED = frozenset({"throttlingexception", "toomanyrequestsexception"})
_CODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
"""An AWS error code recorded: an identifier (they are `ThrottlingException` and the like)."""


# --- requests ----------------------------------------------------------------------------------
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


def bedrock_request(
    client: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> RequestInfo | None:
    """`_make_api_call(operation_name, api_params)`'s facts; None for any call not recorded.

    Every AWS call of the application passes here, so the operation name is checked first
    (a set lookup) and the client's service only for the four operation names.
    """
    name = args[0] if args else kwargs.get("operation_name")
    if type(name) is not str or name not in OPERATIONS:
        return None
    meta = getattr(client, "meta", None)
    if getattr(getattr(meta, "service_model", None), "service_name", None) != SERVICE:
        return None
    api = args[1] if len(args) > 1 else kwargs.get("api_params")
    api = api if isinstance(api, Mapping) else {}
    model_id = api.get("modelId")
    params: Mapping[str, Any]
    if name.startswith("Converse"):
        params = api
        endpoint = CONVERSE_STREAM if name in STREAMS else CONVERSE
        attributes = _converse.request_attributes(api)
        config = api.get("guardrailConfig")
        guardrail = config.get("guardrailIdentifier") if isinstance(config, Mapping) else None
    else:
        # The model's own JSON: what the family, the parameters and the content are read from.
        body = _body.request_json(api.get("body"))
        params = body if isinstance(body, Mapping) else {}
        family = _invoke.family(model_id if isinstance(model_id, str) else None, body)
        endpoint = _invoke_endpoint(name in STREAMS, family, _invoke.operation(family, body))
        attributes = _invoke.request_attributes(family, body)
        guardrail = api.get("guardrailIdentifier")  # a parameter, sent as a header
    if name in STREAMS:
        attributes[ga.GEN_AI_REQUEST_STREAM] = True
    if isinstance(guardrail, str) and guardrail and endpoint.operation != _EMBEDDINGS:
        attributes[_GUARDRAIL] = guardrail
    return RequestInfo(
        model=request_model(model_id),
        attributes=attributes,
        stream=name in STREAMS,
        params=params,
        endpoint=endpoint,
    )


# --- results -----------------------------------------------------------------------------------
def _nested(key: str) -> Callable[[Any, CallHandle], Any]:
    """An `Endpoint.streams` for a result dict holding its EventStream under `key`."""

    def streams(result: Any, call: CallHandle) -> Any:
        if type(result) is not dict or not hasattr(result.get(key), "__iter__"):
            return None
        result[key] = call.observe(result[key])
        return result

    return streams


def _read_reply(family: str | None) -> Callable[[Any, CallHandle], Any]:
    """An `Endpoint.streams` that reads InvokeModel's reply body and ends the call from it.

    The caller gets an equivalent body (`_body.take_body`). A body that fails to read (a read
    timeout, a dropped connection) fails the call, and the caller's reads raise the same
    exception object when they get to it.
    """

    def read(result: Any, call: CallHandle) -> Any:
        try:
            data = _body.take_body(result)
        except BaseException as exc:
            call.fail(exc)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt and the like are the caller's to see now
            return result
        call.succeed(_invoke.reply(family, data, _body.headers(result), call.capturing))
        return result

    return read


# --- errors and server -------------------------------------------------------------------------
def error_code(exc: BaseException) -> str | None:
    """A botocore ClientError's `Error.Code` (EventStreamError's too), capitalised; else None.

    Stream exception events name the modelled error in camel case (`throttlingException`);
    capitalised, it reads as the HTTP reply's does. botocore puts the HTTP status there for a
    reply it cannot parse (`502`), which is kept; a code that is no identifier is dropped.
    """
    try:
        response = getattr(exc, "response", None)
        error = response.get("Error") if isinstance(response, Mapping) else None
        code = error.get("Code") if isinstance(error, Mapping) else None
    except Exception:  # a property that raises is no code
        return None
    if type(code) is not str or not _CODE.fullmatch(code):
        return None
    return code[:1].upper() + code[1:]


def classify(exc: BaseException) -> ErrorClass | None:
    """How a failed call counts; None leaves it to the engine (cancellations, plain errors).

    A ClientError's `error.type` and `otel_llm.error.code` are its AWS error code, the same
    whether the HTTP reply or an exception event mid-stream carried it (`error_code`).
    Throttling is rate_limited; read and connect timeouts (botocore's, or urllib3's while a
    stream is read) are timeout. ModelTimeoutException is the model running out of time on
    the server, not the client giving up: an error.
    """
    code = error_code(exc)
    if code is not None:
        limited = code.lower() in _RATE_LIMITED
        outcome = Outcome.RATE_LIMITED if limited else Outcome.ERROR
        return ErrorClass(outcome.value, code, code=code)
    if isinstance(exc, _timeouts()):
        return ErrorClass(Outcome.TIMEOUT.value)
    return None


def _timeouts() -> tuple[type[BaseException], ...]:
    """The timeout errors of botocore, and of urllib3 (raised mid-stream), if loaded."""
    found: list[type[BaseException]] = [TimeoutError]
    for module, names in (
        ("botocore.exceptions", ("ReadTimeoutError", "ConnectTimeoutError")),
        ("urllib3.exceptions", ("TimeoutError",)),
    ):
        loaded = sys.modules.get(module)  # never imported here: the caller's are
        found.extend(getattr(loaded, name) for name in names if hasattr(loaded, name))
    return tuple(found)


def server(client: Any) -> Mapping[str, AttributeValue]:
    """`server.address` and `server.port` of a boto3 client's endpoint (`meta.endpoint_url`)."""
    url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    return server_attributes(url) if isinstance(url, str) else {}


# --- endpoints ---------------------------------------------------------------------------------
_COMMON: dict[str, Any] = {
    "provider": PROVIDER,
    "request": bedrock_request,
    "server": server,
    "classify": classify,
}
CONVERSE = Endpoint(
    operation=_CHAT,
    response=_converse.response,
    content=_converse.content,
    **_COMMON,
)
CONVERSE_STREAM = Endpoint(
    operation=_CHAT,
    streams=_nested("stream"),
    stream_state=_converse.EventState,
    content=_converse.content,
    **_COMMON,
)


@functools.cache
def _invoke_endpoint(stream: bool, family: str | None, operation: str) -> Endpoint:
    """The endpoint of one InvokeModel(WithResponseStream) body format (a few dozen at most)."""
    # Embeddings spans carry no messages (upstream's embeddings span has none).
    content = None if operation == _EMBEDDINGS else functools.partial(_invoke.content, family)
    if stream:
        return Endpoint(
            operation=operation,
            streams=_nested("body"),
            stream_state=functools.partial(_invoke.ChunkState, family),
            content=content,
            **_COMMON,
        )
    return Endpoint(operation=operation, streams=_read_reply(family), content=content, **_COMMON)


class BedrockInstrumentor(ProviderInstrumentor):
    """Instruments boto3's `bedrock-runtime` clients; the `otel_llm_bedrock` entry point."""

    requirements = (SUPPORTED,)
    targets = (Target("botocore.client", "BaseClient", "_make_api_call", "bedrock", "sync"),)

    def endpoints(self) -> Mapping[str, Endpoint]:
        """The hook's endpoint; each call it records picks its own (`bedrock_request`)."""
        return {"bedrock": CONVERSE}

    def _instrument(self, **kwargs: Any) -> None:
        # OTel's botocore instrumentation, if installed, keeps tracing every AWS service but
        # records Bedrock Runtime calls as plain AWS calls: their GenAI telemetry is ours.
        # Before wrapping, which reports another wrapper of the method at once if it sees one.
        _otel_botocore.leave_bedrock_to_otel_llm()
        try:
            super()._instrument(**kwargs)
        except BaseException:
            _otel_botocore.put_back()
            raise

    def _uninstrument(self, **kwargs: Any) -> None:
        super()._uninstrument(**kwargs)
        _otel_botocore.put_back()
