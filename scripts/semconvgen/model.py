"""Load and validate the semconv/ registry into typed, resolved objects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

ATTRIBUTE_TYPES = frozenset(
    {
        "string",
        "int",
        "double",
        "boolean",
        "string[]",
        "int[]",
        "double[]",
        "boolean[]",
        "any",
        "template[string]",
    }
)
STABILITIES = frozenset({"development", "release_candidate", "stable"})
SOURCES = frozenset({"upstream", "otel-llm"})
REQUIREMENT_LEVELS = ("required", "conditionally_required", "recommended", "opt_in")
SPAN_KINDS = frozenset({"client", "server", "internal", "producer", "consumer"})
INSTRUMENTS = frozenset({"counter", "histogram", "updowncounter", "gauge"})
VALUE_TYPES = frozenset({"int", "double"})
UPGRADE_SOURCES = frozenset({"otel-genai-core", "openllmetry", "openlit", "openinference"})
UPGRADE_ACTIONS = frozenset({"rename", "drop", "messages", "classify"})

_REGISTRY_FORMAT = "otel-llm/registry/1"
_SIGNALS_FORMAT = "otel-llm/signals/1"
_UPGRADES_FORMAT = "otel-llm/upgrades/1"
_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key repeated in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class RegistryError(Exception):
    """One or more problems in the registry, each naming its file and id."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid semconv registry:\n  " + "\n  ".join(self.problems))


@dataclass(frozen=True)
class Member:
    """One listed value of an enum attribute."""

    id: str
    value: str
    brief: str


@dataclass(frozen=True)
class Attribute:
    """An attribute definition from registry/*.yaml."""

    key: str
    type: str
    brief: str
    stability: str
    source: str
    file: str
    note: str = ""
    examples: tuple[Any, ...] = ()
    members: tuple[Member, ...] = ()
    high_cardinality: bool = False

    @property
    def namespace(self) -> str:
        """The first segment of the key, which names the generated module."""
        return self.key.split(".", 1)[0]

    @property
    def metric_safe(self) -> bool:
        """Whether the attribute may be a metric dimension (bounded cardinality)."""
        structured = self.type == "any" or self.type.startswith("template") or "[]" in self.type
        return not (self.high_cardinality or structured)


@dataclass(frozen=True)
class Requirement:
    """A requirement level, with the condition text where it has one."""

    level: str
    condition: str = ""

    def at_least(self, upstream_level: str) -> bool:
        """Whether this level is as strict as an upstream level such as `recommended: When ...`."""
        order = REQUIREMENT_LEVELS  # strictest first
        base = upstream_level.split(":", 1)[0].strip()
        return base not in order or order.index(self.level) <= order.index(base)

    def describe(self) -> str:
        """Render as the docs show it, e.g. `conditionally_required: If available.`."""
        return f"{self.level}: {self.condition}" if self.condition else self.level


@dataclass(frozen=True)
class AttributeRef:
    """An attribute as used by one span, metric, event or group."""

    attribute: Attribute
    requirement: Requirement
    ours: bool = False


@dataclass(frozen=True)
class Span:
    """A span type we emit."""

    type: str
    source: str
    kind: str
    name: str
    brief: str
    file: str
    attributes: tuple[AttributeRef, ...]


@dataclass(frozen=True)
class Metric:
    """A metric instrument we emit."""

    name: str
    source: str
    instrument: str
    unit: str
    value_type: str
    brief: str
    file: str
    attributes: tuple[AttributeRef, ...]
    bucket_boundaries: tuple[float, ...] = ()

    @property
    def namespace(self) -> str:
        """The first segment of the name, which names the generated module."""
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class Event:
    """An event (log record with an event name) we emit."""

    name: str
    source: str
    requirement: Requirement
    brief: str
    file: str
    attributes: tuple[AttributeRef, ...]
    severity_number: int | None = None

    @property
    def namespace(self) -> str:
        """The first segment of the name, which names the generated module."""
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class Upgrade:
    """One row of the deprecated-or-foreign to current name table."""

    kind: str  # attribute | attribute_pattern | metric | event
    from_: str
    to: str | None
    action: str
    sources: tuple[str, ...]
    note: str
    values: tuple[tuple[str, str], ...] = ()
    field: str = ""
    split_attribute: str = ""


