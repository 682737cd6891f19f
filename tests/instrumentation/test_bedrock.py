"""Tests for otel_llm.instrumentation.bedrock: requests, replies, streams and errors of boto3 calls.

The calls go through a real boto3 `bedrock-runtime` client to the fake Bedrock server; each test
runs the steps the engine will run around `_make_api_call` (parse the request, read the result or
its stream, classify a failure) and checks what they read and that the caller's result is intact.
"""

import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import urllib3.exceptions
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    EventStreamError,
    IncompleteReadError,
    ReadTimeoutError,
)
from botocore.response import StreamingBody

from otel_llm.instrumentation import bedrock
from otel_llm.instrumentation._model import ResponseInfo, Usage
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
from otel_llm.payloads.bedrock_server import (
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
from otel_llm.semconv.attributes import gen_ai as ga
from tests.instrumentation.test_content import INPUT, OUTPUT, assert_valid

METHODS = {
    "Converse": "converse",
    "ConverseStream": "converse_stream",
    "InvokeModel": "invoke_model",
    "InvokeModelWithResponseStream": "invoke_model_with_response_stream",
}


DUMMY_CREDENTIALS = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "example"}


def offline_client(service: str, region: str) -> Any:
    """A boto3 client for AWS's real endpoint that the test never lets send anything."""
    return boto3.client(service, region_name=region, **DUMMY_CREDENTIALS)


@pytest.fixture
def fake() -> Iterator[FakeBedrock]:
    """A running fake Bedrock Runtime."""
    with FakeBedrock() as server:
        yield server


@pytest.fixture
def client(fake: FakeBedrock) -> Any:
    """A boto3 bedrock-runtime client talking to it."""
    return fake.client()


def call(client: Any, api: str, capture: bool = True, **params: Any) -> tuple[Any, ResponseInfo]:
    """Make one call and read it as the engine will: (the caller's result, the response facts)."""
    request = bedrock.parse_request(api, params)
    result = getattr(client, METHODS[api])(**params)
    key = request.stream_key
    if key is None:
        body = bedrock.take_body(result)
        return result, bedrock.response_info(request, result, capture, body)
    state = bedrock.stream_state(request, capture)
    for event in result[key]:
        state.on_chunk(event)
    return result, state.result()


# --- which calls are ours ----------------------------------------------------------------------
def test_only_bedrock_runtime_inference_calls_are_ours(client: Any) -> None:
    """The shared botocore hook sees every AWS call; only the four inference operations count."""
    s3 = offline_client("s3", "us-east-1")
    try:
        assert bedrock.is_inference_call(client, "Converse")
        assert bedrock.is_inference_call(client, "InvokeModelWithResponseStream")
        assert not bedrock.is_inference_call(client, "ApplyGuardrail")
        assert not bedrock.is_inference_call(client, "CountTokens")
        assert not bedrock.is_inference_call(s3, "Converse")
        assert not bedrock.is_inference_call(object(), "Converse")
    finally:
        s3.close()


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
        (
            "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:application-inference-profile/x1y2",
            "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:application-inference-profile/x1y2",
        ),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_request_model_of_ids_profiles_and_arns(model_id: object, expected: str | None) -> None:
    """Profile prefixes stay; ARNs of models and profiles give their id; opaque ARNs stay whole."""
    assert bedrock.request_model(model_id) == expected


def test_converse_request_facts() -> None:
    """Converse's inferenceConfig, Claude's top_k and the guardrail id become attributes."""
    params = {
        "modelId": MODEL_IDS["anthropic_profile"],
        **converse_request(guardrail=True, stop=["END"]),
    }
    params["additionalModelRequestFields"] = {"top_k": 200}
    request = bedrock.parse_request("Converse", params)
    assert (request.operation, request.family, request.stream_key) == ("chat", None, None)
    assert request.info.model == MODEL_IDS["anthropic_profile"]
    assert request.info.stream is False
    assert request.info.attributes == {
        ga.GEN_AI_REQUEST_MAX_TOKENS: 256,
        ga.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        ga.GEN_AI_REQUEST_TOP_P: 0.9,
        ga.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        ga.GEN_AI_REQUEST_TOP_K: 200,
        bedrock.AWS_BEDROCK_GUARDRAIL_ID: GUARDRAIL_ID,
    }


