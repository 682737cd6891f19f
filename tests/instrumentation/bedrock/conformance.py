"""Bedrock's fixtures for the shared provider suite: real boto3 clients against a local Bedrock.

The fake Bedrock Runtime (`_server.FakeBedrock`, on 127.0.0.1) answers through botocore's own
HTTP stack and, for the streams, with real AWS event-stream encoding. Each client says which
`Answer` it wants in a request header, added by a botocore event handler, so one server serves
every case. boto3 has no asynchronous client: the suite's async checks do not apply.
"""

from __future__ import annotations

import atexit
import json
from collections.abc import Mapping
from typing import Any

from otel_llm.instrumentation.bedrock import BedrockInstrumentor
from otel_llm.payloads import bedrock_invoke
from otel_llm.payloads.bedrock import MODEL_IDS, Reply, Tokens, converse_request
from tests.instrumentation._suite import Answer, Expected, ProviderFixtures
from tests.instrumentation.bedrock import _server
from tests.instrumentation.bedrock._server import FakeBedrock, Recorded, Response

MODEL = MODEL_IDS["anthropic_profile"]
EMBEDDING_MODEL = MODEL_IDS["titan_embed"]
REPLY = Reply(tokens=Tokens(input=25, output=12, cache_read=1024))
"""A reply partly served from the prompt cache: 25 uncached + 1024 cached input tokens."""
ANSWER_HEADER = "x-otel-llm-test-answer"
READ_TIMEOUT = 0.5


def _answer(request: Recorded) -> Response:
    answer = Answer[request.headers.get(ANSWER_HEADER, Answer.REPLY.name)]
    if answer is Answer.BROKEN_STREAM:
        events = _server.converse_events(REPLY)
        return _server.stream_response(events[: len(events) // 2], ending="drop")
    if answer is Answer.SERVER_ERROR:
        return _server.INTERNAL
    if answer is Answer.RATE_LIMITED:
        return _server.THROTTLED
    if answer is Answer.TIMEOUT:
        return Response(delay=READ_TIMEOUT * 6)  # the client gives up first
    return _server.default_response(request, REPLY)


SERVER = FakeBedrock(_answer).start()
"""One server for every test; it stops with the test process (its threads are daemons)."""
_OPEN: list[Any] = []
"""The event streams botocore returned, so that one the suite drops unread (its `break` and
garbage-collection paths) is closed by us rather than collected with its socket open, which
Python reports as a ResourceWarning (an error under pytest), bare client or not."""


def _keep(parsed: Any, **_: Any) -> None:
    stream = parsed.get("stream") if isinstance(parsed, dict) else None
    if stream is not None:
        _OPEN.append(stream)


def _close_kept() -> None:
    while _OPEN:
        _OPEN.pop().close()


atexit.register(_close_kept)


class BedrockFixtures(ProviderFixtures):
    """Converse, ConverseStream and Titan embeddings through InvokeModel, as recorded from AWS."""

    instrumentor = BedrockInstrumentor
    provider = "aws.bedrock"
    server = ("127.0.0.1", SERVER.port)
    plain = Expected(
        operation="chat",
        model=MODEL,
        response_model=None,  # Converse names no model in its reply
        input_tokens=25 + 1024,
        output_tokens=12,
        finish_reasons=("stop",),
    )
    streamed = plain
    embedded = Expected(
        operation="embeddings", model=EMBEDDING_MODEL, response_model=None, input_tokens=9
    )
    stream_is_context_manager = False  # botocore's EventStream is none
    has_async = False

    def client(self, answer: Answer) -> Any:
        """A boto3 bedrock-runtime client whose requests all ask for `answer`."""
        _close_kept()  # the streams of earlier tests, which are over
        client = SERVER.client(read_timeout=READ_TIMEOUT)
        client.meta.events.register("after-call.bedrock-runtime", _keep)

        def ask(request: Any, **_: Any) -> None:
            request.headers[ANSWER_HEADER] = answer.name

        client.meta.events.register("before-sign.bedrock-runtime", ask)
        return client

    def call(self, client: Any) -> Any:
        """Converse."""
        return client.converse(modelId=MODEL, **converse_request())

    def stream(self, client: Any) -> Any:
        """converse_stream: a dict holding the EventStream under `stream`."""
        return client.converse_stream(modelId=MODEL, **converse_request())

    def stream_of(self, result: Any) -> Any:
        """The EventStream in converse_stream's result."""
        return result["stream"]

    def embed(self, client: Any) -> Any:
        """invoke_model with a Titan Text Embeddings v2 body."""
        body = json.dumps(bedrock_invoke.embed_request("titan_embed"))
        return client.invoke_model(modelId=EMBEDDING_MODEL, body=body)

    def comparable(self, result: Any) -> Any:
        """The result without its per-request metadata (request id, date); bodies read."""
        if not isinstance(result, Mapping):
            return result
        found = {k: v for k, v in result.items() if k != "ResponseMetadata"}
        if hasattr(found.get("body"), "read"):
            found["body"] = json.loads(found["body"].read())
        return found


FIXTURES = BedrockFixtures()
