"""Internal-error handling: swallowed and logged once, raised only when our test suite asks."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import openai
import pytest

import otel_llm._errors as errors


def test_guarded_returns_default_and_logs_once_outside_pytest(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing guarded function returns its default; the error is logged once per place."""
    monkeypatch.setattr(errors, "_under_pytest", lambda: False)
    monkeypatch.setattr(errors, "_reported", set())

    @errors.guarded(default="fallback")
    def broken() -> str:
        raise RuntimeError("bug")

    with caplog.at_level(logging.ERROR, logger="otel_llm"):
        assert broken() == "fallback"
        assert broken() == "fallback"
    assert len(caplog.records) == 1
    assert "otel-llm internal error" in caplog.records[0].getMessage()


def test_guarded_reraises_when_our_test_suite_asks() -> None:
    """With raise_internal_errors() on (our conftest), internal errors propagate to fail tests."""

    @errors.guarded(default=None)
    def broken() -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        broken()


def test_internal_errors_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """The context-manager form swallows in production, so the statement after it runs."""
    monkeypatch.setattr(errors, "_under_pytest", lambda: False)
    done: list[str] = []

    def fail() -> None:
        raise KeyError("x")

    with errors.internal_errors("test block"):
        fail()
        done.append("not reached")
    done.append("after")
    assert done == ["after"]


def test_internal_errors_block_logs_the_failure_with_its_traceback_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """In production, a failing block is logged once per place, with the exception attached."""
    monkeypatch.setattr(errors, "_under_pytest", lambda: False)
    monkeypatch.setattr(errors, "_reported", set())
    with caplog.at_level(logging.ERROR, logger="otel_llm"):
        for _ in range(2):
            with errors.internal_errors("test block"):
                raise ValueError("bug")
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert "internal error in test block" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


def test_internal_errors_block_reraises_under_pytest_and_never_stops_base_exceptions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When asked, the block's error propagates; KeyboardInterrupt and the like always do."""
    with pytest.raises(ValueError, match="bug"), errors.internal_errors("test block"):
        raise ValueError("bug")
    monkeypatch.setattr(errors, "_under_pytest", lambda: False)
    with pytest.raises(KeyboardInterrupt), errors.internal_errors("test block"):
        raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), "TimeoutError"),
        (KeyError("k"), "KeyError"),
        # Only the class matters (openai >= 3.63 reads the request's headers in __init__).
        (Exception.__new__(openai.APIError), "openai.APIError"),
    ],
)
def test_error_type_uses_public_names(exc: BaseException, expected: str) -> None:
    """error.type is the public dotted name (openai.APIError, not openai._exceptions...)."""
    assert errors.error_type(exc) == expected


class LocalError(Exception):
    """An exception that its package does not re-export."""


def test_error_type_falls_back_to_module_path() -> None:
    """A class its top-level package does not export keeps its full module path."""
    assert errors.error_type(LocalError()) == f"{__name__}.LocalError"


_APP_TEST = """
import logging

import otel_llm
from opentelemetry import trace
from tests.instrumentation import _fakes as fakes


class BrokenTracer(trace.NoOpTracer):
    def start_span(self, *args, **kwargs):
        raise RuntimeError("a tracer that fails: an otel-llm internal error")


class BrokenProvider(trace.NoOpTracerProvider):
    def get_tracer(self, *args, **kwargs):
        return BrokenTracer()


def test_the_app_call_succeeds(caplog):
    otel_llm.instrument(tracer_provider=BrokenProvider())
    try:
        client = fakes.openai_client(fakes.respond_json(fakes.chat_completion()))
        with caplog.at_level(logging.ERROR, logger="otel_llm"):
            reply = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
    finally:
        otel_llm.uninstrument()
    assert reply.choices[0].message.content == "Your order ships today."
    assert "otel-llm internal error" in caplog.text
"""


def test_an_applications_own_pytest_run_never_sees_our_internal_errors(
    repo_root: Path, tmp_path: Path
) -> None:
    """An app's test under pytest gets its reply; our internal error is logged, not raised."""
    (tmp_path / "test_app.py").write_text(_APP_TEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTEST_"))}
    env["PYTHONPATH"] = str(repo_root)  # for the mock transports, not for our conftest
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