def test_stream_requests_are_flagged() -> None:
    """Both streaming operations set the stream flag and name where their stream is."""
    converse = bedrock.parse_request("ConverseStream", {"modelId": "amazon.nova-micro-v1:0"})
    invoke = bedrock.parse_request(
        "InvokeModelWithResponseStream", {"modelId": MODEL_IDS["llama"], "body": b"{}"}
    )
    for request, key in ((converse, "stream"), (invoke, "body")):
        assert request.info.stream is True
        assert request.info.attributes[ga.GEN_AI_REQUEST_STREAM] is True
        assert request.stream_key == key


def test_malformed_converse_parameters_are_left_out() -> None:
    """Wrong types (strings, booleans, non-string stops) and non-dict params record nothing."""
    params = {
        "modelId": "amazon.nova-micro-v1:0",
        "inferenceConfig": {
            "maxTokens": "256",
            "temperature": True,
            "topP": None,
            "stopSequences": [1],
        },
        "additionalModelRequestFields": {"top_k": 2.5},
        "guardrailConfig": {"guardrailIdentifier": ""},
    }
    assert bedrock.parse_request("Converse", params).info.attributes == {}
    assert bedrock.parse_request("Converse", "params").info.model is None


@pytest.mark.parametrize("kind", ["bytes", "str", "bytearray", "file"])
def test_invoke_bodies_are_read_without_consuming_them(kind: str) -> None:
    """Bytes, text and seekable files are parsed; a file is left where the caller had it."""
    raw = json.dumps(invoke_payloads.request("titan_text")).encode()
    file = io.BytesIO(b"xx" + raw)
    file.seek(2)
    body: object = {"bytes": raw, "str": raw.decode(), "bytearray": bytearray(raw), "file": file}[
        kind
    ]
    request = bedrock.parse_request(
        "InvokeModel", {"modelId": MODEL_IDS["titan_text"], "body": body}
    )
    assert request.body == invoke_payloads.request("titan_text")
    assert (request.family, request.operation) == ("titan_text", "text_completion")
    assert file.tell() == 2


def test_unreadable_invoke_bodies_are_skipped() -> None:
    """Unseekable or closed files, oversized bodies and invalid JSON leave the body unparsed."""

    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise AssertionError("an unseekable body must not be read")

    closed = io.BytesIO(b"{}")
    closed.close()
    too_big = b'{"prompt": "' + b"x" * bedrock.MAX_BODY_BYTES + b'"}'
    for body in (Pipe(), closed, too_big, b"{not json", None):
        request = bedrock.parse_request(
            "InvokeModel", {"modelId": MODEL_IDS["llama"], "body": body}
        )
        assert request.body is None
        assert request.family == "llama"
        assert request.info.model == MODEL_IDS["llama"]


def test_invoke_guardrail_id_comes_from_the_header_parameter() -> None:
    """InvokeModel's guardrailIdentifier parameter is the guardrail id attribute."""
    params = {
        "modelId": MODEL_IDS["anthropic"],
        "body": json.dumps(invoke_payloads.request("anthropic")),
        "guardrailIdentifier": GUARDRAIL_ID,
        "guardrailVersion": "1",
    }
    request = bedrock.parse_request("InvokeModel", params)
    assert request.info.attributes[bedrock.AWS_BEDROCK_GUARDRAIL_ID] == GUARDRAIL_ID
    assert request.info.attributes[ga.GEN_AI_REQUEST_TOP_K] == 250


def test_request_content_of_converse_and_invoke() -> None:
    """Converse content reads messages, system and tools; InvokeModel content reads the body."""
    params = {"modelId": "amazon.nova-micro-v1:0", **converse_request(tools=True)}
    content = bedrock.request_content(bedrock.parse_request("Converse", params))
    assert content is not None
    assert_valid(INPUT, content.input_messages)
    assert content.system_instructions == [
        {"type": "text", "content": "You are a concise support assistant."}
    ]
    assert content.tool_definitions is not None
    body = json.dumps(invoke_payloads.embed_request("cohere_embed"))
    embed = bedrock.parse_request(
        "InvokeModel", {"modelId": MODEL_IDS["cohere_embed"], "body": body}
    )
    assert embed.operation == "embeddings"
    assert bedrock.request_content(embed) is None


