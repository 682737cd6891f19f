"""Collector configs, checked structurally: wiring, signals, redaction parity, sampling policies.

These read the YAML only, so they run everywhere and say what is wrong in project terms:
undefined or unused components, a component in a pipeline of a signal it does not support,
connectors that do not bridge, deprecated component names, policies on the right attributes.
Component settings themselves (keys, value types) are checked by our distribution:
`otelcol-llm validate` in test_distribution.py, and the configs run for real in the
end-to-end tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from otel_llm.redaction import collector_redaction_config
from semconvgen.model import Registry

OTELCOL = Path("collector-config/otelcol")
CONFIGS = {
    "agent": ("agent.yaml", "redaction.yaml"),
    "gateway": ("gateway.yaml",),
    "gateway-ha": ("gateway-ha.yaml",),
}
"""Each deployment and the --config files it runs with, in order."""
SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")
SIGNALS = frozenset({"traces", "metrics", "logs"})
ALL = SIGNALS
# The pipeline signals each component type supports (from each component's README status).
RECEIVER_SIGNALS = {"otlp": ALL}
PROCESSOR_SIGNALS = {
    "memory_limiter": ALL,
    "redaction": ALL,
    "resource": ALL,
    "tail_sampling": frozenset({"traces"}),
}
EXPORTER_SIGNALS = {
    "otlp_grpc": ALL,
    "debug": ALL,
    "prometheus": frozenset({"metrics"}),
    "load_balancing": frozenset({"traces", "logs"}),
}
# Connector type -> (signal it consumes as an exporter, signal it emits as a receiver); None
# means the same signal on both sides.
CONNECTOR_SIGNALS: dict[str, tuple[str, str] | None] = {
    "span_metrics": ("traces", "metrics"),
    "forward": None,
}
DEPRECATED_TYPES = {
    "otlp": "exporters",  # -> otlp_grpc
    "otlphttp": "exporters",  # -> otlp_http
    "spanmetrics": "connectors",  # -> span_metrics
    "tailsampling": "processors",  # -> tail_sampling
    "loadbalancing": "exporters",  # -> load_balancing
    "logging": "exporters",  # -> debug
    "batch": "processors",  # -> exporter sending_queue.batch
}
SPAN_METRICS_DIMENSIONS = [
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.operation.name",
    "gen_ai.prompt.name",
    "gen_ai.prompt.version",
    "error.type",
]
_ENV_DEFAULT = re.compile(r"\$\{env:(\w+):-([^}]*)\}")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two config documents as the Collector's confmap does: maps deep, lists replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load(repo_root: Path, deployment: str) -> dict[str, Any]:
    """The effective configuration of one deployment (its --config files merged in order)."""
    config: dict[str, Any] = {}
    for name in CONFIGS[deployment]:
        document = yaml.safe_load((repo_root / OTELCOL / name).read_text(encoding="utf-8"))
        config = merge(config, document)
    return config


def env_default(value: str) -> str:
    """`${env:NAME:-default}` placeholders replaced by their defaults."""
    return _ENV_DEFAULT.sub(lambda m: m.group(2), value)


def seconds(duration: str) -> float:
    """A Go duration of the forms the configs use (`250ms`, `8s`, `5m`) in seconds."""
    match = _DURATION.match(duration)
    assert match, duration
    number, unit = float(match.group(1)), match.group(2)
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


def component_type(component_id: str) -> str:
    """`otlp_grpc/jaeger` -> `otlp_grpc`."""
    return component_id.split("/", 1)[0]


def pipelines(config: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(pipeline id, signal, pipeline) for every pipeline of the service."""
    for pipeline_id, pipeline in config["service"]["pipelines"].items():
        yield pipeline_id, component_type(pipeline_id), pipeline


@pytest.fixture(params=sorted(CONFIGS))
def deployment(request: pytest.FixtureRequest) -> str:
    """Each Collector deployment: agent, gateway, gateway-ha."""
    name: str = request.param
    return name