@dataclass(frozen=True)
class UpstreamRegistry:
    """The pinned upstream copy: current attribute, metric and event names with their facts."""

    attributes: Mapping[str, Mapping[str, Any]]
    metrics: Mapping[str, Mapping[str, Any]]
    events: Mapping[str, Mapping[str, Any]]
    spans: Mapping[str, Mapping[str, Any]]
    span_refinements: Mapping[str, Mapping[str, Any]]

    def is_current_attribute(self, key: str) -> bool:
        """True when the key exists upstream in the followed state and is not deprecated."""
        info = self.attributes.get(key)
        if info is None:
            return False
        return not info.get("deprecated") and info.get("in_genai_late_2026", True) is not False

    def is_current_metric(self, name: str) -> bool:
        """True when the metric exists upstream and was not removed or renamed late 2026."""
        info = self.metrics.get(name)
        return info is not None and not str(info.get("late_2026", "")).startswith(
            ("REMOVED", "RENAMED")
        )

    def is_current_event(self, name: str) -> bool:
        """True when the event exists upstream and is not deprecated."""
        info = self.events.get(name)
        return info is not None and not info.get("deprecated", False)


@dataclass(frozen=True)
class Registry:
    """The whole resolved registry."""

    root: Path
    manifest: Mapping[str, Any]
    attributes: Mapping[str, Attribute]
    spans: tuple[Span, ...]
    metrics: tuple[Metric, ...]
    events: tuple[Event, ...]
    upgrades: tuple[Upgrade, ...]
    upstream: UpstreamRegistry = field(repr=False)

    def namespaces(self) -> list[str]:
        """Every namespace with an attribute, metric or event, sorted."""
        found = {a.namespace for a in self.attributes.values()}
        found |= {m.namespace for m in self.metrics} | {e.namespace for e in self.events}
        return sorted(found)


RequirementLevelMismatch = tuple[str, str, str, str]
"""(span type, attribute, our level, upstream level) for a level weaker than upstream's."""


def _upstream_span_id(registry: Registry, span_type: str) -> str:
    """The pinned copy's id for a span type, following merged late-2026 renames only."""
    for candidate, info in registry.upstream.spans.items():
        late = str(info.get("late_2026") or "")
        if late.split(" ", 1)[0] == span_type and not any(
            word in late for word in ("unverified", "proposal")
        ):
            return candidate
    return span_type


def upstream_span_info(registry: Registry, span_type: str) -> Mapping[str, Any] | None:
    """The pinned copy's entry for a span type in the state we follow, or None if it has none."""
    return registry.upstream.spans.get(_upstream_span_id(registry, span_type))


def upstream_span_for(registry: Registry, span_type: str) -> dict[str, str]:
    """Upstream's attributes and requirement levels for a span type, in the state we follow.

    Resolves late-2026 renames that are merged (not those marked unverified or proposals),
    adds provider refinements' extra attributes, then applies the late attribute changes.
    """
    upstream_id = _upstream_span_id(registry, span_type)
    info = registry.upstream.spans.get(upstream_id, {})
    levels = {
        key: str(value.get("requirement_level", ""))
        for key, value in info.get("attributes", {}).items()
    }
    for refinement in registry.upstream.span_refinements.values():
        if refinement.get("ref") == upstream_id:
            for key, value in refinement.get("attributes", {}).items():
                levels.setdefault(key, str(value.get("requirement_level", "")))
    changes = info.get("late_2026_attribute_changes") or {}
    for key in changes.get("added_recommended_when_applicable", []):
        levels[key] = "recommended: When applicable."
    for key in changes.get("removed", []):
        levels.pop(key, None)
    return levels


