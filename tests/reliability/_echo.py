"""A mock provider that echoes the caller's tag into its replies, JSON or SSE as requested."""

from __future__ import annotations

import json
from typing import Any

from tests.instrumentation import _fakes as fakes


def tag_of(request: Any) -> str:
    """The tag a caller put in its last message's content."""
    body = json.loads(request.content)
    return str(body["messages"][-1]["content"])


def echo_handler(request: Any) -> Any:
    """Answer chat.completions with ids derived from the caller's tag (stream when asked)."""
    body = json.loads(request.content)
    tag = str(body["messages"][-1]["content"])
    if body.get("stream"):
        chunks = fakes.chat_chunks(("a", "b", "c"))
        for chunk in chunks:
            chunk["id"] = f"chatcmpl-{tag}"
        return fakes.respond_sse(fakes.sse(chunks))(request)
    reply = fakes.chat_completion()
    reply["id"] = f"chatcmpl-{tag}"
    return fakes.respond_json(reply)(request)


def messages(tag: str) -> Any:
    """The messages of a call tagged `tag` (the tag comes back as the response id)."""
    return [{"role": "user", "content": tag}]
