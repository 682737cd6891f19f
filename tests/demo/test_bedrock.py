"""Tests for otel_llm.demo.bedrock: the simulated provider's Bedrock Runtime, read by boto3."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from otel_llm.demo import bedrock
from otel_llm.demo.provider import EMBEDDING_DIMENSION, Behaviour, SimulatedProvider
from otel_llm.payloads import bedrock_invoke as invoke
from otel_llm.payloads.bedrock import MODEL_IDS, converse_request, tool_config

NOVA = "us.amazon.nova-lite-v1:0"


@pytest.fixture
def provider() -> Iterator[SimulatedProvider]:
    """The simulated provider, answering at once."""
    with SimulatedProvider(Behaviour(time_scale=0.0, seed=1)) as running:
        yield running


def _client(provider: SimulatedProvider, timeout: float = 10) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=provider.endpoint_url_bedrock,
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106 - the simulated provider checks nothing
        config=Config(read_timeout=timeout, retries={"total_max_attempts": 1}),
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/model/us.amazon.nova-lite-v1%3A0/converse", (NOVA, "Converse")),
        ("/model/x/converse-stream?a=b", ("x", "ConverseStream")),
        ("/model/x/invoke-with-response-stream", ("x", "InvokeModelWithResponseStream")),
        ("/model/x/embed", None),
        ("/v1/chat/completions", None),
    ],
)
def test_routes_name_the_model_and_the_operation(
    path: str, expected: tuple[str, str] | None
) -> None:
    """The model id (URL-decoded) and operation come from the path; other paths are not ours."""
    assert bedrock.route(path) == expected


def test_converse_answers_the_question_with_its_usage(provider: SimulatedProvider) -> None:
    """A Converse reply as botocore parses it: text, stop reason, usage adding up."""
    result = _client(provider).converse(modelId=NOVA, **converse_request())
    assert result["stopReason"] in ("end_turn", "max_tokens")
    assert result["output"]["message"]["content"][0]["text"]
    usage = result["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"]


def test_converse_calls_a_tool_the_question_names(provider: SimulatedProvider) -> None:
    """With a tool whose name the question mentions, the reply is a toolUse with arguments."""
    params = converse_request("Please get_order_status for A-1")
    params["toolConfig"] = tool_config()
    result = _client(provider).converse(modelId=NOVA, **params)
    assert result["stopReason"] == "tool_use"
    (block,) = result["output"]["message"]["content"]
    assert block["toolUse"]["name"] == "get_order_status"
    assert block["toolUse"]["input"] == {"order_id": "acct_1234"}


def test_converse_stream_is_real_event_stream_encoding(provider: SimulatedProvider) -> None:
    """ConverseStream decodes in botocore: messageStart first, metadata with usage last."""
    result = _client(provider).converse_stream(modelId=NOVA, **converse_request())
    events = list(result["stream"])
    assert list(events[0]) == ["messageStart"]
    assert list(events[-2]) == ["messageStop"]
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


@pytest.mark.parametrize("family", invoke.FAMILIES)
def test_invoke_model_of_every_family(provider: SimulatedProvider, family: str) -> None:
    """InvokeModel answers in the family's body with Bedrock's token headers; its stream too."""
    client = _client(provider)
    body = json.dumps(invoke.request(family))
    result = client.invoke_model(modelId=MODEL_IDS[family], body=body)
    assert json.loads(result["body"].read())
    headers = result["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) > 0
    streamed = client.invoke_model_with_response_stream(modelId=MODEL_IDS[family], body=body)
    chunks = [json.loads(event["chunk"]["bytes"]) for event in streamed["body"]]
    assert "amazon-bedrock-invocationMetrics" in chunks[-1]


@pytest.mark.parametrize("family", invoke.EMBEDDING_FAMILIES)
def test_embeddings_are_vectors_of_the_demo_dimension(
    provider: SimulatedProvider, family: str
) -> None:
    """Titan and Cohere embeddings: one vector per text, token count in the header."""
    client = _client(provider)
    body = json.dumps(invoke.embed_request(family))
    result = client.invoke_model(modelId=MODEL_IDS[family], body=body)
    reply = json.loads(result["body"].read())
    vectors = reply["embeddings"] if family == "cohere_embed" else [reply["embedding"]]
    assert [len(v) for v in vectors] == [EMBEDDING_DIMENSION]
    headers = result["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-amzn-bedrock-input-token-count"]) > 0
    with pytest.raises(ClientError, match="ValidationException"):
        client.invoke_model_with_response_stream(modelId=MODEL_IDS[family], body=body)


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [
        (Behaviour(time_scale=0.0, rate_limit_rate=1.0), "ThrottlingException"),
        (Behaviour(time_scale=0.0, error_rate=1.0), "InternalServerException"),
    ],
)
def test_faults_are_bedrocks_own_errors(
    provider: SimulatedProvider, behaviour: Behaviour, code: str
) -> None:
    """Rate limits and server errors raise the ClientError boto3 raises for Bedrock's."""
    provider.behaviour = behaviour
    with pytest.raises(ClientError) as raised:
        _client(provider).converse(modelId=NOVA, **converse_request())
    assert raised.value.response["Error"]["Code"] == code


def test_the_timeout_fault_outlasts_the_clients_read_timeout() -> None:
    """A request the timeout fault holds raises botocore's ReadTimeoutError."""
    behaviour = Behaviour(time_scale=1.0, timeout_rate=1.0, timeout_sleep_s=2.0)
    with SimulatedProvider(behaviour) as provider:
        with pytest.raises(ReadTimeoutError):
            _client(provider, timeout=0.2).converse(modelId=NOVA, **converse_request())
        provider.behaviour = Behaviour(time_scale=0.0)


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/model/x/unknown", b"{}", "ResourceNotFoundException"),
        (f"/model/{NOVA}/converse", b"not json", "ValidationException"),
        ("/model/unknown-model/invoke", b"{}", "ValidationException"),
    ],
)
def test_bad_requests_get_bedrock_errors(
    provider: SimulatedProvider, path: str, body: bytes, code: str
) -> None:
    """Unknown operations, bodies that are no JSON object and unknown models are refused."""
    url = provider.endpoint_url_bedrock + path
    request = urllib.request.Request(url, data=body)  # noqa: S310 - a local http URL
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - a local http URL
    assert raised.value.headers["x-amzn-ErrorType"].startswith(code)
    assert json.loads(raised.value.read())["message"]
