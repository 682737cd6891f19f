"""Tests for otel_llm.instrumentation.bedrock: boto3 calls recorded through botocore's one hook.

Real boto3 clients talk to the fake Bedrock Runtime on 127.0.0.1 (tests/instrumentation/bedrock/
_server.py) with the instrumentation on; the tests read the spans and metrics it recorded and
check that what the caller got is what the bare client gives.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.client
import pytest
import urllib3.exceptions
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    EventStreamError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.response import StreamingBody
from opentelemetry.trace import StatusCode

from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation import bedrock
from otel_llm.instrumentation.bedrock import BedrockInstrumentor
from otel_llm.instrumentation.endpoint import ErrorClass
from otel_llm.payloads import bedrock_eventstream as es
from otel_llm.payloads import bedrock_invoke as invoke_payloads
from otel_llm.payloads.bedrock import (
    ANSWER,
    GUARDRAIL_ID,
    MODEL_IDS,
    Reply,
    Tokens,
    ToolUse,
    converse_request,
    converse_response,
)
from tests.conftest import Captured, make_captured
from tests.instrumentation._schemas import OUTPUT, assert_valid
from tests.instrumentation.bedrock._server import (
    MODEL_TIMEOUT,
    THROTTLED,
    UNAVAILABLE,
    FakeBedrock,
    Response,
    converse_events,
    invoke_events,
    json_response,
    stream_response,
)

DUMMY = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "example"}
NOVA = MODEL_IDS["nova"]
CLAUDE = MODEL_IDS["anthropic_profile"]


def _instrument(mode: ContentCapturingMode = ContentCapturingMode.NO_CONTENT) -> Captured:
    captured = make_captured(Settings(capture_message_content=mode))
    BedrockInstrumentor().instrument(
        **captured.providers, settings=captured.telemetry.settings, skip_dep_check=True
    )
    return captured


@pytest.fixture
def fake() -> Iterator[FakeBedrock]:
    """A running fake Bedrock Runtime."""
    with FakeBedrock() as server:
        yield server


@pytest.fixture
def client(fake: FakeBedrock) -> Any:
    """A boto3 bedrock-runtime client talking to it."""
    return fake.client()


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """Bedrock instrumented against in-memory providers, content captured on spans."""
    captured = _instrument(ContentCapturingMode.SPAN_ONLY)
    try:
        yield captured
    finally:
        BedrockInstrumentor().uninstrument()


def _one_span(captured: Captured) -> Any:
    spans = captured.finished_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def _outcome(captured: Captured) -> str:
    (point,) = captured.metric_points("otel_llm.client.requests")
    return str(point.attributes["otel_llm.request.outcome"])


def _raised(action: Any) -> BaseException:
    try:
        action()
    except Exception as exc:  # the test inspects whatever was raised
        return exc
    raise AssertionError("nothing raised")


def _output(span: Any) -> Any:
    return json.loads(span.attributes["gen_ai.output.messages"])


# --- which calls are recorded ------------------------------------------------------------------
def test_other_aws_calls_pass_unrecorded(fake: FakeBedrock, instrumented: Captured) -> None:
    """S3, Bedrock's control plane and non-inference Runtime operations record nothing."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=fake.url, **DUMMY)
    control = boto3.client("bedrock", region_name="us-east-1", endpoint_url=fake.url, **DUMMY)
    runtime = fake.client()
    calls = (
        s3.list_buckets,
        control.list_foundation_models,
        lambda: runtime.apply_guardrail(
            guardrailIdentifier=GUARDRAIL_ID,
            guardrailVersion="1",
            source="INPUT",
            content=[{"text": {"text": "hi"}}],
        ),
    )
    for call in calls:
        assert isinstance(_raised(call), ClientError)  # the fake knows none of them
    assert captured_nothing(instrumented)
    s3.close()
    control.close()


def captured_nothing(captured: Captured) -> bool:
    """No span and no request counted."""
    return not captured.finished_spans() and not captured.metric_points("otel_llm.client.requests")


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("Converse", {}), {}),
        ((), {"operation_name": "Converse", "api_params": {}}),
        (("ListBuckets", {}), {}),
        ((42, {}), {}),
        ((["Converse"], {}), {}),
    ],
)
def test_the_request_filter_reads_positional_and_keyword_calls(
    fake: FakeBedrock, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """The operation name arrives positionally or by keyword; only the four are recorded."""
    runtime = fake.client()
    info = bedrock.bedrock_request(runtime, args, kwargs)
    name = args[0] if args else kwargs["operation_name"]
    assert (info is not None) == (name == "Converse")
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=fake.url, **DUMMY)
    assert bedrock.bedrock_request(s3, args, kwargs) is None
    assert bedrock.bedrock_request(object(), args, kwargs) is None
    s3.close()


