"""The demo support chatbot: classify → rewrite → retrieve → answer agent → evals → case note."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import otel_llm
from otel_llm import prompts
from otel_llm.demo.faults import Faults
from otel_llm.demo.knowledge import KnowledgeBase, Match
from otel_llm.evaluations import Citation, LengthBounds, PiiInOutput, Sample

__all__ = ["CRM_TOOL", "PROMPTS_DIR", "Answer", "CrmUnavailable", "SupportBot", "User"]

PROMPTS_DIR = Path(__file__).with_name("prompts")
"""The demo's prompt files: support_classify v3, support_rewrite v7, support_answer v41/v42."""

ANSWER_MODEL = "gpt-4o-mini"
CLASSIFY_MODEL = "claude-haiku-4-5"
REWRITE_MODEL = "gemini-2.5-flash-lite"
NOTE_MODEL = "us.amazon.nova-lite-v1:0"
"""Amazon Nova Lite through a US cross-region inference profile, on AWS Bedrock."""
EMBEDDING_MODEL = "text-embedding-3-small"
TOP_K = 4
AGENT = "support_agent"
AGENT_DESCRIPTION = "Answers from the help center, looking the customer's account up if needed."

CRM_TOOL: Mapping[str, Any] = {
    "type": "function",
    "function": {
        "name": "crm_account_lookup",
        "description": "Look up the customer's own account: plan, status and open invoices.",
        "parameters": {
            "type": "object",
            "properties": {"account_id": {"type": "string"}},
            "required": ["account_id"],
        },
    },
}


@dataclass(frozen=True)
class User:
    """Who is asking: ids that go into baggage (and so onto spans), never into metrics."""

    user_id: str
    tenant_id: str
    session_id: str
    account_id: str


@dataclass(frozen=True)
class Answer:
    """What the bot replied, and what the feedback widget needs to link back to it."""

    text: str
    prompt_version: str
    response_id: str | None
    feedback_token: str | None
    failed_evaluations: tuple[str, ...]
    tool_failed: bool
    case_note: str = ""
    """The one-line CRM note of the exchange (empty for a bot without a Bedrock client)."""


class CrmUnavailable(RuntimeError):
    """The CRM lookup failed (the `tool_failures` fault)."""


@dataclass
class _Reply:
    text: str = ""
    response_id: str | None = None
    tool_call: tuple[str, str, str] | None = None
    """(call id, function name, JSON arguments) of the first tool call, if the model made one."""


def _collect(stream: Iterable[Any]) -> _Reply:
    """Read a chat completion stream to the end: the text, the response id, the first tool call."""
    reply = _Reply()
    parts: list[str] = []
    call_id, name, arguments = "", "", []
    for chunk in stream:
        reply.response_id = reply.response_id or chunk.id
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content:
                parts.append(delta.content)
            for call in delta.tool_calls or ():
                if call.index != 0:
                    continue
                call_id = call.id or call_id
                if call.function is not None:
                    name = call.function.name or name
                    arguments.append(call.function.arguments or "")
    reply.text = "".join(parts)
    if name:
        reply.tool_call = (call_id, name, "".join(arguments))
    return reply


def _system_and_user(messages: list[dict[str, str]]) -> tuple[str, list[dict[str, str]]]:
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    return system, [m for m in messages if m["role"] != "system"]


