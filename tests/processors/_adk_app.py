"""A Google ADK agent with one tool, its Gemini model on the simulated provider (127.0.0.1).

Run as `python -m tests.processors._adk_app SETUP [--ours] [--fail STATUS]` from the repository
root. SETUP `code`: in-memory providers set up in code as make_captured does (our pipeline
retrofitted), printed as the console exporters print; `zero-code`: no otel-llm code at all, for
`opentelemetry-instrument`. `--ours` instruments google-genai with otel-llm as well (under
`opentelemetry-instrument` the entry point decides). ADK binds its tracer and meter to the
process's first global providers, so each setup gets a process of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
from typing import Any

QUESTION = "Please lookup order QX-5512-ZK. Mail me at jane.doe@example.com"
INSTRUCTIONS = "You are the support desk of ACME-INTERNAL-7731."
TOOL_DESCRIPTION = "Find an order by its number."
TOOL_RESULT = "shipped to 221B Baker Street"
MODEL = "gemini-2.5-flash"
AGENT = "support"
SECRETS = (
    "jane.doe@example.com",
    "QX-5512-ZK",
    "ACME-INTERNAL-7731",
    "acct_1234",  # the simulated provider's argument for the tool's `order`
    "Baker Street",
    TOOL_DESCRIPTION,
)
"""Conversation text (question, instructions, tool arguments and result, tool description);
the answer, made up by the provider, is printed after ANSWER:."""


_ADK_MODULES = ("agents", "models", "runners", "tools")


def lookup(order: str) -> str:
    """Find an order by its number."""
    return TOOL_RESULT


async def _run(base_url: str) -> str:
    """One user turn through InMemoryRunner; the agent's final text."""
    from google.genai import types  # noqa: PLC0415

    # ADK ships no type information (imported by name: mypy runs where ADK is not installed).
    adk = {name: importlib.import_module(f"google.adk.{name}") for name in _ADK_MODULES}
    model = adk["models"].Gemini(
        model=MODEL, base_url=base_url, client_kwargs={"api_key": "AIza-test-key"}
    )
    tools = [adk["tools"].FunctionTool(lookup)]
    agent = adk["agents"].LlmAgent(name=AGENT, model=model, instruction=INSTRUCTIONS, tools=tools)
    runner = adk["runners"].InMemoryRunner(agent=agent, app_name="shop")
    session = await runner.session_service.create_session(app_name="shop", user_id="u-1")
    message = types.Content(role="user", parts=[types.Part(text=QUESTION)])
    answer = ""
    async for event in runner.run_async(user_id="u-1", session_id=session.id, new_message=message):
        for part in (event.content.parts or []) if event.content else []:
            answer += part.text or ""
    return str(answer)


def _in_memory(ours: bool) -> Any:
    """Global in-memory providers behind otel-llm's pipeline; a function printing what they hold."""
    from opentelemetry import _logs, metrics, trace  # noqa: PLC0415

    from otel_llm._telemetry import set_telemetry  # noqa: PLC0415
    from tests.conftest import make_captured  # noqa: PLC0415

    captured = make_captured()
    set_telemetry(captured.telemetry)
    trace.set_tracer_provider(captured.providers["tracer_provider"])
    metrics.set_meter_provider(captured.providers["meter_provider"])
    _logs.set_logger_provider(captured.providers["logger_provider"])
    if ours:
        from otel_llm.instrumentation.google_genai import GoogleGenAIInstrumentor  # noqa: PLC0415

        GoogleGenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)

    def show() -> None:
        for span in captured.finished_spans():
            print(span.to_json())
        for data in captured.logs.get_finished_logs():
            print(data.to_json())
        found = captured.metrics.get_metrics_data()
        if found is not None:
            print(found.to_json())

    return show


def main() -> None:
    """Run the agent once (or into the provider's error); print the answer or the error."""
    from otel_llm.demo.provider import Behaviour, SimulatedProvider  # noqa: PLC0415

    parser = argparse.ArgumentParser()
    parser.add_argument("setup", choices=["code", "zero-code"])
    parser.add_argument("--ours", action="store_true")
    parser.add_argument("--fail", type=int, default=0, choices=[0, 429, 500])
    args = parser.parse_args()
    show = _in_memory(args.ours) if args.setup == "code" else None
    behaviour = Behaviour(
        latency_median_s=0.01,
        latency_sigma=0.0,
        ttft_s=0.0,
        chunk_interval_s=0.0,
        seed=7,
        rate_limit_rate=1.0 if args.fail == 429 else 0.0,
        error_rate=1.0 if args.fail == 500 else 0.0,
    )
    with SimulatedProvider(behaviour) as provider:
        try:
            print("ANSWER:", json.dumps(asyncio.run(_run(provider.base_url_gemini))))
        except Exception as error:  # the provider's error, as the application sees it
            print("RAISED:", type(error).__name__)
        print("REQUESTS:", provider.requests)
    if show is not None:
        show()
    print("app done")


if __name__ == "__main__":
    main()
