"""Transparent stream proxies whose span ends exactly once, however the stream ends."""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

import wrapt

from otel_llm._errors import guarded
from otel_llm.instrumentation._engine import Call, _stream_collector
from otel_llm.instrumentation._model import ResponseInfo, StreamState


@guarded(default=ResponseInfo())
def _result(state: StreamState) -> ResponseInfo:
    return state.result()


@guarded(default=None)
def _on_chunk(call: Call, state: StreamState, chunk: Any) -> None:
    call.on_chunk(state, chunk)


@guarded(default=False)
def _hidden(strip: Callable[[Any], bool], chunk: Any) -> bool:
    return strip(chunk)


class _Copies:
    """How many proxies (a stream and its copies) share one call; the last one dropped ends it."""

    __slots__ = ("alive",)

    def __init__(self) -> None:
        self.alive = 0


class _StreamProxy(wrapt.ObjectProxy[Any]):
    """Shared ending logic: `isinstance`, attributes and methods all pass to the real stream."""

    def __init__(
        self, wrapped: Any, call: Call, state: StreamState, copies: _Copies | None = None
    ) -> None:
        super().__init__(wrapped)
        self._self_call = call
        self._self_state = state
        self._self_strip = call.strip_usage
        self._self_copies = copies = copies or _Copies()
        copies.alive += 1

    def __copy__(self) -> Any:
        # A copy reads the same response (or a copy of it), so it reports to the same call.
        return type(self)(
            copy.copy(self.__wrapped__), self._self_call, self._self_state, self._self_copies
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # Raises whatever deep-copying the bare stream raises (an SDK stream's client has locks).
        duplicate = copy.deepcopy(self.__wrapped__, memo)
        return type(self)(duplicate, self._self_call, self._self_state, self._self_copies)

    def _self_end(self, exc: BaseException | None = None, *, completed: bool = False) -> None:
        # Call.succeed/fail/abandon are idempotent, so every exit path may call this.
        call: Call = self._self_call
        info = _result(self._self_state)
        if exc is not None and not isinstance(exc, StopIteration | StopAsyncIteration):
            call.fail(exc, info)
        elif completed:
            call.succeed(info)
        else:
            call.abandon(info)

    def __del__(self) -> None:
        # A stream dropped without being exhausted or closed (e.g. `break` out of a for loop)
        # still ends its span, with whatever usage had arrived. At interpreter exit the SDK
        # is already shut down, and a half-built proxy has nothing to end.
        if sys.is_finalizing() or not hasattr(self, "_self_copies"):
            return
        copies: _Copies = self._self_copies
        copies.alive -= 1
        if copies.alive > 0:
            return  # a copy of this stream may still be read
        with contextlib.suppress(Exception):
            self._self_end()

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


class SyncStreamProxy(_StreamProxy):
    """Proxy for a synchronous SDK stream (openai.Stream, anthropic.Stream, ...)."""

    def __iter__(self) -> SyncStreamProxy:
        return self

    def __next__(self) -> Any:
        while True:
            try:
                chunk = self.__wrapped__.__next__()
            except StopIteration:
                self._self_end(completed=True)
                raise
            except BaseException as exc:
                self._self_end(exc)
                raise
            _on_chunk(self._self_call, self._self_state, chunk)
            strip = self._self_strip
            if strip is None or not _hidden(strip, chunk):
                return chunk

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, traceback)
        finally:
            # An exception raised in the caller's with-body is the caller's, not the provider's:
            # the stream was abandoned, it did not fail.
            self._self_end()

    def close(self) -> None:
        """Close the underlying stream, ending the span if it has not ended."""
        try:
            self.__wrapped__.close()
        finally:
            self._self_end()


class AsyncStreamProxy(_StreamProxy):
    """Proxy for an asynchronous SDK stream (openai.AsyncStream, anthropic.AsyncStream, ...)."""

    def __aiter__(self) -> AsyncStreamProxy:
        return self

    async def __anext__(self) -> Any:
        while True:
            try:
                chunk = await self.__wrapped__.__anext__()
            except StopAsyncIteration:
                self._self_end(completed=True)
                raise
            except BaseException as exc:
                self._self_end(exc)
                raise
            _on_chunk(self._self_call, self._self_state, chunk)
            strip = self._self_strip
            if strip is None or not _hidden(strip, chunk):
                return chunk

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, traceback)
        finally:
            self._self_end()  # see SyncStreamProxy.__exit__

    async def close(self) -> None:
        """Close the underlying stream, ending the span if it has not ended."""
        try:
            await self.__wrapped__.close()
        finally:
            self._self_end()


class StreamManagerProxy(wrapt.ObjectProxy[Any]):
    """Wraps an SDK stream helper's manager (openai `chat.completions.stream(...)`).

    The helper's own stream closes the HTTP response directly, bypassing our stream proxy, so
    leaving the `with` block ends the spans of the streams opened inside it.
    """

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._self_streams: list[Any] = []

    def __enter__(self) -> Any:
        token = _stream_collector.set(self._self_streams)
        try:
            return self.__wrapped__.__enter__()
        finally:
            _stream_collector.reset(token)

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_end_streams()

    async def __aenter__(self) -> Any:
        token = _stream_collector.set(self._self_streams)
        try:
            return await self.__wrapped__.__aenter__()
        finally:
            _stream_collector.reset(token)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_end_streams()

    def _self_end_streams(self) -> None:
        for stream in self._self_streams:
            stream._self_end()  # abandons a stream left unfinished; no-op once it has ended
