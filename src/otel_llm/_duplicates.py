"""Other instrumentations of the SDKs otel-llm instruments: kept out, or named in a warning.

With the official OpenAI instrumentation (or OpenLLMetry's, OpenLIT's...) also installed,
`opentelemetry-instrument` loads both and each call is recorded twice, as two spans and two
sets of metrics. otel-llm does not unwrap another library's wrappers (`unwrap` removes the
outermost wrapper of a method, whichever library put it there, so it could remove ours and
leave theirs). Instead:

- otel-llm's distro, when it is the one `opentelemetry-instrument` runs, adds the other
  instrumentations' entry points to OTEL_PYTHON_DISABLED_INSTRUMENTATIONS before any
  instrumentor loads, unless the user disabled otel-llm's own for that SDK, and says so once.
- Otherwise, once instrumentation is done, a method wrapped both by otel-llm and by another
  library is reported in one WARNING naming the variable that keeps either.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from importlib.metadata import EntryPoint, entry_points

from otel_llm.config import (
    DISABLED_INSTRUMENTATIONS,
    disable_instrumentations,
    disabled_instrumentations,
)

_logger = logging.getLogger("otel_llm")

_GROUP = "opentelemetry_instrumentor"
OURS = {"openai": "otel_llm_openai", "anthropic": "otel_llm_anthropic"}
"""The SDKs otel-llm instruments and its entry point for each."""
_PROBES = (
    ("openai", "openai.resources.chat.completions", "Completions", "create"),
    ("openai", "openai.resources.responses", "Responses", "create"),
    ("openai", "openai.resources.embeddings", "Embeddings", "create"),
    ("anthropic", "anthropic.resources.messages", "Messages", "create"),
)
"""Methods every instrumentation of an SDK wraps: where a second recorder shows."""
_MAX_CHAIN = 16
_reported: set[str] = set()


def _instrumentors() -> Iterator[EntryPoint]:
    """The instrumentor entry points of other packages."""
    for entry_point in entry_points(group=_GROUP):
        if not entry_point.value.startswith("otel_llm."):
            yield entry_point


def _instrumented_sdks(entry_point: EntryPoint) -> set[str]:
    """Which of otel-llm's SDKs the entry point's package instruments (its `instruments` extra)."""
    # Imported here: only the distro, once at start-up, reads package metadata.
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    dist = getattr(entry_point, "dist", None)
    found: set[str] = set()
    for line in (dist.requires if dist is not None else None) or ():
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        name = requirement.name.lower()
        marker = requirement.marker
        if name in OURS and marker is not None and marker.evaluate({"extra": "instruments"}):
            found.add(name)
    return found


def disable_duplicates(variables: MutableMapping[str, str] | None = None) -> list[str]:
    """Add other instrumentations of otel-llm's SDKs to the disabled list; the names added.

    Not when the user disabled otel-llm's own instrumentation of that SDK (they chose the
    other) or every instrumentation (`*`). Run before `opentelemetry-instrument` reads the list.
    `variables`: the process environment by default.
    """
    disabled = disabled_instrumentations(variables)
    if "*" in disabled:
        return []
    added: dict[str, str] = {}  # entry point -> what the warning calls it
    skipped: set[str] = set()  # the SDKs concerned
    ours = {sdk for sdk in OURS if OURS[sdk] not in disabled and _ours_loads(sdk)}
    for entry_point in _instrumentors():
        if entry_point.name in disabled or entry_point.name in added:
            continue
        sdks = _instrumented_sdks(entry_point) & ours
        if sdks:
            dist = getattr(entry_point, "dist", None)
            package = f" ({dist.name})" if dist is not None else ""
            added[entry_point.name] = f"{entry_point.name}{package}, of {', '.join(sorted(sdks))}"
            skipped |= sdks
    if not added:
        return []
    disable_instrumentations(list(added), variables)
    _logger.warning(
        "otel-llm: the instrumentation(s) %s record the same calls as otel-llm's, so each call "
        "would be recorded twice: otel-llm's distro did not load them (added to %s). To keep "
        "them instead of otel-llm's, set %s=%s.",
        "; ".join(added.values()),
        DISABLED_INSTRUMENTATIONS,
        DISABLED_INSTRUMENTATIONS,
        ",".join(OURS[sdk] for sdk in sorted(skipped)),
    )
    return list(added)


def _ours_loads(sdk: str) -> bool:
    """Whether otel-llm's instrumentor of `sdk` will load: the SDK installed and supported.

    Otherwise the other instrumentation is all there is, and is left alone.
    """
    # Imported here: only the distro asks, once. The instrumentation modules say what they
    # support; importing them does not import the SDK.
    import importlib.util  # noqa: PLC0415

    from opentelemetry.instrumentation.dependencies import (  # noqa: PLC0415
        get_dependency_conflicts,
    )

    if importlib.util.find_spec(sdk) is None:
        return False
    module = importlib.import_module(f"otel_llm.instrumentation.{sdk}")
    return get_dependency_conflicts([module.SUPPORTED]) is None


def _wrapper_modules(owner: object, method: str) -> list[str]:
    """The modules of the wrapt wrappers around `owner.method`, outermost first."""
    function = vars(owner).get(method) if isinstance(owner, type) else None
    modules: list[str] = []
    for _ in range(_MAX_CHAIN):
        wrapper = getattr(function, "_self_wrapper", None)
        if wrapper is None:
            break
        modules.append(str(getattr(wrapper, "__module__", "") or ""))
        function = getattr(function, "__wrapped__", None)
    return modules


def _entry_point_name(module: str, entry_points_: Iterable[EntryPoint]) -> str | None:
    """The entry point whose instrumentor lives in (a parent package of) `module`."""
    best: EntryPoint | None = None
    for entry_point in entry_points_:
        root = entry_point.module
        if (module == root or module.startswith(root + ".")) and (
            best is None or len(root) > len(best.module)
        ):
            best = entry_point
    return None if best is None else best.name


def report_duplicates() -> None:
    """Warn once per SDK whose methods otel-llm and another library both wrap.

    Run after instrumentation (an `opentelemetry_post_instrument` hook, and instrument()):
    whoever set up the SDK, and whichever distro ran, a call recorded twice is said once.
    """
    others: dict[str, set[str]] = {}
    for sdk, module_name, class_name, method in _PROBES:
        module = sys.modules.get(module_name)
        if module is None or sdk in _reported:
            continue  # an SDK that is not imported has no wrapped methods
        wrappers = _wrapper_modules(getattr(module, class_name, None), method)
        if any(m.startswith("otel_llm.") for m in wrappers):
            foreign = {m for m in wrappers if not m.startswith("otel_llm.")}
            if foreign:
                others.setdefault(sdk, set()).update(foreign)
    if not others:
        return
    known = list(_instrumentors())
    for sdk, foreign_modules in sorted(others.items()):
        _reported.add(sdk)
        names = sorted({_entry_point_name(m, known) or m for m in foreign_modules})
        _logger.warning(
            "otel-llm: each %s call is recorded twice, by otel-llm and by %s. Fix: disable "
            "one of them, %s=%s to keep otel-llm's (its distro does that by itself when it is "
            "the one opentelemetry-instrument runs: OTEL_PYTHON_DISTRO=otel_llm), or %s=%s to "
            "keep the other.",
            sdk,
            ", ".join(names),
            DISABLED_INSTRUMENTATIONS,
            ",".join(names),
            DISABLED_INSTRUMENTATIONS,
            OURS[sdk],
        )
