"""A simulated OpenAI, Anthropic, Gemini and AWS Bedrock LLM provider over local HTTP."""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from otel_llm.demo import bedrock, gemini
from otel_llm.demo.replies import Reply, embedding
from otel_llm.payloads import anthropic as anthropic_payloads
from otel_llm.payloads import openai as openai_payloads
from otel_llm.payloads import sse

__all__ = ["EMBEDDING_DIMENSION", "Behaviour", "SimulatedProvider"]

EMBEDDING_DIMENSION = 64
"""Length of every embedding vector the simulated provider returns."""

Json = dict[str, Any]


@dataclass(frozen=True)
class Behaviour:
    """How the simulated provider behaves: latency, streaming pace, faults and reply length."""

    latency_median_s: float = 0.25
    latency_sigma: float = 0.6
    ttft_s: float = 0.05
    chunk_interval_s: float = 0.005
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_sleep_s: float = 5.0
    output_tokens: tuple[int, int] = (20, 120)
    seed: int | None = None
    time_scale: float = 1.0
    pii_rate: float = 0.0
    """Share of chat replies that leak a customer's e-mail address and phone number."""
    citation_skip: tuple[tuple[str, float], ...] = ()
    """(marker, rate): for prompts containing `marker`, the share of replies that ignore the
    instruction to cite sources (how a prompt change can regress quality)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: SimulatedProvider

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay silent: a failed request must not spam stderr or stop the server."""


def _openai_usage(reply: Reply) -> Json:
    return openai_payloads.usage(
        reply.prompt_tokens, reply.output_tokens, cached_tokens=reply.cached, reasoning_tokens=0
    )


def _openai_tool_calls(reply: Reply) -> list[Json]:
    if reply.tool is None:
        return []
    name, arguments = reply.tool
    return [openai_payloads.tool_call(name, arguments, id=f"call_{uuid.uuid4().hex[:24]}")]


def _finish_reason(reply: Reply) -> str:
    return "tool_calls" if reply.tool else ("length" if reply.truncated else "stop")


def _chat_completion(reply: Reply) -> Json:
    return openai_payloads.chat_completion(
        None if reply.tool else reply.text,
        tool_calls=_openai_tool_calls(reply),
        finish_reason=_finish_reason(reply),
        id=f"chatcmpl-{uuid.uuid4().hex[:24]}",
        model=reply.model,
        created=int(time.time()),
        usage=_openai_usage(reply),
    )


def _chat_chunks(reply: Reply, request: Json) -> list[Json]:
    options = request.get("stream_options")
    return openai_payloads.chat_chunks(
        [] if reply.tool else reply.chunks,
        tool_calls=_openai_tool_calls(reply),
        finish_reason=_finish_reason(reply),
        include_usage=isinstance(options, dict) and bool(options.get("include_usage")),
        usage=_openai_usage(reply),
        id=f"chatcmpl-{uuid.uuid4().hex[:24]}",
        model=reply.model,
        created=int(time.time()),
    )


def _message(reply: Reply) -> Json:
    if reply.tool is None:
        content = [anthropic_payloads.text_block(reply.text)]
        stop_reason = "max_tokens" if reply.truncated else "end_turn"
    else:
        name, arguments = reply.tool
        tool_id = f"toolu_{uuid.uuid4().hex[:24]}"
        content = [anthropic_payloads.tool_use_block(name, arguments, id=tool_id)]
        stop_reason = "tool_use"
    usage = anthropic_payloads.usage(
        reply.prompt_tokens - reply.cached,
        reply.output_tokens,
        cache_read_input_tokens=reply.cached,
        cache_creation_input_tokens=0,
    )
    return anthropic_payloads.message(
        content,
        stop_reason=stop_reason,
        id=f"msg_{uuid.uuid4().hex[:24]}",
        model=reply.model,
        usage=usage,
    )


def _message_events(reply: Reply, request: Json) -> list[Json]:
    return anthropic_payloads.message_events(_message(reply), None if reply.tool else reply.chunks)


def _anthropic_error(status: int, message: str) -> Json:
    return anthropic_payloads.error(status, message, request_id=f"req_{uuid.uuid4().hex[:24]}")


def _as_sent(body: Json, path: str) -> tuple[Json, bool]:
    return body, bool(body.get("stream"))


def _gemini_request(body: Json, path: str) -> tuple[Json, bool]:
    return gemini.chat_body(body, path), gemini.is_stream(path)