def wiring_problems(config: Mapping[str, Any]) -> list[str]:
    """What a Collector would refuse at startup in the pipeline wiring, as readable lines."""
    problems: list[str] = []
    connectors = set(config.get("connectors") or {})
    used: dict[str, set[str]] = {section: set() for section in SECTIONS}
    supported = {"receivers": RECEIVER_SIGNALS, "exporters": EXPORTER_SIGNALS}
    for pipeline_id, signal, pipeline in pipelines(config):
        if signal not in SIGNALS:
            problems.append(f"{pipeline_id}: unknown signal")
        for role in ("receivers", "exporters"):
            if not pipeline.get(role):
                problems.append(f"{pipeline_id}: no {role}")
            for component in pipeline.get(role, []):
                if component in connectors:
                    used["connectors"].add(component)
                    continue
                used[role].add(component)
                if signal not in supported[role].get(component_type(component), ()):
                    problems.append(f"{pipeline_id}: {component} does not take {signal}")
        for processor in pipeline.get("processors", []):
            used["processors"].add(processor)
            if signal not in PROCESSOR_SIGNALS.get(component_type(processor), ()):
                problems.append(f"{pipeline_id}: {processor} does not take {signal}")
    used["extensions"].update(config["service"].get("extensions", []))
    for section in SECTIONS:
        defined = set(config.get(section) or {})
        problems += [
            f"{section}: {c} is used but not defined" for c in sorted(used[section] - defined)
        ]
        problems += [
            f"{section}: {c} is defined but not used" for c in sorted(defined - used[section])
        ]
    return problems


def test_every_component_is_defined_used_and_in_a_pipeline_of_its_signal(
    repo_root: Path, deployment: str
) -> None:
    """References resolve, nothing is defined unused, each component fits its pipeline signal."""
    assert wiring_problems(load(repo_root, deployment)) == []


def test_wiring_check_reports_what_a_collector_would_refuse(repo_root: Path) -> None:
    """Undefined, unused and wrong-signal components are each reported (the check can fail)."""
    config = load(repo_root, "gateway")
    del config["processors"]["memory_limiter"]
    config["exporters"]["debug/unused"] = {}
    config["service"]["pipelines"]["traces/sampling"]["exporters"].append("prometheus")
    assert wiring_problems(config) == [
        "traces/sampling: prometheus does not take traces",
        "processors: memory_limiter is used but not defined",
        "exporters: debug/unused is defined but not used",
    ]


def test_connectors_bridge_the_right_signals(repo_root: Path, deployment: str) -> None:
    """Each connector is an exporter of one pipeline and a receiver of another, signals paired."""
    config = load(repo_root, deployment)
    for connector in config.get("connectors", {}):
        as_exporter = {s for _, s, p in pipelines(config) if connector in p["exporters"]}
        as_receiver = {s for _, s, p in pipelines(config) if connector in p["receivers"]}
        assert as_exporter, connector
        assert as_receiver, connector
        pairing = CONNECTOR_SIGNALS[component_type(connector)]
        if pairing is None:
            assert as_exporter == as_receiver, connector
        else:
            assert as_exporter == {pairing[0]}, connector
            assert as_receiver == {pairing[1]}, connector


def test_only_current_component_names(repo_root: Path, deployment: str) -> None:
    """No deprecated aliases (otlp exporter, spanmetrics, loadbalancing...) nor batch processor."""
    config = load(repo_root, deployment)
    for alias, section in DEPRECATED_TYPES.items():
        types = {component_type(c) for c in config.get(section) or {}}
        assert alias not in types, (deployment, section, alias)


def test_pipelines_from_outside_start_with_the_memory_limiter(
    repo_root: Path, deployment: str
) -> None:
    """Data arriving over the network is refused before the process runs out of memory."""
    config = load(repo_root, deployment)
    for pipeline_id, _, pipeline in pipelines(config):
        if any(component_type(r) == "otlp" for r in pipeline["receivers"]):
            assert pipeline["processors"][0] == "memory_limiter", (deployment, pipeline_id)


def test_otlp_exporters_batch_in_their_sending_queue(repo_root: Path, deployment: str) -> None:
    """Every OTLP exporter (also load balancing's per-backend one) batches in its queue."""
    config = load(repo_root, deployment)
    for exporter_id, settings in config["exporters"].items():
        kind = component_type(exporter_id)
        if kind not in ("load_balancing", "otlp_grpc"):
            continue
        otlp = settings["protocol"]["otlp"] if kind == "load_balancing" else settings
        batch = otlp["sending_queue"]["batch"]
        assert batch["sizer"] == "items", exporter_id
        assert batch["min_size"] <= batch["max_size"], exporter_id
        assert seconds(batch["flush_timeout"]) <= 1, exporter_id


