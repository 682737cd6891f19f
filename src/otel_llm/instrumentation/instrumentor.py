"""The instrumentor every provider module subclasses: a table of SDK methods to wrap.

A provider's instrumentor names the SDK versions it supports, lists its `Target`s and builds
its `Endpoint`s once the SDK is importable; this class wraps and unwraps them, and sets up
what every call is recorded with (the Telemetry from `instrument()`'s providers and the
features' hooks).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from otel_llm._prompt import PromptHook
from otel_llm._telemetry import Telemetry, set_telemetry
from otel_llm.context import BaggageHook
from otel_llm.evaluations import OnlineEvaluationHook
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
        """The endpoints `targets` name, built at instrument time (the SDK is importable)."""
        return {}

    def instrumentation_dependencies(self) -> Collection[str]:
        """The SDK versions this instrumentor supports."""
        return self.requirements

    def _instrument(self, **kwargs: Any) -> None:
        recorder = install(kwargs)
        endpoints = self.endpoints()
        self._wrapped: list[tuple[Any, str]] = []
        for target in self.targets:
            owner = _owner(target)
            if owner is None or not hasattr(owner, target.method):
                continue  # not in this SDK release
            endpoint = endpoints[target.endpoint] if target.endpoint is not None else None
            wrap_function_wrapper(owner, target.method, _wrapper(target, endpoint, recorder))
            self._wrapped.append((owner, target.method))

    def _uninstrument(self, **kwargs: Any) -> None:
        for owner, method in getattr(self, "_wrapped", ()):
            unwrap(owner, method)
        self._wrapped = []


def _owner(target: Target) -> Any:
    try:
        module = importlib.import_module(target.module)
    except ImportError:
        return None
    return module if target.owner is None else getattr(module, target.owner, None)


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