# --- replies through the fake server ------------------------------------------------------------
def test_converse_reply_facts(fake: FakeBedrock, client: Any) -> None:
    """A Converse reply gives its finish reason, usage with cache reads, and the output message."""
    reply = Reply(
        reasoning="Look it up.",
        tool_uses=[ToolUse()],
        stop_reason="tool_use",
        tokens=Tokens(input=4, output=10, cache_read=2701),
    )
    fake.push(json_response(converse_response(reply)))
    result, info = call(
        client, "Converse", modelId=MODEL_IDS["nova"], **converse_request(tools=True)
    )
    assert result["stopReason"] == "tool_use"
    assert info.finish_reasons == ("tool_call",)
    assert info.usage == Usage(2705, 10, 2701, 0)
    assert [p["type"] for p in info.output[0]["parts"]] == ["reasoning", "text", "tool_call"]
    assert_valid(OUTPUT, info.output)
    _, uncaptured = call(client, "Converse", capture=False, modelId=MODEL_IDS["nova"], messages=[])
    assert uncaptured.output is None


def test_converse_stream_reply_facts(fake: FakeBedrock, client: Any) -> None:
    """A ConverseStream read to the end gives the same facts as the Converse reply."""
    reply = Reply(tool_uses=[ToolUse()], stop_reason="tool_use")
    fake.push(stream_response(converse_events(reply)))
    _, info = call(client, "ConverseStream", modelId=MODEL_IDS["nova"], **converse_request())
    assert info.finish_reasons == ("tool_call",)
    assert info.usage == Usage(25, 12)
    assert info.output[0]["parts"][0] == {"type": "text", "content": ANSWER}
    assert info.output[0]["parts"][1]["arguments"] == ToolUse().input


def test_an_abandoned_converse_stream_reports_what_arrived(client: Any) -> None:
    """A stream left after its first events has no stop reason yet: the finish reason is error."""
    request = bedrock.parse_request("ConverseStream", {"modelId": MODEL_IDS["nova"]})
    result = client.converse_stream(modelId=MODEL_IDS["nova"], **converse_request())
    state = bedrock.stream_state(request, True)
    for _, event in zip(range(2), result["stream"], strict=False):
        state.on_chunk(event)
    result["stream"].close()
    info = state.result()
    assert info.finish_reasons == ("error",)
    assert info.usage is None
    assert info.output[0]["parts"][0]["content"] == "Your order ships"


@pytest.mark.parametrize("family", invoke_payloads.FAMILIES)
def test_invoke_model_replies_and_the_callers_body(client: Any, family: str) -> None:
    """InvokeModel facts come from body and headers; the caller still reads the same body."""
    body = json.dumps(invoke_payloads.request(family))
    result, info = call(client, "InvokeModel", modelId=MODEL_IDS[family], body=body)
    assert info.finish_reasons == ("stop",)
    assert info.usage is not None
    assert (info.usage.input_tokens, info.usage.output_tokens) == (25, 12)
    assert_valid(OUTPUT, info.output)
    assert isinstance(result["body"], StreamingBody)
    assert json.loads(result["body"].read()) == invoke_payloads.response(family)
    assert result["body"].read() == b""  # read once, like the original


def test_the_callers_body_reads_in_every_way_botocores_does(client: Any) -> None:
    """The handed-back body reads in pieces, by lines or chunks, and as a context manager."""
    body = json.dumps(invoke_payloads.request("llama"))
    expected = json.dumps(invoke_payloads.response("llama"), separators=(",", ":")).encode()
    for read in (
        lambda b: b.read(10) + b.read(),
        lambda b: b"".join(b.iter_chunks(7)),
        lambda b: b"\n".join(b.iter_lines()),
        lambda b: b.readlines()[0],
        lambda b: b"".join(b.__enter__().stream(8)),
    ):
        result, _ = call(client, "InvokeModel", modelId=MODEL_IDS["llama"], body=body)
        assert read(result["body"]) == expected
        result["body"].close()