def test_uninstrument_restores_botocores_method() -> None:
    """After uninstrument, _make_api_call is botocore's own function again."""
    original = botocore.client.BaseClient._make_api_call
    _instrument()
    assert botocore.client.BaseClient._make_api_call is not original
    BedrockInstrumentor().uninstrument()
    assert botocore.client.BaseClient._make_api_call is original


# --- requests ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("amazon.nova-micro-v1:0", "amazon.nova-micro-v1:0"),
        (
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2", "anthropic.claude-v2"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123def456",
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123def456",
        ),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_request_model_of_ids_profiles_and_arns(model_id: object, expected: str | None) -> None:
    """Profile prefixes stay; ARNs of models and profiles give their id; opaque ARNs stay whole."""
    assert bedrock.request_model(model_id) == expected


def test_converse_request_attributes(client: Any, instrumented: Captured) -> None:
    """inferenceConfig, Claude's top_k and the guardrail id go on the span as sent."""
    params = converse_request(guardrail=True, stop=["END"])
    params["additionalModelRequestFields"] = {"top_k": 200}
    client.converse(modelId=CLAUDE, **params)
    span = _one_span(instrumented)
    assert span.name == f"chat {CLAUDE}"
    attributes = span.attributes
    assert attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert attributes["gen_ai.request.max_tokens"] == 256
    assert attributes["gen_ai.request.temperature"] == 0.2
    assert attributes["gen_ai.request.top_p"] == 0.9
    assert attributes["gen_ai.request.top_k"] == 200
    assert attributes["gen_ai.request.stop_sequences"] == ("END",)
    assert attributes["aws.bedrock.guardrail.id"] == GUARDRAIL_ID
    assert "gen_ai.request.stream" not in attributes


def test_malformed_converse_parameters_are_left_out(fake: FakeBedrock) -> None:
    """Wrong types (strings, booleans, non-string stops) record nothing; odd params no model."""
    params = {
        "modelId": NOVA,
        "inferenceConfig": {
            "maxTokens": "256",
            "temperature": True,
            "topP": None,
            "stopSequences": [1],
        },
        "additionalModelRequestFields": {"top_k": 2.5},
        "guardrailConfig": {"guardrailIdentifier": ""},
    }
    runtime = fake.client()
    info = bedrock.bedrock_request(runtime, ("Converse", params), {})
    assert info is not None
    assert info.attributes == {}
    odd = bedrock.bedrock_request(runtime, ("Converse", "params"), {})
    assert odd is not None
    assert odd.model is None


def test_invoke_model_reads_a_file_body_without_consuming_it(
    fake: FakeBedrock, client: Any, instrumented: Captured
) -> None:
    """A seekable file body is read for the span and still sent whole by botocore."""
    raw = json.dumps(invoke_payloads.request("titan_text")).encode()
    client.invoke_model(modelId=MODEL_IDS["titan_text"], body=io.BytesIO(raw))
    assert fake.requests[-1].body == raw
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.operation.name"] == "text_completion"
    assert span.attributes["gen_ai.request.max_tokens"] == 256


def test_invoke_model_guardrail_id_comes_from_its_parameter(
    client: Any, instrumented: Captured
) -> None:
    """InvokeModel's guardrailIdentifier (a header on the wire) is the guardrail id."""
    body = json.dumps(invoke_payloads.request("anthropic"))
    client.invoke_model(
        modelId=MODEL_IDS["anthropic"],
        body=body,
        guardrailIdentifier=GUARDRAIL_ID,
        guardrailVersion="1",
    )
    attributes = _one_span(instrumented).attributes
    assert attributes["aws.bedrock.guardrail.id"] == GUARDRAIL_ID
    assert attributes["gen_ai.request.top_k"] == 250


