"""Convention upgrade: spans shaped like each foreign library's come out in current names."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_llm.processors._base import SpanData
from otel_llm.processors.upgrade import SemconvUpgradeSpanProcessor

SCHEMAS = Path(__file__).resolve().parents[2] / "semconv/upstream/schemas"


def _export(attributes: dict[str, Any], events: Sequence[tuple[str, dict[str, Any]]] = ()) -> Any:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SemconvUpgradeSpanProcessor(SimpleSpanProcessor(exporter)))
    with provider.get_tracer("foreign").start_as_current_span(
        "llm call", attributes=attributes
    ) as span:
        for name, event_attributes in events:
            span.add_event(name, event_attributes)
    (exported,) = exporter.get_finished_spans()
    return exported


def _valid(schema: str, value: str) -> list[Any]:
    parsed: list[Any] = json.loads(value)
    Draft202012Validator(json.loads((SCHEMAS / schema).read_text(encoding="utf-8"))).validate(
        parsed
    )
    return parsed


def test_old_otel_names_are_renamed_with_value_maps() -> None:
    """gen_ai.system (old values too), prompt/completion tokens and cache_creation are renamed."""
    span = _export(
        {
            "gen_ai.system": "az.ai.openai",
            "gen_ai.usage.prompt_tokens": 10,
            "gen_ai.usage.completion_tokens": 5,
            "gen_ai.usage.cache_creation.input_tokens": 3,
            "gen_ai.openai.request.seed": 7,
            "gen_ai.request.model": "gpt-4o",
        }
    )
    assert dict(span.attributes) == {
        "gen_ai.provider.name": "azure.ai.openai",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.cache_write.input_tokens": 3,
        "gen_ai.request.seed": 7,
        "gen_ai.request.model": "gpt-4o",
    }


def test_current_attribute_wins_over_upgraded_one() -> None:
    """When both old and current names are present, the current value is kept."""
    span = _export({"gen_ai.system": "openai", "gen_ai.provider.name": "azure.ai.openai"})
    assert dict(span.attributes) == {"gen_ai.provider.name": "azure.ai.openai"}


def test_openllmetry_indexed_messages_fold_into_json() -> None:
    """OpenLLMetry's gen_ai.prompt.N.* / gen_ai.completion.N.* become schema-valid messages."""
    span = _export(
        {
            "gen_ai.system": "openai",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "Be brief.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Where is my order?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.finish_reason": "tool_calls",
            "gen_ai.completion.0.tool_calls.0.id": "call_1",
            "gen_ai.completion.0.tool_calls.0.name": "crm_lookup",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"id": 1}',
            "llm.usage.total_tokens": 51,
            "traceloop.prompt.template_variables.tier": "gold",
        }
    )
    attributes = dict(span.attributes)
    inputs = _valid("gen-ai-input-messages.json", attributes["gen_ai.input.messages"])
    assert [m["role"] for m in inputs] == ["system", "user"]
    assert inputs[1]["parts"] == [{"type": "text", "content": "Where is my order?"}]
    outputs = _valid("gen-ai-output-messages.json", attributes["gen_ai.output.messages"])
    assert outputs[0]["finish_reason"] == "tool_call"
    assert outputs[0]["parts"] == [
        {"type": "tool_call", "name": "crm_lookup", "id": "call_1", "arguments": {"id": 1}}
    ]
    assert attributes["gen_ai.prompt.variable.tier"] == "gold"
    assert not [
        k for k in attributes if k.startswith(("gen_ai.prompt.0", "gen_ai.completion.0", "llm."))
    ]


def test_openinference_shapes() -> None:
    """OpenInference model, token counts, messages, tools and documents map to current names."""
    span = _export(
        {
            "llm.model_name": "gpt-4o-mini",
            "llm.token_count.prompt": 12,
            "llm.token_count.completion": 4,
            "llm.token_count.total": 16,
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "hi",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.content": "hello",
            "llm.tools.0.tool.json_schema": json.dumps(
                {"type": "function", "function": {"name": "lookup", "description": "CRM"}}
            ),
            "retrieval.documents.0.document.id": "doc-1",
            "retrieval.documents.0.document.score": 0.9,
            "retrieval.documents.0.document.content": "secret text",
            "session.id": "s-1",
        }
    )
    attributes = dict(span.attributes)
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.usage.input_tokens"] == 12
    assert attributes["gen_ai.usage.output_tokens"] == 4
    assert "llm.token_count.total" not in attributes
    _valid("gen-ai-input-messages.json", attributes["gen_ai.input.messages"])
    outputs = _valid("gen-ai-output-messages.json", attributes["gen_ai.output.messages"])
    assert outputs[0]["parts"] == [{"type": "text", "content": "hello"}]
    tools = _valid("gen-ai-tool-definitions.json", attributes["gen_ai.tool.definitions"])
    assert tools == [{"type": "function", "name": "lookup", "description": "CRM"}]
    documents = _valid("gen-ai-retrieval-documents.json", attributes["gen_ai.retrieval.documents"])
    assert documents == [{"id": "doc-1", "score": 0.9}]  # document text is not carried over
    assert attributes["session.id"] == "s-1"  # a core attribute: left alone


