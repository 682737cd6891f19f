"""An application instrumented by OpenLIT (`openlit.init()`), for test_foreign_openlit.py.

One support-desk turn: an agent asks the model (sync client), runs the tool it chose on a worker
thread, and asks again with the tool's result (async client, on an asyncio task), over the real
openai SDK against a scripted mock transport (no network, no keys). Kept free of the test
suite's fixtures: it also runs in a subprocess under `opentelemetry-instrument`.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
from opentelemetry import trace

import otel_llm
from tests.instrumentation._scripted import Scripted, answer, tool_call_reply

QUESTION = "Where is order 1042? Mail me at jane.doe@example.com"
INSTRUCTIONS = "You are the support desk of ACME-INTERNAL-7731."
ARGUMENTS = {"order": "ORDER-ARG-5512"}
TOOL_RESULT = "shipped to 221B Baker Street"
ANSWER = "Your order ships today."
TOOLS: list[Any] = [
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
    ANSWER,
    "Find an order by its number",
)
"""The conversation's text (question, instructions, tool arguments and result, answer, tool
description): none of it may leave with content capture off."""
MODEL = "gpt-4o-mini"
OPENLIT_PRICES = {"chat": {MODEL: {"promptPrice": 1.0, "completionPrice": 1.0}}}
"""OpenLIT's own price list (its pricing_json format, USD per 1k tokens): deliberately not the
real price, so a cost taken from OpenLIT's estimate would show."""


CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def init_openlit(directory: Path, *, own_capture_setting: bool = False) -> None:
    """openlit.init() as its docs show, with a local price list (it fetches one otherwise).

    `own_capture_setting`: OpenLIT reads CAPTURE as a boolean ("true" only), otel-llm as the
    upstream mode (SPAN_ONLY...), so no value turns both on: OpenLIT is set up without seeing
    the variable, keeping its own default (capture on).
    """
    # Imported after the providers are set, as a user would; by name, as only .venv-openlit
    # has it (for mypy in .venv).
    openlit: Any = importlib.import_module("openlit")

    prices = directory / "openlit-prices.json"
    prices.write_text(json.dumps(OPENLIT_PRICES))
    hidden = os.environ.pop(CAPTURE, None) if own_capture_setting else None
    try:
        openlit.init(application_name="support-desk", disable_batch=True, pricing_json=str(prices))
    finally:
        if hidden is not None:
            os.environ[CAPTURE] = hidden


def _clients(script: Scripted) -> tuple[openai.OpenAI, openai.AsyncOpenAI]:
    sync, async_ = script.clients()
    return (
        openai.OpenAI(api_key="sk-test", max_retries=0, http_client=sync),
        openai.AsyncOpenAI(api_key="sk-test", max_retries=0, http_client=async_),
    )


def _lookup(call: Any) -> str:
    """The tool, as an agent framework runs it: on a worker thread, in its own span."""
    with otel_llm.tool("lookup", call_id=call.id) as handle:
        handle.set_arguments(call.function.arguments)
        handle.set_result(TOOL_RESULT)
    return TOOL_RESULT


def agent_turn() -> str:
    """One agent turn: model call, tool call on a worker thread, model call on an async task."""
    script = Scripted([tool_call_reply("lookup", ARGUMENTS, "call_1"), answer(ANSWER)])
    client, async_client = _clients(script)
    messages: list[Any] = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": QUESTION},
    ]
    with otel_llm.agent("support"):
        first = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        call = (first.choices[0].message.tool_calls or [])[0]
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(context.run, _lookup, call).result()
        messages += [
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": result},
        ]
        second = asyncio.run(
            async_client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        )
    return second.choices[0].message.content or ""


def refused_call(status: int) -> None:
    """One chat call the provider refuses with `status` (the SDK raises, as without OpenLIT)."""
    client, _ = _clients(Scripted([("status", status)]))
    try:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}]
        )
    except openai.APIStatusError as error:
        if error.status_code != status:
            raise
    else:
        raise AssertionError("the refused call did not raise")


if __name__ == "__main__":
    # argv: "turn" or a status to refuse with; optionally "instrument-first" (otel_llm.instrument()
    # in code before openlit.init(), with no SDK set up) and "openlit-captures"; last, a directory
    # for OpenLIT's price list.
    if "instrument-first" in sys.argv:
        otel_llm.instrument()
    init_openlit(Path(sys.argv[-1]), own_capture_setting="openlit-captures" in sys.argv)
    if sys.argv[1] == "turn":
        agent_turn()
    else:
        refused_call(int(sys.argv[1]))
    # A short job flushes before it exits: spans are priced as they are exported, and the
    # meter provider may be shut down before the tracer provider's last batch is.
    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is not None:
        flush()
    print("app done")
