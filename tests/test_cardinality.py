"""Metric attribute caps: per metric, the first N values of each open attribute, then `_OTHER`."""

from __future__ import annotations

import random
import string
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util.types import AttributeValue

import otel_llm
from otel_llm import _cardinality, _sums, evaluations, spans
from otel_llm._cardinality import CAPPED, OTHER, Capping, Limiter
from otel_llm._telemetry import set_telemetry
from otel_llm.config import ConfigError, Settings, load_settings
from otel_llm.cost import PriceBook
from otel_llm.feedback import record_feedback
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from otel_llm.processors.cost import CostSpanProcessor
from otel_llm.semconv.metrics import otel_llm as om
from semconvgen.model import Registry
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

DEFAULT_LIMIT = 100
"""OTEL_LLM_METRIC_ATTRIBUTE_VALUE_LIMIT's default (written out: the tests pin the figure)."""
RANDOM_VALUES = 1000
FOLDED = "otel_llm.metric.attribute.folded"

BOUNDED = {
    "gen_ai.operation.name": "the instrumentation's fixed operation for each endpoint or span",
    "gen_ai.token.modality": "enum",
    "otel_llm.request.outcome": "enum",
    "otel_llm.cost.unpriced_reason": "enum",
    "otel_llm.evaluation.passed": "boolean",
    "otel_llm.evaluation.drop_reason": "enum",
    "otel_llm.feedback.sentiment": "enum, derived from the score or a fixed label list",
    "otel_llm.redaction.kind": "enum: the detectors, `custom` for every user pattern",
    "otel_llm.metric.name": "our metric names",
    "otel_llm.metric.attribute": "the keys in CAPPED",
    "otel_llm.agent.step.kind": "enum: model_call, tool_call",
    "otel_llm.fallback.reason": "enum, checked by record_fallback",
    "network.transport": "enum: pipe or tcp, from the MCP transport otel-llm recognised",
}
"""Every metric attribute that is not capped, and why its values are a closed set."""


def _rng(seed: int) -> random.Random:
    """A seeded generator, so a failure can be replayed."""
    return random.Random(seed)  # noqa: S311 - test data, not secrets


def _rand(prefix: str, rng: random.Random) -> str:
    """`prefix` and 12 random characters: a value never seen before."""
    return prefix + "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Every data point read now, by metric name."""
    data = reader.get_metrics_data()
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def _folded(points: dict[str, list[Any]]) -> dict[tuple[str, str], int]:
    """The folded counter's values as {(metric, attribute): count}."""
    return {
        (p.attributes["otel_llm.metric.name"], p.attributes["otel_llm.metric.attribute"]): p.value
        for p in points.get(FOLDED, [])
    }


def _distinct(points: list[Any], key: str) -> set[Any]:
    return {p.attributes[key] for p in points if key in p.attributes}


def _assert_capped(
    points: dict[str, list[Any]], metrics: set[str], keys: tuple[str, ...], limit: int
) -> None:
    """Each metric has limit + 1 values of each key (`_OTHER` one of them) and limit + 1 series.

    The keys change together, call by call, so the series are bounded like each key's values.
    """
    for metric in metrics:
        series = points[metric]
        assert len(series) <= limit + 1, (metric, len(series))
        for key in keys:
            values = _distinct(series, key)
            assert len(values) == limit + 1, (metric, key, len(values))
            assert OTHER in values


# --- the Limiter ---------------------------------------------------------------------------


def test_first_values_are_kept_and_later_ones_become_other() -> None:
    """With a limit of 3, the first three models pass; the fourth and later become `_OTHER`."""
    limiter = Limiter("m", 3)
    seen = [
        limiter.cap({"gen_ai.request.model": f"m{i}"})["gen_ai.request.model"] for i in range(6)
    ]
    assert seen == ["m0", "m1", "m2", OTHER, OTHER, OTHER]
    assert limiter.cap({"gen_ai.request.model": "m1"}) == {"gen_ai.request.model": "m1"}