@dataclass(frozen=True)
class _Api:
    """A chat API the provider serves: its path, its replies, its stream and its errors.

    Another provider's API is one more entry in `_APIS` (its payloads from otel_llm.payloads);
    one whose request is not shaped like OpenAI's or Anthropic's translates it for `Reply`.
    """

    route: str
    complete: Callable[[Reply], Json]
    stream: Callable[[Reply, Json], list[Json]]
    error: Callable[[int, str], Json]
    named_events: bool
    """Whether stream events go out with an `event:` line (Anthropic) or as data only."""
    done: bool
    """Whether the stream ends with `data: [DONE]`."""
    read: Callable[[Json, str], tuple[Json, bool]] = _as_sent
    """(request body, path) -> the chat request `Reply` reads, and whether it asks for a stream."""
    frame: Callable[[Json], bytes] | None = None
    """How one stream event goes on the wire; None: server-sent events as `named_events` says."""


_OPENAI = _Api(
    "/v1/chat/completions",
    _chat_completion,
    _chat_chunks,
    openai_payloads.error,
    named_events=False,
    done=True,
)
_ANTHROPIC = _Api(
    "/v1/messages",
    _message,
    _message_events,
    _anthropic_error,
    named_events=True,
    done=False,
)
_GEMINI = _Api(
    "/v1beta/models/{model}:generateContent",
    gemini.complete,
    gemini.stream,
    gemini.error,
    named_events=False,
    done=False,
    read=_gemini_request,
    frame=gemini.frame,
)
_APIS = {api.route: api for api in (_OPENAI, _ANTHROPIC)}
_EMBEDDINGS = "/v1/embeddings"


