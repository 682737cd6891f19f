"""The hook interface: a hook overrides what it needs and the rest does nothing."""

from __future__ import annotations

from typing import Any

from otel_llm.instrumentation.hooks import CallHook
from otel_llm.instrumentation.types import ResponseInfo


def test_the_base_hook_asks_for_nothing_and_adds_nothing() -> None:
    """start() declines the call's end, end() adds no attributes, after() does nothing."""
    hook = CallHook()
    call: Any = object()
    assert hook.start(call) is False
    assert hook.end(call, ResponseInfo(), {}) is None
    assert hook.after(call, ResponseInfo(), "success") is None  # type: ignore[func-returns-value]


def test_hooks_keep_no_state_of_their_own() -> None:
    """Hooks have no instance dict: one hook serves concurrent calls, state lives on the call."""
    assert not hasattr(CallHook(), "__dict__")
