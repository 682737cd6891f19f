"""Real pydantic-ai, OpenInference and OpenLLMetry runs over mock transports, for processor tests.

Each drives the library's own instrumentation against the test's providers (in-process and
explicit: no entry point is loaded), so what reaches our pipeline is what they really emit.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider

from tests.conftest import Captured
from tests.instrumentation import _fakes as fakes

QUESTION = "Where is order 1042? Mail me at jane.doe@example.com"
INSTRUCTIONS = "You are the support desk of ACME-INTERNAL-7731."
ARGUMENTS = '{"order": "ORDER-ARG-5512"}'
TOOL_RESULT = "shipped to 221B Baker Street"
TOOL_CALL = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Find an order by its number.",
            "parameters": {"type": "object", "properties": {"order": {"type": "string"}}},
        },
    }
]
SECRETS = (
    "jane.doe@example.com",
    "1042",
    "ACME-INTERNAL-7731",
    "ORDER-ARG-5512",
    "Baker Street",
    "Your order ships today",
    "Find an order by its number",
)
"""Text of the conversation (question, instructions, tool arguments and result, answer, tool
description): none of it may leave with content capture off."""


def agent_turn(status: int = 200, arguments: str = "{}") -> Any:
    """A handler answering one tool call (with `arguments`), then the reply (or `status`)."""
    requests: list[Any] = []
    call = {**TOOL_CALL, "function": {"name": "lookup", "arguments": arguments}}

    def handler(request: Any) -> Any:
        requests.append(json.loads(request.read()))
        if status != 200:
            return fakes.http.Response(status, json={"error": {"message": "slow down"}})
        if len(requests) == 1:
            body = fakes.chat_completion(
                content=None, finish_reason="tool_calls", tool_calls=[call]
            )
        else:
            body = fakes.chat_completion()
        return fakes.http.Response(200, json=body)

    return handler


def run_agent(
    captured: Captured,
    handler: Any,
    *,
    instructions: str | None = None,
    typed: bool = False,
    our_tool: bool = False,
) -> Any:
    """Run a pydantic-ai agent with one tool, its own OpenAI model, traced by pydantic-ai.

    `typed`: the tool takes an `order` string (so the model's arguments are validated).
    `our_tool`: the tool's body also runs in an `otel_llm.tool("lookup")` span.
    """
    from pydantic_ai import Agent  # noqa: PLC0415
    from pydantic_ai.models.instrumented import InstrumentationSettings  # noqa: PLC0415
    from pydantic_ai.models.openai import OpenAIChatModel  # noqa: PLC0415
    from pydantic_ai.providers.openai import OpenAIProvider  # noqa: PLC0415

    import otel_llm  # noqa: PLC0415

    model = OpenAIChatModel(
        "gpt-4o-mini", provider=OpenAIProvider(openai_client=fakes.async_openai_client(handler))
    )
    agent = Agent(model, name="support", instructions=instructions)
    agent.instrument = InstrumentationSettings(
        tracer_provider=captured.providers["tracer_provider"], meter_provider=MeterProvider()
    )
    if typed:

        @agent.tool_plain(name="lookup")
        def lookup_order(order: str) -> str:
            """Find an order by its number."""
            return TOOL_RESULT

    else:

        @agent.tool_plain(name="lookup")
        def lookup_any() -> str:
            """Find an order by its number."""
            if our_tool:
                with otel_llm.tool("lookup"):
                    return TOOL_RESULT
            return TOOL_RESULT

    return asyncio.run(agent.run(QUESTION))


@contextmanager
def instrumented(module: str, captured: Captured) -> Iterator[None]:
    """A peer's OpenAI instrumentor (OpenInference's or OpenLLMetry's) on the test's providers."""
    instrumentor = importlib.import_module(module).OpenAIInstrumentor()
    with warnings.catch_warnings():
        # OpenLLMetry 0.62 declares a pydantic model the v1 way: its deprecation, not ours.
        warnings.simplefilter("ignore", DeprecationWarning)
        instrumentor.instrument(tracer_provider=captured.providers["tracer_provider"])
    try:
        yield
    finally:
        instrumentor.uninstrument()
        unwrap_left_over(module)


def unwrap_left_over(module: str) -> None:
    """Undo the wrappers `module` left on the openai SDK's classes after uninstrument().

    OpenLLMetry 0.62 calls opentelemetry-instrumentation's `unwrap` with the pre-0.66
    (module, "Class.method") arguments, which 0.66 reads as a missing attribute: its wrappers
    stay, and would record every later test's calls into this test's provider.
    """
    for name, loaded in list(sys.modules.items()):
        if not name.startswith("openai.") or loaded is None:
            continue
        for owner in vars(loaded).values():
            if not isinstance(owner, type) or not owner.__module__.startswith("openai."):
                continue
            for attribute, found in list(vars(owner).items()):
                current = found
                wrapper = getattr(current, "_self_wrapper", None)
                while wrapper is not None and getattr(wrapper, "__module__", "").startswith(module):
                    current = current.__wrapped__
                    setattr(owner, attribute, current)
                    wrapper = getattr(current, "_self_wrapper", None)


def conversation() -> None:
    """One chat call with a system message, tools, a tool call and its result (sync client)."""
    client = fakes.openai_client(
        lambda request: fakes.http.Response(200, json=fakes.chat_completion())
    )
    call = {**TOOL_CALL, "function": {"name": "lookup", "arguments": ARGUMENTS}}
    messages: list[Any] = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": TOOL_RESULT},
    ]
    tools: list[Any] = TOOLS
    client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=tools)


def exported_text(captured: Captured) -> str:
    """Every exported span's name, attributes and events, as one string to search."""
    parts = []
    for span in captured.finished_spans():
        parts.append(span.name)
        parts.append(json.dumps(dict(span.attributes), default=str))
        for event in span.events:
            parts.append(event.name)
            parts.append(json.dumps(dict(event.attributes or {}), default=str))
    return "\n".join(parts)
