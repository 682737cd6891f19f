"""OpenLIT (`openlit.init()`) as the instrumentation and beside ours: real OpenLIT and openai.

OpenLIT needs openai < 3, so this runs in its own virtualenv (`make pytest-frameworks`). In
process, OpenLIT is set up once on global in-memory providers behind otel-llm's pipeline (it
reuses the global providers it finds, as it would otel-llm's distro's); the rest runs the
application under `opentelemetry-instrument` with otel-llm's distro, as a user would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip(
    "openlit",
    reason="OpenLIT needs openai < 3: its tests run in .venv-openlit (make pytest-frameworks)",
)

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import (
    Counter,
    Histogram,
    MeterProvider,
    ObservableCounter,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

from otel_llm import _duplicates
from otel_llm._telemetry import Telemetry, set_telemetry
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors import foreign
from tests.instrumentation._zero_code import printed, run_app
from tests.processors import _openlit_app as app

REPO_ROOT = Path(__file__).resolve().parents[2]
OPENLIT_SCOPE = "openlit.instrumentation.openai"
_DELTA: dict[type, AggregationTemporality] = dict.fromkeys(
    (Counter, Histogram, ObservableCounter, UpDownCounter, ObservableUpDownCounter),
    AggregationTemporality.DELTA,
)


@dataclass
class World:
    """The process's global providers (OpenLIT keeps what it finds there), in memory."""

    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    logs: InMemoryLogRecordExporter
    telemetry: Telemetry


@dataclass
class Run:
    """What one test's application run exported: spans, log records and metric points."""

    spans: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    points: dict[str, list[dict[str, Any]]]
    """Metric name -> its data points (attributes, value or count and sum)."""
    text: str
    """Everything exported, as one string to search for the conversation's text."""
    stderr: str = ""

    def named(self, prefix: str, scope: str | None = None) -> list[dict[str, Any]]:
        """The spans whose name starts with `prefix` (made by `scope`, when given)."""
        return [
            s for s in self.spans if s["name"].startswith(prefix) and scope in (None, s["scope"])
        ]

    def total(self, name: str, **where: Any) -> float:
        """The sum of a counter, or the count of a histogram, over the points matching `where`."""
        chosen = [
            p
            for p in self.points.get(name, [])
            if all(p["attributes"].get(k) == v for k, v in where.items())
        ]
        return float(sum(p.get("value", p.get("count", 0)) for p in chosen))

    def amount(self, name: str) -> float:
        """The sum of a counter's points or of a histogram's recorded values."""
        return float(sum(p.get("value", p.get("sum", 0)) for p in self.points.get(name, [])))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Global in-memory providers behind otel-llm's pipeline, then openlit.init() on them."""
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader(preferred_temporality=_DELTA)  # each collect: since the last
    meter_provider = MeterProvider(metric_readers=[reader])
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    _logs.set_logger_provider(logger_provider)
    assert trace.get_tracer_provider() is tracer_provider, "another test set the globals first"
    telemetry = Telemetry.create(tracer_provider, meter_provider, logger_provider)
    set_telemetry(telemetry)
    app.init_openlit(tmp_path_factory.mktemp("openlit"))
    try:
        yield World(spans=spans, metrics=reader, logs=logs, telemetry=telemetry)
    finally:
        set_telemetry(None)


@pytest.fixture
def fresh(world: World) -> Iterator[World]:
    """The world with nothing exported yet; otel-llm's openai instrumentation off after."""
    world.spans.clear()
    world.logs.clear()
    world.metrics.get_metrics_data()  # drained: the next collection holds this test's only
    try:
        yield world
    finally:
        if OpenAIInstrumentor().is_instrumented_by_opentelemetry:
            OpenAIInstrumentor().uninstrument()


def _collected(world: World) -> Run:
    spans = [json.loads(span.to_json()) for span in world.spans.get_finished_spans()]
    for span, finished in zip(spans, world.spans.get_finished_spans(), strict=True):
        span["scope"] = getattr(finished.instrumentation_scope, "name", None)
    logs = [json.loads(data.to_json()) for data in world.logs.get_finished_logs()]
    data = world.metrics.get_metrics_data()
    metrics_json = json.loads(data.to_json()) if data is not None else {"resource_metrics": []}
    return _run(spans, logs, [metrics_json])


