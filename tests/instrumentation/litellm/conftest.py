"""Fixtures for the LiteLLM tests: the demo's simulated provider, and instrumentation."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price map fetched at import

from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.demo.provider import Behaviour, SimulatedProvider
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from otel_llm.instrumentation.litellm import LiteLLMInstrumentor
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.conftest import Captured, make_captured

FAST = {
    "seed": 7,
    "latency_median_s": 0.002,
    "latency_sigma": 0.0,
    "ttft_s": 0.0,
    "chunk_interval_s": 0.0,
    "output_tokens": (5, 9),
}
MESSAGES = [{"role": "user", "content": "Where is my order 1042?"}]

Instrumented = Callable[..., contextlib.AbstractContextManager[Captured]]


@pytest.fixture(scope="module")
def provider() -> Iterator[SimulatedProvider]:
    """The demo's simulated OpenAI/Anthropic server on 127.0.0.1, answering quickly."""
    with SimulatedProvider(Behaviour(**FAST)) as running:  # type: ignore[arg-type]
        yield running


@pytest.fixture(scope="module")
def failing() -> Iterator[SimulatedProvider]:
    """A simulated provider whose every call fails with HTTP 500."""
    with SimulatedProvider(Behaviour(error_rate=1.0, **FAST)) as running:  # type: ignore[arg-type]
        yield running


@pytest.fixture
def instrumented() -> Instrumented:
    """LiteLLM instrumented, and the OpenAI and Anthropic SDKs too (as `instrument()` does)."""

    @contextlib.contextmanager
    def instrumented(
        mode: ContentCapturingMode = ContentCapturingMode.NO_CONTENT,
    ) -> Iterator[Captured]:
        captured = make_captured(Settings(capture_message_content=mode))
        settings = captured.telemetry.settings
        instrumentors = [LiteLLMInstrumentor(), OpenAIInstrumentor(), AnthropicInstrumentor()]
        for instrumentor in instrumentors:
            instrumentor.instrument(**captured.providers, settings=settings, skip_dep_check=True)
        try:
            yield captured
        finally:
            for instrumentor in instrumentors:
                instrumentor.uninstrument()
            set_telemetry(None)

    return instrumented
