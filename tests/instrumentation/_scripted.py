"""A scripted OpenAI server over the openai SDK's own mock transport (no otel-llm involved).

Kept free of the test suite's fixtures: the zero-code app imports it in a subprocess.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import openai

from otel_llm.payloads import openai as payloads
from otel_llm.payloads import openai_responses as responses
from otel_llm.payloads import sse
from tests.instrumentation._fakes import http

Reply = dict[str, Any] | tuple[str, Any]
"""A body to send, ("stream", text pieces) for a streamed chat reply, or ("status", code)."""


class Scripted:
    """Answers each OpenAI request with the next scripted reply (the last one repeats)."""

    def __init__(self, replies: Sequence[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        """The SDK's mock transport calls this for every HTTP request."""
        body = json.loads(request.content) if request.content else {}
        self.requests.append(body)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, tuple) and reply[0] == "status":
            return http.Response(reply[1], json=payloads.error(reply[1]))
        if isinstance(reply, tuple) and reply[0] == "stream":
            chunks = payloads.chat_chunks(list(reply[1]), include_usage=True)
            headers = {"content-type": "text/event-stream"}
            return http.Response(200, content=sse.encode(chunks, done=True), headers=headers)
        if body.get("stream") and isinstance(reply, dict) and reply.get("object") == "response":
            events = responses.response_events(reply)
            headers = {"content-type": "text/event-stream"}
            return http.Response(200, content=sse.encode(events, named=True), headers=headers)
        return http.Response(200, json=reply)

    def clients(self) -> tuple[Any, Any]:
        """A sync and an async httpx client answering from this script."""
        transport = http.MockTransport(self)
        return http.Client(transport=transport), http.AsyncClient(transport=transport)

    def async_openai(self) -> openai.AsyncOpenAI:
        """A real AsyncOpenAI client answering from this script."""
        return openai.AsyncOpenAI(api_key="sk-test", max_retries=0, http_client=self.clients()[1])


def tool_call_reply(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    """A chat.completion asking for one tool call."""
    call = payloads.tool_call(name, json.dumps(arguments), id=call_id)
    return payloads.chat_completion(None, tool_calls=[call])


def answer(text: str = "Your order ships today.") -> dict[str, Any]:
    """A chat.completion with a text answer."""
    return payloads.chat_completion(text)


def response_reply(output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A Responses API body (default: one text message)."""
    return responses.response(output)
