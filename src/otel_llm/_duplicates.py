"""Other instrumentations of the SDKs otel-llm instruments: kept out, or named in a warning.

With the official OpenAI, Anthropic or Google Gen AI instrumentation (or OpenLLMetry's,
OpenLIT's...) also installed, `opentelemetry-instrument` loads both and each call is recorded
twice, as two spans and two sets of metrics. otel-llm does not unwrap another library's
wrappers (`unwrap` removes the outermost wrapper of a method, whichever library put it there,
so it could remove ours and leave theirs). Instead:

- otel-llm's distro, when it is the one `opentelemetry-instrument` runs, adds the other
  instrumentations' entry points to OTEL_PYTHON_DISABLED_INSTRUMENTATIONS before any
  instrumentor loads, unless the user disabled otel-llm's own for that SDK (or the other would
  not load anyway), and says so once.
- Otherwise, once instrumentation is done, an SDK whose methods otel-llm and another library
  both wrap (the same method, or another: OpenInference wraps the client's `request`) is
  reported in one WARNING naming the variable that keeps either.

OTel's botocore instrumentation is the exception: it traces every AWS service, so it stays,
and otel-llm's Bedrock instrumentation takes its Bedrock Runtime extension out while it is on
(otel_llm._otel_botocore): Bedrock calls get a plain AWS span there and their GenAI
telemetry from otel-llm. Only if its internals are not as expected does the above apply to it
(kept out by the distro, saying every other AWS service's spans go too; else a warning).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from importlib.metadata import EntryPoint, entry_points

from otel_llm import _otel_botocore
from otel_llm._settings import (
    DISABLED_INSTRUMENTATIONS,
    disable_instrumentations,
    disabled_instrumentations,
)

_logger = logging.getLogger("otel_llm")

_GROUP = "opentelemetry_instrumentor"
OURS = {
    "openai": "otel_llm_openai",
    "anthropic": "otel_llm_anthropic",
    "botocore": "otel_llm_bedrock",
    "google-genai": "otel_llm_google_genai",
}
"""The SDKs otel-llm instruments (as other instrumentations' requirements name them) and its
entry point for each."""
_MODULES = {"botocore": "bedrock", "google-genai": "google_genai"}
"""otel-llm's instrumentation module of an SDK, where it is not named after the SDK."""
_IMPORTS = {"google-genai": "google.genai"}
"""The module an SDK is imported as, where not its distribution's name."""
_CALLS = {"botocore": "Bedrock Runtime (botocore)", "google-genai": "Google Gen AI (google-genai)"}
"""What the warning calls the calls recorded twice, where not the SDK's name."""
_EXTRAS = ({"extra": "instruments"}, {"extra": "instruments-any"})
"""The extras an instrumentation names the packages it instruments in (opentelemetry-python-
contrib's `instruments`; `instruments-any` where any one of several will do, as botocore's
instrumentation says of botocore and aiobotocore)."""
_ALSO_LOST = (
    "; the botocore one also traced every other AWS service (S3, SQS, DynamoDB...), and those "
    "calls are not traced now either"
)
_PROBES = (
    ("openai", "openai.resources.chat.completions", "Completions", "create"),
    ("openai", "openai.resources.responses", "Responses", "create"),
    ("openai", "openai.resources.embeddings", "Embeddings", "create"),
    # OpenInference wraps the client's one request method instead of each resource's.
    ("openai", "openai", "OpenAI", "request"),
    ("openai", "openai", "AsyncOpenAI", "request"),
    ("anthropic", "anthropic.resources.messages", "Messages", "create"),
    ("anthropic", "anthropic", "Anthropic", "request"),
    ("anthropic", "anthropic", "AsyncAnthropic", "request"),
    ("botocore", "botocore.client", "BaseClient", "_make_api_call"),
    ("google-genai", "google.genai.models", "Models", "generate_content"),
)
"""Methods the instrumentations of an SDK wrap (otel-llm's, the official ones, OpenLLMetry's,
OpenLIT's, OpenInference's): where a second recorder of the same calls shows."""
_MAX_CHAIN = 16
_reported: set[str] = set()


def _instrumentors() -> Iterator[EntryPoint]:
    """The instrumentor entry points of other packages."""
    for entry_point in entry_points(group=_GROUP):
        if not entry_point.value.startswith("otel_llm."):
            yield entry_point


def _instrumented_sdks(entry_point: EntryPoint) -> set[str]:
    """Which of otel-llm's SDKs the entry point instruments (its package's `instruments` extras).

    A package with one entry point per SDK names each after its SDK (`botocore`, `aiobotocore`):
    such an entry point instruments that SDK only, so the aiobotocore one is no duplicate.
    """
    # Imported here: only the distro, once at start-up, reads package metadata.
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    dist = getattr(entry_point, "dist", None)
    instrumented: set[str] = set()
    for line in (dist.requires if dist is not None else None) or ():
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if marker is not None and any(marker.evaluate(extra) for extra in _EXTRAS):
            instrumented.add(requirement.name.lower())
    if entry_point.name.lower() in instrumented:
        instrumented = {entry_point.name.lower()}
    return instrumented & OURS.keys()


def disable_duplicates(variables: MutableMapping[str, str] | None = None) -> list[str]:
    """Add other instrumentations of otel-llm's SDKs to the disabled list; the names added.

    Not when the user disabled otel-llm's own instrumentation of that SDK (they chose the
    other) or every instrumentation (`*`). Run before `opentelemetry-instrument` reads the list.
    `variables`: the process environment by default.
    """
    disabled = disabled_instrumentations(variables)
    if "*" in disabled:
        return []
    # Several packages may share an entry-point name (the official OpenAI instrumentation,
    # OpenLLMetry's and OpenInference's are all "openai"): disabling the name disables each.
    packages: dict[str, set[str]] = {}
    sdks_of: dict[str, set[str]] = {}
    ours = {sdk for sdk in OURS if OURS[sdk] not in disabled and _ours_loads(sdk)}
    for entry_point in _instrumentors():
        if entry_point.name in disabled:
            continue
        sdks = _instrumented_sdks(entry_point) & ours
        if sdks == {"botocore"} and entry_point.module == _otel_botocore.PACKAGE:
            reason = _otel_botocore.unexpected()
            if reason is None:
                continue  # it stays for every AWS service; ours takes Bedrock out of its hands
            _otel_botocore.explain(reason)
        if sdks and _loads(entry_point):
            dist = getattr(entry_point, "dist", None)
            packages.setdefault(entry_point.name, set()).update([dist.name] if dist else [])
            sdks_of.setdefault(entry_point.name, set()).update(sdks)
    if not packages:
        return []
    added = list(packages)
    disable_instrumentations(added, variables)
    skipped = set().union(*sdks_of.values())
    _logger.warning(
        "otel-llm: the instrumentation(s) %s record the same calls as otel-llm's, so each call "
        "would be recorded twice: otel-llm's distro did not load them (added to %s)%s. To keep "
        "them instead of otel-llm's, set %s=%s.",
        "; ".join(
            f"{name}{_packages(packages[name])}, of {', '.join(sorted(sdks_of[name]))}"
            for name in added
        ),
        DISABLED_INSTRUMENTATIONS,
        _ALSO_LOST if "botocore" in skipped else "",
        DISABLED_INSTRUMENTATIONS,
        ",".join(OURS[sdk] for sdk in sorted(skipped)),
    )
    return added


def _packages(names: set[str]) -> str:
    return f" ({', '.join(sorted(names))})" if names else ""


def _loads(entry_point: EntryPoint) -> bool:
    """Whether `opentelemetry-instrument` will load the entry point: its requirements are met.

    One that does not support the installed SDK (the official Google Gen AI instrumentation
    1.3b0 asks for google-genai < 3) is skipped by it, so records nothing twice.
    """
    # Imported here, as in _ours_loads: only the distro asks, once.
    from opentelemetry.instrumentation.dependencies import (  # noqa: PLC0415
        get_dist_dependency_conflicts,
    )

    dist = getattr(entry_point, "dist", None)
    return dist is None or get_dist_dependency_conflicts(dist) is None


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

    if importlib.util.find_spec(_IMPORTS.get(sdk, sdk)) is None:
        return False
    module = importlib.import_module(f"otel_llm.instrumentation.{_MODULES.get(sdk, sdk)}")
    return get_dependency_conflicts([module.SUPPORTED]) is None


def _wrappers(owner: object, method: str) -> list[object]:
    """The wrapt wrappers around `owner.method`, outermost first."""
    function = vars(owner).get(method) if isinstance(owner, type) else None
    wrappers: list[object] = []
    for _ in range(_MAX_CHAIN):
        wrapper = getattr(function, "_self_wrapper", None)
        if wrapper is None:
            break
        wrappers.append(wrapper)
        function = getattr(function, "__wrapped__", None)
    return wrappers


def _module(wrapper: object) -> str:
    return str(getattr(wrapper, "__module__", "") or "")


def _records_twice(sdk: str, wrapper: object) -> bool:
    """Whether another library's `wrapper` records the calls otel-llm records."""
    # OTel's botocore instrumentation with the Bedrock Runtime extension taken out records
    # Bedrock calls as plain AWS calls: no GenAI span, metrics or events.
    return sdk != "botocore" or _otel_botocore.records_bedrock(wrapper)


def _describe(module: str, entry_point: EntryPoint | None) -> str:
    """An instrumentation as the warning names it: entry point (package), or its module."""
    if entry_point is None:
        return module
    dist = getattr(entry_point, "dist", None)
    return f"{entry_point.name} ({dist.name})" if dist is not None else entry_point.name


def _entry_point(module: str, entry_points_: Iterable[EntryPoint], sdk: str) -> EntryPoint | None:
    """The entry point whose instrumentor lives in (a parent package of) `module`.

    The most specific module wins; among entry points of one module (botocore's package has
    `botocore` and `aiobotocore`), the one named after `sdk`.
    """
    found = [
        point
        for point in entry_points_
        if module == point.module or module.startswith(point.module + ".")
    ]
    if not found:
        return None
    return max(found, key=lambda point: (len(point.module), point.name.lower() == sdk))


def report_duplicates() -> None:
    """Warn once per SDK whose methods otel-llm and another library both wrap.

    Run after instrumentation (an `opentelemetry_post_instrument` hook, and instrument()):
    whoever set up the SDK, and whichever distro ran, a call recorded twice is said once.
    """
    ours: set[str] = set()
    others: dict[str, set[str]] = {}
    for sdk, module_name, class_name, method in _PROBES:
        module = sys.modules.get(module_name)
        if module is None or sdk in _reported:
            continue  # an SDK that is not imported has no wrapped methods
        for wrapper in _wrappers(getattr(module, class_name, None), method):
            if _module(wrapper).startswith("otel_llm."):
                ours.add(sdk)
            elif _records_twice(sdk, wrapper):
                others.setdefault(sdk, set()).add(_module(wrapper))
    if not ours & set(others):
        return
    known = list(_instrumentors())
    for sdk in sorted(ours & set(others)):
        _reported.add(sdk)
        found = [(module, _entry_point(module, known, sdk)) for module in others[sdk]]
        names = sorted({ep.name for _, ep in found if ep is not None})
        in_code = sorted({module for module, ep in found if ep is None})
        described = sorted({_describe(module, ep) for module, ep in found if ep is not None})
        described += [f"{module}{_packages(_distributions(module))}" for module in in_code]
        _logger.warning(
            "otel-llm: each %s call is recorded twice, by otel-llm and by %s: two spans per "
            "call, and the other's metrics beside otel-llm's (otel-llm's own metrics and cost "
            "count it once). Fix: disable one of them, %s, or %s=%s to keep the other.",
            _CALLS.get(sdk, sdk),
            ", ".join(described),
            _keep_ours(names, in_code, sdk),
            DISABLED_INSTRUMENTATIONS,
            OURS[sdk],
        )


def _keep_ours(names: list[str], in_code: list[str], sdk: str) -> str:
    """How to turn the others off: entry points by variable, the rest where code set them up.

    An instrumentation the application's code sets up (`openlit.init()`, an instrumentor's
    `instrument()` call) is no entry point: the variable does not reach it.
    """
    fixes = []
    if names:
        fixes.append(
            f"{DISABLED_INSTRUMENTATIONS}={','.join(names)} to keep otel-llm's (its distro "
            "does that by itself when it is the one opentelemetry-instrument runs: "
            "OTEL_PYTHON_DISTRO=otel_llm)"
        )
    if in_code:
        fixes.append(
            f"turn off the {sdk} instrumentation of {', '.join(in_code)} where your code sets "
            "it up to keep otel-llm's (no entry point loads it, so the variable does not "
            "reach it)"
        )
    return " and ".join(fixes)


def _distributions(module: str) -> set[str]:
    """The installed packages that provide `module`'s top-level package (for the warning)."""
    # Imported here: read only when a warning is given.
    from importlib.metadata import packages_distributions  # noqa: PLC0415

    return set(packages_distributions().get(module.partition(".")[0], ()))
