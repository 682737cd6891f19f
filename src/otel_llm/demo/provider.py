"""A simulated OpenAI- and Anthropic-compatible LLM provider served over local HTTP."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import random
import re
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["EMBEDDING_DIMENSION", "Behaviour", "SimulatedProvider"]

EMBEDDING_DIMENSION = 64
"""Length of every embedding vector the simulated provider returns."""

_WORD_TEXT = (
    "the model observes latency tokens span trace metric cost budget prompt reply cache "
    "provider request stream chunk usage account region service signal quality answer "
    "context window retrieval document summary insight pipeline evaluation feedback"
)
_WORDS = _WORD_TEXT.split()

Json = dict[str, Any]
_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error", 429: "rate_limit_error"}
_LEAK = " You can also reach Dana Whitfield at dana.whitfield@example.com or +1 415 555 0132."
_DOC_ID = re.compile(r"\[(doc-[0-9]+)\]")
_LABELS = re.compile(r"one of: ([a-z_]+(?:, [a-z_]+)+)")
_ARTICLE = re.compile(r"\[(doc-[0-9]+)\] [^:\n]*: ([^\n]+)")
_WORD = re.compile(r"[a-z0-9-]+")
_STOPWORDS = frozenset(
    {
        *("a", "an", "the", "i", "my", "me", "we", "our", "you", "your", "is", "am", "are"),
        *("was", "do", "does", "did", "how", "what", "why", "when", "can", "could", "to"),
        *("of", "in", "on", "for", "with", "it", "this", "that", "and", "or", "be", "have"),
        *("has", "not"),
    }
)


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


def _text_of(value: object) -> str:
    """All text inside a message content value (a string, content parts, or nested blocks)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text_of(item) for item in value)
    if isinstance(value, dict):
        return " ".join(_text_of(value.get(key)) for key in ("text", "content"))
    return ""


def _chunked(text: str) -> list[str]:
    """`text` as stream chunks, one word (with its trailing space) each."""
    words = text.split()
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)] or [text]


def _account_sentence(tool_result: str | None) -> str:
    """A sentence about the customer's account from a crm_account_lookup result."""
    if not tool_result:
        return ""
    try:
        account = json.loads(tool_result)
    except ValueError:
        return ""
    if not isinstance(account, dict) or "error" in account:
        return "I could not look up your account just now, sorry."
    return (
        f"Your account {account.get('account_id')} is {account.get('status')} on the "
        f"{account.get('plan')} plan with {account.get('open_invoices')} open invoice(s)."
    )


def _has_tool_result(message: object) -> bool:
    """Whether `message` returns a tool's result (OpenAI `tool` role, Anthropic `tool_result`)."""
    if not isinstance(message, dict):
        return False
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    return message.get("role") == "tool" or any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in blocks
    )


def _example_value(schema: object) -> object:
    """A plausible value for a JSON-schema property."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    examples: dict[object, object] = {
        "integer": 42,
        "number": 1.5,
        "boolean": True,
        "array": [],
        "object": {},
    }
    return examples.get(kind, "acct_1234")


def _tool_arguments(schema: object) -> Json:
    """JSON arguments for a tool, one example value per property of its parameter schema."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict) or not props:
        return {}
    return {str(name): _example_value(prop) for name, prop in props.items()}


