"""The instrumentor every provider module subclasses: a table of SDK methods to wrap.

A provider's instrumentor names the SDK versions it supports, lists its `Target`s and builds
its `Endpoint`s once the SDK is importable; this class wraps and unwraps them, and sets up
what every call is recorded with (the Telemetry from `instrument()`'s providers and the
features' hooks).

Nothing is imported for it: each target is wrapped when the application imports its module
(at once if it already has), after the SDK's package has finished importing, so an SDK (or a
part of one, such as openai's Responses) that the application never imports is never loaded.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import register_post_import_hook, wrap_function_wrapper

from otel_llm._duplicates import report_duplicates
from otel_llm._errors import log_internal_error
from otel_llm._prompt import PromptHook
from otel_llm._telemetry import Telemetry, set_telemetry
from otel_llm.context import BaggageHook
from otel_llm.evaluations._hook import OnlineEvaluationHook
from otel_llm.instrumentation._agent_steps import AgentStepHook
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._engine import Wrapper, wrap_async, wrap_sync
from otel_llm.instrumentation._frameworks import ModelRunHook
from otel_llm.instrumentation.endpoint import Endpoint
from otel_llm.instrumentation.hooks import CallHook
from otel_llm.spans import last_retrieved_ids

__all__ = ["ProviderInstrumentor", "Recorder", "Target", "call_hooks", "install"]

WrapperFactory = Callable[[Endpoint | None, Recorder], Wrapper]
"""Builds the wrapt wrapper of a target that is not a plain sync or async call (a stream
helper, the SDK's own span suppressed), from its endpoint (if any) and the recorder."""


@dataclass(frozen=True)
class Target:
    """One SDK method to wrap."""

    module: str
    """The module defining it, e.g. `openai.resources.chat.completions`."""
    owner: str | None
    """The class in `module` whose method it is; None for a module-level function."""
    method: str
    endpoint: str | None = None
    """The key of its Endpoint in the instrumentor's `endpoints()`."""
    wrap: Literal["sync", "async"] | WrapperFactory = "sync"
    """`sync` (returns the result), `async` (returns a coroutine), or a wrapper factory."""


class ProviderInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # untyped base class
    """Wraps a provider SDK's `targets`, and unwraps them exactly.

    `opentelemetry-instrument` and `otel_llm.instrument()` find each subclass by its
    `opentelemetry_instrumentor` entry point.
    """

    requirements: ClassVar[tuple[str, ...]] = ()
    """The SDK versions supported, as requirement strings (`openai >= 2.0.0, < 4`)."""
    targets: ClassVar[tuple[Target, ...]] = ()
    """The methods to wrap; those missing from the installed SDK release are skipped."""

    def endpoints(self) -> Mapping[str, Endpoint]:
        """The endpoints `targets` name, built once the SDK's package has been imported."""
        return {}

    def instrumentation_dependencies(self) -> Collection[str]:
        """The SDK versions this instrumentor supports."""
        return self.requirements

    def _instrument(self, **kwargs: Any) -> None:
        self._wrapping = wrapping = _Wrapping(self, install(kwargs))
        for package in dict.fromkeys(_sdk_package(target.module) for target in self.targets):
            register_post_import_hook(wrapping.package_imported, package)

    def _uninstrument(self, **kwargs: Any) -> None:
        wrapping = getattr(self, "_wrapping", None)
        if wrapping is not None:
            wrapping.stop()


def _sdk_package(module: str) -> str:
    """The SDK's package for `module`: the first package on its path that has code of its own.

    Namespace packages (`google` for google.genai, `opentelemetry`) are skipped: nothing runs
    when one is imported, so wrapt's post-import hook on one never fires. Only namespace
    packages are imported to look (which runs no code); a package not installed ends the look.
    """
    parts = module.split(".")
    for end in range(1, len(parts)):
        name = ".".join(parts[:end])
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return name
        if spec is None or spec.origin is not None:
            return name
    return module


class _Wrapping:
    """One instrument() of a provider: wraps each target as its module is imported.

    Import hooks stay registered for the process's life (the import system has no way to
    remove one): after uninstrument() they do nothing.
    """

    def __init__(self, instrumentor: ProviderInstrumentor, recorder: Recorder) -> None:
        self._instrumentor = instrumentor
        self._recorder = recorder
        self._lock = threading.RLock()  # an import inside endpoints() may run another hook
        self._active = True
        self._endpoints: Mapping[str, Endpoint] | None = None
        self._wrapped: list[tuple[Any, str]] = []

    def package_imported(self, package: Any) -> None:
        """The SDK's package is imported: wrap its targets as their modules are imported."""
        # Only now: a target module imported while the package itself was still importing
        # could not yet build the endpoints (they read the package's classes).
        name = package.__name__
        for target in self._instrumentor.targets:
            if _sdk_package(target.module) == name:
                register_post_import_hook(functools.partial(self._wrap, target), target.module)

    def _wrap(self, target: Target, module: Any) -> None:
        # Runs inside the application's import: a bug here is logged, never raised into it.
        try:
            with self._lock:
                if not self._active:
                    return
                owner = module if target.owner is None else getattr(module, target.owner, None)
                if owner is None or not hasattr(owner, target.method):
                    return  # not in this SDK release
                if self._endpoints is None:
                    self._endpoints = self._instrumentor.endpoints()
                key = target.endpoint
                endpoint = self._endpoints[key] if key is not None else None
                wrapper = _wrapper(target, endpoint, self._recorder)
                wrap_function_wrapper(owner, target.method, wrapper)
                self._wrapped.append((owner, target.method))
            # Another instrumentation may have wrapped it before the application imported it.
            report_duplicates()
        except Exception:
            log_internal_error(f"instrumenting {target.module}")

    def stop(self) -> None:
        """Unwrap what was wrapped; wrap nothing more."""
        with self._lock:
            self._active = False
            for owner, method in self._wrapped:
                unwrap(owner, method)
            self._wrapped = []


def _wrapper(target: Target, endpoint: Endpoint | None, recorder: Recorder) -> Wrapper:
    if callable(target.wrap):
        return target.wrap(endpoint, recorder)
    if endpoint is None:
        raise ValueError(f"target {target.owner}.{target.method} names no endpoint")
    return (wrap_async if target.wrap == "async" else wrap_sync)(endpoint, recorder)


def install(kwargs: Mapping[str, Any]) -> Recorder:
    """What to record `Instrumentor().instrument(...)`'s calls with, from its kwargs.

    The providers passed (else the global ones) make the Telemetry; each instrumentor binds its
    own into its wrappers, so two instrumentors given different providers never send each
    other's calls to the wrong place. It also becomes the active one for manual spans and
    processors. A prices file named in the settings that cannot be used raises here.
    """
    telemetry = Telemetry.create(
        tracer_provider=kwargs.get("tracer_provider"),
        meter_provider=kwargs.get("meter_provider"),
        logger_provider=kwargs.get("logger_provider"),
        settings=kwargs.get("settings"),
    )
    set_telemetry(telemetry)
    return Recorder(telemetry, call_hooks(telemetry))


def call_hooks(telemetry: Telemetry) -> tuple[CallHook, ...]:
    """What every call gets: framework runs, agent steps, prompt, baggage, evaluation, pricing.

    The online evaluation hook is given the documents retrieved for the answer.

    Pricing (unless cost is disabled) prices every call, sampled or not, so the cost metrics
    never depend on trace sampling; its price data is loaded here.
    """
    hooks: list[CallHook] = [
        # A framework's model call made through this SDK call is recorded by it, once.
        ModelRunHook(),
        # Agent steps count every call, sampled or not.
        AgentStepHook(),
        PromptHook(),
        BaggageHook(),
        # Citation evaluators check the answer against the documents retrieved before it.
        OnlineEvaluationHook(retrieved_ids=last_retrieved_ids),
    ]
    if telemetry.settings.cost_enabled:
        # Imported here: with cost off the price data (genai-prices) is never loaded.
        from otel_llm.cost import PriceBook  # noqa: PLC0415
        from otel_llm.instrumentation._pricing import PricingHook  # noqa: PLC0415

        price_book = PriceBook.from_settings(telemetry.settings)
        hooks.append(PricingHook(price_book, telemetry.instruments))
    return tuple(hooks)
