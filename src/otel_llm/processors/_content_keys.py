"""Which attributes and events hold message content, per library that emits GenAI telemetry.

The data behind ContentDropSpanProcessor (otel_llm.processors.content): with content capture
off, these are dropped from other instrumentations' spans and log records before any exporter
sees them. A name here is content in every value it takes (prompts, completions, system
instructions, tool definitions, tool arguments and results, retrieval queries and document
text, prompt variables, raw request and response bodies). Patterns: `{i}` is a list index
(digits), `{name}` one key segment, a trailing `*` anything (also nothing). Where a library's
key is too generic to drop from everyone's spans, the entry names the instrumentation scopes
it applies to. The README's "Telemetry that other libraries emit" lists these keys; keep both
in step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["EMITTERS", "ContentKeys", "Emitter"]


@dataclass(frozen=True)
class Emitter:
    """One library's content: attribute names (or patterns) and whole-content event names."""

    name: str
    attributes: tuple[str, ...]
    events: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    """Instrumentation scope name prefixes the entry is limited to (empty: every scope)."""
    source: str = ""
    """Where the names were read (repository and path, or package and version)."""


EMITTERS: tuple[Emitter, ...] = (
    Emitter(
        "opentelemetry-genai",
        (
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.system_instructions",
            "gen_ai.tool.definitions",
            # Recommended upstream, but it is the text a tool definition's description holds
            # (Google ADK's execute_tool spans carry it): content, as in gen_ai.tool.definitions.
            "gen_ai.tool.description",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
            "gen_ai.retrieval.query.text",
            "gen_ai.memory.query.text",
            "gen_ai.memory.records",
            "gen_ai.prompt.variable.*",
            "gen_ai.evaluation.explanation",
            "gen_ai.skill.description",
            "gen_ai.prompt",  # deprecated (core <= 1.27), still emitted by OpenLIT and Strands
            "gen_ai.completion",
        ),
        events=(
            # Pre-1.37 per-message events (Strands, OpenLLMetry's and pydantic-ai's event modes).
            "gen_ai.system.message",
            "gen_ai.user.message",
            "gen_ai.assistant.message",
            "gen_ai.tool.message",
            "gen_ai.choice",
        ),
        source="semconv/upstream/registry.json (opt-in and sensitive attributes, events)",
    ),
    Emitter(
        "openllmetry",
        (
            "gen_ai.prompt.{i}.*",
            "gen_ai.completion.{i}.*",
            "gen_ai.tool.definitions.{i}.*",
            "llm.request.functions.{i}.*",
            "traceloop.entity.input",
            "traceloop.entity.output",
            "traceloop.prompt.template",
            "traceloop.prompt.template_variables.*",
        ),
        source="traceloop/openllmetry semconv_ai SpanAttributes; traceloop-sdk decorators",
    ),
    Emitter(
        "openinference",
        (
            "input.value",
            "output.value",
            "input.images*",
            "output.images*",
            "input.documents*",
            "output.documents*",
            "llm.input_messages*",
            "llm.output_messages*",
            "llm.prompts*",
            "llm.choices*",
            "llm.function_call",
            "llm.prompt_template.template",
            "llm.prompt_template.variables",
            "llm.tools*",
            "tool.description",
            "tool.parameters",
            "tool.json_schema",
            "tool_call.function.arguments",
            "message.content",
            "message.contents*",
            "message.function_call_arguments_json",
            "retrieval.documents.{i}.document.content",
            "retrieval.documents.{i}.document.metadata",
            "reranker.query",
            "reranker.input_documents.{i}.document.content",
            "reranker.input_documents.{i}.document.metadata",
            "reranker.output_documents.{i}.document.content",
            "reranker.output_documents.{i}.document.metadata",
            "embedding.embeddings.{i}.embedding.text",
            "embedding.embeddings.{i}.embedding.vector",
        ),
        source="openinference-semantic-conventions 0.1.42 (openinference.semconv.trace)",
    ),
    Emitter(
        "openlit",
        (
            "gen_ai.content.revised_prompt",
            "gen_ai.response.tool_calls",
            "gen_ai.response.image",
            "gen_ai.tool.args",
            "gen_ai.agent.task",
            "gen_ai.agent.context",
            "gen_ai.agent.instructions",
            "gen_ai.agent.expected_output",
            "gen_ai.agent.actual_output",
            "gen_ai.agent.human_input",
            "gen_ai.agent.tool_results",
        ),
        events=("gen_ai.content.prompt", "gen_ai.content.completion", "gen_ai.tools.message"),
        source="openlit/openlit sdk/python/src/openlit/semcov/__init__.py",
    ),
    Emitter(
        "google-adk",
        (
            "gcp.vertex.agent.llm_request",
            "gcp.vertex.agent.llm_response",
            "gcp.vertex.agent.tool_call_args",
            "gcp.vertex.agent.tool_response",
            "gcp.vertex.agent.data",
        ),
        source="google/adk-python src/google/adk/telemetry/tracing.py",
    ),
    Emitter(
        "pydantic-ai",
        (
            "final_result",
            "pydantic_ai.all_messages",
            "all_messages_events",
            "prompt",
            "events",
            "tool_arguments",
            "tool_response",
            "model_request_parameters",  # its tool definitions (descriptions, JSON schemas)
            "pydantic_ai.tool.deferral.metadata",
        ),
        scopes=("pydantic-ai", "pydantic_ai"),
        source="pydantic-ai-slim 2.78 capabilities/instrumentation.py, _instrumentation.py",
    ),
    Emitter(
        "strands-agents",
        (
            # The tool's docstring and its parameters' JSON schema (descriptions included),
            # on every execute_tool span: the text the model is shown as the tool definition.
            "gen_ai.tool.description",
            "gen_ai.tool.json_schema",
            # Memory queries and entries (and legacy per-message events' fields), as span
            # attributes under OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_span_attributes_only.
            "content",
            "message",
            "tool.result",
        ),
        events=("memory.query", "memory.content"),
        scopes=("strands.",),
        source="strands-agents 1.62 strands/telemetry/tracer.py",
    ),
    Emitter(
        "logfire",
        ("request_data", "response_data"),
        scopes=("logfire",),
        source="pydantic/logfire logfire/_internal/integrations/llm_providers",
    ),
    Emitter(
        "litellm",
        # Its raw_gen_ai_request span copies the provider request as llm.<provider>.<param>.
        tuple(
            f"llm.{{name}}.{param}"
            for param in (
                "messages",
                "system",
                "system_instruction",
                "instructions",
                "prompt",
                "input",
                "contents",
                "tools",
                "choices",
                "content",
            )
        ),
        scopes=("litellm",),
        source="BerriAI/litellm litellm/integrations/opentelemetry.py set_raw_request_attributes",
    ),
)
"""Every library whose content otel-llm knows by name."""


