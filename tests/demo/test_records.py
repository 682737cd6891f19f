"""Reading spans for the report: percentiles, roots, errors and which spans are LLM calls."""

from __future__ import annotations

from opentelemetry.trace import Status, StatusCode

from otel_llm.demo.records import error_type, errored, is_llm_call, percentile, roots
from tests.demo.conftest import MS, T0, Pipeline


def test_percentile_is_nearest_rank() -> None:
    """Nearest-rank percentiles pick an observed value, and None for no data."""
    values = [400.0, 100.0, 300.0, 200.0]
    assert percentile(values, 50) == 200.0
    assert percentile(values, 95) == 400.0
    assert percentile(values, 1) == 100.0
    assert percentile([], 50) is None


def test_roots_are_spans_whose_parent_is_absent(pipe: Pipeline) -> None:
    """A root has no parent, or one that is not among the spans given."""
    root = pipe.tracer.start_span("invoke_workflow support", start_time=T0)
    child = pipe.span("retrieval kb", 0, 1, root)
    grandchild = pipe.span("chat m", 0, 1, child)
    root.end(end_time=T0 + 2 * MS)
    spans = pipe.spans()
    assert [s.name for s in roots(spans)] == ["invoke_workflow support"]
    assert [s.name for s in roots([s for s in spans if s.name != "invoke_workflow support"])] == [
        "retrieval kb"
    ]
    assert grandchild.get_span_context().trace_id == root.get_span_context().trace_id


def test_errors_and_llm_calls(pipe: Pipeline) -> None:
    """error.type or an ERROR status is a failure; chat and embeddings are LLM calls."""
    pipe.chat(0, 1, None, {"error.type": "timeout"})
    pipe.span("embeddings e", 0, 1, attributes={"gen_ai.operation.name": "embeddings"})
    failed = pipe.tracer.start_span("invoke_workflow w", start_time=T0)
    failed.set_status(Status(StatusCode.ERROR))
    failed.end(end_time=T0 + MS)
    pipe.span("execute_tool t", 0, 1)
    spans = {s.name: s for s in pipe.spans()}
    assert error_type(spans["chat gpt-4o-mini"]) == "timeout"
    assert error_type(spans["invoke_workflow w"]) == "error"
    assert not errored(spans["execute_tool t"])
    assert {name: is_llm_call(span) for name, span in spans.items()} == {
        "chat gpt-4o-mini": True,
        "embeddings e": True,
        "invoke_workflow w": False,
        "execute_tool t": False,
    }