def test_openlit_content_events_fold_into_attributes() -> None:
    """OpenLIT's gen_ai.content.prompt/completion span events become message attributes."""
    span = _export(
        {"gen_ai.system": "openai", "gen_ai.usage.cost": 0.002},
        [
            ("gen_ai.content.prompt", {"gen_ai.prompt": "hi"}),
            ("gen_ai.content.completion", {"gen_ai.completion": "hello"}),
        ],
    )
    attributes = dict(span.attributes)
    # OpenLIT's own cost estimate is dropped: the cost processor prices the call as ours.
    assert "gen_ai.usage.cost" not in attributes
    assert "otel_llm.cost.total" not in attributes
    assert [e.name for e in span.events] == []
    inputs = _valid("gen-ai-input-messages.json", attributes["gen_ai.input.messages"])
    assert inputs[0]["parts"][0]["content"] == "hi"
    _valid("gen-ai-output-messages.json", attributes["gen_ai.output.messages"])


def test_current_spans_pass_through_untouched() -> None:
    """A span that already uses current names is not rebuilt: transform reports no change."""
    processor = SemconvUpgradeSpanProcessor(SimpleSpanProcessor(InMemorySpanExporter()))
    span = ReadableSpan("chat m", attributes={"gen_ai.request.model": "m", "server.port": 443})
    data = SpanData(dict(span.attributes or {}), [], span.status)
    assert processor.transform(span, data) is None


@pytest.mark.parametrize("key", ["gen_ai.prompt.name", "gen_ai.prompt.version"])
def test_current_prompt_keys_are_not_mistaken_for_indexed_ones(key: str) -> None:
    """gen_ai.prompt.name / .version are current and must not be folded as gen_ai.prompt.{i}.*."""
    span = _export({key: "v", "gen_ai.system": "openai"})
    assert span.attributes[key] == "v"


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"gen_ai.operation.name": "generate_content"}, "google.genai.errors.ServerError"),
        ({"gen_ai.operation.name": "chat", "error.type": "429"}, "429"),
        ({"http.request.method": "POST"}, None),
    ],
    ids=["genai-without-error-type", "error-type-kept", "not-genai"],
)
def test_a_failed_genai_span_gets_its_exceptions_type_as_error_type(
    attributes: dict[str, Any], expected: str | None
) -> None:
    """Google ADK's failed spans carry the exception event only: error.type is its type."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SemconvUpgradeSpanProcessor(SimpleSpanProcessor(exporter)))
    error = type("ServerError", (Exception,), {"__module__": "google.genai.errors"})
    with (
        pytest.raises(error),
        provider.get_tracer("gcp.vertex.agent").start_as_current_span(
            "call", attributes=attributes
        ),
    ):
        raise error("500 INTERNAL")
    (span,) = exporter.get_finished_spans()
    assert (span.attributes or {}).get("error.type") == expected


def test_per_message_events_fold_in_order_with_their_roles() -> None:
    """Pre-1.37 message events (Strands' content blocks too) become the messages, in order."""
    blocks = json.dumps
    span = _export(
        {"gen_ai.system": "strands-agents", "gen_ai.operation.name": "chat"},
        [
            ("gen_ai.system.message", {"content": blocks([{"text": "Be brief."}])}),
            ("gen_ai.user.message", {"content": blocks([{"text": "Where is my order?"}])}),
            (
                "gen_ai.assistant.message",
                {"content": blocks([{"toolUse": {"toolUseId": "t1", "name": "f", "input": {}}}])},
            ),
            (
                "gen_ai.tool.message",
                {"content": blocks([{"toolResult": {"toolUseId": "t1", "content": []}}])},
            ),
            (
                "gen_ai.choice",
                {"message": blocks([{"text": "Today."}]), "finish_reason": "end_turn"},
            ),
        ],
    )
    attributes = dict(span.attributes)
    assert [e.name for e in span.events] == []
    assert json.loads(attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "Be brief."}
    ]
    inputs = _valid("gen-ai-input-messages.json", attributes["gen_ai.input.messages"])
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[0]["parts"] == [{"type": "text", "content": "Where is my order?"}]
    assert inputs[1]["parts"][0]["type"] == "tool_call"
    assert inputs[2]["parts"][0] == {"type": "tool_call_response", "id": "t1", "response": []}
    outputs = _valid("gen-ai-output-messages.json", attributes["gen_ai.output.messages"])
    assert outputs == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Today."}],
            "finish_reason": "stop",
        }
    ]
