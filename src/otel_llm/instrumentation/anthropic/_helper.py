"""Anthropic's `messages.stream(...)` helper: the call starts when its `with` block enters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import wrapt

from otel_llm._errors import guarded
from otel_llm.instrumentation._call import Call, Recorder
from otel_llm.instrumentation._engine import (
    Wrapper,
    enter_call,
    exit_call,
    in_instrumented_call,
    start_call,
)
from otel_llm.instrumentation.endpoint import Endpoint
from otel_llm.instrumentation.types import ResponseInfo


class MessageStreamManagerProxy(wrapt.ObjectProxy[Any]):
    """Wraps MessageStreamManager: entering it sends the request, so the call starts then.

    The helper posts the request itself (not through `messages.create`) and reads the raw
    event stream inside its MessageStream, so that raw stream is what gets observed.
    """

    def __init__(
        self, wrapped: Any, endpoint: Endpoint, resource: Any, kwargs: Any, recorder: Recorder
    ) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder
        self._self_endpoint = endpoint
        self._self_resource = resource
        self._self_kwargs = {**kwargs, "stream": True}
        self._self_raw: Any = None

    def _self_start(self) -> Call | None:
        if in_instrumented_call():
            return None
        return start_call(
            self._self_endpoint, self._self_resource, (), self._self_kwargs, self._self_recorder
        )

    def _self_attach(self, call: Call | None, stream: Any) -> Any:
        if call is not None:
            observe_raw_stream(stream, call)
            self._self_raw = getattr(stream, "_raw_stream", None)
        return stream

    def _self_close(self) -> None:
        # Leaving the with-block (even by the caller's own exception) abandons an unfinished
        # stream; it does not make the provider call a failure.
        raw = self._self_raw
        if raw is not None and hasattr(raw, "_self_end"):
            raw._self_end()

    def __enter__(self) -> Any:
        call = self._self_start()
        tokens = enter_call(call) if call is not None else None
        try:
            stream = self.__wrapped__.__enter__()
        except BaseException as exc:
            if call is not None:
                call.fail(exc)
            raise
        finally:
            if tokens is not None:
                exit_call(tokens)
        return self._self_attach(call, stream)

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_close()

    async def __aenter__(self) -> Any:
        call = self._self_start()
        tokens = enter_call(call) if call is not None else None
        try:
            stream = await self.__wrapped__.__aenter__()
        except BaseException as exc:
            if call is not None:
                call.fail(exc)
            raise
        finally:
            if tokens is not None:
                exit_call(tokens)
        return self._self_attach(call, stream)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_close()


@guarded(default=None)
def observe_raw_stream(stream: Any, call: Call) -> None:
    """Observe a MessageStream's raw events by proxying its (not yet iterated) raw stream."""
    raw = getattr(stream, "_raw_stream", None)
    if raw is None:
        call.succeed(ResponseInfo())
        return
    stream._raw_stream = call.observe(raw)


def stream_helper(endpoint: Endpoint | None, recorder: Recorder) -> Wrapper:
    """The wrapper of `messages.stream` (sync and async): a manager proxy per call."""
    if endpoint is None:
        raise ValueError("messages.stream needs the messages endpoint")

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Mapping[str, Any]
    ) -> Any:
        manager = wrapped(*args, **kwargs)
        return MessageStreamManagerProxy(manager, endpoint, instance, kwargs, recorder)

    return wrapper


def suppress_sdk_span(endpoint: Endpoint | None, recorder: Recorder) -> Wrapper:
    """The wrapper of the SDK's own span: none inside a call otel-llm records."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Mapping[str, Any]
    ) -> Any:
        # anthropic >= 2 starts its own call span once a tracer provider is set; inside a call
        # we record, that would record the call twice, so the SDK gets "no span" (supported).
        if in_instrumented_call():
            return None
        return wrapped(*args, **kwargs)

    return wrapper