def load_upstream(path: Path) -> UpstreamRegistry:
    """Read the pinned upstream copy (registry.json)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    attributes = {k: v for k, v in data.items() if "." in k and isinstance(v, dict)}
    attributes.update(data.get("related_non_gen_ai_attributes", {}))
    return UpstreamRegistry(
        attributes=attributes,
        metrics=data.get("metrics", {}),
        events=data.get("events", {}),
        spans=data.get("spans", {}),
        span_refinements=data.get("span_refinements", {}),
    )


class _Loader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []
        self.attributes: dict[str, Attribute] = {}
        self.groups: dict[str, tuple[str, list[Any]]] = {}
        self._resolved_groups: dict[str, tuple[AttributeRef, ...]] = {}

    def problem(self, file: str, ident: str, message: str) -> None:
        self.problems.append(f"{file}: {ident}: {message}")

    def read_yaml(self, path: Path, file_format: str | None) -> dict[str, Any]:
        rel = self.rel(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
        except OSError as exc:
            self.problem(rel, "(file)", f"cannot be read: {exc.strerror or exc}")
            return {}
        except yaml.YAMLError as exc:
            self.problem(rel, "(file)", f"not valid YAML: {exc}")
            return {}
        if not isinstance(data, dict):
            self.problem(rel, "(file)", "expected a mapping at the top level")
            return {}
        if file_format is not None and data.get("file_format") != file_format:
            self.problem(rel, "(file)", f"file_format must be {file_format!r}")
        return data

    def entries(self, rel: str, data: Mapping[str, Any], section: str) -> list[Any]:
        """The list under `section` (empty when absent); anything else is a problem."""
        value = data.get(section)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(rel, section, "must be a list")
            return []
        return value

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    # --- attributes ------------------------------------------------------------------------
    def load_attribute_file(self, path: Path) -> None:
        rel = self.rel(path)
        data = self.read_yaml(path, _REGISTRY_FORMAT)
        source = data.get("source")
        if not _one_of(source, SOURCES):
            self.problem(rel, "(file)", f"source must be one of {sorted(SOURCES)}")
            return
        for index, raw in enumerate(self.entries(rel, data, "attributes")):
            self.load_attribute(rel, index, raw, str(source))

    def load_attribute(self, rel: str, index: int, raw: Any, source: str) -> None:
        allowed = {"key", "type", "brief", "note", "examples", "stability", "members"}
        allowed.add("high_cardinality")
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
            self.problem(rel, f"attributes[{index}]", "each attribute needs a string `key`")
            return
        key: str = raw["key"]
        self.check_fields(rel, key, raw, allowed)
        type_ = raw.get("type")
        if not _one_of(type_, ATTRIBUTE_TYPES):
            self.problem(rel, key, f"bad type {type_!r}; expected one of {sorted(ATTRIBUTE_TYPES)}")
        brief = raw.get("brief")
        if not isinstance(brief, str) or not brief.strip():
            self.problem(rel, key, "missing brief")
        stability = raw.get("stability")
        if not _one_of(stability, STABILITIES):
            self.problem(rel, key, f"stability must be one of {sorted(STABILITIES)}")
        self.check_namespace(rel, key, source)
        members = self.load_members(rel, key, raw.get("members"), type_)
        if key in self.attributes:
            self.problem(rel, key, f"duplicate id (first defined in {self.attributes[key].file})")
            return
        self.attributes[key] = Attribute(
            key=key,
            type=str(type_),
            brief=_clean(brief),
            stability=str(stability),
            source=source,
            file=rel,
            note=_clean(raw.get("note")),
            examples=tuple(_as_list(raw.get("examples"))),
            members=members,
            high_cardinality=bool(raw.get("high_cardinality", False)),
        )

    def load_members(self, rel: str, key: str, raw: Any, type_: Any) -> tuple[Member, ...]:
        if raw is None:
            return ()
        if type_ != "string":
            self.problem(rel, key, "members are only allowed on string attributes")
        members: list[Member] = []
        seen: set[str] = set()
        for item in _as_list(raw):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                self.problem(rel, key, "each member needs a string `id`")
                continue
            if not isinstance(item.get("brief"), str) or not item["brief"].strip():
                self.problem(rel, f"{key}.{item['id']}", "missing brief")
            value = str(item.get("value", item["id"]))
            if value in seen:
                self.problem(rel, key, f"duplicate member {value!r}")
            seen.add(value)
            members.append(Member(id=item["id"], value=value, brief=_clean(item.get("brief"))))
        return tuple(members)

    def check_namespace(self, rel: str, ident: str, source: Any) -> None:
        ours = ident.startswith("otel_llm.")
        if source == "otel-llm" and not ours:
            self.problem(rel, ident, "our extensions must live in the `otel_llm.` namespace")
        if source == "upstream" and ours:
            self.problem(rel, ident, "`otel_llm.` names must be declared with source otel-llm")

    def check_fields(self, rel: str, ident: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
        unknown = sorted(set(raw) - allowed)
        if unknown:
            self.problem(rel, ident, f"unknown field(s) {', '.join(unknown)}")

    # --- references and groups -------------------------------------------------------------
    def collect_groups(self, rel: str, data: Mapping[str, Any]) -> None:
        for raw in self.entries(rel, data, "attribute_groups"):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                self.problem(rel, "attribute_groups", "each group needs a string `id`")
                continue
            gid: str = raw["id"]
            self.check_fields(rel, gid, raw, {"id", "brief", "attributes"})
            if not isinstance(raw.get("brief"), str) or not raw["brief"].strip():
                self.problem(rel, gid, "missing brief")
            if gid in self.groups:
                self.problem(rel, gid, f"duplicate id (first defined in {self.groups[gid][0]})")
                continue
            self.groups[gid] = (rel, _as_list(raw.get("attributes")))

    def resolve_refs(
        self, rel: str, owner: str, raw_refs: Iterable[Any], stack: tuple[str, ...] = ()
    ) -> tuple[AttributeRef, ...]:
        refs: list[AttributeRef] = []
        for raw in raw_refs:
            if isinstance(raw, dict) and isinstance(raw.get("ref_group"), str):
                refs.extend(self.resolve_group(rel, owner, raw["ref_group"], stack))
                continue
            if not isinstance(raw, dict) or not isinstance(raw.get("ref"), str):
                self.problem(rel, owner, f"bad attribute entry {raw!r}; expected ref or ref_group")
                continue
            self.check_fields(rel, owner, raw, {"ref", "requirement_level", "ours"})
            attribute = self.attributes.get(raw["ref"])
            if attribute is None:
                self.problem(rel, owner, f"unknown ref {raw['ref']!r}")
                continue
            requirement = self.parse_requirement(rel, f"{owner} -> {raw['ref']}", raw)
            refs.append(AttributeRef(attribute, requirement, bool(raw.get("ours", False))))
        return tuple(refs)

    def resolve_group(
        self, rel: str, owner: str, gid: str, stack: tuple[str, ...]
    ) -> tuple[AttributeRef, ...]:
        if gid in stack:
            self.problem(rel, owner, f"attribute group cycle: {' -> '.join((*stack, gid))}")
            return ()
        if gid in self._resolved_groups:
            return self._resolved_groups[gid]
        if gid not in self.groups:
            self.problem(rel, owner, f"unknown ref_group {gid!r}")
            return ()
        group_file, raw_refs = self.groups[gid]
        resolved = self.resolve_refs(group_file, gid, raw_refs, (*stack, gid))
        self._resolved_groups[gid] = resolved
        return resolved

    def parse_requirement(self, rel: str, ident: str, raw: Mapping[str, Any]) -> Requirement:
        value = raw.get("requirement_level")
        if isinstance(value, str) and value in REQUIREMENT_LEVELS:
            return Requirement(value)
        if isinstance(value, dict) and len(value) == 1:
            ((level, condition),) = value.items()
            if level in REQUIREMENT_LEVELS and isinstance(condition, str):
                return Requirement(str(level), _clean(condition))
        self.problem(rel, ident, f"bad requirement_level {value!r}")
        return Requirement("recommended")

    def finish_refs(self, rel: str, owner: str, refs: tuple[AttributeRef, ...]) -> None:
        seen: set[str] = set()
        for ref in refs:
            if ref.attribute.key in seen:
                self.problem(rel, owner, f"attribute {ref.attribute.key!r} listed twice")
            seen.add(ref.attribute.key)
            if ref.ours and ref.attribute.source == "otel-llm":
                self.problem(rel, owner, f"`ours` is implied for {ref.attribute.key!r}")

    # --- signals ---------------------------------------------------------------------------
    def load_spans(self, rel: str, data: Mapping[str, Any]) -> list[Span]:
        spans: list[Span] = []
        allowed = {"type", "source", "kind", "name", "brief", "attributes"}
        for raw in self.entries(rel, data, "spans"):
            ident = self.signal_id(rel, raw, "type")
            if ident is None:
                continue
            self.check_fields(rel, ident, raw, allowed)
            self.check_namespace(rel, ident, raw.get("source"))
            if not _one_of(raw.get("kind"), SPAN_KINDS):
                self.problem(rel, ident, f"kind must be one of {sorted(SPAN_KINDS)}")
            refs = self.resolve_refs(rel, ident, _as_list(raw.get("attributes")))
            self.finish_refs(rel, ident, refs)
            name = str(raw.get("name", ""))
            keys = {r.attribute.key for r in refs}
            for placeholder in _PLACEHOLDER.findall(name):
                if placeholder not in keys:
                    self.problem(rel, ident, f"span name uses {placeholder!r}, not on the span")
            spans.append(
                Span(
                    type=ident,
                    source=str(raw.get("source")),
                    kind=str(raw.get("kind")),
                    name=name,
                    brief=_clean(raw.get("brief")),
                    file=rel,
                    attributes=refs,
                )
            )
        return spans

    def load_metrics(self, rel: str, data: Mapping[str, Any]) -> list[Metric]:
        metrics: list[Metric] = []
        allowed = {"name", "source", "instrument", "unit", "value_type", "brief", "attributes"}
        allowed.add("bucket_boundaries")
        for raw in self.entries(rel, data, "metrics"):
            ident = self.signal_id(rel, raw, "name")
            if ident is None:
                continue
            self.check_fields(rel, ident, raw, allowed)
            self.check_namespace(rel, ident, raw.get("source"))
            instrument = raw.get("instrument")
            if not _one_of(instrument, INSTRUMENTS):
                self.problem(rel, ident, f"instrument must be one of {sorted(INSTRUMENTS)}")
            if not _one_of(raw.get("value_type"), VALUE_TYPES):
                self.problem(rel, ident, f"value_type must be one of {sorted(VALUE_TYPES)}")
            if not isinstance(raw.get("unit"), str) or not raw["unit"]:
                self.problem(rel, ident, "missing unit")
            buckets = self.load_buckets(rel, ident, instrument, raw.get("bucket_boundaries"))
            refs = self.resolve_refs(rel, ident, _as_list(raw.get("attributes")))
            self.finish_refs(rel, ident, refs)
            for ref in refs:
                if not ref.attribute.metric_safe or ref.requirement.level == "opt_in":
                    self.problem(rel, ident, f"{ref.attribute.key!r} is not a metric attribute")
            metrics.append(
                Metric(
                    name=ident,
                    source=str(raw.get("source")),
                    instrument=str(instrument),
                    unit=str(raw.get("unit")),
                    value_type=str(raw.get("value_type")),
                    brief=_clean(raw.get("brief")),
                    file=rel,
                    attributes=refs,
                    bucket_boundaries=buckets,
                )
            )
        return metrics

    def load_buckets(self, rel: str, ident: str, instrument: Any, raw: Any) -> tuple[float, ...]:
        if instrument != "histogram":
            if raw is not None:
                self.problem(rel, ident, "bucket_boundaries are only for histograms")
            return ()
        values = _as_list(raw)
        if not values or not all(isinstance(v, int | float) for v in values):
            self.problem(rel, ident, "histograms need numeric bucket_boundaries")
            return ()
        buckets = tuple(float(v) for v in values)
        if any(b <= a for a, b in pairwise(buckets)):
            self.problem(rel, ident, "bucket_boundaries must be strictly increasing")
        return buckets

    def load_events(self, rel: str, data: Mapping[str, Any]) -> list[Event]:
        events: list[Event] = []
        allowed = {"name", "source", "requirement_level", "severity_number", "brief", "attributes"}
        for raw in self.entries(rel, data, "events"):
            ident = self.signal_id(rel, raw, "name")
            if ident is None:
                continue
            self.check_fields(rel, ident, raw, allowed)
            self.check_namespace(rel, ident, raw.get("source"))
            severity = raw.get("severity_number")
            if severity is not None and not (isinstance(severity, int) and 1 <= severity <= 24):
                self.problem(rel, ident, "severity_number must be an integer from 1 to 24")
            refs = self.resolve_refs(rel, ident, _as_list(raw.get("attributes")))
            self.finish_refs(rel, ident, refs)
            events.append(
                Event(
                    name=ident,
                    source=str(raw.get("source")),
                    requirement=self.parse_requirement(rel, ident, raw),
                    brief=_clean(raw.get("brief")),
                    file=rel,
                    attributes=refs,
                    severity_number=severity if isinstance(severity, int) else None,
                )
            )
        return events

    def signal_id(self, rel: str, raw: Any, id_field: str) -> str | None:
        if not isinstance(raw, dict) or not isinstance(raw.get(id_field), str):
            self.problem(rel, id_field, f"each entry needs a string `{id_field}`")
            return None
        ident: str = raw[id_field]
        if not isinstance(raw.get("brief"), str) or not raw["brief"].strip():
            self.problem(rel, ident, "missing brief")
        if not _one_of(raw.get("source"), SOURCES):
            self.problem(rel, ident, f"source must be one of {sorted(SOURCES)}")
        return ident

    # --- upgrades --------------------------------------------------------------------------
    def load_upgrades(
        self,
        path: Path,
        metrics: Iterable[Metric],
        events: Iterable[Event],
        upstream: UpstreamRegistry,
    ) -> list[Upgrade]:
        rel = self.rel(path)
        data = self.read_yaml(path, _UPGRADES_FORMAT)
        our_metrics = {m.name for m in metrics}
        our_events = {e.name for e in events}

        def attribute_ok(key: str) -> bool:
            return key in self.attributes or upstream.is_current_attribute(key)

        def metric_ok(name: str) -> bool:
            return name in our_metrics or upstream.is_current_metric(name)

        def event_ok(name: str) -> bool:
            return name in our_events or upstream.is_current_event(name)

        checks = {
            "attributes": ("attribute", attribute_ok),
            "attribute_patterns": ("attribute_pattern", attribute_ok),
            "metrics": ("metric", metric_ok),
            "events": ("event", event_ok),
        }
        upgrades: list[Upgrade] = []
        for section, (kind, is_current) in checks.items():
            seen: set[str] = set()
            for raw in self.entries(rel, data, section):
                upgrade = self.load_upgrade(rel, section, kind, raw, is_current)
                if upgrade is None:
                    continue
                if upgrade.from_ in seen:
                    self.problem(rel, upgrade.from_, f"duplicate id in {section}")
                seen.add(upgrade.from_)
                upgrades.append(upgrade)
        return upgrades

    def load_upgrade(
        self, rel: str, section: str, kind: str, raw: Any, is_current: Callable[[str], bool]
    ) -> Upgrade | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("from"), str):
            self.problem(rel, section, "each entry needs a string `from`")
            return None
        source = raw["from"]
        allowed = {"from", "to", "action", "values", "sources", "note", "field", "split_by"}
        self.check_fields(rel, source, raw, allowed)
        if kind != "attribute_pattern" and is_current(source):
            self.problem(rel, source, "is a current name; it cannot be upgraded")
        target = raw.get("to")
        action = raw.get("action", "rename")
        if kind in ("metric",):
            action = "split" if raw.get("split_by") else "rename"
        elif not _one_of(action, UPGRADE_ACTIONS):
            self.problem(rel, source, f"action must be one of {sorted(UPGRADE_ACTIONS)}")
        if action == "drop" and target is not None:
            self.problem(rel, source, "action drop needs `to: null`")
        if action == "classify" and not raw.get("values"):
            self.problem(rel, source, "action classify needs `values`")
        if action in ("rename", "messages", "classify") and not isinstance(target, str):
            self.problem(rel, source, f"action {action} needs a `to`")
        if isinstance(target, str) and not is_current(target):
            self.problem(rel, source, f"unknown target {target!r} (not a current name)")
        sources = tuple(str(s) for s in _as_list(raw.get("sources")))
        if not sources or not set(sources) <= UPGRADE_SOURCES:
            self.problem(rel, source, f"sources must be some of {sorted(UPGRADE_SOURCES)}")
        values, split_attribute = self.upgrade_values(rel, source, raw, is_current)
        return Upgrade(
            kind=kind,
            from_=source,
            to=target if isinstance(target, str) else None,
            action=str(action),
            sources=sources,
            note=_clean(raw.get("note")),
            values=values,
            field=str(raw.get("field", "")),
            split_attribute=split_attribute,
        )

    def upgrade_values(
        self, rel: str, source: str, raw: Mapping[str, Any], is_current: Callable[[str], bool]
    ) -> tuple[tuple[tuple[str, str], ...], str]:
        """Value rewrites of a rename, or the attribute and targets of a metric split."""
        split = raw.get("split_by")
        if split is None:
            values = raw.get("values") or {}
            if not isinstance(values, dict):
                self.problem(rel, source, "values must map an old value to a current value")
                return (), ""
            return tuple((str(k), str(v)) for k, v in values.items()), ""
        if not isinstance(split, dict) or not isinstance(split.get("values"), dict):
            self.problem(rel, source, "split_by needs `attribute` and `values`")
            return (), ""
        for target in split["values"].values():
            if not is_current(str(target)):
                self.problem(rel, source, f"unknown split target {target!r}")
        pairs = tuple((str(k), str(v)) for k, v in split["values"].items())
        return pairs, str(split.get("attribute", ""))


def load_registry(root: Path) -> Registry:
    """Load semconv/ at `root`, raising RegistryError listing every problem found."""
    loader = _Loader(root)
    manifest = loader.read_yaml(root / "manifest.yaml", None)
    for key in ("name", "schema_url", "version", "upstream"):
        if key not in manifest:
            loader.problem("semconv/manifest.yaml", key, "missing")
    try:
        upstream = load_upstream(root / "upstream" / "registry.json")
    except (OSError, ValueError) as exc:
        raise RegistryError([f"semconv/upstream/registry.json: (file): unusable: {exc}"]) from None
    for path in sorted((root / "registry").glob("*.yaml")):
        loader.load_attribute_file(path)
    signal_files = [root / name for name in ("spans.yaml", "metrics.yaml", "events.yaml")]
    signal_data = [(loader.rel(p), loader.read_yaml(p, _SIGNALS_FORMAT)) for p in signal_files]
    for rel, data in signal_data:
        loader.collect_groups(rel, data)
    spans: list[Span] = []
    metrics: list[Metric] = []
    events: list[Event] = []
    for rel, data in signal_data:
        spans += loader.load_spans(rel, data)
        metrics += loader.load_metrics(rel, data)
        events += loader.load_events(rel, data)
    _check_unique(loader, [(s.file, s.type) for s in spans])
    _check_unique(loader, [(m.file, m.name) for m in metrics])
    _check_unique(loader, [(e.file, e.name) for e in events])
    upgrades = loader.load_upgrades(root / "upgrades.yaml", metrics, events, upstream)
    if loader.problems:
        raise RegistryError(loader.problems)
    return Registry(
        root=root,
        manifest=manifest,
        attributes=dict(sorted(loader.attributes.items())),
        spans=tuple(spans),
        metrics=tuple(sorted(metrics, key=lambda m: m.name)),
        events=tuple(sorted(events, key=lambda e: e.name)),
        upgrades=tuple(upgrades),
        upstream=upstream,
    )


def _check_unique(loader: _Loader, items: list[tuple[str, str]]) -> None:
    first: dict[str, str] = {}
    for file, ident in items:
        if ident in first:
            loader.problem(file, ident, f"duplicate id (first defined in {first[ident]})")
        else:
            first[ident] = file


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    """Membership that is safe for lists and mappings a user may write by mistake."""
    return isinstance(value, str) and value in allowed


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _clean(text: Any) -> str:
    return " ".join(str(text).split()) if text else ""