def test_admitted_attributes_pass_through_uncopied() -> None:
    """The hot path returns the caller's own mapping when every capped value is admitted."""
    limiter = Limiter("m", 3)
    attributes = {"gen_ai.request.model": "m", "gen_ai.operation.name": "chat"}
    limiter.cap(dict(attributes))
    assert limiter.cap(attributes) is attributes


def test_only_open_attributes_are_capped_each_on_its_own() -> None:
    """A full model cap leaves the prompt (another key) and closed keys such as outcome alone."""
    limiter = Limiter("m", 1)
    limiter.cap({"gen_ai.request.model": "a"})
    capped = limiter.cap(
        {"gen_ai.request.model": "b", "gen_ai.prompt.name": "p", "otel_llm.request.outcome": "x"}
    )
    assert capped == {
        "gen_ai.request.model": OTHER,
        "gen_ai.prompt.name": "p",
        "otel_llm.request.outcome": "x",
    }
    for i in range(50):
        assert limiter.cap({"otel_llm.request.outcome": f"o{i}"}) == {
            "otel_llm.request.outcome": f"o{i}"
        }


def test_unhashable_values_fold_instead_of_raising() -> None:
    """A list where a name is expected (a bad prompt version) is recorded as `_OTHER`."""
    limiter = Limiter("m", 5)
    capped = limiter.cap({"gen_ai.prompt.version": ["v1"], "gen_ai.prompt.name": "p"})
    assert capped == {"gen_ai.prompt.version": OTHER, "gen_ai.prompt.name": "p"}


def test_concurrent_admission_never_exceeds_the_limit() -> None:
    """Eight threads offering 2,000 values admit exactly the limit, and count every fold once."""
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    folded = _sums.sums(meter, FOLDED, om.observe_otel_llm_metric_attribute_folded)
    limiter = Limiter("m", 10, folded)
    results: list[str] = []
    lock = threading.Lock()

    def offer(start: int) -> None:
        mine = [
            str(limiter.cap({"gen_ai.tool.name": f"t{i}"})["gen_ai.tool.name"])
            for i in range(start, 2000, 8)
        ]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=offer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counts = Counter(results)
    assert counts[OTHER] == 1990
    assert len(counts) == 11
    assert _folded(_points(reader)) == {("m", "gen_ai.tool.name"): 1990}


def test_capping_reuses_a_metrics_admitted_values_on_the_same_meter() -> None:
    """Instrumenting again on one meter keeps the admitted values, as the SDK keeps the series."""
    meter = MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("test")
    first = Capping(meter, 2).limiter("gen_ai.client.inference.duration")
    first.cap({"gen_ai.request.model": "a"})
    again = Capping(meter, 5).limiter("gen_ai.client.inference.duration")
    assert again is first
    assert again.limit == 5


# --- the limit setting -------------------------------------------------------------------------


def test_limit_is_read_from_the_environment_with_a_documented_default() -> None:
    """OTEL_LLM_METRIC_ATTRIBUTE_VALUE_LIMIT sets N; unset it is 100, far below the SDK's 2,000."""
    assert load_settings({}).metric_attribute_value_limit == DEFAULT_LIMIT
    env = {"OTEL_LLM_METRIC_ATTRIBUTE_VALUE_LIMIT": "25"}
    assert load_settings(env).metric_attribute_value_limit == 25


@pytest.mark.parametrize("raw", ["0", "-3", "2001", "many", "1.5"])
def test_a_bad_limit_is_refused_naming_the_variable(raw: str) -> None:
    """A limit that is not a whole number from 1 to 2,000 fails at load, naming the variable."""
    with pytest.raises(ConfigError, match="OTEL_LLM_METRIC_ATTRIBUTE_VALUE_LIMIT"):
        load_settings({"OTEL_LLM_METRIC_ATTRIBUTE_VALUE_LIMIT": raw})


def test_every_metric_attribute_is_capped_or_closed(registry: Registry) -> None:
    """Each attribute of each metric in semconv/ is capped here, or has a closed set of values."""
    keys = {ref.attribute.key for metric in registry.metrics for ref in metric.attributes}
    assert keys - CAPPED == set(BOUNDED)
    assert keys >= CAPPED
    for key in BOUNDED:
        attribute = registry.attributes[key]
        assert attribute.members or attribute.type == "boolean" or key.startswith("otel_llm.metric")


