"""Internal-error handling: swallowed and logged once in production, raised under pytest."""

import logging

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


def test_guarded_reraises_under_pytest() -> None:
    """Under pytest the internal error propagates, so telemetry bugs fail tests."""

    @errors.guarded(default=None)
    def broken() -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        broken()


def test_internal_errors_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """The context-manager form swallows outside pytest, so the statement after it runs."""
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
    """Outside pytest, a failing block is logged once per place, with the exception attached."""
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
    """Under pytest the block's error propagates; KeyboardInterrupt and the like always do."""
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
        (openai.APIError("m", request=None, body=None), "openai.APIError"),  # type: ignore[arg-type]
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