def _gemini_contents(messages: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Chat messages as Gemini contents (the assistant is the `model`)."""
    return [
        {"role": "model" if m["role"] == "assistant" else "user", "parts": [{"text": m["content"]}]}
        for m in messages
    ]


class SupportBot:
    """A support assistant on the real `openai`, `anthropic`, `google-genai` and boto3 clients.

    Every request is one `invoke_workflow support_chat` trace: intent classification (Anthropic),
    query rewriting (Gemini, or OpenAI without a Gemini client), retrieval embeddings (OpenAI),
    an in-memory vector search, the answer
    (OpenAI, streamed, prompt `support_answer` v41 with v42 in canary for `canary_percent` of
    users) as the `support_agent` agent run, with the `crm_account_lookup` tool when the model
    asks for it, policy and quality evaluations of the answer, then a one-line CRM case note of
    the exchange (Amazon Nova Lite on AWS Bedrock, streamed through ConverseStream; no note
    without a Bedrock client) before the answer is returned.
    """

    def __init__(
        self,
        openai_client: Any,
        anthropic_client: Any,
        gemini_client: Any = None,
        bedrock_client: Any = None,
        *,
        faults: Faults,
        canary_percent: float = 20.0,
        seed: int | None = None,
    ) -> None:
        self._openai = openai_client
        self._anthropic = anthropic_client
        self._gemini = gemini_client
        self._bedrock = bedrock_client
        self.faults = faults
        """The app-side faults in force; may be replaced while traffic runs."""
        self._canary_percent = canary_percent
        self._rng = random.Random(seed)  # noqa: S311 - simulated faults, not security
        self._rng_lock = threading.Lock()
        self._policy = PiiInOutput()
        self._quality = (
            Citation(),
            LengthBounds(min_chars=20, max_chars=1500, name="answer_length"),
        )
        self.knowledge = KnowledgeBase(self._embed)

    def _chance(self, rate: float) -> bool:
        with self._rng_lock:
            return rate > 0 and self._rng.random() < rate

    def _embed(self, texts: list[str]) -> list[list[float]]:
        response = self._openai.embeddings.create(model=EMBEDDING_MODEL, input=texts)
        return [list(item.embedding) for item in response.data]

    def handle(self, question: str, user: User) -> Answer:
        """Answer `question` for `user`; provider errors propagate, as to a web handler."""
        with (
            otel_llm.session(
                session_id=user.session_id,
                tenant_id=user.tenant_id,
                conversation_id=user.session_id,
            ),
            otel_llm.workflow("support_chat"),
        ):
            intent = self._classify(question)
            query = self._rewrite(question, intent)
            matches = self._retrieve(query)
            prompt = prompts.canary(
                "support_answer",
                stable="41",
                candidate="42",
                percent=self._canary_percent,
                key=user.user_id,
                directory=PROMPTS_DIR,
            )
            reply, tool_failed = self._answer(prompt, question, matches, user)
            failed = self._evaluate(prompt, question, reply, matches)
            note = self._case_note(question, intent, reply.text) if self._bedrock else ""
            return Answer(
                text=reply.text,
                prompt_version=prompt.version,
                response_id=reply.response_id,
                feedback_token=otel_llm.feedback_token(),
                failed_evaluations=failed,
                tool_failed=tool_failed,
                case_note=note,
            )

    def _classify(self, question: str) -> str:
        rendered = prompts.load("support_classify", directory=PROMPTS_DIR).render(question=question)
        system, messages = _system_and_user(rendered.messages or [])
        with rendered.context():
            message = self._anthropic.messages.create(
                model=CLASSIFY_MODEL, system=system, messages=messages, max_tokens=8
            )
        text = "".join(getattr(block, "text", "") for block in message.content).strip()
        return text or "other"

    def _rewrite(self, question: str, intent: str) -> str:
        prompt = prompts.load("support_rewrite", directory=PROMPTS_DIR)
        rendered = prompt.render(question=question, intent=intent)
        if self._gemini is not None:
            system, messages = _system_and_user(rendered.messages or [])
            config = {"system_instruction": system, "max_output_tokens": 48, "temperature": 0}
            with rendered.context():
                response = self._gemini.models.generate_content(
                    model=REWRITE_MODEL, contents=_gemini_contents(messages), config=config
                )
            return str(response.text or question)
        with rendered.context():
            completion = self._openai.chat.completions.create(
                model=ANSWER_MODEL, messages=rendered.messages, max_tokens=48, temperature=0
            )
        return str(completion.choices[0].message.content or question)

    def _case_note(self, question: str, intent: str, answer: str) -> str:
        prompt = prompts.load("support_case_note", directory=PROMPTS_DIR)
        rendered = prompt.render(question=question, intent=intent, answer=answer)
        system, messages = _system_and_user(rendered.messages or [])
        with rendered.context():
            result = self._bedrock.converse_stream(
                modelId=NOTE_MODEL,
                system=[{"text": system}],
                messages=[
                    {"role": m["role"], "content": [{"text": m["content"]}]} for m in messages
                ],
                inferenceConfig={
                    "maxTokens": prompt.settings.get("max_tokens", 60),
                    "temperature": prompt.settings.get("temperature", 0),
                },
            )
            deltas = [
                event["contentBlockDelta"]["delta"].get("text", "")
                for event in result["stream"]
                if "contentBlockDelta" in event
            ]
        return "".join(deltas).strip()

    def _retrieve(self, query: str) -> list[Match]:
        stuffed = self._chance(self.faults.cost_spike)
        k = len(self.knowledge.articles) if stuffed else TOP_K
        with otel_llm.retrieval("help_center", top_k=k) as retrieval:
            matches = self.knowledge.search(query, k)
            retrieval.record_documents((m.article.doc_id, m.score) for m in matches)
        if stuffed:
            # The cost-spike fault: whole articles instead of snippets, for every article.
            return [Match(m.article, m.score) for m in matches for _ in range(8)]
        return matches

    def _answer(
        self, prompt: prompts.Prompt, question: str, matches: list[Match], user: User
    ) -> tuple[_Reply, bool]:
        articles = "\n".join(
            f"[{m.article.doc_id}] {m.article.title}: {m.article.text}" for m in matches
        )
        rendered = prompt.render(question=question, articles=articles)
        messages: list[dict[str, Any]] = list(rendered.messages or [])
        settings = dict(prompt.settings)
        tool_failed = False
        # The answer is an agent step: its model calls and tool calls are counted per run
        # (otel_llm.agent.steps), and its execute_tool spans carry the agent's name.
        with rendered.context(), otel_llm.agent(AGENT, description=AGENT_DESCRIPTION):
            reply = _collect(self._chat(messages, settings))
            if reply.tool_call is not None:
                call_id, name, arguments = reply.tool_call
                try:
                    result = self._lookup(call_id, name, arguments, user)
                except CrmUnavailable as exc:
                    tool_failed = True
                    result = {"error": str(exc)}
                function = {"name": name, "arguments": arguments}
                messages.append(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"id": call_id, "type": "function", "function": function}],
                    }
                )
                messages.append(
                    {"role": "tool", "tool_call_id": call_id, "content": json.dumps(result)}
                )
                reply = _collect(self._chat(messages, settings))
        return reply, tool_failed

    def _chat(self, messages: list[dict[str, Any]], settings: Mapping[str, Any]) -> Any:
        return self._openai.chat.completions.create(
            model=ANSWER_MODEL,
            messages=messages,
            tools=[CRM_TOOL],
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=settings.get("max_tokens", 400),
            temperature=settings.get("temperature", 0.2),
        )

    def _lookup(self, call_id: str, name: str, arguments: str, user: User) -> dict[str, Any]:
        with otel_llm.tool(name, call_id=call_id) as tool:
            tool.set_arguments(arguments)
            if self._chance(self.faults.tool_failures):
                raise CrmUnavailable("CRM lookup timed out")
            result = {
                "account_id": user.account_id,
                "plan": "business",
                "status": "active",
                "open_invoices": 1,
            }
            tool.set_result(result)
            return result

    def _evaluate(
        self, prompt: prompts.Prompt, question: str, reply: _Reply, matches: list[Match]
    ) -> tuple[str, ...]:
        """Run the policy and quality evaluators inline, before the answer is returned."""
        sample = Sample(
            output=reply.text,
            prompt_name=prompt.name,
            retrieved_ids=[m.article.doc_id for m in matches],
            input=question,
        )
        failed = []
        for evaluator in (self._policy, *self._quality):
            result = evaluator(sample)
            otel_llm.record_evaluation(
                evaluator.name,
                score=result.score,
                label=result.label,
                passed=result.passed,
                explanation=result.explanation,
                response_id=reply.response_id,
                provider="openai",
                model=ANSWER_MODEL,
                prompt_name=prompt.name,
                prompt_version=prompt.version,
            )
            if result.passed is False:
                failed.append(evaluator.name)
        return tuple(failed)
