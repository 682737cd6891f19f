"""Online evaluation attached to LLM calls: judged responses are queued as their calls end."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from otel_llm._prompt import current_prompt
from otel_llm.instrumentation.hooks import CallHook, CallRecord
from otel_llm.instrumentation.types import ResponseInfo
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as ol

if TYPE_CHECKING:
    from otel_llm.evaluations._worker import OnlineEvaluations

__all__ = ["OnlineEvaluationHook"]

_WORKER = "otel_llm.evaluations._worker"
"""Where online evaluations are installed: until it is imported, none can be (so the hook
neither imports it nor the evaluators, and an application that evaluates nothing never loads
them)."""

_MAX_EVALUATED_CHARS = 1_000_000
_SUCCESS = ol.OtelLlmRequestOutcomeValues.SUCCESS.value


def output_text(messages: object) -> str:
    """The text parts of structured messages, joined: what evaluators read."""
    texts = []
    for message in messages if isinstance(messages, list | tuple) else ():
        parts = message.get("parts") if isinstance(message, dict) else None
        for part in parts if isinstance(parts, list | tuple) else ():
            if isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("content", "")))
    return "\n".join(texts)


def _no_documents() -> Sequence[str]:
    return ()


def _online() -> OnlineEvaluations | None:
    """The installed OnlineEvaluations, if any (None while the worker module is not loaded)."""
    worker = sys.modules.get(_WORKER)
    if worker is None:
        return None
    online: OnlineEvaluations | None = worker.get_online()
    return online


class OnlineEvaluationHook(CallHook):
    """Queues each successful response of a prompt with evaluators (see `install`).

    The question and the answer are read for the evaluators even when content is not
    captured; they are recorded only as capture says. A judge's own LLM calls are not judged.
    """

    __slots__ = ("_retrieved_ids",)

    def __init__(self, retrieved_ids: Callable[[], Sequence[str]] = _no_documents) -> None:
        self._retrieved_ids = retrieved_ids
        """The documents the call's answer may cite (the last retrieval() in its context)."""

    def start(self, call: CallRecord) -> bool:
        """Whether this call's response will be evaluated (then its content is read)."""
        online = _online()
        if online is None or sys.modules[_WORKER].in_evaluation():
            return False
        prompt = current_prompt()
        if not online.has_evaluators(prompt.name if prompt is not None else None):
            return False
        call.needs_content = True
        return True

    def after(self, call: CallRecord, info: ResponseInfo, outcome: str) -> None:
        """Queue the answer (never waits: a full queue drops it and counts the drop)."""
        online = _online()
        if online is None or outcome != _SUCCESS:
            return
        from otel_llm.evaluations._evaluators import Sample  # noqa: PLC0415 - loaded by then

        attributes = call.attributes
        prompt_name = attributes.get(ga.GEN_AI_PROMPT_NAME)
        prompt_version = attributes.get(ga.GEN_AI_PROMPT_VERSION)
        content = call.content
        question = output_text(content.input_messages) if content is not None else ""
        sample = Sample(
            # Bounded, so a queue of pending evaluations cannot hold huge replies in memory.
            output=output_text(info.output)[:_MAX_EVALUATED_CHARS],
            input=question[-_MAX_EVALUATED_CHARS:] or None,
            prompt_name=str(prompt_name) if prompt_name is not None else None,
            retrieved_ids=self._retrieved_ids(),
        )
        # The request model, like every other request metric, so evaluation metrics join them.
        model = attributes.get(ga.GEN_AI_REQUEST_MODEL) or info.model
        online.submit(
            sample,
            span_context=call.span.get_span_context(),
            response_id=info.response_id,
            provider=str(attributes.get(ga.GEN_AI_PROVIDER_NAME, "")) or None,
            model=str(model) if model else None,
            prompt_version=str(prompt_version) if prompt_version is not None else None,
        )