def _run(spans: list[dict[str, Any]], logs: list[dict[str, Any]], metric_dumps: list[Any]) -> Run:
    points: dict[str, list[dict[str, Any]]] = {}
    for dump in metric_dumps:
        for resource in dump["resource_metrics"]:
            for scope in resource["scope_metrics"]:
                for metric in scope["metrics"]:
                    # Delta temporality reports earlier tests' series as zero: left out.
                    recorded = [
                        p for p in metric["data"]["data_points"] if p.get("value", p.get("count"))
                    ]
                    points.setdefault(metric["name"], []).extend(recorded)
    text = json.dumps([spans, logs], default=str)
    return Run(spans=spans, logs=logs, points=points, text=text)


def _parents(run: Run) -> dict[str, str | None]:
    """Each span's id -> its parent span's name."""
    names = {s["context"]["span_id"]: s["name"] for s in run.spans}
    return {s["context"]["span_id"]: names.get(s.get("parent_id") or "") for s in run.spans}


def _assert_one_turn(run: Run, model_scope: str) -> None:
    """One trace: the agent at the root, its two model calls (`model_scope`) and tool under it."""
    assert len({s["context"]["trace_id"] for s in run.spans}) == 1
    parents = _parents(run)
    (agent,) = run.named("invoke_agent support")
    assert parents[agent["context"]["span_id"]] is None
    (tool,) = run.named("execute_tool lookup")
    assert parents[tool["context"]["span_id"]] == "invoke_agent support"  # from a worker thread
    calls = run.named("chat gpt-4o-mini", model_scope)
    assert len(calls) == 2  # the second from an asyncio task
    assert {parents[s["context"]["span_id"]] for s in calls} == {"invoke_agent support"}


def _assert_counted_once(run: Run) -> None:
    """The two model calls in every inference metric the dashboards read, once each."""
    requests = run.points["otel_llm.client.requests"]
    assert [(p["attributes"]["otel_llm.request.outcome"], p["value"]) for p in requests] == [
        ("success", 2)
    ]
    assert requests[0]["attributes"]["gen_ai.provider.name"] == "openai"
    assert run.total("gen_ai.client.inference.duration") == 2
    assert run.amount("gen_ai.client.inference.usage.input_tokens") == 84
    assert run.amount("gen_ai.client.inference.usage.output_tokens") == 18
    assert run.amount("gen_ai.client.inference.usage.cache_read.input_tokens") == 64
    assert run.total("gen_ai.execute_tool.duration", **{"gen_ai.tool.name": "lookup"}) == 1
    assert run.total("gen_ai.invoke_agent.duration", **{"gen_ai.agent.name": "support"}) == 1


def _assert_no_conversation(run: Run) -> None:
    """None of the conversation's text in any exported span attribute, event or log record."""
    leaked = [secret for secret in app.SECRETS if secret in run.text]
    assert leaked == []


def _openlit_cost(span: dict[str, Any]) -> float:
    """What OpenLIT's own price list (app.OPENLIT_PRICES, per 1k tokens) makes of a call."""
    attributes = span["attributes"]
    tokens = attributes["gen_ai.usage.input_tokens"] + attributes["gen_ai.usage.output_tokens"]
    return float(tokens) / 1000


def test_openlit_alone_gives_one_trace_with_the_right_parents(fresh: World) -> None:
    """With only OpenLIT recording the model calls, agent → model calls and tool form one trace."""
    assert app.agent_turn() == app.ANSWER
    _assert_one_turn(_collected(fresh), OPENLIT_SCOPE)


def test_openlit_alone_has_its_calls_counted_and_priced_once(fresh: World) -> None:
    """OpenLIT's spans give the request, duration, token, cost and tool metrics exactly once."""
    app.agent_turn()
    run = _collected(fresh)
    _assert_counted_once(run)
    calls = run.named("chat gpt-4o-mini", OPENLIT_SCOPE)
    # Priced from the price data of our own calls, not OpenLIT's list (here 1000x the price).
    assert {s["attributes"]["otel_llm.cost.price_source"] for s in calls} == {"genai-prices"}
    assert all(0 < s["attributes"]["otel_llm.cost.total"] < _openlit_cost(s) for s in calls)
    spend = sum(s["attributes"]["otel_llm.cost.total"] for s in calls)
    assert run.amount("otel_llm.client.cost") == pytest.approx(spend)
    # OpenLIT's own metrics stay under its names: none of them is one the dashboards read.
    assert run.total("gen_ai.client.operation.duration") == 2
    assert "gen_ai.usage.cost" in run.points