# --- replies -----------------------------------------------------------------------------------
def test_converse_reply_with_cache_reasoning_and_tool_use(
    fake: FakeBedrock, client: Any, instrumented: Captured
) -> None:
    """Finish reason, usage with cache reads in the input total, and the output message."""
    reply = Reply(
        reasoning="Look it up.",
        tool_uses=[ToolUse()],
        stop_reason="tool_use",
        tokens=Tokens(input=4, output=10, cache_read=2701, cache_write=12),
    )
    fake.push(json_response(converse_response(reply)))
    result = client.converse(modelId=NOVA, **converse_request(tools=True))
    assert result["stopReason"] == "tool_use"
    span = _one_span(instrumented)
    attributes = span.attributes
    assert attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert attributes["gen_ai.usage.input_tokens"] == 4 + 2701 + 12
    assert attributes["gen_ai.usage.cache_read.input_tokens"] == 2701
    assert attributes["gen_ai.usage.cache_write.input_tokens"] == 12
    assert attributes["gen_ai.usage.output_tokens"] == 10
    output = _output(span)
    assert [p["type"] for p in output[0]["parts"]] == ["reasoning", "text", "tool_call"]
    assert_valid(OUTPUT, output)
    (cached,) = instrumented.metric_points("gen_ai.client.inference.usage.cache_read.input_tokens")
    assert cached.value == 2701


def test_converse_stream_reply_and_the_callers_events(
    fake: FakeBedrock, client: Any, instrumented: Captured
) -> None:
    """The caller gets every event; the span ends at the last with usage and output."""
    reply = Reply(tool_uses=[ToolUse()], stop_reason="tool_use")
    fake.push(stream_response(converse_events(reply)))
    result = client.converse_stream(modelId=NOVA, **converse_request())
    assert instrumented.finished_spans() == []  # open while the stream is read
    events = list(result["stream"])
    assert list(events[-1]) == ["metadata"]
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert span.attributes["gen_ai.usage.input_tokens"] == 25
    parts = _output(span)[0]["parts"]
    assert parts[0] == {"type": "text", "content": ANSWER}
    assert parts[1]["arguments"] == ToolUse().input
    assert instrumented.metric_points("gen_ai.client.inference.time_per_output_chunk")


@pytest.mark.parametrize("family", invoke_payloads.FAMILIES)
def test_invoke_model_of_every_family(client: Any, instrumented: Captured, family: str) -> None:
    """Usage from Bedrock's headers, the finish reason and output; the caller's body intact."""
    body = json.dumps(invoke_payloads.request(family))
    result = client.invoke_model(modelId=MODEL_IDS[family], body=body)
    assert isinstance(result["body"], StreamingBody)
    assert json.loads(result["body"].read()) == invoke_payloads.response(family)
    span = _one_span(instrumented)
    attributes = span.attributes
    operation = "chat" if family in ("anthropic", "nova", "mistral_chat") else "text_completion"
    assert attributes["gen_ai.operation.name"] == operation
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.usage.input_tokens"] == 25
    assert attributes["gen_ai.usage.output_tokens"] == 12
    assert_valid(OUTPUT, _output(span))
    assert "".join(p["content"] for p in _output(span)[0]["parts"]) == ANSWER
    if family == "anthropic":
        assert attributes["gen_ai.response.model"] == invoke_payloads.ANTHROPIC_MODEL
        assert attributes["gen_ai.response.id"] == invoke_payloads.ANTHROPIC_ID


@pytest.mark.parametrize("family", invoke_payloads.FAMILIES)
def test_invoke_model_streams_of_every_family(
    client: Any, instrumented: Captured, family: str
) -> None:
    """Every family's stream: usage from the invocation metrics, finish reason, streamed text."""
    body = json.dumps(invoke_payloads.request(family))
    result = client.invoke_model_with_response_stream(modelId=MODEL_IDS[family], body=body)
    chunks = list(result["body"])
    assert all(list(chunk) == ["chunk"] for chunk in chunks)
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.usage.input_tokens"] == 25
    assert span.attributes["gen_ai.usage.output_tokens"] == 12
    assert "".join(p["content"] for p in _output(span)[0]["parts"]) == ANSWER


@pytest.mark.parametrize("family", invoke_payloads.EMBEDDING_FAMILIES)
def test_embeddings_through_invoke_model(client: Any, instrumented: Captured, family: str) -> None:
    """Titan and Cohere embeddings: their own span type, input tokens and dimension counted."""
    body = json.dumps(invoke_payloads.embed_request(family))
    result = client.invoke_model(modelId=MODEL_IDS[family], body=body)
    assert "embedding" in json.loads(result["body"].read()) or family == "cohere_embed"
    span = _one_span(instrumented)
    assert span.name == f"embeddings {MODEL_IDS[family]}"
    assert span.attributes["gen_ai.usage.input_tokens"] == 9
    assert span.attributes["gen_ai.embeddings.dimension.count"] > 0
    assert "gen_ai.input.messages" not in span.attributes
    (tokens,) = instrumented.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert (tokens.value, tokens.attributes["gen_ai.operation.name"]) == (9, "embeddings")


