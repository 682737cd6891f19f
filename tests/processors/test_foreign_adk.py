"""Google ADK's own spans, metrics and logs through otel-llm, with and without ours.

Set up in code and under `opentelemetry-instrument`, with and without otel-llm's google-genai
instrumentation. ADK binds its tracer and meter to a process's first global providers, so every
run is a process of its own (tests/processors/_adk_app.py), printing what it exported as the
console exporters do.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip(
    "google.adk", reason="Google ADK has its own virtualenv: run it with `make pytest-frameworks`"
)

from tests.conftest import REPO_ROOT
from tests.instrumentation._zero_code import printed, run_app
from tests.processors import _adk_app as app

_CODE, _ZERO_CODE = "code", "zero-code"
_ADK_SCOPE = "gcp.vertex.agent"
_CLIENT = "SpanKind.CLIENT"


@dataclass(frozen=True)
class Run:
    """What one run of the app printed: its answer, the exported spans, logs and metrics."""

    stdout: str
    answer: str | None
    raised: str | None
    spans: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    metrics: list[tuple[str, str, dict[str, Any]]]
    """(scope, metric name, data point), from the last metrics export."""

    def exported(self) -> str:
        """Every exported span, log record and metric point, as one string to search."""
        return json.dumps([self.spans, self.logs, self.metrics])

    def inference(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The generate_content spans (of that kind)."""
        return [
            s
            for s in self.spans
            if s["attributes"].get("gen_ai.operation.name") == "generate_content"
            and (kind is None or s["kind"] == kind)
        ]

    def points(self, name: str, scope: str | None = None, **where: Any) -> list[dict[str, Any]]:
        """The data points of metric `name` (of `scope`) whose attributes include `where`."""
        return [
            point
            for found_scope, found, point in self.metrics
            if found == name
            and (scope is None or found_scope == scope)
            and all(point["attributes"].get(k) == v for k, v in where.items())
        ]

    def total(self, name: str, scope: str | None = None, **where: Any) -> float:
        """A counter's sum, or a histogram's count, over the matching points."""
        return float(
            sum(p.get("value", p.get("count", 0)) for p in self.points(name, scope, **where))
        )

    def histogram_sum(self, name: str, **where: Any) -> float:
        """A histogram's sum over the matching points."""
        return float(sum(p["sum"] for p in self.points(name, **where)))


def _parse(stdout: str) -> Run:
    spans, logs, exports = [], [], []
    for value in printed(stdout):
        if "context" in value and "name" in value:
            spans.append(value)
        elif "resource_metrics" in value:
            exports.append(value)
        elif "body" in value and "attributes" in value:
            logs.append(value)
    metrics = [
        (scope["scope"]["name"], metric["name"], point)
        for export in exports[-1:]  # cumulative: the last export holds everything
        for resource in export["resource_metrics"]
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
        for point in metric["data"]["data_points"]
    ]
    marks: dict[str, str] = {}
    for line in stdout.splitlines():
        mark, separator, rest = line.partition(": ")
        if separator and mark in ("ANSWER", "RAISED"):
            marks[mark] = rest
    answer = marks.get("ANSWER")
    return Run(
        stdout,
        None if answer is None else json.loads(answer),
        marks.get("RAISED"),
        spans,
        logs,
        metrics,
    )


@functools.cache
def _run(
    setup: str, *, ours: bool = False, fail: int = 0, schema: int = 2, capture: bool = False
) -> Run:
    """Run the app once per combination (cached: several tests read the same run)."""
    env = {
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "scripts")]),
        "OTEL_SERVICE_NAME": "adk-test",
        "ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN": str(schema),
    }
    if capture:
        env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    args = [setup]
    if setup == _ZERO_CODE:
        env.update(
            OTEL_TRACES_EXPORTER="console",
            OTEL_METRICS_EXPORTER="console",
            OTEL_LOGS_EXPORTER="console",
        )
        if not ours:  # as a user keeps one of otel-llm's instrumentations out
            env["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"] = "otel_llm_google_genai"
    elif ours:
        args.append("--ours")
    if fail:
        args += ["--fail", str(fail)]
    result = run_app(
        REPO_ROOT,
        "tests.processors._adk_app",
        args,
        env,
        instrument=setup == _ZERO_CODE,
        drop=("ADK_",),
    )
    return _parse(result.stdout)