def test_the_callers_body_wraps_the_same_kind_of_raw_stream(client: Any) -> None:
    """`with body as raw` gives a urllib3 response, as botocore's own body does."""
    params: dict[str, Any] = {"modelId": MODEL_IDS["llama"]}
    params["body"] = json.dumps(invoke_payloads.request("llama"))
    bare = client.invoke_model(**params)["body"]
    result, _ = call(client, "InvokeModel", **params)
    with bare as original, result["body"] as replay:
        assert type(replay) is type(original)
        assert replay.status == original.status == 200
        assert replay.read() == original.read()


def test_a_failed_body_read_raises_now_and_again_for_the_caller() -> None:
    """When reading the reply body fails, the caller's body raises that same exception."""
    result: dict[str, Any] = {
        "body": StreamingBody(io.BytesIO(b'{"generation": "cut'), 100),
        "ResponseMetadata": {"HTTPHeaders": {"content-length": "100"}},
    }
    with pytest.raises(IncompleteReadError) as first:
        bedrock.take_body(result)
    with pytest.raises(IncompleteReadError) as second:
        result["body"].read()
    assert second.value is first.value


def test_oversized_and_missing_bodies_are_left_alone() -> None:
    """A body declared larger than the limit, none, or not botocore's, is not read or replaced."""
    original = StreamingBody(io.BytesIO(b"{}"), 2)
    result: dict[str, Any] = {
        "body": original,
        "ResponseMetadata": {"HTTPHeaders": {"content-length": str(bedrock.MAX_BODY_BYTES + 1)}},
    }
    assert bedrock.take_body(result) is None
    assert result["body"] is original
    assert bedrock.take_body({"body": None}) is None
    assert bedrock.take_body("result") is None
    replaced = io.BytesIO(b"{}")  # not botocore's body: another hook swapped it
    assert bedrock.take_body({"body": replaced}) is None
    assert replaced.tell() == 0


@pytest.mark.parametrize("family", invoke_payloads.FAMILIES)
def test_invoke_model_streams_read_to_the_end(client: Any, family: str) -> None:
    """Every family's stream gives the metrics' usage, the finish reason and the streamed text."""
    body = json.dumps(invoke_payloads.request(family))
    _, info = call(client, "InvokeModelWithResponseStream", modelId=MODEL_IDS[family], body=body)
    assert info.finish_reasons == ("stop",)
    assert info.usage == Usage(25, 12) or info.usage == Usage(25, 12, None, None)
    assert "".join(p["content"] for p in info.output[0]["parts"]) == ANSWER


@pytest.mark.parametrize("family", invoke_payloads.EMBEDDING_FAMILIES)
def test_embeddings_through_invoke_model(client: Any, family: str) -> None:
    """Embeddings give their input tokens and dimension count, no finish reason or output."""
    body = json.dumps(invoke_payloads.embed_request(family))
    _, info = call(client, "InvokeModel", modelId=MODEL_IDS[family], body=body)
    assert info.usage == Usage(9, None)
    assert ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT in info.attributes
    assert info.finish_reasons == ()


# --- errors ------------------------------------------------------------------------------------
def _raised(action: Any) -> BaseException:
    try:
        action()
    except Exception as exc:  # the test inspects whatever was raised
        return exc
    raise AssertionError("nothing raised")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (THROTTLED, ("rate_limited", "ThrottlingException")),
        (UNAVAILABLE, ("error", "ServiceUnavailableException")),
        (MODEL_TIMEOUT, ("error", "ModelTimeoutException")),
    ],
)
def test_http_errors_are_classified_by_their_aws_code(
    fake: FakeBedrock, client: Any, reply: Response, expected: tuple[str, str]
) -> None:
    """The AWS error code is error.type; only throttling counts as rate-limited."""
    fake.push(reply)
    exc = _raised(lambda: client.converse(modelId=MODEL_IDS["nova"], messages=[]))
    assert isinstance(exc, ClientError)
    assert bedrock.classify_error(exc) == expected


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("throttlingException", ("rate_limited", "ThrottlingException")),
        ("modelStreamErrorException", ("error", "ModelStreamErrorException")),
        ("serviceUnavailableException", ("error", "ServiceUnavailableException")),
    ],
)
def test_stream_exception_events_are_classified_like_http_errors(
    fake: FakeBedrock, client: Any, member: str, expected: tuple[str, str]
) -> None:
    """A mid-stream exception event (EventStreamError) gets the same outcome and error.type."""
    fake.push(
        stream_response([*invoke_events("mistral")[:1], es.exception(member, "Stream failed.")])
    )
    body = json.dumps(invoke_payloads.request("mistral"))
    stream = client.invoke_model_with_response_stream(modelId=MODEL_IDS["mistral"], body=body)
    exc = _raised(lambda: list(stream["body"]))
    stream["body"].close()
    assert isinstance(exc, EventStreamError)
    assert bedrock.classify_error(exc) == expected


