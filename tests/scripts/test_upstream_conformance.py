"""Conformance: every upstream name we use matches the pinned upstream copy; ours never collide."""

import pytest

from semconvgen.model import (
    Registry,
    RequirementLevelMismatch,
    upstream_span_for,
    upstream_span_info,
)


def test_upstream_attributes_exist_current_and_same_type(registry: Registry) -> None:
    """Each upstream attribute we emit exists in the pinned copy, is not deprecated, same type."""
    for attribute in registry.attributes.values():
        if attribute.source != "upstream":
            continue
        info = registry.upstream.attributes.get(attribute.key)
        assert info is not None, f"{attribute.key} is not in the pinned upstream copy"
        assert registry.upstream.is_current_attribute(attribute.key), (
            f"{attribute.key} is deprecated"
        )
        assert info["type"] == attribute.type, attribute.key
        assert info["stability"] == attribute.stability, attribute.key


def test_upstream_enum_members_are_upstream_values(registry: Registry) -> None:
    """Enum values we list for upstream attributes are values upstream defines."""
    for attribute in registry.attributes.values():
        if attribute.source == "upstream" and attribute.members:
            upstream_values = set(registry.upstream.attributes[attribute.key]["enum_values"] or [])
            ours = {m.value for m in attribute.members}
            assert ours <= upstream_values, (attribute.key, ours - upstream_values)


def test_our_names_never_collide_with_upstream(registry: Registry) -> None:
    """No attribute, metric or event of ours reuses or shadows an upstream name."""
    upstream_names = set(registry.upstream.attributes) | set(registry.upstream.metrics)
    upstream_names |= set(registry.upstream.events)
    ours = [a.key for a in registry.attributes.values() if a.source == "otel-llm"]
    ours += [m.name for m in registry.metrics if m.source == "otel-llm"]
    ours += [e.name for e in registry.events if e.source == "otel-llm"]
    ours += [s.type for s in registry.spans if s.source == "otel-llm"]
    assert ours
    for name in ours:
        assert name.startswith("otel_llm."), name
        assert name not in upstream_names, name


def test_upstream_metrics_match(registry: Registry) -> None:
    """Each upstream metric we emit is current, with the same instrument, unit and buckets."""
    for metric in registry.metrics:
        if metric.source != "upstream":
            continue
        info = registry.upstream.metrics.get(metric.name)
        assert info is not None, metric.name
        assert registry.upstream.is_current_metric(metric.name), f"{metric.name} was removed"
        assert (info["instrument"], info["unit"]) == (metric.instrument, metric.unit), metric.name
        assert (
            tuple(float(b) for b in info.get("bucket_boundaries") or ()) == metric.bucket_boundaries
        )


def test_upstream_metric_attributes_are_upstream_or_marked_ours(registry: Registry) -> None:
    """On upstream metrics, every attribute is one upstream lists there, or is marked `ours`."""
    refinement = {"openai.response.service_tier", "openai.response.system_fingerprint"}
    for metric in registry.metrics:
        if metric.source != "upstream":
            continue
        upstream_keys = set(registry.upstream.metrics[metric.name]["attributes"]) | refinement
        extra = {r.attribute.key for r in metric.attributes if not r.ours} - upstream_keys
        assert not extra, (metric.name, extra)


def test_upstream_events_exist(registry: Registry) -> None:
    """Each upstream event we emit exists and is not deprecated upstream."""
    for event in registry.events:
        if event.source == "upstream":
            assert registry.upstream.is_current_event(event.name), event.name


def test_upstream_spans_use_upstream_attributes(registry: Registry) -> None:
    """On upstream spans, each upstream attribute is one upstream allows on that span type."""
    for span in registry.spans:
        if span.source != "upstream":
            continue
        allowed = upstream_span_for(registry, span.type)
        extra = {
            r.attribute.key
            for r in span.attributes
            if r.attribute.source == "upstream" and not r.ours
        } - set(allowed)
        assert not extra, (span.type, extra)


def test_requirement_levels_match_upstream(registry: Registry) -> None:
    """Upstream attributes on upstream spans keep upstream's requirement level, or stricter."""
    mismatches: list[RequirementLevelMismatch] = []
    for span in registry.spans:
        if span.source != "upstream":
            continue
        allowed = upstream_span_for(registry, span.type)
        for ref in span.attributes:
            upstream_level = allowed.get(ref.attribute.key)
            if upstream_level is None or ref.ours:
                continue
            if not ref.requirement.at_least(upstream_level):
                mismatches.append(
                    (span.type, ref.attribute.key, ref.requirement.level, upstream_level)
                )
    assert mismatches == []


@pytest.mark.parametrize(
    "name", ["gen_ai.usage.cache_creation.input_tokens", "gen_ai.token.type", "gen_ai.system"]
)
def test_superseded_names_are_not_emitted(registry: Registry, name: str) -> None:
    """Names that upstream renamed or removed by late 2026 are not in our registry."""
    assert name not in registry.attributes


def test_upstream_spans_keep_kind_and_required_attributes(registry: Registry) -> None:
    """Each upstream span we emit has upstream's kind and every attribute upstream requires."""
    for span in registry.spans:
        if span.source != "upstream":
            continue
        info = upstream_span_info(registry, span.type)
        assert info is not None, f"{span.type} is not an upstream span type in the followed state"
        assert span.kind == info["kind"], span.type
        # Base span only: provider refinements (e.g. Bedrock's guardrail id) apply per provider.
        base = info["attributes"]
        required = {k for k, v in base.items() if v["requirement_level"] == "required"}
        assert required <= {r.attribute.key for r in span.attributes}, span.type


def test_upstream_metrics_keep_required_attributes(registry: Registry) -> None:
    """Each upstream metric we emit carries every attribute upstream marks required on it."""
    for metric in registry.metrics:
        if metric.source != "upstream":
            continue
        upstream_attributes = registry.upstream.metrics[metric.name]["attributes"]
        required = {
            k for k, v in upstream_attributes.items() if v["requirement_level"] == "required"
        }
        ours = {r.attribute.key for r in metric.attributes if r.requirement.level == "required"}
        assert required <= ours, (metric.name, required - ours)
        # error.type is on duration and per-operation histograms, never on the usage counters.
        has_error = "error.type" in {r.attribute.key for r in metric.attributes}
        assert has_error == ("error.type" in upstream_attributes), metric.name


def test_details_event_mirrors_the_inference_span(registry: Registry) -> None:
    """The details event carries the inference span's upstream attributes, as upstream says."""
    span = next(s for s in registry.spans if s.type == "gen_ai.client.inference")
    event = next(
        e for e in registry.events if e.name == "gen_ai.client.inference.operation.details"
    )
    upstream_on_span = {
        r.attribute.key for r in span.attributes if r.attribute.source == "upstream"
    }
    provider_specific = {k for k in upstream_on_span if k.startswith("openai.")}
    assert upstream_on_span - provider_specific <= {r.attribute.key for r in event.attributes}