_SETUPS = [
    pytest.param(_CODE, False, id="code-adk"),
    pytest.param(_CODE, True, id="code-with-ours"),
    pytest.param(_ZERO_CODE, False, id="zero-code-adk"),
    pytest.param(_ZERO_CODE, True, id="zero-code-with-ours"),
]


def _by_id(run: Run) -> dict[str, dict[str, Any]]:
    return {span["context"]["span_id"]: span for span in run.spans}


@pytest.mark.parametrize(("setup", "ours"), _SETUPS)
def test_one_trace_per_request_with_agent_model_and_tool_parents(setup: str, ours: bool) -> None:
    """One trace: workflow -> agent -> ADK's model calls and tool; ours under ADK's model call."""
    run = _run(setup, ours=ours)
    assert run.answer
    assert len({span["context"]["trace_id"] for span in run.spans}) == 1
    spans = _by_id(run)
    (root,) = [s for s in run.spans if s["parent_id"] is None]
    assert root["name"] == f"invoke_workflow {app.AGENT}"
    (agent,) = [s for s in run.spans if s["name"] == f"invoke_agent {app.AGENT}"]
    assert agent["parent_id"] == root["context"]["span_id"]
    (tool,) = [s for s in run.spans if s["name"] == "execute_tool lookup"]
    model_steps = [s for s in run.inference() if s["kind"] != _CLIENT]
    assert len(model_steps) == 2
    assert {s["parent_id"] for s in [tool, *model_steps]} == {agent["context"]["span_id"]}
    ours_spans = run.inference(_CLIENT)
    assert len(ours_spans) == (2 if ours else 0)
    for span in ours_spans:
        assert spans[span["parent_id"]] in model_steps


@pytest.mark.parametrize("setup", [_CODE, _ZERO_CODE])
def test_with_ours_on_each_call_has_one_inference_span_counted_once(setup: str) -> None:
    """Ours is the inference span; ADK's model-call span around it adds no call and no spend."""
    run = _run(setup, ours=True)
    ours = run.inference(_CLIENT)
    assert [s["attributes"]["server.address"] for s in ours] == ["127.0.0.1"] * 2
    assert len(run.inference()) == 4  # and ADK's two INTERNAL model-call spans
    assert run.total("otel_llm.client.requests") == 2
    assert run.total("gen_ai.client.inference.duration") == 2
    spend = sum(s["attributes"]["otel_llm.cost.total"] for s in ours)
    assert run.total("otel_llm.client.cost") == pytest.approx(spend)


@pytest.mark.parametrize(("setup", "ours"), _SETUPS)
def test_the_dashboard_metrics_are_present_once_per_call(setup: str, ours: bool) -> None:
    """Requests, duration, tokens, cost, tool, agent and step metrics: once, ours or derived.

    ADK records the tool, agent and workflow durations itself (under the current names), so
    otel-llm derives only what ADK does not record.
    """
    run = _run(setup, ours=ours)
    assert run.total("otel_llm.client.requests", **{"otel_llm.request.outcome": "success"}) == 2
    assert run.total("gen_ai.client.inference.duration", scope="otel_llm") == 2
    model_steps = [s for s in run.inference() if s["kind"] != _CLIENT]
    tokens = sum(s["attributes"]["gen_ai.usage.input_tokens"] for s in model_steps)
    assert run.total("gen_ai.client.inference.usage.input_tokens") == tokens > 0
    assert run.total("otel_llm.client.cost") > 0
    tool = {"gen_ai.tool.name": "lookup", "gen_ai.agent.name": app.AGENT}
    assert run.total("gen_ai.execute_tool.duration", **tool) == 1
    assert run.total("gen_ai.invoke_agent.duration", **{"gen_ai.agent.name": app.AGENT}) == 1
    assert run.total("gen_ai.invoke_workflow.duration") == 1
    steps = {"gen_ai.agent.name": app.AGENT}
    model_calls = {**steps, "otel_llm.agent.step.kind": "model_call"}
    tool_calls = {**steps, "otel_llm.agent.step.kind": "tool_call"}
    assert run.histogram_sum("otel_llm.agent.steps", **model_calls) == 2
    assert run.histogram_sum("otel_llm.agent.steps", **tool_calls) == 1


