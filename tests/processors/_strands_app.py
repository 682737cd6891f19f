"""A Strands agent with one tool, on its own BedrockModel (or OpenAIModel), over local fakes.

Kept free of the test suite's fixtures: the zero-code test runs it under
`opentelemetry-instrument` in a subprocess (`python -m tests.processors._strands_app`).
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from otel_llm.payloads import openai as openai_payloads
from otel_llm.payloads import sse
from otel_llm.payloads.bedrock import MODEL_IDS, Reply, ToolUse
from tests.instrumentation._fakes import http
from tests.instrumentation.bedrock._server import (
    FakeBedrock,
    converse_events,
    error_response,
    stream_response,
)

QUESTION = "Where is order 1042? Mail me at jane.doe@example.com"
INSTRUCTIONS = "You are the support desk of ACME-INTERNAL-7731."
ARGUMENTS = {"order": "ORDER-ARG-5512"}
TOOL_RESULT = "shipped to 221B Baker Street"
ANSWER = "Your order ships today"
DESCRIPTION = "Find an order by its number."
MODEL_ID = MODEL_IDS["nova_profile"]
OPENAI_MODEL = "gpt-4o-mini"


def _lookup() -> Any:
    strands = importlib.import_module("strands")

    def lookup(order: str) -> str:
        return TOOL_RESULT

    lookup.__doc__ = DESCRIPTION
    return strands.tool(lookup)


def agent(model: Any, *, retries: bool = False) -> Any:
    """A Strands agent named `support` with the `lookup` tool and the support desk's prompt."""
    strands = importlib.import_module("strands")
    extra: dict[str, Any] = {} if retries else {"retry_strategy": None}
    return strands.Agent(
        model=model,
        tools=[_lookup()],
        system_prompt=INSTRUCTIONS,
        name="support",
        callback_handler=None,
        **extra,
    )


def bedrock_turn(fake: FakeBedrock, status: int = 200, tools: int = 1) -> None:
    """Queue `tools` tool calls at once then the answer (or one error reply with `status`)."""
    if status != 200:
        fake.push(error_response(status))
        return
    uses = [ToolUse(id=f"tooluse_{i}", name="lookup", input=ARGUMENTS) for i in range(tools)]
    first = Reply(text=None, tool_uses=uses, stop_reason="tool_use")
    fake.push(
        stream_response(converse_events(first)),
        stream_response(converse_events(Reply(text=ANSWER))),
    )


def bedrock_model(fake: FakeBedrock) -> Any:
    """Strands' own BedrockModel on the fake Bedrock Runtime (boto3 converse_stream)."""
    boto3 = importlib.import_module("boto3")
    config = importlib.import_module("botocore.config")
    models = importlib.import_module("strands.models.bedrock")
    session = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",  # noqa: S106
        region_name="us-east-1",
    )
    return models.BedrockModel(
        model_id=MODEL_ID,
        boto_session=session,
        endpoint_url=fake.url,
        boto_client_config=config.Config(retries={"total_max_attempts": 1}),
    )


class OpenAITurn:
    """The OpenAI endpoint's side of one agent turn: a streamed tool call, then the answer."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> Any:
        """Answer the SDK's mock transport."""
        self.requests.append(json.loads(request.read()))
        if self.status != 200:
            return http.Response(self.status, json=openai_payloads.error(self.status))
        if len(self.requests) == 1:
            call = openai_payloads.tool_call("lookup", json.dumps(ARGUMENTS), id="call_1")
            chunks = openai_payloads.chat_chunks(tool_calls=[call], finish_reason="tool_calls")
        else:
            chunks = openai_payloads.chat_chunks([ANSWER], finish_reason="stop")
        headers = {"content-type": "text/event-stream"}
        return http.Response(200, content=sse.encode(chunks, done=True), headers=headers)


def openai_model(handler: OpenAITurn) -> Any:
    """Strands' own OpenAIModel on a real AsyncOpenAI client over the SDK's mock transport."""
    openai = importlib.import_module("openai")
    models = importlib.import_module("strands.models.openai")
    client = openai.AsyncOpenAI(
        api_key="sk-test",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(handler)),
    )
    return models.OpenAIModel(client=client, model_id=OPENAI_MODEL)


def main() -> None:
    """One agent turn on Bedrock, then one on OpenAI, then say so."""
    with FakeBedrock() as fake:
        bedrock_turn(fake)
        agent(bedrock_model(fake))(QUESTION)
    agent(openai_model(OpenAITurn()))(QUESTION)
    print("app done")


if __name__ == "__main__":
    main()
    sys.stdout.flush()
