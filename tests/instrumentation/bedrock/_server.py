"""A fake AWS Bedrock Runtime on 127.0.0.1: real boto3 clients talk to it over botocore's HTTP.

It serves the four inference operations (`POST /model/{modelId}/converse`, `converse-stream`,
`invoke`, `invoke-with-response-stream`) with the payloads of `bedrock` / `bedrock_invoke`,
streams event-stream messages one HTTP chunk each, and plays scripted replies: HTTP errors as
Bedrock sends them (`x-amzn-ErrorType`), exception events mid-stream, a server that stalls
(for read timeouts) or drops the connection. Signatures are not checked; any credentials do.
Other AWS services' JSON-protocol calls (SQS, DynamoDB: `X-Amz-Target`) are answered `{}`.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import unquote

import boto3
from botocore.config import Config

from otel_llm.payloads import bedrock_eventstream as es
from otel_llm.payloads.bedrock import (
    ACTIONS,
    Json,
    Reply,
    converse_response,
    converse_stream_events,
    error,
    error_headers,
)
from otel_llm.payloads.bedrock_invoke import (
    EMBEDDING_FAMILIES,
    embed_response,
    family_of,
    headers,
    response,
    stream_chunks,
)

_EVENTSTREAM = "application/vnd.amazon.eventstream"


@dataclass(frozen=True)
class Response:
    """One scripted HTTP reply."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: Sequence[bytes] | None = None
    """Event-stream messages, sent as one HTTP chunk each (the body is then ignored)."""
    delay: float = 0.0
    """Seconds to wait before answering (beyond the client's read timeout: ReadTimeoutError)."""
    ending: Literal["complete", "stall", "drop"] = "complete"
    """How a stream (or a body) ends: normally, by stalling until the server stops, or by a
    dropped link (a body: after half of it, its full length promised)."""


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    operation: str
    model_id: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Json:
        """The request body, parsed ({} when it is not a JSON object)."""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}


def json_response(body: Json, status: int = 200, extra: dict[str, str] | None = None) -> Response:
    """A JSON reply."""
    head = {"Content-Type": "application/json", **(extra or {})}
    return Response(status, head, json.dumps(body, separators=(",", ":")).encode())


def error_response(status: int, message: str | None = None) -> Response:
    """An HTTP error as Bedrock sends it: the code in `x-amzn-ErrorType`, the message in JSON."""
    return json_response(error(status, message), status, error_headers(status))


THROTTLED = error_response(429)
INVALID_MODEL = error_response(400)
UNAVAILABLE = error_response(503)
MODEL_TIMEOUT = error_response(408)
INTERNAL = error_response(500)


def stream_response(
    events: Sequence[bytes],
    *,
    extra: dict[str, str] | None = None,
    ending: Literal["complete", "stall", "drop"] = "complete",
) -> Response:
    """An event-stream reply of already encoded messages."""
    return Response(headers=dict(extra or {}), events=list(events), ending=ending)


def converse_events(reply: Reply | None = None) -> list[bytes]:
    """ConverseStream's encoded events for `reply`."""
    return es.events(converse_stream_events(reply))


def invoke_events(family: str, reply: Reply | None = None) -> list[bytes]:
    """InvokeModelWithResponseStream's encoded `chunk` events for `family`."""
    return [es.chunk(c, es.padding(i)) for i, c in enumerate(stream_chunks(family, reply))]


def default_response(request: Recorded, reply: Reply | None = None) -> Response:
    """A realistic reply to `request`: its operation's and model family's shape."""
    operation = request.operation
    if operation == "Converse":
        return json_response(converse_response(reply))
    if operation == "ConverseStream":
        return stream_response(converse_events(reply))
    family = family_of(request.model_id)
    if family is None:
        return INVALID_MODEL
    if family in EMBEDDING_FAMILIES:
        return _embeddings(request, family)
    reply = reply or Reply()
    if operation == "InvokeModel":
        cache = family in ("anthropic", "nova")  # the families that can cache report it
        return json_response(response(family, reply), extra=headers(reply.tokens, cache=cache))
    extra = {"X-Amzn-Bedrock-Content-Type": "application/json"}
    return stream_response(invoke_events(family, reply), extra=extra)