def _api_for(route: str) -> _Api | None:
    """The chat API served at `route` (Gemini's routes name the model and method)."""
    return _GEMINI if gemini.is_generate(route) else _APIS.get(route)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # One request per connection; streams end when it closes.

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default per-request logging."""

    def do_GET(self) -> None:
        """Every GET is unknown."""
        self._safely(lambda: self._json(404, self._error_body(404, "Unknown path")))

    def do_POST(self) -> None:
        """Route a POST to the Bedrock Runtime paths, or to the OpenAI, Anthropic or Gemini ones."""
        self._safely(self._bedrock if self.path.startswith(bedrock.PREFIX) else self._post)

    def _safely(self, action: Callable[[], None]) -> None:
        try:
            action()
        except OSError:
            pass  # The client went away (for example after its own timeout).
        except Exception:  # The server thread must survive any bug.
            with contextlib.suppress(Exception):
                self._json(500, self._error_body(500, "Simulated provider bug"))

    @property
    def _api(self) -> _Api:
        """The API the request's path belongs to (OpenAI's for unknown paths)."""
        route = self.path.split("?")[0]
        return _GEMINI if gemini.is_gemini(route) else _APIS.get(route, _OPENAI)

    def _error_body(self, status: int, message: str) -> Json:
        return self._api.error(status, message)

    def _json(self, status: int, body: Json, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _post(self) -> None:
        provider = self.server.provider
        provider._count()
        route = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        api = _api_for(route)
        if api is None and route != _EMBEDDINGS and not gemini.is_embeddings(route):
            self._json(404, self._error_body(404, f"Unknown path {route}"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._json(400, self._error_body(400, "Request body is not a JSON object"))
            return
        behaviour = provider.behaviour
        if provider._roll(behaviour.timeout_rate):
            provider._sleep(behaviour.timeout_sleep_s)
        if provider._roll(behaviour.rate_limit_rate):
            self._json(429, self._error_body(429, "Rate limit exceeded"), {"retry-after": "1"})
            return
        if provider._roll(behaviour.error_rate):
            self._json(500, self._error_body(500, "The server had an error"))
            return
        if route == _EMBEDDINGS or gemini.is_embeddings(route):
            provider._sleep(provider._latency(behaviour) / 4)
            vectors = (
                gemini.embeddings(body, route, EMBEDDING_DIMENSION)
                if gemini.is_embeddings(route)
                else _embeddings(body)
            )
            self._json(200, vectors)
            return
        api = api or _OPENAI
        body, streamed = api.read(body, route)
        reply = Reply(body, behaviour, provider._rng, provider._lock)
        if not streamed:
            provider._sleep(provider._latency(behaviour))
            self._json(200, api.complete(reply))
            return
        self.send_response(200)
        self.send_header("Content-Type", sse.CONTENT_TYPE)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        provider._sleep(behaviour.ttft_s)
        events = api.stream(reply, body)
        framing = api.frame or (lambda event: sse.frame(event, named=api.named_events))
        frames = [framing(event) for event in events]
        for index, frame in enumerate([*frames, sse.DONE] if api.done else frames):
            if index > 1:
                provider._sleep(behaviour.chunk_interval_s)
            self.wfile.write(frame)
            self.wfile.flush()

    def _bedrock(self) -> None:
        """Answer a Bedrock Runtime call, with the same faults and pacing as the other APIs."""
        provider = self.server.provider
        provider._count()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        found = bedrock.route(self.path)
        behaviour = provider.behaviour
        if found is not None and provider._roll(behaviour.timeout_rate):
            provider._sleep(behaviour.timeout_sleep_s)  # past the client's read timeout
        if found is None:
            reply = bedrock.error(404, "Unknown operation.")
        elif provider._roll(behaviour.rate_limit_rate):
            reply = bedrock.error(429)
        elif provider._roll(behaviour.error_rate):
            reply = bedrock.error(500)
        else:
            reply = bedrock.answer(
                *found,
                raw,
                style=behaviour,
                rng=provider._rng,
                lock=provider._lock,
                dimension=EMBEDDING_DIMENSION,
            )
            provider._sleep(behaviour.ttft_s if reply.stream else provider._latency(behaviour))
        bedrock.send(self, reply, lambda: provider._sleep(behaviour.chunk_interval_s))


def _embeddings(body: Json) -> Json:
    """An embeddings body: one bag-of-words vector per input text, base64 when asked."""
    inputs = body.get("input")
    tokens_only = isinstance(inputs, list) and all(isinstance(i, int) for i in inputs)
    items = inputs if isinstance(inputs, list) and not tokens_only else [inputs]
    texts = [i if isinstance(i, str) else json.dumps(i) for i in items]
    vectors = [embedding(text, EMBEDDING_DIMENSION) for text in texts]
    base64 = body.get("encoding_format") == "base64"
    return openai_payloads.embeddings(
        [openai_payloads.base64_vector(v) for v in vectors] if base64 else vectors,
        model=str(body.get("model") or "simulated-embedding"),
        prompt_tokens=sum(max(1, len(t) // 4) for t in texts),
    )


class SimulatedProvider:
    """A local HTTP server that answers like OpenAI, Anthropic, the Gemini API and AWS Bedrock.

    Bound to 127.0.0.1 only. Point a real client at it with ``base_url``::

        with SimulatedProvider(Behaviour(seed=1)) as provider:
            client = openai.OpenAI(base_url=provider.base_url_openai, api_key="x")
    """

    def __init__(self, behaviour: Behaviour | None = None, *, port: int = 0) -> None:
        self._behaviour = behaviour or Behaviour()
        self._port = port
        self._lock = threading.Lock()
        self._rng = random.Random(self._behaviour.seed)  # noqa: S311  # Simulation, not security.
        self._requests = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def behaviour(self) -> Behaviour:
        """The current behaviour; assign a new one at runtime to inject faults."""
        with self._lock:
            return self._behaviour

    @behaviour.setter
    def behaviour(self, value: Behaviour) -> None:
        with self._lock:
            if value.seed is not None and value.seed != self._behaviour.seed:
                self._rng.seed(value.seed)
            self._behaviour = value

    @property
    def requests(self) -> int:
        """How many HTTP POST requests the provider has received."""
        with self._lock:
            return self._requests

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server listens on."""
        if self._server is None:
            raise RuntimeError("SimulatedProvider is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def base_url_openai(self) -> str:
        """Base URL for ``openai.OpenAI(base_url=...)``."""
        return f"http://127.0.0.1:{self.address[1]}/v1"

    @property
    def base_url_anthropic(self) -> str:
        """Base URL for ``anthropic.Anthropic(base_url=...)``."""
        return f"http://127.0.0.1:{self.address[1]}"

    @property
    def base_url_gemini(self) -> str:
        """Base URL for ``genai.Client(http_options={"base_url": ...})`` (the Gemini API)."""
        return f"http://127.0.0.1:{self.address[1]}/"

    @property
    def endpoint_url_bedrock(self) -> str:
        """Endpoint URL for ``boto3.client("bedrock-runtime", endpoint_url=...)``."""
        return f"http://127.0.0.1:{self.address[1]}"

    def start(self) -> SimulatedProvider:
        """Start serving in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._port), _Handler)
        server.provider = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.02,), name="simulated-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port; in-flight sleeps end early."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SimulatedProvider:
        """Start the provider."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the provider."""
        self.stop()

    def _count(self) -> None:
        with self._lock:
            self._requests += 1

    def _roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def _latency(self, behaviour: Behaviour) -> float:
        if behaviour.latency_median_s <= 0:
            return 0.0
        with self._lock:
            return self._rng.lognormvariate(
                math.log(behaviour.latency_median_s), behaviour.latency_sigma
            )

    def _sleep(self, seconds: float) -> None:
        scaled = seconds * self.behaviour.time_scale
        if scaled > 0:
            self._stopping.wait(scaled)
