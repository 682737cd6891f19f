"""Tests for the fake Bedrock Runtime (_server): a real boto3 client against it over HTTP."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3.exceptions
from botocore.exceptions import ClientError, EventStreamError, ReadTimeoutError
from botocore.response import StreamingBody

from otel_llm.payloads import bedrock_eventstream as es
from otel_llm.payloads import bedrock_invoke as invoke
from otel_llm.payloads.bedrock import ANSWER, MODEL_IDS, Reply, Tokens, converse_request
from otel_llm.payloads.bedrock_invoke import family_of
from tests.instrumentation.bedrock._server import (
    INVALID_MODEL,
    THROTTLED,
    FakeBedrock,
    Response,
    converse_events,
    invoke_events,
    stream_response,
)


@pytest.fixture
def fake() -> Iterator[FakeBedrock]:
    """A running fake Bedrock Runtime."""
    with FakeBedrock() as server:
        yield server


@pytest.fixture
def client(fake: FakeBedrock) -> Any:
    """A boto3 bedrock-runtime client talking to it."""
    return fake.client()


def test_converse_round_trips_through_botocore(fake: FakeBedrock, client: Any) -> None:
    """converse() returns the reply as botocore parses it; the server saw the decoded model id."""
    result = client.converse(modelId=MODEL_IDS["anthropic_profile"], **converse_request())
    assert result["output"]["message"]["content"] == [{"text": ANSWER}]
    assert result["stopReason"] == "end_turn"
    assert result["usage"] == {"inputTokens": 25, "outputTokens": 12, "totalTokens": 37}
    assert result["ResponseMetadata"]["RequestId"]
    (request,) = fake.requests
    assert (request.operation, request.model_id) == ("Converse", MODEL_IDS["anthropic_profile"])
    assert request.json()["inferenceConfig"]["maxTokens"] == 256


def test_converse_stream_is_read_to_the_end(client: Any) -> None:
    """converse_stream() yields every event from messageStart to metadata, text intact."""
    result = client.converse_stream(modelId=MODEL_IDS["nova"], **converse_request())
    events = list(result["stream"])
    assert list(events[0]) == ["messageStart"]
    assert list(events[-1]) == ["metadata"]
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )
    assert text == ANSWER
    assert events[-1]["metadata"]["usage"]["totalTokens"] == 37


@pytest.mark.parametrize("family", invoke.FAMILIES)
def test_invoke_model_returns_a_streaming_body_per_family(client: Any, family: str) -> None:
    """invoke_model() returns the family's JSON in a StreamingBody, with Bedrock's count headers."""
    body = json.dumps(invoke.request(family))
    result = client.invoke_model(modelId=MODEL_IDS[family], body=body)
    assert isinstance(result["body"], StreamingBody)
    assert json.loads(result["body"].read()) == invoke.response(family)
    headers = result["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-input-token-count"] == "25"
    assert headers["x-amzn-bedrock-output-token-count"] == "12"


@pytest.mark.parametrize("family", invoke.FAMILIES)
def test_invoke_model_with_response_stream_is_read_to_the_end(client: Any, family: str) -> None:
    """The chunk events decode to the family's chunks, the last with the invocation metrics."""
    body = json.dumps(invoke.request(family))
    result = client.invoke_model_with_response_stream(modelId=MODEL_IDS[family], body=body)
    chunks = [json.loads(event["chunk"]["bytes"]) for event in result["body"]]
    assert chunks == invoke.stream_chunks(family)
    assert result["contentType"] == "application/json"


@pytest.mark.parametrize("family", invoke.EMBEDDING_FAMILIES)
def test_embeddings_through_invoke_model(client: Any, family: str) -> None:
    """Embedding models answer InvokeModel with vectors and an input-count header."""
    body = invoke.embed_request(family)
    result = client.invoke_model(modelId=MODEL_IDS[family], body=json.dumps(body))
    assert json.loads(result["body"].read()) == invoke.embed_response(family, body)
    assert result["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"] == "9"


def test_arn_model_ids_arrive_decoded(fake: FakeBedrock, client: Any) -> None:
    """An inference-profile ARN (with `:` and `/`) reaches the server as the caller wrote it."""
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0"
    client.converse(modelId=arn, **converse_request())
    assert fake.requests[-1].model_id == arn
    assert family_of(arn) == "nova"


