"""generate_content_stream chunks accumulated into the facts of the whole response."""

from __future__ import annotations

from typing import Any

from otel_llm.instrumentation.google_genai._convert import (
    CONTENT_FILTER,
    field,
    finish_reason,
    prompt_blocked,
    sequence,
    to_part,
)
from otel_llm.instrumentation.google_genai._models import USAGE_FIELDS, usage
from otel_llm.instrumentation.parts import Message, Part
from otel_llm.instrumentation.types import ResponseInfo, token_count

__all__ = ["GenerateContentStreamState"]

_JOINED = ("text", "reasoning")


class _Candidate:
    """What the stream said about one candidate so far."""

    __slots__ = ("called", "parts", "reason")

    def __init__(self) -> None:
        self.reason: Any = None
        self.called = False
        self.parts: list[Part] = []

    def add(self, part: Part) -> None:
        # Text arrives in pieces, one part per chunk: consecutive pieces of one kind join.
        kind = part["type"]
        if kind in _JOINED:
            last = self.parts[-1] if self.parts else None
            if last is not None and last["type"] == kind:
                last["content"].append(part["content"])
            else:
                self.parts.append({"type": kind, "content": [part["content"]]})
        else:
            self.parts.append(part)

    def message(self) -> Message:
        parts = [
            {**p, "content": "".join(p["content"])} if p["type"] in _JOINED else p
            for p in self.parts
        ]
        return {
            "role": "assistant",
            "parts": parts,
            "finish_reason": finish_reason(self.reason, self.called),
        }


class GenerateContentStreamState:
    """Accumulates generate_content_stream chunks: ids, usage, finish reasons, content if captured.

    Each chunk is a whole GenerateContentResponse. Its usage counts are running totals (the SDK
    sums them across automatic-continuation hops), and Vertex leaves them out of all but the
    last chunk, so every count keeps its latest reported value.
    """

    __slots__ = ("_blocked", "_candidates", "_capture", "_model", "_response_id", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._response_id: str | None = None
        self._model: str | None = None
        self._usage: dict[str, int] = {}
        self._candidates: dict[int, _Candidate] = {}
        self._blocked = False

    def on_chunk(self, chunk: Any) -> None:
        """Note one streamed GenerateContentResponse."""
        # Every chunk repeats the id and model: the first ones seen are kept.
        if self._response_id is None:
            response_id = field(chunk, "response_id")
            if isinstance(response_id, str) and response_id:
                self._response_id = response_id
        if self._model is None:
            model = field(chunk, "model_version")
            if isinstance(model, str) and model:
                self._model = model
        metadata = field(chunk, "usage_metadata")
        if metadata is not None:
            counts = self._usage
            for name in USAGE_FIELDS:
                value = token_count(field(metadata, name))
                if value is not None:
                    counts[name] = value
        candidates = sequence(field(chunk, "candidates"))
        if not candidates and not self._blocked:
            self._blocked = prompt_blocked(chunk)  # a blocked prompt gets no candidates
        for position, candidate in enumerate(candidates):
            self._candidate(position, candidate)

    def _candidate(self, position: int, candidate: Any) -> None:
        index = field(candidate, "index")
        key = index if type(index) is int else position
        state = self._candidates.get(key)
        if state is None:
            state = self._candidates[key] = _Candidate()
        reason = field(candidate, "finish_reason")
        if reason is not None:
            state.reason = reason
        for part in sequence(field(field(candidate, "content"), "parts")):
            if field(part, "function_call") is not None:
                state.called = True
            if self._capture and (converted := to_part(part)) is not None:
                state.add(converted)

    def result(self) -> ResponseInfo:
        """What the chunks so far amount to."""
        candidates = [c for _, c in sorted(self._candidates.items())]
        reasons = tuple(finish_reason(c.reason, c.called) for c in candidates)
        if not candidates and self._blocked:
            reasons = (CONTENT_FILTER,)
        return ResponseInfo(
            response_id=self._response_id,
            model=self._model,
            finish_reasons=reasons,
            usage=usage(self._usage) if self._usage else None,
            output=[c.message() for c in candidates] if self._capture else None,
        )
