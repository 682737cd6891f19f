"""Keep telemetry bugs out of the application: log them once (otel-llm's own tests raise them)."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import ParamSpec, TypeVar

_logger = logging.getLogger("otel_llm")
_P = ParamSpec("_P")
_R = TypeVar("_R")
_D = TypeVar("_D")
_reported: set[str] = set()
_raising = False


def raise_internal_errors(enabled: bool = True) -> None:
    """Let otel-llm's internal errors propagate; for otel-llm's own test suite only.

    tests/conftest.py turns it on so our tests fail on our bugs. It is never inferred (an
    application's own test suite, pytest included, sees what production sees: a logged error
    and an unchanged call).
    """
    global _raising  # noqa: PLW0603 - process-wide switch, set once by our conftest
    _raising = enabled


def _under_pytest() -> bool:
    # Named for what it serves: otel-llm's own pytest run, which asked explicitly.
    return _raising


def log_internal_error(where: str) -> None:
    """Log the exception being handled as an otel-llm bug, once per place (raise it if asked)."""
    if _under_pytest():
        raise  # noqa: PLE0704 - called from an except block; re-raises the active exception
    _log_once(where, sys.exc_info()[1])


def _log_once(where: str, exc: BaseException | None) -> None:
    if where not in _reported:
        _reported.add(where)
        _logger.error(
            "otel-llm internal error in %s; telemetry for this call is incomplete",
            where,
            exc_info=exc,
        )


class _InternalErrors:
    """What `internal_errors` returns: a class, not a generator, as it runs on every LLM call."""

    __slots__ = ("_where",)

    def __init__(self, where: str) -> None:
        self._where = where

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if not isinstance(exc, Exception) or _under_pytest():
            return False  # no exception, one that is not ours to stop, or a test to fail
        _log_once(self._where, exc)
        return True


def internal_errors(where: str) -> _InternalErrors:
    """Run a block of telemetry code; an exception in it is logged (see log_internal_error)."""
    return _InternalErrors(where)


def guarded(default: _D) -> Callable[[Callable[_P, _R]], Callable[_P, _R | _D]]:
    """Decorate telemetry code so an exception in it returns `default` instead of escaping."""

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R | _D]:
        where = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R | _D:
            try:
                return function(*args, **kwargs)
            except Exception:
                log_internal_error(where)
                return default

        return wrapper

    return decorate


def error_type(exc: BaseException) -> str:
    """The `error.type` of an exception: its fully qualified class name, builtins left bare."""
    cls = type(exc)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    # SDKs define exceptions in private modules but export them publicly (openai._exceptions
    # -> openai); the public path is what users search for.
    top = module.split(".", 1)[0]
    package = sys.modules.get(top)  # never import here: this runs while handling a failure
    if package is not None and getattr(package, cls.__name__, None) is cls:
        return f"{top}.{cls.__qualname__}"
    return f"{module}.{cls.__qualname__}"