def test_calls_are_priced_by_the_model_id_they_named(
    fake: FakeBedrock, client: Any, instrumented: Captured
) -> None:
    """Claude via an inference profile and Nova are priced through genai-prices."""
    client.converse(modelId=CLAUDE, **converse_request())
    client.converse(modelId=MODEL_IDS["nova_profile"], **converse_request())
    body = json.dumps(invoke_payloads.request("anthropic"))
    client.invoke_model(modelId=MODEL_IDS["anthropic"], body=body)
    for span in instrumented.finished_spans():
        assert span.attributes["otel_llm.cost.total"] > 0, span.name
        assert span.attributes["otel_llm.cost.price_source"] == "genai-prices"


def test_one_span_covers_botocores_retries(fake: FakeBedrock, instrumented: Captured) -> None:
    """Throttled twice, then answered: botocore retries inside one successful span."""
    retrying = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=fake.url,
        config=Config(retries={"total_max_attempts": 3, "mode": "standard"}),
        **DUMMY,
    )
    fake.push(THROTTLED, THROTTLED)
    result = retrying.converse(modelId=NOVA, **converse_request())
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    assert len(fake.requests) == 3
    span = _one_span(instrumented)
    assert span.status.status_code is not StatusCode.ERROR
    assert _outcome(instrumented) == "success"
    retrying.close()


# --- failures ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case",
    [
        (THROTTLED, "rate_limited", "ThrottlingException"),
        (UNAVAILABLE, "error", "ServiceUnavailableException"),
        (MODEL_TIMEOUT, "error", "ModelTimeoutException"),
    ],
    ids=lambda case: case[2],
)
def test_http_errors_count_by_their_aws_code(
    fake: FakeBedrock, client: Any, instrumented: Captured, case: tuple[Response, str, str]
) -> None:
    """AWS error code as error.type and otel_llm.error.code, HTTP status kept, 429 rate-limited."""
    reply, outcome, kind = case
    fake.push(reply)
    exc = _raised(lambda: client.converse(modelId=NOVA, messages=[]))
    assert isinstance(exc, ClientError)
    span = _one_span(instrumented)
    assert span.attributes["http.response.status_code"] == reply.status
    assert span.attributes["error.type"] == kind
    assert span.attributes["otel_llm.error.code"] == kind
    assert _outcome(instrumented) == outcome


@pytest.mark.parametrize(
    "case",
    [
        ("throttlingException", "rate_limited", "ThrottlingException"),
        ("modelStreamErrorException", "error", "ModelStreamErrorException"),
    ],
    ids=lambda case: case[0],
)
def test_exception_events_mid_stream_count_like_http_errors(
    fake: FakeBedrock, client: Any, instrumented: Captured, case: tuple[str, str, str]
) -> None:
    """An exception event (EventStreamError) fails the span with the capitalised code, both ways."""
    member, outcome, kind = case
    events = [*invoke_events("mistral")[:1], es.exception(member, "Stream failed.")]
    fake.push(stream_response(events))
    body = json.dumps(invoke_payloads.request("mistral"))
    stream = client.invoke_model_with_response_stream(modelId=MODEL_IDS["mistral"], body=body)
    exc = _raised(lambda: list(stream["body"]))
    stream["body"].close()
    assert isinstance(exc, EventStreamError)
    span = _one_span(instrumented)
    assert span.attributes["error.type"] == span.attributes["otel_llm.error.code"] == kind
    assert "http.response.status_code" not in span.attributes  # the stream began with 200
    assert _outcome(instrumented) == outcome


def test_read_timeouts_count_as_timeouts_also_mid_stream(fake: FakeBedrock) -> None:
    """Botocore's read timeout before the reply, urllib3's while a stream stalls: timeout."""
    client = fake.client(read_timeout=0.2)
    captured = _instrument()
    try:
        fake.push(Response(delay=5))
        before = _raised(lambda: client.converse(modelId=NOVA, messages=[]))
        fake.push(stream_response(converse_events()[:2], ending="stall"))
        stream = client.converse_stream(modelId=NOVA, messages=[])["stream"]
        during = _raised(lambda: list(stream))
        stream.close()
    finally:
        BedrockInstrumentor().uninstrument()
    assert isinstance(before, ReadTimeoutError)
    assert isinstance(during, urllib3.exceptions.ReadTimeoutError)
    points = captured.metric_points("otel_llm.client.requests")
    assert [(p.attributes["otel_llm.request.outcome"], p.value) for p in points] == [
        ("timeout", 1),
        ("timeout", 1),
    ]
    types = {s.attributes["error.type"] for s in captured.finished_spans()}
    assert types == {"botocore.exceptions.ReadTimeoutError", "urllib3.exceptions.ReadTimeoutError"}
    assert not any("otel_llm.error.code" in s.attributes for s in captured.finished_spans())