def test_free_text_labels_are_not_metric_attributes(registry: Registry) -> None:
    """Feedback and evaluation labels are any string: the registry refuses them as dimensions."""
    for key in ("otel_llm.feedback.label", "gen_ai.evaluation.score.label"):
        assert not registry.attributes[key].metric_safe
        assert all(ref.attribute.key != key for m in registry.metrics for ref in m.attributes)


# --- end to end: 1,000 random values -------------------------------------------------------------


@pytest.fixture
def openai_instrumented() -> Iterator[Captured]:
    """OpenAI instrumented with the default settings (pricing on), uninstrumented afterwards."""
    captured = make_captured(Settings())
    OpenAIInstrumentor().instrument(**captured.providers, settings=Settings(), skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()
        set_telemetry(None)


def test_random_models_servers_and_prompts_make_at_most_n_plus_one_series(
    openai_instrumented: Captured,
) -> None:
    """1,000 calls with new models, server and prompt each make 101 series per metric, not 1,000."""
    rng = _rng(15)
    models: dict[str, str] = {}

    def handler(request: Any) -> Any:
        body = fakes.chat_completion()
        body["model"] = models["response"]
        return fakes.http.Response(200, json=body)

    client = fakes.openai_client(handler)
    for _ in range(RANDOM_VALUES):
        models["response"] = _rand("ft:resp-", rng)
        host = client.with_options(base_url=f"https://{_rand('h', rng)}.example.com/v1")
        with otel_llm.prompt(_rand("prompt-", rng), version=_rand("v", rng)):
            host.chat.completions.create(
                model=_rand("model-", rng), messages=[{"role": "user", "content": "hi"}]
            )

    points = _points(openai_instrumented.metrics)
    keys = (
        "gen_ai.request.model",
        "gen_ai.response.model",
        "server.address",
        "gen_ai.prompt.name",
        "gen_ai.prompt.version",
    )
    per_call = {
        "gen_ai.client.inference.duration",
        "gen_ai.client.inference.operation.input_tokens",
        "gen_ai.client.inference.operation.output_tokens",
        "gen_ai.client.inference.usage.input_tokens",
        "gen_ai.client.inference.usage.output_tokens",
        "gen_ai.client.inference.usage.cache_read.input_tokens",
        "gen_ai.client.inference.usage.reasoning.output_tokens",
        "otel_llm.client.requests",
        "otel_llm.client.unpriced",  # random models have no price
    }
    _assert_capped(points, per_call, keys, DEFAULT_LIMIT)
    folded = _folded(points)
    expected = {(metric, key): RANDOM_VALUES - DEFAULT_LIMIT for metric in per_call for key in keys}
    assert {pair: folded.get(pair) for pair in expected} == expected
    assert set(folded) == set(expected)  # the port never changed, so it never folded


def test_random_tools_agents_and_workflows_are_capped(captured: Captured) -> None:
    """1,000 tool, agent and workflow names and error types make at most 101 series each."""
    rng = _rng(7)
    for _ in range(RANDOM_VALUES):
        with spans.workflow(_rand("wf-", rng)), spans.agent(_rand("agent-", rng)):
            error = type(_rand("Error", rng), (Exception,), {})
            with pytest.raises(error), spans.tool(_rand("tool-", rng), tool_type=_rand("t", rng)):
                raise error
    points = _points(captured.metrics)
    _assert_capped(
        points,
        {"gen_ai.execute_tool.duration"},
        ("gen_ai.tool.name", "gen_ai.tool.type", "gen_ai.agent.name", "error.type"),
        DEFAULT_LIMIT,
    )
    _assert_capped(points, {"gen_ai.invoke_agent.duration"}, ("gen_ai.agent.name",), DEFAULT_LIMIT)
    _assert_capped(
        points, {"gen_ai.invoke_workflow.duration"}, ("gen_ai.workflow.name",), DEFAULT_LIMIT
    )
    folded = _folded(points)
    assert folded[("gen_ai.execute_tool.duration", "gen_ai.tool.name")] == 900
    assert folded[("gen_ai.execute_tool.duration", "error.type")] == 900
    assert folded[("gen_ai.invoke_workflow.duration", "gen_ai.workflow.name")] == 900


def test_random_evaluation_names_and_labels_are_capped(captured: Captured) -> None:
    """1,000 evaluation, model and provider names make at most 101 series; labels make none."""
    rng = _rng(3)
    for i in range(RANDOM_VALUES):
        evaluations.record_evaluation(
            _rand("eval-", rng),
            score=0.5,
            passed=bool(i % 2),
            label=_rand("label ", rng),
            model=_rand("model-", rng),
            provider=_rand("provider-", rng),
        )
    points = _points(captured.metrics)
    _assert_capped(
        points,
        {om.OTEL_LLM_EVALUATION_SCORE},
        ("gen_ai.evaluation.name", "gen_ai.request.model", "gen_ai.provider.name"),
        DEFAULT_LIMIT,
    )
    results = points[om.OTEL_LLM_EVALUATION_RESULTS]
    assert len(results) <= 2 * (DEFAULT_LIMIT + 1)  # by passed, too
    assert len(_distinct(results, "gen_ai.evaluation.name")) == DEFAULT_LIMIT + 1
    assert not _distinct(results, "gen_ai.evaluation.score.label")
    folded = _folded(points)
    assert folded[(om.OTEL_LLM_EVALUATION_RESULTS, "gen_ai.evaluation.name")] == 900


def test_random_feedback_prompts_and_labels_are_capped(captured: Captured) -> None:
    """Feedback on 1,000 prompt versions with 1,000 labels makes at most 101 series, no label."""
    rng = _rng(5)
    for _ in range(RANDOM_VALUES):
        record_feedback(
            score=-1, label=_rand("l", rng), prompt_name="p", prompt_version=_rand("v", rng)
        )
    points = _points(captured.metrics)
    _assert_capped(
        points, {om.OTEL_LLM_FEEDBACK_RECEIVED}, ("gen_ai.prompt.version",), DEFAULT_LIMIT
    )
    assert not _distinct(points[om.OTEL_LLM_FEEDBACK_RECEIVED], "otel_llm.feedback.label")
    assert _folded(points) == {(om.OTEL_LLM_FEEDBACK_RECEIVED, "gen_ai.prompt.version"): 900}


def test_spans_priced_by_the_processor_are_capped(captured: Captured) -> None:
    """Other instrumentations' spans with 1,000 priced model names cost at most 101 series."""
    set_telemetry(captured.telemetry)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        CostSpanProcessor(SimpleSpanProcessor(exporter), PriceBook.from_settings(Settings()))
    )
    rng = _rng(9)
    for _ in range(RANDOM_VALUES):
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini",
            "server.address": _rand("h", rng) + ".example.com",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 2,
        }
        provider.get_tracer("other").start_span("chat", attributes=attributes).end()
    points = _points(captured.metrics)
    metrics = {om.OTEL_LLM_CLIENT_COST, om.OTEL_LLM_CLIENT_REQUEST_COST}
    _assert_capped(points, metrics, ("server.address",), DEFAULT_LIMIT)
    assert _folded(points) == {(metric, "server.address"): 900 for metric in metrics}


def test_limit_setting_reaches_every_instrument() -> None:
    """With the limit set to 5, 20 tool names make six series and fifteen folds."""
    captured = make_captured(Settings(metric_attribute_value_limit=5))
    set_telemetry(captured.telemetry)
    try:
        for i in range(20):
            with spans.tool(f"tool-{i}"):
                pass
    finally:
        set_telemetry(None)
    points = _points(captured.metrics)
    assert len(points["gen_ai.execute_tool.duration"]) == 6
    assert _folded(points) == {("gen_ai.execute_tool.duration", "gen_ai.tool.name"): 15}
    assert _cardinality.OTHER == "_OTHER"
