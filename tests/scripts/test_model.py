"""Tests for semconvgen.model: the registry loads, and each kind of mistake is reported clearly."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from semconvgen.model import Registry, RegistryError, load_registry


@pytest.fixture
def broken(repo_root: Path, tmp_path: Path) -> Callable[[str, str, str], list[str]]:
    """Copy semconv/, replace one snippet in one file, and return the reported problems."""

    def run(file: str, old: str, new: str) -> list[str]:
        root = tmp_path / "semconv"
        shutil.copytree(repo_root / "semconv", root)
        path = root / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture snippet not found in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(RegistryError) as excinfo:
            load_registry(root)
        return list(excinfo.value.problems)

    return run


def test_registry_loads_and_resolves(registry: Registry) -> None:
    """The committed registry is valid: spans, metrics, events and upgrades all resolve."""
    assert {s.type for s in registry.spans} >= {
        "gen_ai.client.inference",
        "otel_llm.feedback.internal",
    }
    assert len(registry.metrics) >= 18
    assert {e.name for e in registry.events} == {
        "gen_ai.client.inference.operation.details",
        "gen_ai.evaluation.result",
        "otel_llm.prompt.release",
    }
    assert len(registry.upgrades) > 100


def test_unknown_ref_names_file_and_id(broken: Callable[[str, str, str], list[str]]) -> None:
    """A ref to an undefined attribute is reported with the file and the signal that holds it."""
    problems = broken("metrics.yaml", "ref: gen_ai.tool.name", "ref: gen_ai.tool.nom")
    assert (
        "semconv/metrics.yaml: gen_ai.execute_tool.duration: unknown ref 'gen_ai.tool.nom'"
        in problems
    )


def test_unknown_ref_group_is_reported(broken: Callable[[str, str, str], list[str]]) -> None:
    """A ref_group to an undefined group is reported with the file and owner."""
    problems = broken("events.yaml", "ref_group: group.gen_ai.inference", "ref_group: group.nope")
    assert (
        "semconv/events.yaml: gen_ai.client.inference.operation.details: "
        "unknown ref_group 'group.nope'" in problems
    )


def test_duplicate_attribute_names_both_files(broken: Callable[[str, str, str], list[str]]) -> None:
    """An attribute defined twice is reported at the second place, naming the first."""
    problems = broken(
        "registry/otel-llm.yaml", "key: otel_llm.tenant.id", "key: otel_llm.session.id"
    )
    assert (
        "semconv/registry/otel-llm.yaml: otel_llm.session.id: duplicate id "
        "(first defined in semconv/registry/otel-llm.yaml)" in problems
    )


def test_duplicate_metric_is_reported(broken: Callable[[str, str, str], list[str]]) -> None:
    """Two metrics with one name are reported with the file and the name."""
    problems = broken(
        "metrics.yaml", "name: otel_llm.feedback.received", "name: otel_llm.client.cost"
    )
    assert any(
        p.startswith("semconv/metrics.yaml: otel_llm.client.cost: duplicate id") for p in problems
    )


def test_bad_type_is_reported(broken: Callable[[str, str, str], list[str]]) -> None:
    """An unknown attribute type is reported with the file and the key."""
    problems = broken(
        "registry/gen-ai.yaml",
        "key: gen_ai.request.max_tokens\n    type: int",
        "key: gen_ai.request.max_tokens\n    type: integer",
    )
    assert any(
        p.startswith("semconv/registry/gen-ai.yaml: gen_ai.request.max_tokens: bad type 'integer'")
        for p in problems
    )


def test_missing_brief_is_reported(broken: Callable[[str, str, str], list[str]]) -> None:
    """An attribute without a brief is reported with the file and the key."""
    problems = broken(
        "registry/otel-llm.yaml",
        "    brief: >\n      ISO 4217 code",
        "    note: >\n      ISO 4217 code",
    )
    assert "semconv/registry/otel-llm.yaml: otel_llm.cost.currency: missing brief" in problems


def test_extension_outside_namespace_is_rejected(
    broken: Callable[[str, str, str], list[str]],
) -> None:
    """One of our attributes declared outside `otel_llm.` is rejected: never inside gen_ai.*."""
    problems = broken(
        "registry/otel-llm.yaml", "key: otel_llm.cost.total", "key: gen_ai.cost.total"
    )
    assert (
        "semconv/registry/otel-llm.yaml: gen_ai.cost.total: our extensions must live in the "
        "`otel_llm.` namespace" in problems
    )


def test_high_cardinality_metric_attribute_is_rejected(
    broken: Callable[[str, str, str], list[str]],
) -> None:
    """Putting an id on a metric is rejected, keeping metrics low-cardinality."""
    problems = broken(
        "metrics.yaml",
        "      - ref: otel_llm.redaction.kind\n",
        "      - ref: otel_llm.redaction.kind\n        requirement_level: required\n"
        "      - ref: otel_llm.session.id\n",
    )
    assert (
        "semconv/metrics.yaml: otel_llm.redaction.findings: 'otel_llm.session.id' is not a "
        "metric attribute" in problems
    )


def test_unsorted_buckets_are_rejected(broken: Callable[[str, str, str], list[str]]) -> None:
    """Histogram bucket boundaries that do not increase are reported."""
    problems = broken("metrics.yaml", "[0.1, 0.2, 0.3,", "[0.1, 0.3, 0.2,")
    assert (
        "semconv/metrics.yaml: otel_llm.evaluation.score: bucket_boundaries must be strictly "
        "increasing" in problems
    )


def test_span_name_placeholder_must_be_an_attribute(
    broken: Callable[[str, str, str], list[str]],
) -> None:
    """A span name format that uses an attribute the span lacks is reported."""
    problems = broken(
        "spans.yaml", 'name: "execute_tool {gen_ai.tool.name}"', 'name: "x {gen_ai.agent.id}"'
    )
    assert (
        "semconv/spans.yaml: gen_ai.execute_tool.internal: span name uses 'gen_ai.agent.id', "
        "not on the span" in problems
    )


def test_invalid_yaml_names_the_file(broken: Callable[[str, str, str], list[str]]) -> None:
    """A YAML syntax error is reported against its file."""
    problems = broken("events.yaml", "events:\n", "events: [\n")
    assert any(p.startswith("semconv/events.yaml: (file): not valid YAML") for p in problems)


def test_upgrade_target_must_be_current(broken: Callable[[str, str, str], list[str]]) -> None:
    """An upgrade to a name that is neither ours nor current upstream is rejected."""
    problems = broken("upgrades.yaml", "to: gen_ai.provider.name", "to: gen_ai.system")
    assert any("unknown target 'gen_ai.system'" in p for p in problems)


def test_upgrading_a_current_name_is_rejected(broken: Callable[[str, str, str], list[str]]) -> None:
    """A current name cannot appear as a deprecated one."""
    problems = broken("upgrades.yaml", "from: gen_ai.system\n", "from: gen_ai.request.model\n")
    assert (
        "semconv/upgrades.yaml: gen_ai.request.model: is a current name; it cannot be upgraded"
        in problems
    )


def test_every_problem_is_reported_at_once(broken: Callable[[str, str, str], list[str]]) -> None:
    """Loading collects all problems rather than stopping at the first."""
    problems = broken(
        "registry/gen-ai.yaml",
        "key: gen_ai.request.seed\n    type: int\n    stability: development\n    brief:",
        "key: gen_ai.request.seed\n    type: integer\n    stability: wobbly\n    brief:",
    )
    assert len([p for p in problems if "gen_ai.request.seed" in p]) == 2


def test_structured_type_gives_a_message_not_a_traceback(
    broken: Callable[[str, str, str], list[str]],
) -> None:
    """A weaver-style `type: {members: ...}` is reported as a bad type instead of crashing."""
    problems = broken(
        "registry/general.yaml",
        "key: openai.api.type\n    type: string",
        "key: openai.api.type\n    type: {members: [a]}",
    )
    assert any(
        p.startswith("semconv/registry/general.yaml: openai.api.type: bad type") for p in problems
    )


def test_section_that_is_not_a_list_is_reported(
    broken: Callable[[str, str, str], list[str]],
) -> None:
    """`events: 5` says the section must be a list."""
    problems = broken("events.yaml", "events:\n", "events: 5\nunused:\n")
    assert "semconv/events.yaml: events: must be a list" in problems


def test_duplicate_yaml_key_is_reported(broken: Callable[[str, str, str], list[str]]) -> None:
    """A key repeated inside one mapping is an error, not silently the last value."""
    problems = broken(
        "registry/general.yaml",
        "key: server.port\n    type: int",
        "key: server.port\n    type: int\n    type: string",
    )
    assert any("duplicate key 'type'" in p for p in problems)


def test_missing_file_is_reported(repo_root: Path, tmp_path: Path) -> None:
    """A missing upgrades.yaml is reported against its path, not raised as FileNotFoundError."""
    shutil.copytree(repo_root / "semconv", tmp_path / "semconv")
    (tmp_path / "semconv/upgrades.yaml").unlink()
    with pytest.raises(RegistryError) as excinfo:
        load_registry(tmp_path / "semconv")
    assert any(
        p.startswith("semconv/upgrades.yaml: (file): cannot be read")
        for p in excinfo.value.problems
    )
