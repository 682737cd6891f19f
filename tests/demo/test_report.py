"""The demo's terminal report, over spans and log records from a real in-memory SDK pipeline."""

from __future__ import annotations

from otel_llm.demo.report import failed_requests, outliers, render, slowest_trace, waterfall
from tests.demo.conftest import MS, T0, Pipeline, two_versions
from tests.demo.conftest import trace_id as _trace_id


def test_waterfall_orders_indents_and_marks_errors(pipe: Pipeline) -> None:
    """The waterfall lists spans depth-first in start order, indented, with durations and `!`."""
    root = pipe.tracer.start_span("invoke_workflow support_request", start_time=T0)
    chat = pipe.chat(100, 700, root, {"error.type": "timeout"})
    pipe.span("execute_tool crm_account_lookup", 200, 300, chat)
    pipe.span("retrieval kb", 0, 100, root)
    root.end(end_time=T0 + 1000 * MS)
    pipe.span("other trace", 0, 5)

    lines = waterfall(pipe.spans(), _trace_id(root)).splitlines()

    assert lines[0] == f"trace {_trace_id(root):032x}  total 1000.0 ms"
    body = lines[1:]
    assert [line.split("  +")[0].rstrip() for line in body] == [
        "invoke_workflow support_request",
        "  retrieval kb",
        "  ! chat gpt-4o-mini",
        "    execute_tool crm_account_lookup",
    ]
    assert "+     0.0 ms    1000.0 ms" in body[0]
    assert "+   100.0 ms     600.0 ms" in body[2]
    assert "+   200.0 ms     100.0 ms" in body[3]
    bars = [line.split("|")[1] for line in body]
    assert bars[0] == "█" * 40
    assert bars[2] == "░" * 4 + "█" * 24 + "░" * 12
    assert all(len(bar) == 40 for bar in bars)
    assert "!" not in "".join(body[:2]) + body[3]


def test_waterfall_ascii_fallback_and_unknown_trace(pipe: Pipeline) -> None:
    """The ASCII bar uses `#` and `.`, and an unknown trace id yields a note, not an error."""
    root = pipe.span("invoke_workflow support_request", 0, 10)
    text = waterfall(pipe.spans(), _trace_id(root), width=10, ascii_only=True)
    assert text.splitlines()[1].endswith("|##########|")
    assert waterfall(pipe.spans(), 1) == f"(no spans for trace {1:032x})"


def test_slowest_trace_compares_root_spans(pipe: Pipeline) -> None:
    """The trace with the longest root wins; a span whose parent is absent counts as a root."""
    short = pipe.tracer.start_span("invoke_workflow support_request", start_time=T0)
    pipe.span("retrieval kb", 0, 400, short)
    short.end(end_time=T0 + 500 * MS)
    long = pipe.span("invoke_workflow support_request", 0, 900)
    spans = pipe.spans()
    assert slowest_trace(spans) == _trace_id(long)
    orphan_only = [s for s in spans if s.name == "retrieval kb"]
    assert slowest_trace(orphan_only) == _trace_id(short)
    assert slowest_trace([]) is None


def test_outliers_name_trace_ids(pipe: Pipeline) -> None:
    """Outliers list the slowest, costliest and lowest-scoring calls with 32-hex trace ids."""
    made = two_versions(pipe)
    lines = outliers(pipe.spans(), pipe.logs(), n=1).splitlines()
    d, b = (f"trace {_trace_id(made[key]):032x}" for key in ("d", "b"))
    assert lines == [
        "Slowest LLM calls:",
        f"  400.0 ms  chat gpt-4o-mini  support@v1  {d}",
        "Most expensive LLM calls:",
        f"  $0.00300  chat gpt-4o-mini  support@v1  {b}",
        "Lowest evaluation scores:",
        f"  0.20  faithfulness  {b}",
    ]


def test_render_includes_every_section(pipe: Pipeline) -> None:
    """The report has all sections, the slowest trace's waterfall and the OTLP output path."""
    two_versions(pipe)
    text = render(pipe.spans(), pipe.logs(), "out/traces.jsonl")
    for title in ("== Slowest request ==", "== Prompt versions ==", "== Outliers =="):
        assert title in text
    assert "retrieval kb" in text.split("== Prompt versions ==")[0]
    assert text.endswith("traces written to out/traces.jsonl\n")


def test_render_empty_input() -> None:
    """With no telemetry at all the report still renders, with placeholders."""
    text = render([], [], None)
    assert "(no traces)" in text
    assert "(no LLM calls)" in text
    assert text.count("(none)") == 3
    assert "traces written" not in text


def test_failed_requests_come_first_with_the_failing_call_and_trace(pipe: Pipeline) -> None:
    """A failed user request is listed before the other outliers, with its error and trace id."""
    ok = pipe.tracer.start_span("invoke_workflow support", start_time=T0)
    pipe.chat(0, 10, ok)
    ok.end(end_time=T0 + 20 * MS)
    broken = []
    for start in (300, 100):  # started second, then first
        root = pipe.tracer.start_span("invoke_workflow support", start_time=T0 + start * MS)
        version: dict[str, str | float] = {
            "gen_ai.prompt.name": "support",
            "gen_ai.prompt.version": "v2",
        }
        pipe.chat(start, start + 10, root, version)
        pipe.chat(start + 10, start + 20, root, {**version, "error.type": "openai.APIError"})
        root.set_attribute("error.type", "openai.APIError")
        root.end(end_time=T0 + (start + 30) * MS)
        broken.append(root)
    startup = pipe.chat(0, 5, None, {"error.type": "openai.APIError"})  # not a user request

    count, lines = failed_requests(pipe.spans(), n=1)
    assert count == 2
    assert lines == [
        ("openai.APIError", "chat gpt-4o-mini", "support@v2", f"trace {_trace_id(broken[1]):032x}")
    ]
    text = outliers(pipe.spans(), pipe.logs(), n=3).splitlines()
    assert text[0] == "Failed requests (2):"
    assert text[1].split() == [
        "openai.APIError",
        "chat",
        "gpt-4o-mini",
        "support@v2",
        "trace",
        f"{_trace_id(broken[1]):032x}",
    ]
    assert text[3] == "Slowest LLM calls:"
    assert f"{_trace_id(startup):032x}" not in "\n".join(text[:3])


def test_failed_requests_are_left_out_when_there_are_none(pipe: Pipeline) -> None:
    """A run without failures shows no failed-requests list at all."""
    two_versions(pipe)
    assert "Failed requests" not in outliers(pipe.spans(), pipe.logs())