def test_read_timeouts_are_timeouts(fake: FakeBedrock) -> None:
    """Read timeouts, botocore's or urllib3's while a stream is read, are timeouts."""
    client = fake.client(read_timeout=0.2)
    fake.push(Response(delay=5))
    before = _raised(lambda: client.converse(modelId=MODEL_IDS["nova"], messages=[]))
    assert isinstance(before, ReadTimeoutError)
    assert bedrock.classify_error(before) == ("timeout", "botocore.exceptions.ReadTimeoutError")
    fake.push(stream_response(converse_events()[:2], ending="stall"))
    stream = client.converse_stream(modelId=MODEL_IDS["nova"], messages=[])["stream"]
    during = _raised(lambda: list(stream))
    stream.close()
    assert isinstance(during, urllib3.exceptions.ReadTimeoutError)
    assert bedrock.classify_error(during) == ("timeout", "urllib3.exceptions.ReadTimeoutError")


def test_other_failures_are_left_to_the_default(fake: FakeBedrock) -> None:
    """Connection failures and dropped streams are plain errors: the engine's default applies."""
    client = fake.client()
    fake.push(stream_response(converse_events()[:2], ending="drop"))
    stream = client.converse_stream(modelId=MODEL_IDS["nova"], messages=[])["stream"]
    dropped = _raised(lambda: list(stream))
    stream.close()
    fake.stop()
    refused = _raised(lambda: client.converse(modelId=MODEL_IDS["nova"], messages=[]))
    assert isinstance(refused, EndpointConnectionError)
    for exc in (dropped, refused, ValueError("x")):
        assert bedrock.classify_error(exc) is None


# --- server address ----------------------------------------------------------------------------
def test_server_attributes_come_from_the_clients_endpoint(fake: FakeBedrock, client: Any) -> None:
    """The endpoint URL gives address and port (443 by default for AWS's https endpoints)."""
    assert bedrock.server_attributes(client) == {
        "server.address": "127.0.0.1",
        "server.port": int(fake.url.rsplit(":", 1)[1]),
    }
    aws = offline_client("bedrock-runtime", "eu-west-3")
    try:
        assert bedrock.server_attributes(aws) == {
            "server.address": "bedrock-runtime.eu-west-3.amazonaws.com",
            "server.port": 443,
        }
    finally:
        aws.close()
    assert bedrock.server_attributes(object()) == {}


@pytest.mark.parametrize("url", ["not a url", "http://host:port", ""])
def test_odd_endpoint_urls_give_no_server_attributes(url: str) -> None:
    """An endpoint URL without a host, or with a bad port, gives no attributes."""

    class Meta:
        endpoint_url = url

    class Client:
        meta = Meta()

    assert bedrock.server_attributes(Client()) == {}


def test_the_bedrock_modules_import_without_boto3() -> None:
    """Converters and payloads import in a process where boto3 and botocore cannot be imported."""
    script = textwrap.dedent(
        """
        import sys
        for name in ("boto3", "botocore", "urllib3"):
            sys.modules[name] = None  # any import of them raises ImportError
        import otel_llm.instrumentation.bedrock
        import otel_llm.payloads.bedrock_server
        import otel_llm.payloads.bedrock_invoke
        loaded = [m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore", "urllib3")]
        assert all(sys.modules[m] is None for m in loaded), loaded
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
