"""An application with no otel-llm code: a LangChain agent, an Agents SDK or pydantic-ai run.

`opentelemetry-instrument` records it (see tests/instrumentation/_zero_code.py).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from tests.instrumentation._scripted import Scripted, answer, response_reply, tool_call_reply


def langchain_app() -> None:
    """A create_agent agent with one tool, over the real openai client."""
    from langchain.agents import create_agent  # noqa: PLC0415
    from langchain_core.tools import tool  # noqa: PLC0415
    from langchain_openai import ChatOpenAI  # noqa: PLC0415

    @tool
    def lookup(order: str) -> str:
        """Look up an order."""
        return "shipped"

    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
    sync, async_ = script.clients()
    model = ChatOpenAI(
        model="gpt-4o-mini",
        api_key="sk-test",  # type: ignore[arg-type]
        http_client=sync,
        http_async_client=async_,
    )
    agent = create_agent(model, [lookup], name="support")
    config: Any = {"configurable": {"thread_id": "t-9"}}
    agent.invoke({"messages": [("user", "where is order 42?")]}, config)


def agents_app() -> None:
    """An Agents SDK agent answering once, over the real openai client."""
    from agents import Agent, Runner  # noqa: PLC0415
    from agents.models.openai_responses import OpenAIResponsesModel  # noqa: PLC0415

    script = Scripted([response_reply()])
    model = OpenAIResponsesModel(model="gpt-4o-mini", openai_client=script.async_openai())
    agent = Agent(name="Support", instructions="Help.", model=model)
    asyncio.run(Runner.run(agent, "where is order 42?"))


def pydantic_ai_app() -> None:
    """A pydantic-ai agent traced by pydantic-ai itself (`Agent.instrument_all()`), one tool."""
    from pydantic_ai import Agent  # noqa: PLC0415
    from pydantic_ai.models.openai import OpenAIChatModel  # noqa: PLC0415
    from pydantic_ai.providers.openai import OpenAIProvider  # noqa: PLC0415

    script = Scripted([tool_call_reply("lookup", {"order": "42"}, "call_1"), answer()])
    provider = OpenAIProvider(openai_client=script.async_openai())
    model = OpenAIChatModel("gpt-4o-mini", provider=provider)
    Agent.instrument_all()  # as pydantic-ai's docs show: on the global OpenTelemetry providers
    agent = Agent(model, name="support", instructions="Help.")

    @agent.tool_plain(name="lookup")
    def lookup(order: str) -> str:
        """Look up an order."""
        return "shipped"

    asyncio.run(agent.run("where is order 42?"))


if __name__ == "__main__":
    apps = {"langchain": langchain_app, "pydantic-ai": pydantic_ai_app}
    apps.get(sys.argv[1], agents_app)()
    print("app done")