def _embedding(text: str, dimension: int) -> list[float]:
    """A unit bag-of-words vector: each word (and its 5-letter stem) hashed to a dimension.

    Texts that share words point the same way, so a vector search over these embeddings finds
    related articles, like a real embedding model would (only cruder).
    """
    raw = [0.0] * dimension
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        for token in {word, word[:5]}:
            raw[hashlib.sha256(token.encode()).digest()[0] % dimension] += 1.0
    if not any(raw):  # No content words: a fixed direction derived from the text.
        digest = hashlib.sha256(text.encode()).digest()
        raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dimension)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _cached(prompt_tokens: int) -> int:
    """Tokens served from the prompt cache: half of long prompts, in 128-token blocks."""
    return (prompt_tokens // 2 // 128) * 128 if prompt_tokens >= 1024 else 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    provider: SimulatedProvider

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay silent: a failed request must not spam stderr or stop the server."""


class _Reply:
    """One planned reply: what to say and how many tokens it costs."""

    def __init__(self, provider: SimulatedProvider, body: Json, behaviour: Behaviour) -> None:
        messages = body.get("messages") or []
        texts = [_text_of(body.get("system"))]
        texts += [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
        self.prompt_tokens = max(1, len(" ".join(t for t in texts if t)) // 4)
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        last_user = _text_of(users[-1].get("content")).lower() if users else ""
        self.model = str(body.get("model") or "simulated-model")
        low, high = behaviour.output_tokens
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        with provider._lock:
            count = provider._rng.randint(low, max(low, high))
            cap = limit if isinstance(limit, int) and limit > 0 else count
            words = [provider._rng.choice(_WORDS) for _ in range(min(count, cap))]
        self.truncated = cap < count
        self.output_tokens = len(words)
        words[0] = words[0].capitalize()
        self.chunks = [w + (" " if i < len(words) - 1 else ".") for i, w in enumerate(words)]
        self.text = "".join(self.chunks)
        self.tool: tuple[str, Json] | None = None
        answered = any(_has_tool_result(m) for m in messages)
        self.tool_result = self._tool_result(messages) if answered else None
        for tool in [] if answered else body.get("tools") or []:
            if not isinstance(tool, dict):
                continue
            fn: Json = tool["function"] if isinstance(tool.get("function"), dict) else tool
            name = str(fn.get("name", ""))
            schema = fn.get("parameters", fn.get("input_schema"))
            if name and (name.lower() in last_user or "account" in last_user):
                self.tool = (name, _tool_arguments(schema))
            break  # Only the first tool is ever called.
        if self.tool is not None:
            self.output_tokens = max(1, len(json.dumps(self.tool[1])) // 4 + 10)
        else:
            self._follow_instructions(provider, behaviour, " ".join(texts), last_user)
        self.cached = _cached(self.prompt_tokens)

    def _follow_instructions(
        self, provider: SimulatedProvider, behaviour: Behaviour, prompt: str, question: str
    ) -> None:
        """Answer a classification with one label; cite a source when asked to; maybe leak PII."""
        labels = _LABELS.search(prompt)
        with provider._lock:
            rng = provider._rng
            if labels is not None:
                options = labels.group(1).split(", ")
                named = [label for label in options if label.split("_")[0] in question]
                self._replace([named[0] if named else rng.choice(options)])
                return
            if "search query" in prompt.lower():
                keywords = [w for w in _WORD.findall(question) if w not in _STOPWORDS]
                self._replace(_chunked(" ".join(keywords) or question))
                return
            sources = _DOC_ID.findall(prompt)
            if sources:
                # Answer from one of the articles in the prompt (and the tool's result, if any).
                doc_id = sources[0] if rng.random() < 0.7 else rng.choice(sources)
                articles = dict(_ARTICLE.findall(prompt))
                parts = [_account_sentence(self.tool_result), articles.get(doc_id, "").strip()]
                parts.append("Anything else I can help with?")
                text = " ".join(p for p in parts if p)
                skip = max(
                    (rate for marker, rate in behaviour.citation_skip if marker in prompt),
                    default=0,
                )
                if "cite" in prompt.lower() and rng.random() >= skip:
                    text = f"{text} [{doc_id}]"
                self._replace(_chunked(text))
            if behaviour.pii_rate > 0 and rng.random() < behaviour.pii_rate:
                self._replace([*self.chunks, _LEAK])

    @staticmethod
    def _tool_result(messages: list[Any]) -> str | None:
        """The content of the last tool result in the conversation, if any."""
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "tool":
                return _text_of(message.get("content"))
            if _has_tool_result(message):
                return _text_of(message.get("content"))
        return None

    def _replace(self, chunks: list[str]) -> None:
        self.chunks = chunks
        self.text = "".join(chunks)
        self.output_tokens = max(1, len(self.text) // 4)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # One request per connection; streams end when it closes.

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default per-request logging."""

    def do_GET(self) -> None:
        """Every GET is unknown."""
        self._safely(lambda: self._json(404, self._error_body(404, "Unknown path")))

    def do_POST(self) -> None:
        """Route a POST to the OpenAI or Anthropic endpoint."""
        self._safely(self._post)

    def _safely(self, action: Callable[[], None]) -> None:
        try:
            action()
        except OSError:
            pass  # The client went away (for example after its own timeout).
        except Exception:  # The server thread must survive any bug.
            with contextlib.suppress(Exception):
                self._json(500, self._error_body(500, "Simulated provider bug"))

    @property
    def _anthropic(self) -> bool:
        return self.path.split("?")[0] == "/v1/messages"

    def _error_body(self, status: int, message: str) -> Json:
        kind = _ERROR_TYPES.get(status, "api_error")
        if self._anthropic:
            return {"type": "error", "error": {"type": kind, "message": message}}
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

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
        if route not in ("/v1/chat/completions", "/v1/embeddings", "/v1/messages"):
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
        if route == "/v1/embeddings":
            provider._sleep(provider._latency(behaviour) / 4)
            self._json(200, self._embeddings(body))
            return
        reply = _Reply(provider, body, behaviour)
        if not body.get("stream"):
            provider._sleep(provider._latency(behaviour))
            out = _anthropic_message(reply) if self._anthropic else _openai_completion(reply)
            self._json(200, out)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        provider._sleep(behaviour.ttft_s)
        if self._anthropic:
            events = _anthropic_events(reply)
        else:
            options = body.get("stream_options")
            usage = isinstance(options, dict) and bool(options.get("include_usage"))
            events = _openai_events(reply, usage)
        for index, event in enumerate(events):
            if index > 1:
                provider._sleep(behaviour.chunk_interval_s)
            self.wfile.write(event.encode())
            self.wfile.flush()

    def _embeddings(self, body: Json) -> Json:
        inputs = body.get("input")
        tokens_only = isinstance(inputs, list) and all(isinstance(i, int) for i in inputs)
        items = inputs if isinstance(inputs, list) and not tokens_only else [inputs]
        texts = [i if isinstance(i, str) else json.dumps(i) for i in items]
        data: list[Json] = []
        for index, text in enumerate(texts):
            vector = _embedding(text, EMBEDDING_DIMENSION)
            embedding: object = vector
            if body.get("encoding_format") == "base64":
                embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(max(1, len(t) // 4) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": str(body.get("model") or "simulated-embedding"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def _openai_usage(reply: _Reply) -> Json:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.prompt_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def _openai_tool_call(reply: _Reply) -> Json:
    name, args = reply.tool or ("", {})
    function = {"name": name, "arguments": json.dumps(args)}
    return {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function", "function": function}


def _finish(reply: _Reply) -> str:
    return "tool_calls" if reply.tool else ("length" if reply.truncated else "stop")


def _openai_completion(reply: _Reply) -> Json:
    message: Json = {"role": "assistant", "content": None if reply.tool else reply.text}
    if reply.tool:
        message["tool_calls"] = [_openai_tool_call(reply)]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "system_fingerprint": None,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(reply)}
        ],
        "usage": _openai_usage(reply),
    }


def _openai_events(reply: _Reply, include_usage: bool) -> Iterator[str]:
    base: Json = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": reply.model,
        "system_fingerprint": None,
    }
    extra: Json = {"usage": None} if include_usage else {}

    def chunk(delta: Json, finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return f"data: {json.dumps({**base, 'choices': [choice], **extra})}\n\n"

    yield chunk({"role": "assistant", "content": "" if not reply.tool else None})
    if reply.tool:
        yield chunk({"tool_calls": [{"index": 0, **_openai_tool_call(reply)}]})
    else:
        for piece in reply.chunks:
            yield chunk({"content": piece})
    yield chunk({}, _finish(reply))
    if include_usage:
        yield f"data: {json.dumps({**base, 'choices': [], 'usage': _openai_usage(reply)})}\n\n"
    yield "data: [DONE]\n\n"


def _anthropic_usage(reply: _Reply, output_tokens: int) -> Json:
    return {
        "input_tokens": reply.prompt_tokens - reply.cached,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": reply.cached,
    }


def _stop_reason(reply: _Reply) -> str:
    return "tool_use" if reply.tool else ("max_tokens" if reply.truncated else "end_turn")


def _tool_block(name: str, args: Json) -> Json:
    return {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": args}


def _anthropic_message(reply: _Reply, *, streaming: bool = False) -> Json:
    content = [_tool_block(*reply.tool) if reply.tool else {"type": "text", "text": reply.text}]
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": [] if streaming else content,
        "stop_reason": None if streaming else _stop_reason(reply),
        "stop_sequence": None,
        "usage": _anthropic_usage(reply, 1 if streaming else reply.output_tokens),
    }


def _anthropic_events(reply: _Reply) -> Iterator[str]:
    def event(kind: str, **data: object) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    yield event("message_start", message=_anthropic_message(reply, streaming=True))
    if reply.tool:
        name, args = reply.tool
        yield event("content_block_start", index=0, content_block=_tool_block(name, {}))
        delta: Json = {"type": "input_json_delta", "partial_json": json.dumps(args)}
        yield event("content_block_delta", index=0, delta=delta)
    else:
        yield event("content_block_start", index=0, content_block={"type": "text", "text": ""})
        for piece in reply.chunks:
            yield event("content_block_delta", index=0, delta={"type": "text_delta", "text": piece})
    yield event("content_block_stop", index=0)
    stop = {"stop_reason": _stop_reason(reply), "stop_sequence": None}
    yield event("message_delta", delta=stop, usage={"output_tokens": reply.output_tokens})
    yield event("message_stop")


class SimulatedProvider:
    """A local HTTP server that answers like OpenAI and Anthropic, with configurable behaviour.

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