def test_agent_redaction_is_the_generated_processor(repo_root: Path) -> None:
    """The agent runs redaction.yaml's processor unchanged, as otel_llm.redaction renders it."""
    agent_only = yaml.safe_load((repo_root / OTELCOL / "agent.yaml").read_text(encoding="utf-8"))
    assert "redaction/otel_llm" not in agent_only["processors"]  # no copy that could drift
    generated = yaml.safe_load((repo_root / OTELCOL / "redaction.yaml").read_text(encoding="utf-8"))
    effective = load(repo_root, "agent")["processors"]["redaction/otel_llm"]
    assert effective == generated["processors"]["redaction/otel_llm"]
    assert effective == collector_redaction_config()
    assert effective["blocked_values"]  # the detectors' patterns are really there
    pipes = load(repo_root, "agent")["service"]["pipelines"]
    assert "redaction/otel_llm" in pipes["traces"]["processors"]
    assert "redaction/otel_llm" in pipes["logs"]["processors"]


def test_span_metrics_have_llm_buckets_and_genai_dimensions(
    repo_root: Path, registry: Registry
) -> None:
    """GenAI dimensions; buckets hold gen_ai.client.inference.duration's boundaries and more.

    The dimensions are provider, model, operation, prompt name and version, and error.type.
    """
    inference = next(m for m in registry.metrics if m.name == "gen_ai.client.inference.duration")
    for deployment in ("gateway", "gateway-ha"):
        connector = load(repo_root, deployment)["connectors"]["span_metrics"]
        assert [d["name"] for d in connector["dimensions"]] == SPAN_METRICS_DIMENSIONS
        for dimension in SPAN_METRICS_DIMENSIONS:
            assert dimension in registry.attributes
        assert connector["histogram"]["unit"] == "s"
        buckets = [seconds(b) for b in connector["histogram"]["explicit"]["buckets"]]
        assert buckets == sorted(set(buckets))
        assert {round(b, 6) for b in inference.bucket_boundaries} <= {round(b, 6) for b in buckets}
        assert buckets[-1] >= 300  # multi-minute agent workflows still land in a bucket
        assert connector["exemplars"]["enabled"] is True


def test_span_metrics_are_computed_before_tail_sampling(repo_root: Path) -> None:
    """The pipeline feeding span_metrics has no sampler; sampling happens one hop later."""
    for deployment in ("gateway", "gateway-ha"):
        config = load(repo_root, deployment)
        pipes = config["service"]["pipelines"]
        (source,) = [p for p in pipes.values() if "span_metrics" in p["exporters"]]
        assert "tail_sampling" not in source.get("processors", [])
        (sampling,) = [p for p in pipes.values() if "tail_sampling" in p.get("processors", [])]
        assert "span_metrics" not in sampling["exporters"]
        handoff = set(source["exporters"]) - {"span_metrics"}
        if deployment == "gateway":
            assert handoff == set(sampling["receivers"]) == {"forward/sampling"}
        else:
            # load_balancing sends to the otlp/sampling receiver of the replica owning the trace.
            assert handoff == {"load_balancing"}
            assert sampling["receivers"] == ["otlp/sampling"]
        assert [component_type(e) for e in sampling["exporters"]] == ["otlp_grpc"]


def _policies(repo_root: Path, deployment: str) -> dict[str, dict[str, Any]]:
    sampler = load(repo_root, deployment)["processors"]["tail_sampling"]
    return {policy["name"]: policy for policy in sampler["policies"]}


def test_tail_sampling_keeps_every_kind_of_interesting_trace(
    repo_root: Path, registry: Registry
) -> None:
    """Policies keep errored, slow, expensive, badly evaluated and thumbs-down traces, and 10 %.

    Every attribute a policy reads is in semconv, with the type its policy compares.
    """
    policies = _policies(repo_root, "gateway")
    assert policies["errors"]["status_code"]["status_codes"] == ["ERROR"]
    assert policies["slow"]["latency"]["threshold_ms"] == 8000
    assert 0 < policies["baseline"]["probabilistic"]["sampling_percentage"] < 100
    conditions = {
        name: policy["ottl_condition"]["span"]
        for name, policy in policies.items()
        if policy["type"] == "ottl_condition"
    }
    assert conditions == {
        "expensive": ['attributes["otel_llm.cost.total"] >= 0.05'],
        "low-evaluation-score": ['attributes["otel_llm.evaluation.min_score"] < 0.5'],
    }
    # OTTL compares doubles; numeric_attribute compares integers; string_attribute strings.
    for condition in [c for cs in conditions.values() for c in cs]:
        key = re.search(r'attributes\["([^"]+)"\]', condition)
        assert key
        assert registry.attributes[key.group(1)].type == "double", condition
    failures = policies["failed-evaluations"]["numeric_attribute"]
    assert registry.attributes[failures["key"]].type == "int"
    assert failures["min_value"] == 1
    assert failures["max_value"] > failures["min_value"]
    feedback = policies["negative-feedback"]["string_attribute"]
    sentiment = registry.attributes[feedback["key"]]
    assert feedback["values"] == ["negative"]
    assert "negative" in {member.value for member in sentiment.members}