def _regex(patterns: list[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    parts = []
    for pattern in patterns:
        body = re.escape(pattern.removesuffix("*"))
        body = body.replace(r"\{i\}", r"\d+").replace(r"\{name\}", r"[^.]+")
        parts.append(body + (".*" if pattern.endswith("*") else ""))
    return re.compile("|".join(f"(?:{part})" for part in parts))


def _literal_prefix(pattern: str) -> str:
    return re.split(r"[{*]", pattern, maxsplit=1)[0]


@dataclass(frozen=True)
class _Group:
    """The names of emitters that share a scope restriction, indexed for matching."""

    scopes: tuple[str, ...]
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    regex: re.Pattern[str] | None
    events: frozenset[str]

    @classmethod
    def of(cls, scopes: tuple[str, ...], emitters: list[Emitter]) -> _Group:
        names = [name for emitter in emitters for name in emitter.attributes]
        patterns = [name for name in names if "{" in name or name.endswith("*")]
        return cls(
            scopes,
            frozenset(name for name in names if name not in patterns),
            tuple(sorted({_literal_prefix(p) for p in patterns})),
            _regex(patterns),
            frozenset(event for emitter in emitters for event in emitter.events),
        )

    def matches(self, key: str) -> bool:
        if key in self.exact:
            return True
        regex = self.regex
        return regex is not None and key.startswith(self.prefixes) and bool(regex.fullmatch(key))


_CACHE_SIZE = 8192


class ContentKeys:
    """The emitters' content names, asked by attribute key (or event name) and scope."""

    def __init__(self, emitters: tuple[Emitter, ...] = EMITTERS) -> None:
        by_scopes: dict[tuple[str, ...], list[Emitter]] = {}
        for emitter in emitters:
            by_scopes.setdefault(emitter.scopes, []).append(emitter)
        self._everywhere = _Group.of((), by_scopes.pop((), []))
        self._scoped = tuple(_Group.of(scopes, found) for scopes, found in by_scopes.items())
        self._known: dict[str, dict[str, bool]] = {}
        """Per scope name, the keys answered so far (spans repeat the same few keys)."""

    def attribute(self, key: str, scope: str) -> bool:
        """Whether attribute `key` on telemetry of instrumentation scope `scope` is content."""
        known = self._known.get(scope)
        if known is None:
            if len(self._known) >= _CACHE_SIZE:
                self._known.clear()
            known = self._known[scope] = {}
        answer = known.get(key)
        if answer is None:
            answer = self._everywhere.matches(key) or any(
                group.matches(key) for group in self._scoped if scope.startswith(group.scopes)
            )
            if len(known) >= _CACHE_SIZE:
                known.clear()  # indexed keys are many; the common ones come back at once
            known[key] = answer
        return answer

    def any_attribute(self, keys: Iterable[str], scope: str) -> bool:
        """Whether any of `keys` is content (the hot path: one dict lookup per known key)."""
        known = self._known.get(scope, {})
        for key in keys:
            answer = known.get(key)
            if answer is None:
                answer = self.attribute(key, scope)
            if answer:
                return True
        return False

    def event(self, name: str, scope: str) -> bool:
        """Whether an event (span event or log record) of this name is content as a whole."""
        return name in self._everywhere.events or any(
            name in group.events for group in self._scoped if scope.startswith(group.scopes)
        )