def test_a_reply_body_that_fails_to_read_fails_the_call_and_the_callers_read(
    fake: FakeBedrock, client: Any, instrumented: Captured
) -> None:
    """A body cut short: the span fails at once and the caller's read raises the same error."""
    body = json.dumps(invoke_payloads.response("llama")).encode()
    head = {"Content-Type": "application/json"}
    fake.push(Response(headers=head, body=body, ending="drop"))  # half the body it promised
    params = {"modelId": MODEL_IDS["llama"], "body": json.dumps(invoke_payloads.request("llama"))}
    result = client.invoke_model(**params)
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    exc = _raised(result["body"].read)
    assert isinstance(exc, ResponseStreamingError)  # botocore's, for a connection cut short
    assert span.attributes["error.type"] == "botocore.exceptions.ResponseStreamingError"


def test_other_failures_are_plain_errors(fake: FakeBedrock) -> None:
    """A dropped stream and an unreachable endpoint are errors, with their class as error.type."""
    client = fake.client()
    captured = _instrument()
    try:
        fake.push(stream_response(converse_events()[:2], ending="drop"))
        stream = client.converse_stream(modelId=NOVA, messages=[])["stream"]
        dropped = _raised(lambda: list(stream))
        stream.close()
        fake.stop()
        refused = _raised(lambda: client.converse(modelId=NOVA, messages=[]))
    finally:
        BedrockInstrumentor().uninstrument()
    assert isinstance(refused, EndpointConnectionError)
    assert {s.attributes["error.type"] for s in captured.finished_spans()} == {
        f"{type(dropped).__module__}.{type(dropped).__qualname__}",
        "botocore.exceptions.EndpointConnectionError",
    }
    points = captured.metric_points("otel_llm.client.requests")
    assert [(p.attributes["otel_llm.request.outcome"], p.value) for p in points] == [
        ("error", 1),
        ("error", 1),
    ]


def test_classify_without_a_code_or_timeout_leaves_it_to_the_engine() -> None:
    """Errors with no AWS code and no timeout class are the engine's to classify."""
    assert bedrock.classify(ValueError("x")) is None
    assert bedrock.classify(TimeoutError()) == ErrorClass("timeout")
    throttled = ClientError({"Error": {"Code": "TooManyRequestsException"}}, "Converse")
    assert bedrock.classify(throttled) == ErrorClass(
        "rate_limited", "TooManyRequestsException", code="TooManyRequestsException"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("validationException", "ValidationException"),
        ("502", "502"),  # botocore's code for a reply it could not parse
        ("Access denied for user bob", None),
        ("X" * 65, None),
        ("", None),
        (429, None),
        (None, None),
    ],
)
def test_only_identifiers_are_recorded_as_aws_error_codes(
    code: object, expected: str | None
) -> None:
    """A ClientError's code is kept when it is an identifier, else left to the engine."""
    exc = ClientError({"Error": {"Code": code, "Message": "m"}}, "Converse")
    assert bedrock.error_code(exc) == expected
    found = bedrock.classify(exc)
    assert found == (None if expected is None else ErrorClass("error", expected, code=expected))


# --- server address ----------------------------------------------------------------------------
def test_server_attributes_come_from_the_clients_endpoint(fake: FakeBedrock, client: Any) -> None:
    """The endpoint URL gives address and port (443 by default for AWS's https endpoints)."""
    assert bedrock.server(client) == {"server.address": "127.0.0.1", "server.port": fake.port}
    aws = boto3.client("bedrock-runtime", region_name="eu-west-3", **DUMMY)
    assert bedrock.server(aws) == {
        "server.address": "bedrock-runtime.eu-west-3.amazonaws.com",
        "server.port": 443,
    }
    aws.close()
    assert bedrock.server(object()) == {}


def test_the_module_imports_without_boto3() -> None:
    """The provider and its payloads import where boto3, botocore and urllib3 cannot."""
    script = textwrap.dedent(
        """
        import sys
        for name in ("boto3", "botocore", "urllib3"):
            sys.modules[name] = None  # any import of them raises ImportError
        import otel_llm.instrumentation.bedrock
        import otel_llm.payloads.bedrock_invoke
        loaded = [m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "urllib3")]
        assert all(sys.modules[m] is None for m in loaded), loaded
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
