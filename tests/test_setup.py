"""Code-based setup: instrument() and uninstrument() over every installed provider SDK."""

import importlib.metadata
import logging
import subprocess
import sys
from pathlib import Path

import anthropic.resources.messages
import openai.resources.chat.completions
import openai.resources.embeddings
import openai.resources.responses
import pytest

import otel_llm
from otel_llm import _setup
from otel_llm.config import get_settings
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor
from tests.conftest import make_captured
from tests.instrumentation import _fakes as fakes

ORIGINALS = (
    (openai.resources.chat.completions.Completions, "create"),
    (openai.resources.responses.Responses, "create"),
    (openai.resources.embeddings.AsyncEmbeddings, "create"),
    (anthropic.resources.messages.Messages, "create"),
    (anthropic.resources.messages.AsyncMessages, "stream"),
)


def _methods() -> list[object]:
    return [owner.__dict__[name] for owner, name in ORIGINALS]


def test_finds_every_installed_sdk_and_framework() -> None:
    """Every provider SDK and framework installed in a supported version is instrumented."""
    names = sorted(type(i).__name__ for i in _setup._instrumentors())
    assert names == [
        "AnthropicInstrumentor",
        "BedrockInstrumentor",
        "GoogleGenAIInstrumentor",
        "LangChainInstrumentor",
        "LiteLLMInstrumentor",
        "MCPInstrumentor",
        "OpenAIAgentsInstrumentor",
        "OpenAIInstrumentor",
    ]


def test_providers_are_found_by_their_entry_points() -> None:
    """The instrumentors come from otel-llm's opentelemetry_instrumentor entry points only."""
    points = {point.name: point.value for point in _setup._entry_points()}
    assert points == {
        "otel_llm_anthropic": "otel_llm.instrumentation.anthropic:AnthropicInstrumentor",
        "otel_llm_bedrock": "otel_llm.instrumentation.bedrock:BedrockInstrumentor",
        "otel_llm_google_genai": "otel_llm.instrumentation.google_genai:GoogleGenAIInstrumentor",
        "otel_llm_langchain": "otel_llm.instrumentation.langchain:LangChainInstrumentor",
        "otel_llm_litellm": "otel_llm.instrumentation.litellm:LiteLLMInstrumentor",
        "otel_llm_mcp": "otel_llm.instrumentation.mcp:MCPInstrumentor",
        "otel_llm_openai": "otel_llm.instrumentation.openai:OpenAIInstrumentor",
        "otel_llm_openai_agents": "otel_llm.instrumentation.openai_agents:OpenAIAgentsInstrumentor",
    }
    every = importlib.metadata.entry_points(group=_setup.ENTRY_POINT_GROUP)
    assert {p.name for p in every} > set(points)  # the official genai-openai one is left out


def test_a_provider_whose_sdk_is_missing_or_unsupported_is_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An instrumentor whose requirements are not met is not instrumented, and not logged."""

    class Unsupported(ProviderInstrumentor):
        requirements = ("not-a-real-sdk >= 1",)

    class Point:
        name = "otel_llm_missing"
        value = "otel_llm.instrumentation.missing:Unsupported"

        def load(self) -> type[ProviderInstrumentor]:
            return Unsupported

    monkeypatch.setattr(_setup, "_entry_points", lambda: [Point()])
    assert _setup._instrumentors() == []


def test_importing_otel_llm_imports_no_provider_sdk() -> None:
    """`import otel_llm` (and finding the providers) leaves every provider SDK unimported."""
    sdks = sorted(
        {point.value.split(":")[0].rsplit(".", 1)[1] for point in _setup._entry_points()}
        | {"google.genai", "boto3", "botocore", "langchain_core", "langgraph", "agents"}
    )
    code = (
        "import sys, otel_llm\n"
        "from otel_llm import _setup\n"
        "[point.load() for point in _setup._entry_points()]\n"
        f"print([m for m in {sdks!r} if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


_NO_EXPORTERS = {
    "PATH": "/usr/bin:/bin",
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
}
"""A subprocess's whole environment: no exporter, no variable of this one."""