def test_the_legacy_schemas_names_are_upgraded_and_its_call_llm_span_not_counted() -> None:
    """ADK's schema 1 (gen_ai.system; call_llm spans around the call): upgraded, counted once."""
    run = _run(_CODE, schema=1)
    model_calls = run.inference()
    assert len(model_calls) == 2
    for span in model_calls:
        assert span["attributes"]["gen_ai.provider.name"] == "gcp.gemini"
        assert "gen_ai.system" not in span["attributes"]
    assert len([s for s in run.spans if s["name"] == "call_llm"]) == 2
    assert run.total("otel_llm.client.requests") == 2
    assert run.total("gen_ai.client.inference.duration") == 2
    assert run.total("otel_llm.client.cost") == pytest.approx(
        sum(s["attributes"]["otel_llm.cost.total"] for s in model_calls)
    )


@pytest.mark.parametrize(
    ("setup", "ours", "schema"),
    [
        pytest.param(_CODE, False, 2, id="code-adk"),
        pytest.param(_CODE, False, 1, id="code-adk-schema-1"),
        pytest.param(_ZERO_CODE, True, 2, id="zero-code-with-ours"),
    ],
)
def test_with_capture_off_no_conversation_text_leaves(setup: str, ours: bool, schema: int) -> None:
    """No question, instructions, tool description, arguments, result or answer in any export.

    ADK records its request and response JSON (schema 1) and tool definitions and descriptions
    (schema 2) whatever otel-llm's capture mode: they are dropped before export.
    """
    run = _run(setup, ours=ours, schema=schema)
    assert run.answer
    exported = run.exported()
    leaked = [secret for secret in [*app.SECRETS, run.answer] if secret in exported]
    items = [json.dumps(item) for group in (run.spans, run.logs, run.metrics) for item in group]
    assert leaked == [], [item[:400] for item in items if any(s in item for s in leaked)]
    assert "gcp.vertex.agent.llm_request" not in exported
    names = [span["name"] for span in run.spans]
    assert len(run.inference()) == (4 if ours else 2), names  # the spans themselves are kept


def test_with_capture_on_adks_content_is_exported_redacted() -> None:
    """Capture on: ADK's messages are exported, the e-mail address in the question redacted."""
    run = _run(_CODE, capture=True)
    exported = run.exported()
    assert app.INSTRUCTIONS in exported
    assert "jane.doe@example.com" not in exported
    first, _ = run.inference()
    assert "[REDACTED:email]" in first["attributes"]["gen_ai.input.messages"]
    assert any("[REDACTED:email]" in json.dumps(record) for record in run.logs)


@pytest.mark.parametrize("ours", [False, True], ids=["adk", "with-ours"])
@pytest.mark.parametrize(("status", "outcome"), [(429, "rate_limited"), (500, "error")])
def test_a_provider_error_is_recorded_with_its_type_and_counted_once(
    status: int, outcome: str, ours: bool
) -> None:
    """A 429 or 500 raises to the application; the call fails with error.type, counted once."""
    run = _run(_CODE, ours=ours, fail=status)
    assert run.raised is not None
    (request,) = run.points("otel_llm.client.requests")
    assert request["value"] == 1
    assert request["attributes"]["otel_llm.request.outcome"] == outcome
    assert request["attributes"]["error.type"]
    for span in run.inference():
        assert span["status"]["status_code"] == "ERROR"
        assert span["attributes"]["error.type"]
    assert run.total("gen_ai.client.inference.duration") == 1
