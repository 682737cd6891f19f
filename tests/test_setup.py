"""Code-based setup: instrument() and uninstrument() over every installed provider SDK."""

import logging
from pathlib import Path

import anthropic.resources.messages
import openai.resources.chat.completions
import openai.resources.embeddings
import openai.resources.responses
import pytest

import otel_llm
from otel_llm import _setup
from otel_llm.config import get_settings
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


def test_finds_both_installed_sdks() -> None:
    """Both openai and anthropic are installed in supported versions, so both are instrumented."""
    names = sorted(type(i).__name__ for i in _setup._instrumentors())
    assert names == ["AnthropicInstrumentor", "OpenAIInstrumentor"]


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
