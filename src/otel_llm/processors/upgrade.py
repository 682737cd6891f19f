"""Rewrite spans made with older or foreign GenAI conventions to the current names (opt-in)."""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.trace import StatusCode

from otel_llm._instruments import SCOPE_NAME
from otel_llm.processors._base import SpanData, WrappingSpanProcessor
from otel_llm.processors._provider import implied_provider, needs_provider
from otel_llm.processors._span_metrics import exception_type
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import mcp as ma
from otel_llm.semconv.attributes.error import ERROR_TYPE
from otel_llm.semconv.upgrades import (
    ATTRIBUTE_PATTERN_UPGRADES,
    ATTRIBUTE_UPGRADES,
    EVENT_UPGRADES,
    Upgrade,
)

_OUTPUT = ga.GEN_AI_OUTPUT_MESSAGES
_FINISH = {"tool_calls": "tool_call", "function_call": "tool_call"}
"""Older conventions recorded OpenAI's finish reasons as sent; upstream's names for these."""
_INPUT = ga.GEN_AI_INPUT_MESSAGES
_TOOLS = ga.GEN_AI_TOOL_DEFINITIONS
_DOCUMENTS = ga.GEN_AI_RETRIEVAL_DOCUMENTS
_SYSTEM = ga.GEN_AI_SYSTEM_INSTRUCTIONS
_MCP_SEND = "MCP send "
"""The MCP Python SDK names its client spans `MCP send {method} [{target}]`; the MCP
conventions name them `{mcp.method.name} [{target}]`, as the server's span is named."""


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    upgrade: Upgrade
    field: str  # with `{j}` left in place; the captured j fills it


def _compile(upgrade: Upgrade) -> _Pattern:
    # `{i}` and `{j}` are decimal list indexes; `{name}` is one free-form key segment.
    pattern = re.escape(upgrade.old)
    pattern = pattern.replace(r"\{i\}", r"(?P<i>\d+)").replace(r"\{j\}", r"(?P<j>\d+)")
    pattern = pattern.replace(r"\{name\}", r"(?P<name>[^.]+)")
    return _Pattern(re.compile(pattern + r"\Z"), upgrade, upgrade.field)


class _Table:
    """The upgrade table, indexed once for the hot path."""

    def __init__(
        self,
        attributes: Iterable[Upgrade] = ATTRIBUTE_UPGRADES,
        patterns: Iterable[Upgrade] = ATTRIBUTE_PATTERN_UPGRADES,
        events: Iterable[Upgrade] = EVENT_UPGRADES,
    ) -> None:
        self.exact = {u.old: u for u in attributes}
        self.patterns = [_compile(u) for u in patterns]
        # First key segment(s) of every pattern, to skip the regexes for ordinary keys.
        self.prefixes = tuple(sorted({u.old.split("{", 1)[0] for u in patterns}))
        self.events = {u.old: u for u in events}

    def match(self, key: str) -> tuple[_Pattern, re.Match[str]] | None:
        if not key.startswith(self.prefixes):
            return None
        for pattern in self.patterns:
            found = pattern.regex.match(key)
            if found:
                return pattern, found
        return None


class SemconvUpgradeSpanProcessor(WrappingSpanProcessor):
    """Renames, value-maps, drops and folds attributes per semconv/upgrades.yaml.

    A current attribute already on the span always wins over an upgraded one; a failed GenAI
    span without error.type gets its exception's type. On by default
    (OTEL_LLM_SEMCONV_UPGRADE); otel-llm's own spans pass without a look. Metric upgrades
    (e.g. gen_ai.client.token.usage) are not done here: spans only.
    """

    def __init__(self, next_processor: SpanProcessor, table: _Table | None = None) -> None:
        super().__init__(next_processor)
        self._table = table or _Table()

    def unchanged(self, span: ReadableSpan) -> bool:
        """otel-llm's own spans are made in the current names."""
        scope = span.instrumentation_scope
        return scope is not None and scope.name == SCOPE_NAME

    def transform(self, span: ReadableSpan, data: SpanData) -> SpanData | None:
        """Upgrade the span's attributes and event names; None when nothing needs upgrading."""
        table = self._table
        attributes = data.attributes
        needs = any(k in table.exact or k.startswith(table.prefixes) for k in attributes)
        needs_events = any(e.name in table.events for e in data.events)
        # A failed GenAI call must say how (error.type); some frameworks (Strands) set only
        # the status and the exception event.
        failed = (
            data.status.status_code is StatusCode.ERROR
            and ERROR_TYPE not in attributes
            and ga.GEN_AI_OPERATION_NAME in attributes
        )
        provider = implied_provider(attributes) if needs_provider(attributes) else None
        renamed = _span_name(span.name, attributes)
        if renamed is not None:
            data.name = renamed
        if not (needs or needs_events or failed or provider is not None):
            return data if renamed is not None else None
        data.attributes = _upgrade_attributes(table, attributes) if needs else dict(attributes)
        _provide(data.attributes)
        if failed:
            data.attributes.setdefault(ERROR_TYPE, exception_type(data.events) or "_OTHER")
        if needs_events:
            data.events, folded = _upgrade_events(table, data.events)
            for key, value in folded.items():
                data.attributes.setdefault(key, value)
        return data