def test_agent_redaction_never_masks_what_the_sampler_reads(
    repo_root: Path, registry: Registry
) -> None:
    """String attributes the sampling policies match on are in the redaction's ignored keys."""
    ignored = set(load(repo_root, "agent")["processors"]["redaction/otel_llm"]["ignored_keys"])
    text = yaml.safe_dump(_policies(repo_root, "gateway"))
    keys = set(re.findall(r"(?:key: |attributes\[\\?\")([a-z_.]+)", text))
    assert keys == {
        "otel_llm.cost.total",
        "otel_llm.evaluation.failures",
        "otel_llm.evaluation.min_score",
        "otel_llm.feedback.sentiment",
    }
    strings = {key for key in keys if registry.attributes[key].type == "string"}
    assert strings
    assert strings <= ignored


@pytest.mark.parametrize("deployment", ["gateway", "gateway-ha"])
def test_tail_sampling_holds_enough_traces_for_its_decision_wait(
    repo_root: Path, deployment: str
) -> None:
    """num_traces covers expected traces/s x decision_wait, which outlasts the slow threshold."""
    sampler = load(repo_root, deployment)["processors"]["tail_sampling"]
    wait = seconds(sampler["decision_wait"])
    slow = _policies(repo_root, deployment)["slow"]["latency"]["threshold_ms"] / 1000
    assert wait >= 2 * slow
    assert sampler["num_traces"] >= 2 * sampler["expected_new_traces_per_sec"] * wait
    cache = sampler["decision_cache"]
    assert cache["sampled_cache_size"] >= sampler["num_traces"]


def test_gateway_ha_repeats_the_gateway_policies_and_span_metrics(repo_root: Path) -> None:
    """Scaling out changes routing, not what is kept or measured."""
    single, scaled = load(repo_root, "gateway"), load(repo_root, "gateway-ha")
    assert _policies(repo_root, "gateway-ha") == _policies(repo_root, "gateway")
    assert scaled["connectors"]["span_metrics"] == single["connectors"]["span_metrics"]
    for key in ("decision_wait", "decision_cache"):
        assert (
            scaled["processors"]["tail_sampling"][key] == single["processors"]["tail_sampling"][key]
        )


def test_gateway_ha_routes_by_trace_id_to_the_sampling_port(repo_root: Path) -> None:
    """Trace ids are hashed over the headless service on the port otlp/sampling listens on.

    Metrics get a replica label so two replicas never write the same series.
    """
    config = load(repo_root, "gateway-ha")
    balancer = config["exporters"]["load_balancing"]
    assert balancer["routing_key"] == "traceID"
    dns = balancer["resolver"]["dns"]
    assert env_default(dns["hostname"]) == "otel-gateway-sampling"
    listen = config["receivers"]["otlp/sampling"]["protocols"]["grpc"]["endpoint"]
    assert listen == f"0.0.0.0:{dns['port']}"
    assert "endpoint" not in balancer["protocol"]["otlp"]  # filled in per resolved backend
    (replica,) = config["processors"]["resource/replica"]["attributes"]
    assert replica["key"] == "otelcol.replica"
    assert "resource/replica" in config["service"]["pipelines"]["metrics"]["processors"]


def test_metrics_reach_prometheus_with_service_identity(repo_root: Path) -> None:
    """The gateways' Prometheus exporter keeps resource attributes as labels, with exemplars."""
    for deployment in ("gateway", "gateway-ha"):
        exporter = load(repo_root, deployment)["exporters"]["prometheus"]
        assert exporter["resource_to_telemetry_conversion"] == {"enabled": True}
        assert exporter["enable_open_metrics"] is True
        assert exporter["translation_strategy"] == "UnderscoreEscapingWithSuffixes"
        assert exporter["endpoint"] == "0.0.0.0:8889"