def test_openlits_names_are_upgraded(fresh: World) -> None:
    """OpenLIT's older and own attribute names leave as the conventions we follow name them."""
    app.agent_turn()
    run = _collected(fresh)
    for span in run.named("chat gpt-4o-mini", OPENLIT_SCOPE):
        attributes = span["attributes"]
        assert attributes["gen_ai.usage.cache_write.input_tokens"] == 0  # was cache_creation
        for old in ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cost"):
            assert old not in attributes
        assert "gen_ai.client.token.usage" not in attributes  # a total: no current name
        # OpenLIT's timings are durations, not credentials: not redacted as secrets.
        assert isinstance(attributes["gen_ai.server.time_to_first_token"], float)
        assert "otel_llm.redaction.count" not in attributes


def test_openlits_content_is_dropped_with_capture_off(fresh: World) -> None:
    """OpenLIT captures content by default; with ours off (the default) none of it leaves."""
    app.agent_turn()
    run = _collected(fresh)
    assert run.logs  # OpenLIT's operation-details events are exported, without their content
    _assert_no_conversation(run)


def test_with_ours_too_each_call_is_counted_once(
    fresh: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """otel-llm's openai instrumentation on beside OpenLIT's: ours counts, once, and says so."""
    monkeypatch.setattr(_duplicates, "_reported", set())
    monkeypatch.setattr(foreign, "_TWINS_CHECKED", set())
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        OpenAIInstrumentor().instrument(skip_dep_check=True)
        app.agent_turn()
    run = _collected(fresh)
    _assert_one_turn(run, "otel_llm")
    _assert_counted_once(run)
    ours = {s["context"]["span_id"]: s for s in run.named("chat gpt-4o-mini", "otel_llm")}
    theirs = run.named("chat gpt-4o-mini", OPENLIT_SCOPE)
    assert len(theirs) == 2
    assert all(s["parent_id"] in ours for s in theirs)  # ours wraps OpenLIT's wrapper here
    spend = sum(s["attributes"]["otel_llm.cost.total"] for s in ours.values())
    assert run.amount("otel_llm.client.cost") == pytest.approx(spend)
    (warning,) = [r.getMessage() for r in caplog.records if "recorded twice" in r.getMessage()]
    assert "each openai call is recorded twice, by otel-llm and by openlit." in warning
    assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=otel_llm_openai to keep the other" in warning
    _assert_no_conversation(run)


@pytest.mark.parametrize(("status", "outcome"), [(429, "rate_limited"), (500, "error")])
def test_a_refused_call_is_recorded_by_its_error_type_once(
    fresh: World, status: int, outcome: str
) -> None:
    """A 429 or 500 seen only through OpenLIT's span: error.type, counted once by outcome."""
    app.refused_call(status)
    run = _collected(fresh)
    (span,) = run.named("chat gpt-4o-mini", OPENLIT_SCOPE)
    error = span["attributes"]["error.type"]
    assert error in ("RateLimitError", "InternalServerError")
    requests = run.points["otel_llm.client.requests"]
    assert [(p["attributes"]["otel_llm.request.outcome"], p["value"]) for p in requests] == [
        (outcome, 1)
    ]
    assert requests[0]["attributes"]["error.type"] == error
    assert run.total("gen_ai.client.inference.duration", **{"error.type": error}) == 1
    assert app.QUESTION.split("?")[0] not in run.text  # the question
    assert "Rate limit reached" not in run.text  # the provider's message, as content


def _zero_code(tmp_path: Path, *args: str, **env: str) -> Run:
    """Run the app (`args`) under opentelemetry-instrument with console exporters; its output."""
    variables = {
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "console",
        "OTEL_LOGS_EXPORTER": "console",
        "OTEL_METRIC_EXPORT_INTERVAL": "600000",  # once, at exit
        "OTEL_SERVICE_NAME": "support-desk",
        **env,
    }
    plain = variables.pop("OTEL_LLM_TEST_PLAIN", None) is not None
    result = run_app(
        REPO_ROOT,
        "tests.processors._openlit_app",
        [*args, str(tmp_path)],
        variables,
        instrument=not plain,
        drop=("OPENLIT_",),
    )
    spans, logs, dumps = [], [], []
    for value in printed(result.stdout):
        if "context" in value and "name" in value:
            # The console exporter leaves the scope out; OpenLIT marks each of its spans.
            made_by_openlit = value["attributes"].get("telemetry.sdk.name") == "openlit"
            value["scope"] = OPENLIT_SCOPE if made_by_openlit else "otel_llm"
            spans.append(value)
        elif "resource_metrics" in value:
            dumps.append(value)
        elif "body" in value:
            logs.append(value)
    run = _run(spans, logs, dumps)
    run.text = result.stdout
    run.stderr = result.stderr
    return run


def test_zero_code_openlit_as_the_instrumentation(tmp_path: Path) -> None:
    """otel-llm's openai instrumentation disabled: OpenLIT's spans are counted, priced, redacted."""
    run = _zero_code(
        tmp_path, "turn", OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="otel_llm_openai,openai"
    )
    _assert_one_turn(run, OPENLIT_SCOPE)
    assert run.named("chat", "otel_llm") == []
    _assert_counted_once(run)
    assert run.amount("otel_llm.client.cost") > 0
    _assert_no_conversation(run)
    assert "openai call is recorded twice" not in run.stderr


def test_zero_code_both_on_counts_once_and_warns(tmp_path: Path) -> None:
    """Both instrumentations on (the usual accident): one call counted once, and a warning."""
    run = _zero_code(tmp_path, "turn", OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="openai")
    _assert_one_turn(run, OPENLIT_SCOPE)  # OpenLIT wraps last, so its span is outermost
    ours = run.named("chat", "otel_llm")
    theirs = {s["context"]["span_id"] for s in run.named("chat", OPENLIT_SCOPE)}
    assert len(ours) == 2
    assert all(s["parent_id"] in theirs for s in ours)
    _assert_counted_once(run)
    spend = sum(s["attributes"]["otel_llm.cost.total"] for s in ours)
    assert run.amount("otel_llm.client.cost") == pytest.approx(spend)
    _assert_no_conversation(run)
    (warning,) = [
        line for line in run.stderr.splitlines() if "openai call is recorded twice" in line
    ]
    assert "openlit.instrumentation.openai" in warning
    assert "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=otel_llm_openai to keep the other" in warning


def test_zero_code_capture_on_redacts_openlits_content(tmp_path: Path) -> None:
    """Content capture on: OpenLIT's captured messages leave redacted (the e-mail address)."""
    run = _zero_code(
        tmp_path,
        "turn",
        "openlit-captures",
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="otel_llm_openai,openai",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="SPAN_AND_EVENT",
    )
    (first, _) = run.named("chat", OPENLIT_SCOPE)
    messages = json.loads(first["attributes"]["gen_ai.input.messages"])
    question = messages[-1]["parts"][0]["content"]
    assert question.startswith("Where is order 1042?")
    assert "jane.doe@example.com" not in run.text
    assert "[REDACTED" in question


def test_openlit_reuses_the_distros_providers(tmp_path: Path) -> None:
    """Under opentelemetry-instrument, openlit.init() adds no exporter: spans are exported once."""
    run = _zero_code(
        tmp_path, "429", OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="otel_llm_openai,openai"
    )
    (span,) = run.named("chat", OPENLIT_SCOPE)  # OpenLIT's own console exporter would print twice
    assert span["attributes"]["error.type"] == "RateLimitError"
    assert (
        run.total("otel_llm.client.requests", **{"otel_llm.request.outcome": "rate_limited"}) == 1
    )


def test_openlit_setting_up_the_sdk_after_otel_llm_cannot_bypass_redaction(tmp_path: Path) -> None:
    """otel_llm.instrument() before any SDK, then openlit.init() makes one: its exporter is guarded.

    OpenLIT builds a TracerProvider and LoggerProvider with console exporters of its own when
    none is set; with capture off, its content must not reach them.
    """
    run = _zero_code(tmp_path, "turn", "instrument-first", OTEL_LLM_TEST_PLAIN="1")
    assert len(run.named("chat", OPENLIT_SCOPE)) == 2  # OpenLIT's own exporter printed them
    _assert_no_conversation(run)
    assert "put its processor pipeline (redaction, cost) in front" in run.stderr