def _span_name(name: str, attributes: Mapping[str, Any]) -> str | None:
    """The conventions' name for a span named otherwise (the MCP SDK's client spans)."""
    if name.startswith(_MCP_SEND) and isinstance(attributes.get(ma.MCP_METHOD_NAME), str):
        return name.removeprefix(_MCP_SEND)
    return None


@functools.cache
def _default_table() -> _Table:
    return _Table()


def upgraded_attributes(attributes: Mapping[str, Any]) -> Mapping[str, Any]:
    """`attributes` in current names (the same mapping when none needs upgrading)."""
    table = _default_table()
    if not any(k in table.exact or k.startswith(table.prefixes) for k in attributes):
        if not needs_provider(attributes) or implied_provider(attributes) is None:
            return attributes
        attributes = dict(attributes)
    else:
        attributes = _upgrade_attributes(table, attributes)
    _provide(attributes)
    return attributes


def _provide(attributes: dict[str, Any]) -> None:
    """The provider the model names, where the span's provider name names none (in place)."""
    if needs_provider(attributes):
        provider = implied_provider(attributes)
        if provider is not None:
            attributes[ga.GEN_AI_PROVIDER_NAME] = provider


def _upgrade_attributes(table: _Table, attributes: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    upgraded: dict[str, Any] = {}
    folded: dict[str, dict[int, dict[str, Any]]] = {}
    for key, value in attributes.items():
        upgrade = table.exact.get(key)
        if upgrade is not None:
            if upgrade.action == "classify":
                result[key] = value  # kept: only some of its values have a current name
                if upgrade.new is not None and value in dict(upgrade.values):
                    upgraded.setdefault(upgrade.new, dict(upgrade.values)[value])
                continue
            _apply(upgrade, value, upgraded)
            continue
        matched = table.match(key)
        if matched is None:
            result[key] = value
            continue
        pattern, found = matched
        target = pattern.upgrade.new
        if target is None:
            continue
        if pattern.upgrade.action == "rename":  # e.g. template variables
            upgraded[f"{target}.{found.group('name')}"] = value
            continue
        groups = found.groupdict()
        entry = folded.setdefault(target, {}).setdefault(int(groups["i"]), {})
        field = pattern.field
        if "j" in groups and groups["j"] is not None:
            head, _, tail = field.partition(".{j}.")
            entry.setdefault(head, {}).setdefault(int(groups["j"]), {})[tail] = value
        else:
            entry[field] = value
    for target, items in folded.items():
        upgraded.setdefault(target, json.dumps(_assemble(target, items), ensure_ascii=False))
    for key, value in upgraded.items():
        result.setdefault(key, value)  # a current attribute already present wins
    return result


def _apply(upgrade: Upgrade, value: Any, upgraded: dict[str, Any]) -> None:
    if upgrade.new is None or upgrade.action == "drop":
        return
    if upgrade.action == "messages":  # a whole prompt or completion in one string
        upgraded.setdefault(upgrade.new, json.dumps(_blob(upgrade.new, value), ensure_ascii=False))
        return
    mapping = dict(upgrade.values)
    if isinstance(value, str):
        value = mapping.get(value, value)
    upgraded.setdefault(upgrade.new, value)


def _blob(target: str, value: Any) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        parsed = value
    if isinstance(parsed, list) and all(isinstance(m, dict) for m in parsed):
        items = {
            i: {"role": m.get("role"), "content": m.get("content")} for i, m in enumerate(parsed)
        }
        return _assemble(target, items)
    return _assemble(target, {0: {"content": str(value)}})


def _assemble(target: str, items: Mapping[int, Mapping[str, Any]]) -> list[dict[str, Any]]:
    ordered = [items[i] for i in sorted(items)]
    if target == _TOOLS:
        return [_tool(fields) for fields in ordered]
    if target == _DOCUMENTS:
        return [_document(fields) for fields in ordered]
    return [_message(fields, output=target == _OUTPUT) for fields in ordered]


def _arguments(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _message(fields: Mapping[str, Any], *, output: bool) -> dict[str, Any]:
    role = fields.get("role") or ("assistant" if output else "user")
    parts: list[dict[str, Any]] = []
    content = fields.get("content")
    if fields.get("tool_call_id") is not None:
        parts.append(
            {"type": "tool_call_response", "id": fields["tool_call_id"], "response": content}
        )
    elif content not in (None, ""):
        parts.append({"type": "text", "content": str(content)})
    for _, part in sorted((fields.get("parts") or {}).items()):
        if part.get("uri"):
            parts.append({"type": "uri", "modality": "image", "uri": str(part["uri"])})
        elif part.get("content") is not None:
            parts.append({"type": "text", "content": str(part["content"])})
    for _, call in sorted((fields.get("tool_calls") or {}).items()):
        tool_call: dict[str, Any] = {"type": "tool_call", "name": str(call.get("name", ""))}
        if call.get("id") is not None:
            tool_call["id"] = str(call["id"])
        if call.get("arguments") is not None:
            tool_call["arguments"] = _arguments(call["arguments"])
        parts.append(tool_call)
    message: dict[str, Any] = {"role": str(role), "parts": parts}
    if fields.get("name"):
        message["name"] = str(fields["name"])
    if output:
        reason = fields.get("finish_reason")
        # Older conventions often omitted the reason; a recorded answer most likely stopped.
        message["finish_reason"] = _FINISH.get(str(reason), str(reason)) if reason else "stop"
    return message


def _tool(fields: Mapping[str, Any]) -> dict[str, Any]:
    definition = _arguments(fields.get("definition"))
    if isinstance(definition, dict):
        function = definition.get("function", definition)
        fields = {
            **fields,
            "name": function.get("name"),
            "description": function.get("description"),
        }
    tool = {"type": "function", "name": str(fields.get("name") or "")}
    if fields.get("description"):
        tool["description"] = str(fields["description"])
    return tool


def _document(fields: Mapping[str, Any]) -> dict[str, Any]:
    # Ids and scores only: document text is content and is not carried over.
    document: dict[str, Any] = {}
    if fields.get("id") is not None:
        document["id"] = str(fields["id"])
    with contextlib.suppress(KeyError, TypeError, ValueError):
        document["score"] = float(fields["score"])
    return document


def _upgrade_events(table: _Table, events: list[Event]) -> tuple[list[Event], dict[str, Any]]:
    kept: list[Event] = []
    messages: dict[str, list[Any]] = {}
    for event in events:
        upgrade = table.events.get(event.name)
        if upgrade is None:
            kept.append(event)
        elif upgrade.action == "messages" and upgrade.new is not None:
            # Content events (OpenLIT's gen_ai.content.*, the old per-message events): their
            # text joins the span's message attribute, in order; without text the event is kept.
            found = _event_messages(event)
            if found is None:
                kept.append(event)
                continue
            messages.setdefault(found[0], []).extend(found[1])
        elif upgrade.new is not None:
            kept.append(Event(upgrade.new, event.attributes, event.timestamp))
    return kept, {k: json.dumps(v, ensure_ascii=False) for k, v in messages.items()}


_EVENT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
    "gen_ai.tools.message": "tool",
    "gen_ai.choice": "assistant",
}
_EVENT_TEXT = ("gen_ai.prompt", "gen_ai.completion", "content", "message")


def _event_messages(event: Event) -> tuple[str, list[Any]] | None:
    """The attribute a content event's text goes to, and what it adds there (None: no text)."""
    attributes = event.attributes or {}
    text = next((attributes[k] for k in _EVENT_TEXT if k in attributes), None)
    if text is None:
        return None
    role = _EVENT_ROLES.get(event.name)
    if role == "system":
        parts = _blocks(text)
        return _SYSTEM, parts if parts is not None else [{"type": "text", "content": str(text)}]
    output = "completion" in event.name or event.name == "gen_ai.choice"
    target = _OUTPUT if output else _INPUT
    parts = _blocks(text)
    if parts is None:
        found = _blob(target, text)
        if role is not None and len(found) == 1:
            found[0]["role"] = role
        return target, found
    message: dict[str, Any] = {"role": role or ("assistant" if output else "user"), "parts": parts}
    call_id = attributes.get("id")
    if role == "tool" and call_id is not None and not any("id" in p for p in parts):
        message["parts"] = [{"type": "tool_call_response", "id": str(call_id), "response": text}]
    if output:
        reason = attributes.get("finish_reason")
        message["finish_reason"] = _FINISH_REASONS.get(str(reason), str(reason or "stop"))
    return target, [message]


_FINISH_REASONS = {"end_turn": "stop", "tool_use": "tool_call", "max_tokens": "length"}
"""Bedrock's and Anthropic's stop reasons (Strands records them as sent) in upstream's names."""


def _blocks(value: Any) -> list[dict[str, Any]] | None:
    """Parts from a list of Bedrock Converse / Anthropic content blocks; None when it is not one.

    Strands records each message's content as such a list (`[{"text": ...}, {"toolUse": ...}]`).
    """
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    if not isinstance(parsed, list) or not parsed:
        return None
    if not all(isinstance(b, dict) and "role" not in b and len(b) == 1 for b in parsed):
        return None
    parts: list[dict[str, Any]] = []
    for block in parsed:
        ((kind, body),) = block.items()
        if kind == "text":
            parts.append({"type": "text", "content": str(body)})
        elif kind == "toolUse" and isinstance(body, dict):
            parts.append(
                {
                    "type": "tool_call",
                    "id": str(body.get("toolUseId", "")),
                    "name": str(body.get("name", "")),
                    "arguments": body.get("input"),
                }
            )
        elif kind == "toolResult" and isinstance(body, dict):
            response = body.get("content")
            call_id = str(body.get("toolUseId", ""))
            parts.append({"type": "tool_call_response", "id": call_id, "response": response})
        else:
            return None  # another shape: read as before
    return parts