_STARTUP = """
import sys
import otel_llm
after_import = sorted(m for m in sys.modules if m.startswith(("otel_llm", "opentelemetry")))
otel_llm.configure()
print(after_import)
print(sorted(m for m in sys.modules if m.startswith(("otel_llm.evaluations", *sys.argv[1:]))))
"""


def test_start_up_imports_only_what_is_used() -> None:
    """`import otel_llm` loads its version alone; configure() no evaluator, SDK or YAML parser.

    The online-evaluation hook is attached to every call, but until evaluations are installed
    it needs neither the evaluators nor their worker; YAML is parsed only from files users
    write (a redaction config, a price file, prompts), none of which is set here.
    """
    sdks = ["openai", "anthropic", "google.genai", "boto3", "botocore", "yaml"]
    done = subprocess.run(
        [sys.executable, "-c", _STARTUP, *sdks],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=_NO_EXPORTERS,
    )
    imported, configured = done.stdout.splitlines()[-2:]
    assert imported == str(["otel_llm", "otel_llm._version"])
    assert configured == str(["otel_llm.evaluations", "otel_llm.evaluations._hook"])


def test_instrument_is_idempotent_and_uninstrument_restores_exactly() -> None:
    """instrument() twice wraps once; uninstrument() puts back the very same functions."""
    before = _methods()
    captured = make_captured()
    otel_llm.instrument(**captured.providers)
    wrapped = _methods()
    assert all(w is not b for w, b in zip(wrapped, before, strict=True))
    otel_llm.instrument(**captured.providers)
    assert _methods() == wrapped
    client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
    )
    assert len(captured.finished_spans()) == 1
    otel_llm.uninstrument()
    otel_llm.uninstrument()
    assert _methods() == before


def test_without_an_sdk_everything_is_a_no_op() -> None:
    """With only the API's default no-op providers, instrumented calls behave exactly as before."""
    otel_llm.instrument()  # global providers: the OpenTelemetry API's no-op defaults here
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        result = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        assert result.choices[0].message.content == "Your order ships today."
    finally:
        otel_llm.uninstrument()


def test_instrument_with_a_bad_configuration_records_safely(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """instrument() never raises on bad configuration: one ERROR, then calls recorded safely.

    A missing prices file with content capture asked for: spans are recorded and priced from
    the bundled data, without content.
    """
    missing = tmp_path / "prices.yaml"
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    monkeypatch.setenv("OTEL_LLM_PRICES_FILE", str(missing))
    get_settings.cache_clear()
    captured = make_captured()
    try:
        with caplog.at_level(logging.ERROR, logger="otel_llm"):
            otel_llm.instrument(**captured.providers)
            otel_llm.uninstrument()
            otel_llm.instrument(**captured.providers)
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "I am jane@example.com"}]
        )
    finally:
        otel_llm.uninstrument()
        get_settings.cache_clear()
    (error,) = [r.getMessage() for r in caplog.records]
    assert str(missing) in error
    (span,) = captured.finished_spans()
    assert "otel_llm.cost.total" in span.attributes
    assert "gen_ai.input.messages" not in span.attributes


_SET_FIRST = """
import sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
import otel_llm
if sys.argv[1] == "set-first":
    trace.set_tracer_provider(TracerProvider())  # as openlit.init() does when it runs first
otel_llm.configure()
"""


@pytest.mark.parametrize("order", ["set-first", "configure-first"])
def test_configure_says_when_another_library_set_the_provider_first(order: str) -> None:
    """configure() after another library's TracerProvider warns that its exporters are unused."""
    done = subprocess.run(
        [sys.executable, "-c", _SET_FIRST, order],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=_NO_EXPORTERS,
    )
    warned = "a global TracerProvider (TracerProvider) was already set" in done.stderr
    assert warned is (order == "set-first"), done.stderr
