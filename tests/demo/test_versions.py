"""The per-prompt-version table: requests and calls counted apart, quality apart from safety."""

from __future__ import annotations

import re

from opentelemetry import trace
from opentelemetry.trace import Span

from otel_llm.demo.versions import NO_PROMPT, NOTE, version_table
from tests.demo.conftest import MS, T0, Pipeline, two_versions

V1: dict[str, str | float] = {"gen_ai.prompt.name": "support", "gen_ai.prompt.version": "v1"}
V2: dict[str, str | float] = {"gen_ai.prompt.name": "support", "gen_ai.prompt.version": "v2"}
EMBED = {"gen_ai.operation.name": "embeddings"}


def _rows(table: str) -> dict[tuple[str, str], list[str]]:
    """The table's data rows by (prompt, version), cells split on runs of 2+ spaces."""
    lines = table.splitlines()
    body = lines[3 : lines.index(NOTE.splitlines()[0])]
    rows = [re.split(r"\s{2,}", line.strip()) for line in body]
    return {(row[0], row[1]): row[2:] for row in rows}


def _request(pipe: Pipeline, start: float, calls: list[dict[str, str | float]]) -> Span:
    """A user request: a workflow root with an embeddings call and `calls`; fails if one does."""
    root = pipe.tracer.start_span("invoke_workflow support", start_time=T0 + int(start * MS))
    pipe.span("embeddings e", start, start + 1, root, EMBED)
    for i, extra in enumerate(calls):
        pipe.chat(start + 1 + i, start + 2 + i, root, extra)
        if "error.type" in extra:
            root.set_attribute("error.type", str(extra["error.type"]))
    root.end(end_time=T0 + int((start + 10) * MS))
    return root


def test_version_table_numbers(pipe: Pipeline) -> None:
    """Each prompt version's row has the expected counts, rates, percentiles and costs."""
    two_versions(pipe)
    rows = _rows(version_table(pipe.spans(), pipe.logs()))
    # The calls are roots of their own traces: no user request made them.
    assert rows[("support", "v1")] == [
        "0",
        "0",
        "4",
        "25.0%",
        "200.0",
        "400.0",
        "400.0",
        "$0.00200",
        "$0.00300",
        "66.7%",
        "—",
        "50.0%",
    ]
    assert rows[("support", "v2")] == ["0", "0", "1", "0.0%", "50.0", "50.0", "50.0"] + ["—"] * 5


def test_requests_and_calls_are_counted_apart_and_add_up(pipe: Pipeline) -> None:
    """Requests and calls are counted apart, and the calls of all rows add up to every LLM call."""
    _request(pipe, 0, [V1, V1])  # a tool call: two calls of v1 in one request
    _request(pipe, 20, [V1 | {"error.type": "openai.APIError"}])
    _request(pipe, 40, [V2])
    pipe.span("embeddings e", 0, 1, None, EMBED)  # at start-up: a call, not a request
    table = version_table(pipe.spans(), pipe.logs())
    rows = _rows(table)
    assert {key: row[:4] for key, row in rows.items()} == {
        ("support", "v1"): ["2", "1", "3", "33.3%"],
        ("support", "v2"): ["1", "1", "1", "0.0%"],
        (NO_PROMPT, "—"): ["3", "2", "4", "0.0%"],
    }
    assert list(rows)[-1] == (NO_PROMPT, "—")
    llm_calls = [
        s for s in pipe.spans() if s.attributes and "gen_ai.operation.name" in s.attributes
    ]
    assert sum(int(row[2]) for row in rows.values()) == len(llm_calls) == 8
    assert table.endswith(NOTE)


def test_header_says_what_each_group_counts(pipe: Pipeline) -> None:
    """A grouped header puts requests, per-call numbers and answer quality under their unit."""
    _request(pipe, 0, [V1])
    lines = version_table(pipe.spans(), pipe.logs()).splitlines()
    groups, header, rule = lines[:3]
    assert re.split(r"\s{2,}", header) == [
        "prompt",
        "version",
        "requests",
        "answered",
        "calls",
        "error %",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "mean cost",
        "p95 cost",
        "quality pass",
        "safety fails",
        "thumbs-down",
    ]
    assert len(header) == len(rule)
    assert header.index("requests") == groups.index("user requests")
    assert header.index("calls") == groups.index("per LLM call")
    assert header.index("quality pass") == groups.index("answers")


def test_quality_pass_leaves_safety_checks_out(pipe: Pipeline) -> None:
    """Safety evaluations count as safety fails, never in the quality pass rate."""
    root = _request(pipe, 0, [])
    answer = pipe.chat(1, 2, root, V1)
    for name, passed in (
        ("citation", True),
        ("answer_length", False),
        ("pii_in_output", False),
        ("pii_in_output", True),
        ("policy_tone", False),
    ):
        pipe.evaluation(answer, name, passed=passed, score=float(passed))
    row = _rows(version_table(pipe.spans(), pipe.logs()))[("support", "v1")]
    assert row[9:11] == ["50.0%", "2"]


def test_evaluations_are_matched_to_versions_by_response_id(pipe: Pipeline) -> None:
    """An evaluation parented elsewhere (a workflow span) counts for the version it names."""
    workflow = pipe.span("invoke_workflow support", 0, 500)
    for version, response in (("v1", "chatcmpl-1"), ("v2", "chatcmpl-2")):
        pipe.chat(
            0,
            100,
            workflow,
            {
                "gen_ai.prompt.name": "support",
                "gen_ai.prompt.version": version,
                "gen_ai.response.id": response,
            },
        )
    logger = pipe.logger_provider.get_logger("test")
    for response, passed in (("chatcmpl-2", False), ("chatcmpl-2", True), ("chatcmpl-1", True)):
        logger.emit(
            event_name="gen_ai.evaluation.result",
            attributes={
                "gen_ai.evaluation.name": "citation",
                "otel_llm.evaluation.passed": passed,
                "gen_ai.response.id": response,
            },
            context=trace.set_span_in_context(workflow),
        )
    rows = _rows(version_table(pipe.spans(), pipe.logs()))
    assert rows[("support", "v1")][9] == "100.0%"
    assert rows[("support", "v2")][9] == "50.0%"


def test_no_llm_calls() -> None:
    """Without LLM calls there is no table, only a note."""
    assert version_table([], []) == "(no LLM calls)"