def test_scripted_http_errors_raise_botocores_modelled_exceptions(
    fake: FakeBedrock, client: Any
) -> None:
    """Throttling and validation replies raise the client's modelled exception classes."""
    fake.push(THROTTLED, INVALID_MODEL)
    with pytest.raises(client.exceptions.ThrottlingException) as throttled:
        client.converse(modelId=MODEL_IDS["nova"], **converse_request())
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    with pytest.raises(client.exceptions.ValidationException):
        client.invoke_model(modelId=MODEL_IDS["llama"], body=b"{}")


def test_unknown_models_are_rejected_like_bedrock(client: Any) -> None:
    """A model id no family matches gets Bedrock's ValidationException on InvokeModel."""
    with pytest.raises(ClientError) as error:
        client.invoke_model(modelId="does-not-exist", body=b"{}")
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_exception_events_raise_mid_stream(fake: FakeBedrock, client: Any) -> None:
    """An exception event after some events raises EventStreamError named by the stream member."""
    events = converse_events()[:3]
    events.append(es.exception("throttlingException", "Too many tokens, please wait."))
    fake.push(stream_response(events))
    stream = client.converse_stream(modelId=MODEL_IDS["nova"], **converse_request())["stream"]
    received = []
    with pytest.raises(EventStreamError) as error:
        received.extend(stream)
    stream.close()  # botocore keeps the connection of a stream that raised until it is closed
    assert len(received) == 3
    assert error.value.response["Error"]["Code"] == "throttlingException"


def test_invoke_stream_exception_events_raise_too(fake: FakeBedrock, client: Any) -> None:
    """A modelStreamErrorException in an InvokeModel stream raises with its code."""
    chunks = invoke_events("titan_text", Reply(tokens=Tokens()))[:1]
    chunks.append(es.exception("modelStreamErrorException", "Model error", originalStatusCode=500))
    fake.push(stream_response(chunks))
    body = json.dumps(invoke.request("titan_text"))
    stream = client.invoke_model_with_response_stream(modelId=MODEL_IDS["titan_text"], body=body)
    with pytest.raises(EventStreamError) as error:
        list(stream["body"])
    stream["body"].close()
    assert error.value.response["Error"]["Code"] == "modelStreamErrorException"


def test_a_slow_reply_times_the_client_out(fake: FakeBedrock) -> None:
    """A reply delayed past the client's read timeout raises botocore's ReadTimeoutError."""
    fake.push(Response(delay=5))
    with pytest.raises(ReadTimeoutError):
        fake.client(read_timeout=0.2).converse(modelId=MODEL_IDS["nova"], **converse_request())


def test_a_stalled_stream_times_out_mid_stream(fake: FakeBedrock) -> None:
    """A stream that stops sending raises urllib3's ReadTimeoutError while being read."""
    fake.push(stream_response(converse_events()[:2], ending="stall"))
    client = fake.client(read_timeout=0.2)
    stream = client.converse_stream(modelId=MODEL_IDS["nova"], **converse_request())["stream"]
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        list(stream)
    stream.close()


def test_a_dropped_stream_raises_a_protocol_error(fake: FakeBedrock, client: Any) -> None:
    """A connection dropped mid-stream raises urllib3's ProtocolError while being read."""
    fake.push(stream_response(converse_events()[:2], ending="drop"))
    stream = client.converse_stream(modelId=MODEL_IDS["nova"], **converse_request())["stream"]
    with pytest.raises(urllib3.exceptions.ProtocolError):
        list(stream)
    stream.close()


def test_custom_reply_functions_answer_every_request() -> None:
    """A `reply` callable replaces the default replies (queued ones still go first)."""
    with FakeBedrock(reply=lambda request: THROTTLED) as server:
        server.push(Response(body=b'{"output":{"message":{"role":"assistant","content":[]}}}'))
        client = server.client()
        assert (
            client.converse(modelId="any.model", messages=[])["output"]["message"]["content"] == []
        )
        with pytest.raises(client.exceptions.ThrottlingException):
            client.converse(modelId="any.model", messages=[])


def test_recorded_requests_parse_their_json() -> None:
    """Recorded bodies that are not JSON objects parse as {}."""
    with FakeBedrock() as server:
        client = server.client()
        client.invoke_model(modelId=MODEL_IDS["titan_embed_v1"], body=b'{"inputText": "hi"}')
        with pytest.raises(ClientError):
            client.invoke_model(modelId="unknown", body=b"[1, 2]")
    assert server.requests[0].json() == {"inputText": "hi"}
    assert server.requests[1].json() == {}