def _embeddings(request: Recorded, family: str) -> Response:
    if request.operation != "InvokeModel":
        return error_response(400, "The model does not support streaming.")
    body = embed_response(family, request.json())
    tokens = body.get("inputTextTokenCount", 9)
    return json_response(body, extra={"X-Amzn-Bedrock-Input-Token-Count": str(tokens)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeBedrock

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that time out or hang up mid-reply are expected; nothing to print."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked transfer for streams, keep-alive like AWS
    # Headers and body go out as separate writes: with Nagle's algorithm the second waits for
    # the client's delayed ACK (40 ms a call).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read the recorded requests instead."""

    def do_POST(self) -> None:
        """Serve one operation call."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = self.path.split("?", 1)[0].split("/")
        fake = self.server.fake
        if "X-Amz-Target" in self.headers:
            # Another AWS service's call (SQS, DynamoDB speak JSON with the operation in this
            # header): answered empty, for the tests that check its span is still recorded.
            self._send(json_response({}))
            return
        if len(parts) != 4 or parts[1] != "model" or parts[3] not in ACTIONS:
            self._send(error_response(404, "Unknown operation."))
            return
        request = Recorded(ACTIONS[parts[3]], unquote(parts[2]), dict(self.headers), body)
        self._send(fake.record(request))

    def _send(self, reply: Response) -> None:
        fake = self.server.fake
        if reply.delay and fake.sleep(reply.delay):
            return  # the server is stopping
        self.send_response(reply.status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.events is None:
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if reply.ending == "drop":
                self.wfile.write(reply.body[: len(reply.body) // 2])
                self.close_connection = True
                return
            self.wfile.write(reply.body)
            return
        self.send_header("Content-Type", _EVENTSTREAM)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for message in reply.events:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(message), message))
            self.wfile.flush()
        if reply.ending == "stall":
            fake.sleep(None)
        if reply.ending != "complete":
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")


class FakeBedrock:
    """The fake Bedrock Runtime server; a context manager that starts and stops it.

    Replies come from `push`ed responses first (in order), else from `reply(request)`, which
    defaults to `default_response`.
    """

    def __init__(self, reply: Callable[[Recorded], Response] | None = None) -> None:
        self._reply = reply or default_response
        self._queue: deque[Response] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[Recorded] = []
        self._clients: list[Any] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on (on 127.0.0.1)."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The `endpoint_url` a boto3 client is given."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def push(self, *responses: Response) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._queue.extend(responses)

    def record(self, request: Recorded) -> Response:
        """Note `request` and choose its reply."""
        with self._lock:
            self.requests.append(request)
            queued = self._queue.popleft() if self._queue else None
        return queued if queued is not None else self._reply(request)

    def sleep(self, seconds: float | None) -> bool:
        """Wait `seconds` (None: until stopped); True if the server is stopping."""
        return self._stopping.wait(seconds)

    def client(self, *, read_timeout: float = 10, region: str = "us-east-1") -> Any:
        """A real boto3 `bedrock-runtime` client for this server (no retries, dummy credentials)."""
        config = Config(
            retries={"total_max_attempts": 1},
            read_timeout=read_timeout,
            connect_timeout=5,
        )
        client = boto3.client(
            "bedrock-runtime",
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",  # noqa: S106
            config=config,
        )
        self._clients.append(client)
        return client

    def start(self) -> FakeBedrock:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (stalled replies end at once); close the clients `client()` made."""
        for client in self._clients:
            client.close()
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeBedrock:
        """Start serving."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop serving."""
        self.stop()
