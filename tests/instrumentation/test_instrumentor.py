"""The instrumentor base class: a table of targets wrapped and unwrapped, telemetry and hooks."""

from __future__ import annotations

import asyncio
import re
import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import otel_llm._errors
from otel_llm import _telemetry
from otel_llm._prompt import PromptHook
from otel_llm.config import ConfigError, ContentCapturingMode, Settings
from otel_llm.context import BaggageHook
from otel_llm.evaluations import OnlineEvaluationHook
from otel_llm.instrumentation._agent_steps import AgentStepHook
from otel_llm.instrumentation._call import Recorder
from otel_llm.instrumentation._engine import Wrapper
from otel_llm.instrumentation._frameworks import ModelRunHook
from otel_llm.instrumentation._pricing import PricingHook
from otel_llm.instrumentation.endpoint import Endpoint, RequestInfo
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor, Target, install
from tests.conftest import Captured, make_captured


class Resource:
    """A stand-in SDK resource with sync, async and helper methods."""

    def create(self, **kwargs: Any) -> str:
        return "created"

    async def acreate(self, **kwargs: Any) -> str:
        return "acreated"

    def helper(self) -> str:
        return "helped"


def _shout(endpoint: Endpoint | None, recorder: Recorder) -> Wrapper:
    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        return str(wrapped(*args, **kwargs)).upper()

    return wrapper


