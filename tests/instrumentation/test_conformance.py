"""Conformance: every span, metric and event emitted is declared in semconv/, with the right types.

One realistic workload runs through the real SDK clients (content capture on), then every
recorded attribute is checked against the registry and every content value against the
upstream JSON schemas.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import otel_llm
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from semconvgen.model import Registry
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes
from tests.instrumentation._suite import SCHEMAS, SPAN_TYPES, declared, type_ok
from tests.instrumentation.openai.test_convert import RESPONSE

MESSAGES: Any = [
    {"role": "system", "content": "You are a support agent."},
    {"role": "user", "content": "Where is order 1042?"},
]


def _workload() -> None:
    tools: Any = [
        {"type": "function", "function": {"name": "crm_account_lookup", "description": "CRM"}}
    ]
    tool_call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "crm_account_lookup", "arguments": '{"account_id": "A-1"}'},
    }
    with (
        otel_llm.prompt("support_answer", version="v42", variables={"tier": "gold"}),
        otel_llm.workflow("support_request"),
        otel_llm.agent("support_bot", agent_id="asst_1"),
    ):
        with otel_llm.retrieval("kb-articles", top_k=3) as found:
            found.record_documents([("doc-1", 0.91), ("doc-2", 0.72)])
        body = fakes.chat_completion(
            content=None, finish_reason="tool_calls", tool_calls=[tool_call]
        )
        fakes.openai_client(fakes.respond_json(body)).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, tools=tools, seed=7, n=2, stop=["END"]
        )
        with otel_llm.tool("crm_account_lookup", call_id="call_1") as tool:
            tool.set_arguments({"account_id": "A-1"})
            tool.set_result({"plan": "gold"})
        stream = fakes.openai_client(fakes.respond_sse(fakes.sse(fakes.chat_chunks())))
        list(stream.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
        fakes.openai_client(fakes.respond_json(RESPONSE)).responses.create(
            model="gpt-4o", input="Where is order 1042?", instructions="Be brief."
        )
        embeddings = {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 4, "total_tokens": 4},
        }
        fakes.openai_client(fakes.respond_json(embeddings)).embeddings.create(
            model="text-embedding-3-small", input="order 1042"
        )
        claude = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
        claude.messages.create(
            model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES[1:], system="Be brief."
        )
        events = fakes.anthropic_client(
            fakes.anthropic_respond(fakes.anthropic_sse(fakes.anthropic_events()))
        )
        with events.messages.stream(
            model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES[1:]
        ) as s:
            s.get_final_message()


@pytest.fixture(scope="module")
def recorded() -> Iterator[Captured]:
    """The workload's telemetry, with content captured on spans and events."""
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_AND_EVENT))
    kwargs = {**captured.providers, "settings": captured.telemetry.settings, "skip_dep_check": True}
    OpenAIInstrumentor().instrument(**kwargs)
    AnthropicInstrumentor().instrument(**kwargs)
    try:
        _workload()
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()
        AnthropicInstrumentor().uninstrument()
        otel_llm.uninstrument()


def test_workload_covers_every_span_type(recorded: Captured) -> None:
    """The workload exercises every span type we declare, so the checks below cover them all."""
    operations = {s.attributes["gen_ai.operation.name"] for s in recorded.finished_spans()}
    assert {SPAN_TYPES[o] for o in operations} == set(SPAN_TYPES.values())


def test_span_attributes_are_declared_and_typed(recorded: Captured, registry: Registry) -> None:
    """Every span attribute is declared on its span type in semconv/ and has the declared type."""
    spans = {s.type: s for s in registry.spans}
    for span in recorded.finished_spans():
        kind = spans[SPAN_TYPES[span.attributes["gen_ai.operation.name"]]]
        allowed = {r.attribute.key for r in kind.attributes}
        assert kind.kind == span.kind.name.lower(), span.name
        for key, value in span.attributes.items():
            attribute = declared(registry, key)
            assert attribute.key in allowed, f"{key} is not declared on {kind.type}"
            assert type_ok(attribute, value), (key, value)


def test_metric_points_use_declared_names_and_dimensions(
    recorded: Captured, registry: Registry
) -> None:
    """Every metric is declared, and every point carries only its declared dimensions."""
    data = recorded.metrics.get_metrics_data()
    assert data is not None
    metrics = {m.name: m for m in registry.metrics}
    seen = set()
    for scope in data.resource_metrics[0].scope_metrics:
        for metric in scope.metrics:
            assert metric.name in metrics, f"{metric.name} is emitted but not declared"
            seen.add(metric.name)
            allowed = {r.attribute.key for r in metrics[metric.name].attributes}
            for point in metric.data.data_points:
                dimensions = dict(point.attributes or {})
                assert set(dimensions) <= allowed, (metric.name, set(dimensions) - allowed)
                for key, value in dimensions.items():
                    assert type_ok(registry.attributes[key], value), (metric.name, key, value)
    assert "gen_ai.client.inference.duration" in seen
    assert "gen_ai.invoke_agent.duration" in seen


def test_events_aredeclared(recorded: Captured, registry: Registry) -> None:
    """The details events carry only declared attributes, with structured (not string) content."""
    events = {e.name: e for e in registry.events}
    emitted = recorded.events()
    assert emitted
    for record in emitted:
        allowed = {r.attribute.key for r in events[record.event_name].attributes}
        for key, value in record.attributes.items():
            attribute = declared(registry, key)
            assert attribute.key in allowed, (record.event_name, key)
            if attribute.type == "any":
                assert isinstance(value, list | tuple), (key, type(value))


def test_content_validates_against_upstream_schemas(recorded: Captured, repo_root: Path) -> None:
    """Every captured content value, on spans and events, validates against the upstream schema."""
    validators = {
        key: Draft202012Validator(
            json.loads((repo_root / "semconv/upstream/schemas" / name).read_text(encoding="utf-8"))
        )
        for key, name in SCHEMAS.items()
    }
    checked = 0
    for span in recorded.finished_spans():
        for key, validator in validators.items():
            if key in span.attributes:
                validator.validate(json.loads(span.attributes[key]))
                checked += 1
    for record in recorded.events():
        for key, validator in validators.items():
            if key in record.attributes:
                validator.validate(json.loads(json.dumps(record.attributes[key])))
                checked += 1
    assert checked >= 15
