"""What the framework tests share: a scripted OpenAI server, instrumentors, trace readers.

The server answers through the openai SDK's own mock transport; the instrumentors record on
in-memory providers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from semconvgen.model import Registry
from tests.conftest import Captured, make_captured
from tests.instrumentation._scripted import (
    Scripted,
    answer,
    response_reply,
    tool_call_reply,
)
from tests.instrumentation._suite import SPAN_TYPES, declared, type_ok

__all__ = [
    "CONTENT_KEYS",
    "Scripted",
    "answer",
    "by_name",
    "check_declared",
    "instrumented",
    "one_trace",
    "parent_name",
    "point_counts",
    "response_reply",
    "texts",
    "tool_call_reply",
]


@contextlib.contextmanager
def instrumented(
    *others: Any,
    mode: ContentCapturingMode = ContentCapturingMode.NO_CONTENT,
    openai_sdk: bool = True,
) -> Iterator[Captured]:
    """The openai SDK (unless `openai_sdk` is False) and `others` instrumented in memory."""
    captured = make_captured(Settings(capture_message_content=mode))
    instrumentors = [OpenAIInstrumentor()] if openai_sdk else []
    instrumentors.extend(others)
    settings = captured.telemetry.settings
    for instrumentor in instrumentors:
        instrumentor.instrument(**captured.providers, settings=settings, skip_dep_check=True)
    try:
        yield captured
    finally:
        for instrumentor in instrumentors:
            instrumentor.uninstrument()
        set_telemetry(None)


def by_name(captured: Captured) -> dict[str, list[Any]]:
    """The finished spans, by name."""
    found: dict[str, list[Any]] = {}
    for span in captured.finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


def parent_name(captured: Captured, span: Any) -> str | None:
    """The name of `span`'s parent among the finished spans (None for a root)."""
    if span.parent is None:
        return None
    for other in captured.finished_spans():
        if other.context.span_id == span.parent.span_id:
            return str(other.name)
    return "<not recorded>"


def one_trace(captured: Captured) -> Any:
    """The single root span; every span shares its trace id and ended exactly once."""
    spans = captured.finished_spans()
    assert len({s.context.span_id for s in spans}) == len(spans), "a span ended twice"
    assert len({s.context.trace_id for s in spans}) == 1, [s.name for s in spans]
    ids = {s.context.span_id for s in spans}
    roots = [s for s in spans if s.parent is None or s.parent.span_id not in ids]
    assert len(roots) == 1, [s.name for s in roots]
    return roots[0]


def point_counts(captured: Captured, metric: str) -> list[tuple[dict[str, Any], int]]:
    """Each point of histogram `metric`: its attributes and how many values it holds."""
    return [(dict(p.attributes), p.count) for p in captured.metric_points(metric)]


CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.tool.description",
    "exception.message",
)


def texts(captured: Captured) -> str:
    """Everything recorded on spans and events, as one string (to look for leaked content)."""
    parts = []
    for span in captured.finished_spans():
        parts.append(json.dumps(dict(span.attributes), default=str))
        parts.append(str(span.status.description))
        parts.extend(json.dumps(dict(e.attributes), default=str) for e in span.events)
    parts.extend(json.dumps(dict(r.attributes or {}), default=str) for r in captured.events())
    return "\n".join(parts)


def check_declared(captured: Captured, registry: Registry) -> None:
    """Each GenAI span has its registry kind and only declared attributes; metrics likewise."""
    spans = {s.type: s for s in registry.spans}
    checked = 0
    for span in captured.finished_spans():
        operation = span.attributes.get("gen_ai.operation.name")
        if operation is None:
            continue  # a LangGraph node or a guardrail: a plain span with no GenAI attribute
        kind = spans[SPAN_TYPES[operation]]
        allowed = {r.attribute.key for r in kind.attributes}
        assert kind.kind == span.kind.name.lower(), span.name
        for key, value in span.attributes.items():
            attribute = declared(registry, key)
            assert attribute.key in allowed, f"{key} is not declared on {kind.type}"
            assert type_ok(attribute, value), (key, value)
        checked += 1
    assert checked
    metrics = {m.name: m for m in registry.metrics}
    data = captured.metrics.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                assert metric.name in metrics, f"{metric.name} is emitted but not declared"
                allowed = {r.attribute.key for r in metrics[metric.name].attributes}
                for point in metric.data.data_points:
                    assert set(point.attributes or {}) <= allowed, metric.name