def _request(instance: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> RequestInfo:
    return RequestInfo(model=kwargs.get("model"))


@pytest.fixture
def fake_sdk() -> Iterator[types.ModuleType]:
    """A module `fake_sdk` holding Resource and a module-level function, importable by name."""
    module = types.ModuleType("fake_sdk")
    module.Resource = Resource  # type: ignore[attr-defined]
    module.ping = lambda: "pong"  # type: ignore[attr-defined]
    sys.modules["fake_sdk"] = module
    originals = dict(vars(Resource))
    try:
        yield module
    finally:
        del sys.modules["fake_sdk"]
        for name in ("create", "acreate", "helper"):
            setattr(Resource, name, originals[name])


class FakeInstrumentor(ProviderInstrumentor):
    """Instruments the fake SDK: one sync, one async, one helper, one function, one missing."""

    requirements = ("fake-sdk >= 1",)
    targets = (
        Target("fake_sdk", "Resource", "create", "chat"),
        Target("fake_sdk", "Resource", "acreate", "chat", "async"),
        Target("fake_sdk", "Resource", "helper", None, _shout),
        Target("fake_sdk", None, "ping", None, _shout),
        Target("fake_sdk", "Resource", "not_in_this_release", "chat"),
        Target("fake_sdk_missing", "Resource", "create", "chat"),
    )

    def endpoints(self) -> Mapping[str, Endpoint]:
        return {"chat": Endpoint(operation="chat", provider="fake", request=_request)}


def test_targets_are_wrapped_and_restored_exactly(
    fake_sdk: types.ModuleType, captured: Captured
) -> None:
    """Sync, async, helper and function targets are wrapped; missing ones are skipped."""
    originals = {name: vars(Resource)[name] for name in ("create", "acreate", "helper")}
    ping = fake_sdk.ping
    instrumentor = FakeInstrumentor()
    instrumentor.instrument(**captured.providers, skip_dep_check=True)
    try:
        resource = Resource()
        assert resource.create(model="m") == "created"
        assert resource.helper() == "HELPED"
        assert fake_sdk.ping() == "PONG"
        assert asyncio.run(resource.acreate(model="m")) == "acreated"
        assert [s.name for s in captured.finished_spans()] == ["chat m", "chat m"]
    finally:
        instrumentor.uninstrument()
    assert {name: vars(Resource)[name] for name in originals} == originals
    assert fake_sdk.ping is ping


def test_instrumentation_dependencies_are_the_requirements() -> None:
    """The dependency check `opentelemetry-instrument` makes reads the declared requirements."""
    assert list(FakeInstrumentor().instrumentation_dependencies()) == ["fake-sdk >= 1"]


def test_install_uses_given_providers_and_settings() -> None:
    """Spans go to the tracer provider passed in, with the settings passed in."""
    captured = make_captured()
    settings = Settings(capture_message_content=ContentCapturingMode.EVENT_ONLY)
    recorder = install({**captured.providers, "settings": settings})
    telemetry = _telemetry.get_telemetry()
    assert telemetry is recorder.telemetry
    assert telemetry.settings is settings
    with telemetry.tracer.start_as_current_span("probe"):
        pass
    assert [s.name for s in captured.finished_spans()] == ["probe"]
    _telemetry.set_telemetry(None)


def test_a_malformed_prices_file_stops_instrument_naming_the_file(tmp_path: Path) -> None:
    """The instrumentation prices its calls, so it reads the prices file at start-up too."""
    path = tmp_path / "prices.yaml"
    path.write_text("models: [not, a, mapping]\n")
    captured = make_captured()
    with pytest.raises(ConfigError, match=re.escape(str(path))):
        install({**captured.providers, "settings": Settings(prices_file=str(path))})
    _telemetry.set_telemetry(None)


def test_every_feature_hooks_in_and_pricing_only_when_cost_is_on() -> None:
    """Framework runs, agent steps, prompt, baggage, evaluation, pricing; cost off drops pricing."""
    captured = make_captured()
    kinds = [type(hook) for hook in install(captured.providers).hooks]
    assert kinds == [
        ModelRunHook,
        AgentStepHook,
        PromptHook,
        BaggageHook,
        OnlineEvaluationHook,
        PricingHook,
    ]
    off = install({**captured.providers, "settings": Settings(cost_enabled=False)})
    assert PricingHook not in [type(hook) for hook in off.hooks]
    _telemetry.set_telemetry(None)


def _package(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An importable package `name` whose submodule `res` defines Resource.create."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "res.py").write_text(
        "class Resource:\n    def create(self, **kwargs):\n        return 'created'\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def _lazy_instrumentor(name: str, calls: list[str]) -> ProviderInstrumentor:
    class Lazy(ProviderInstrumentor):
        targets = (Target(f"{name}.res", "Resource", "create", "chat"),)

        def endpoints(self) -> Mapping[str, Endpoint]:
            calls.append("endpoints")
            return {"chat": Endpoint(operation="chat", provider="fake", request=_request)}

    return Lazy()


def test_a_target_is_wrapped_when_the_application_imports_it_and_not_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, captured: Captured
) -> None:
    """instrument() imports no SDK module; importing one later wraps its targets at once."""
    name = "lazy_sdk_imported_later"
    _package(tmp_path, name, monkeypatch)
    calls: list[str] = []
    instrumentor = _lazy_instrumentor(name, calls)
    instrumentor.instrument(**captured.providers, skip_dep_check=True)
    try:
        assert name not in sys.modules
        assert calls == []
        module = __import__(f"{name}.res", fromlist=["Resource"])
        assert calls == ["endpoints"]
        assert module.Resource().create(model="m") == "created"
        assert [s.name for s in captured.finished_spans()] == ["chat m"]
    finally:
        instrumentor.uninstrument()
    assert module.Resource().create(model="m") == "created"
    assert len(captured.finished_spans()) == 1


def test_an_sdk_inside_a_namespace_package_is_wrapped_when_imported_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, captured: Captured
) -> None:
    """An SDK whose top package is a namespace one (google.genai's `google`) is wrapped too.

    Importing a namespace package runs nothing, so a post-import hook on it would never fire.
    """
    sdk = tmp_path / "lazy_vendor_namespace" / "sdk"
    sdk.mkdir(parents=True)
    (sdk / "__init__.py").write_text("", encoding="utf-8")
    (sdk / "res.py").write_text(
        "class Resource:\n    def create(self, **kwargs):\n        return 'created'\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    instrumentor = _lazy_instrumentor("lazy_vendor_namespace.sdk", [])
    instrumentor.instrument(**captured.providers, skip_dep_check=True)
    try:
        module = __import__("lazy_vendor_namespace.sdk.res", fromlist=["Resource"])
        assert module.Resource().create(model="m") == "created"
    finally:
        instrumentor.uninstrument()
    assert [s.name for s in captured.finished_spans()] == ["chat m"]


def test_a_module_imported_after_uninstrument_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, captured: Captured
) -> None:
    """Hooks registered by an instrument() that was undone wrap nothing."""
    name = "lazy_sdk_after_uninstrument"
    _package(tmp_path, name, monkeypatch)
    calls: list[str] = []
    instrumentor = _lazy_instrumentor(name, calls)
    instrumentor.instrument(**captured.providers, skip_dep_check=True)
    instrumentor.uninstrument()
    module = __import__(f"{name}.res", fromlist=["Resource"])
    assert module.Resource().create(model="m") == "created"
    assert calls == []
    assert captured.finished_spans() == []


def test_a_failure_while_wrapping_never_breaks_the_applications_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, captured: Captured
) -> None:
    """A provider bug met inside the application's import is logged; the import succeeds."""
    name = "lazy_sdk_broken_endpoints"
    _package(tmp_path, name, monkeypatch)
    monkeypatch.setattr(otel_llm._errors, "_under_pytest", lambda: False)

    class Broken(ProviderInstrumentor):
        targets = (Target(f"{name}.res", "Resource", "create", "chat"),)

        def endpoints(self) -> Mapping[str, Endpoint]:
            raise RuntimeError("provider bug")

    instrumentor = Broken()
    instrumentor.instrument(**captured.providers, skip_dep_check=True)
    try:
        module = __import__(f"{name}.res", fromlist=["Resource"])
        assert module.Resource().create(model="m") == "created"
    finally:
        instrumentor.uninstrument()
