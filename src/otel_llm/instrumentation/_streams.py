"""Transparent stream proxies whose call ends exactly once, however the stream ends.

One proxy per shape of stream: iterators (SDK stream objects), iterables (botocore's
EventStream), generators, async iterators and async generators. `proxy_for` picks it from
the stream's type, so a provider only says where its streams are, and gives it `close()`,
`with` and `async with` only when the bare stream has them: a proxy neither adds nor removes
a protocol (`hasattr(stream, "close")`, `with stream:` behave as on the bare stream).
"""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any

import wrapt
from opentelemetry import context as otel_context
from opentelemetry import trace

from otel_llm import _reaper
from otel_llm._errors import guarded, log_internal_error
from otel_llm._reaper import Moment
from otel_llm.instrumentation.endpoint import CallHandle
from otel_llm.instrumentation.types import ResponseInfo, StreamState

Strip = Callable[[Any], bool]


@guarded(default=ResponseInfo())
def _result(state: StreamState) -> ResponseInfo:
    return state.result()


def _on_chunk(call: CallHandle, state: StreamState, chunk: Any) -> None:
    # Guarded inline rather than with `guarded` (one frame less): this runs for every chunk.
    try:
        call.on_chunk(state, chunk)
    except Exception:
        log_internal_error("observing a stream chunk")


@guarded(default=False)
def _hidden(strip: Strip, chunk: Any) -> bool:
    return strip(chunk)


def _dropped(call: CallHandle, state: StreamState, at: Moment) -> None:
    """End the call of a stream dropped unfinished at `at` (on the _reaper worker)."""
    call.abandon(_result(state), at=at)


class _Copies:
    """How many proxies (a stream and its copies) share one call; the last one dropped ends it."""

    __slots__ = ("alive",)

    def __init__(self) -> None:
        self.alive = 0


class _StreamProxy(wrapt.ObjectProxy[Any]):
    """Shared ending logic: `isinstance`, attributes and methods all pass to the real stream."""

    def __init__(
        self,
        wrapped: Any,
        call: CallHandle,
        state: StreamState,
        strip: Strip | None = None,
        copies: _Copies | None = None,
    ) -> None:
        super().__init__(wrapped)
        _reaper.ready()  # a dropped stream's call is ended on its worker
        self._self_call = call
        self._self_state = state
        self._self_strip = strip
        self._self_copies = copies = copies or _Copies()
        copies.alive += 1

    def __copy__(self) -> Any:
        # A copy reads the same response (or a copy of it), so it reports to the same call.
        return type(self)(
            copy.copy(self.__wrapped__),
            self._self_call,
            self._self_state,
            self._self_strip,
            self._self_copies,
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # Raises whatever deep-copying the bare stream raises (an SDK stream's client has locks).
        duplicate = copy.deepcopy(self.__wrapped__, memo)
        return type(self)(
            duplicate, self._self_call, self._self_state, self._self_strip, self._self_copies
        )

    def _self_end(self, exc: BaseException | None = None, *, completed: bool = False) -> None:
        # Call.succeed/fail/abandon are idempotent, so every exit path may call this.
        call: CallHandle = self._self_call
        info = _result(self._self_state)
        if exc is not None and not isinstance(exc, StopIteration | StopAsyncIteration):
            call.fail(exc, info)
        elif completed:
            call.succeed(info)
        else:
            call.abandon(info)

    def _self_chunk(self, chunk: Any) -> bool:
        """Observe `chunk`; True when it is passed on to the caller (not hidden usage)."""
        _on_chunk(self._self_call, self._self_state, chunk)
        strip = self._self_strip
        return strip is None or not _hidden(strip, chunk)

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
        # Not ended here: a finalizer runs on whatever thread collected, maybe inside a
        # locked section that ending the call takes again (otel_llm._reaper).
        call: CallHandle = self._self_call
        state: StreamState = self._self_state
        with contextlib.suppress(Exception):
            _reaper.defer(lambda at: _dropped(call, state, at))

    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    # wrapt's ObjectProxy has all four context-manager methods, which call the bare stream's as
    # attributes: for a stream that is no context manager, `with` would raise AttributeError
    # where the bare stream's raises TypeError. These raise what the statement raises on it.
    # (The _Context mixins replace them for streams that are context managers.)
    def __enter__(self) -> Any:
        with self.__wrapped__:
            pass  # not reached: the bare stream is no context manager
        raise TypeError(f"{type(self.__wrapped__).__qualname__} is no context manager")

    def __aenter__(self) -> Any:
        # Raised synchronously, as `async with` raises it for the bare stream.
        entering = _async_with(self.__wrapped__)
        try:
            entering.send(None)
        finally:
            entering.close()
        raise TypeError(f"{type(self.__wrapped__).__qualname__} is no async context manager")


async def _async_with(stream: Any) -> None:
    """`async with stream`: raises at once what the statement raises on a non-manager."""
    async with stream:
        pass  # not reached


class SyncStreamProxy(_StreamProxy):
    """Proxy for a synchronous iterator (openai.Stream, anthropic.Stream, ...)."""

    def __iter__(self) -> Iterator[Any]:
        # As the bare stream does: openai's and anthropic's Stream.__iter__ is a generator
        # (`iter(stream) is stream` is False), an iterator such as a generator returns itself.
        wrapped = self.__wrapped__
        iterator = iter(wrapped)
        if iterator is wrapped:
            return self
        return self._self_iterate(iterator)

    def _self_iterate(self, iterator: Iterator[Any]) -> Iterator[Any]:
        call, state, strip = self._self_call, self._self_state, self._self_strip
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                self._self_end(completed=True)
                return
            except BaseException as exc:
                self._self_end(exc)
                raise
            _on_chunk(call, state, chunk)  # inline: see __next__
            if strip is None or not _hidden(strip, chunk):
                # Left early (break, close()): this generator ends, the stream does not, as
                # the bare one's; a later loop reads on, and close(), `with` or the last
                # reference ends the call.
                yield chunk

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
            # Inline rather than _self_chunk: this runs for every chunk of every stream.
            _on_chunk(self._self_call, self._self_state, chunk)
            strip = self._self_strip
            if strip is None or not _hidden(strip, chunk):
                return chunk


class GeneratorProxy(SyncStreamProxy):
    """Proxy for a generator (google-genai's sync stream): `send` and `throw` observed too.

    Each step runs with the call's span current: a generator runs the SDK's own code on every
    step, its request included (google-genai sends it on the first `next()`), so the HTTP client
    spans and logs of that code nest under the call's span, as for SDKs that send the request
    inside the call.
    """

    def __init__(self, wrapped: Any, call: CallHandle, *args: Any) -> None:
        super().__init__(wrapped, call, *args)
        self._self_context = trace.set_span_in_context(call.span)

    def __next__(self) -> Any:
        token = otel_context.attach(self._self_context)
        try:
            return super().__next__()
        finally:
            otel_context.detach(token)

    def send(self, value: Any) -> Any:
        """Send `value` into the generator; what it yields is observed as a chunk."""
        return self._self_resume(self.__wrapped__.send, value)

    def throw(self, *args: Any) -> Any:
        """Throw into the generator; the exception coming back out is the caller's own."""
        return self._self_resume(self.__wrapped__.throw, *args, thrown=True)

    def _self_resume(self, resume: Callable[..., Any], *args: Any, thrown: bool = False) -> Any:
        token = otel_context.attach(self._self_context)
        try:
            chunk = resume(*args)
        except StopIteration:
            self._self_end(completed=True)
            raise
        except BaseException as exc:
            # The caller's own exception, thrown in and not handled, abandons the stream.
            self._self_end(None if thrown and _is_thrown(exc, args) else exc)
            raise
        finally:
            otel_context.detach(token)
        if self._self_chunk(chunk):
            return chunk
        return self.__next__()  # hidden usage: the caller gets the next chunk instead


class IterableProxy(_StreamProxy):
    """Proxy for an iterable stream that is no iterator (botocore's EventStream)."""

    def __iter__(self) -> Iterator[Any]:
        iterator = iter(self.__wrapped__)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                self._self_end(completed=True)
                return
            except BaseException as exc:
                self._self_end(exc)
                raise
            # Left early (break): the generator is closed here, the stream is not; a later
            # loop may read on, and close(), the last reference or `with` ends the call.
            if self._self_chunk(chunk):
                yield chunk


class AsyncStreamProxy(_StreamProxy):
    """Proxy for an asynchronous iterator (openai.AsyncStream, anthropic.AsyncStream, ...)."""

    def __aiter__(self) -> AsyncIterator[Any]:
        # As the bare stream does (see SyncStreamProxy.__iter__): a new async generator for
        # the SDKs' AsyncStream, itself for an async generator.
        wrapped = self.__wrapped__
        iterator = aiter(wrapped)
        if iterator is wrapped:
            return self
        return self._self_aiterate(iterator)

    async def _self_aiterate(self, iterator: AsyncIterator[Any]) -> AsyncIterator[Any]:
        call, state, strip = self._self_call, self._self_state, self._self_strip
        while True:
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                self._self_end(completed=True)
                return
            except BaseException as exc:
                self._self_end(exc)
                raise
            _on_chunk(call, state, chunk)  # inline: see __next__
            if strip is None or not _hidden(strip, chunk):
                yield chunk

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
            _on_chunk(self._self_call, self._self_state, chunk)  # inline: see __next__
            strip = self._self_strip
            if strip is None or not _hidden(strip, chunk):
                return chunk


class AsyncGeneratorProxy(AsyncStreamProxy):
    """Proxy for an async generator (google-genai's async stream): `aclose`, `asend`, `athrow`.

    Each step runs with the call's span current (see GeneratorProxy).
    """

    def __init__(self, wrapped: Any, call: CallHandle, *args: Any) -> None:
        super().__init__(wrapped, call, *args)
        self._self_context = trace.set_span_in_context(call.span)

    async def __anext__(self) -> Any:
        token = otel_context.attach(self._self_context)
        try:
            return await super().__anext__()
        finally:
            otel_context.detach(token)

    async def asend(self, value: Any) -> Any:
        """Send `value` into the generator; what it yields is observed as a chunk."""
        return await self._self_resume(self.__wrapped__.asend, value)

    async def athrow(self, *args: Any) -> Any:
        """Throw into the generator; the exception coming back out is the caller's own."""
        return await self._self_resume(self.__wrapped__.athrow, *args, thrown=True)

    async def aclose(self) -> None:
        """Close the generator, ending the span (abandoned) if it has not ended."""
        try:
            await self.__wrapped__.aclose()
        finally:
            self._self_end()

    async def _self_resume(
        self, resume: Callable[..., Any], *args: Any, thrown: bool = False
    ) -> Any:
        token = otel_context.attach(self._self_context)
        try:
            chunk = await resume(*args)
        except StopAsyncIteration:
            self._self_end(completed=True)
            raise
        except BaseException as exc:
            self._self_end(None if thrown and _is_thrown(exc, args) else exc)
            raise
        finally:
            otel_context.detach(token)
        if self._self_chunk(chunk):
            return chunk
        return await self.__anext__()


def _is_thrown(exc: BaseException, args: tuple[Any, ...]) -> bool:
    """Whether `exc` is what the caller threw in (`throw(exc)` or `throw(type, value)`)."""
    thrown = args[1] if len(args) > 1 and args[1] is not None else args[0] if args else None
    if isinstance(thrown, BaseException):
        return exc is thrown
    return isinstance(thrown, type) and type(exc) is thrown


class _Context(_StreamProxy):
    """`with` for a stream that is a context manager: leaving it ends the call."""

    def __enter__(self) -> Any:
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


class _Closing(_StreamProxy):
    """`close()` for a stream that has it (openai's Stream, botocore's EventStream, generators)."""

    def close(self) -> None:
        """Close the underlying stream, ending the span if it has not ended."""
        try:
            self.__wrapped__.close()
        finally:
            self._self_end()


class _AsyncContext(_StreamProxy):
    """`async with` for a stream that is an async context manager."""

    async def __aenter__(self) -> Any:
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
            self._self_end()  # see _Context.__exit__


class _AsyncClosing(_StreamProxy):
    """`await close()` for an async stream that has it (openai's and anthropic's AsyncStream)."""

    async def close(self) -> None:
        """Close the underlying stream, ending the span if it has not ended."""
        try:
            await self.__wrapped__.close()
        finally:
            self._self_end()


_PROXIES: dict[type, type[_StreamProxy]] = {}


def proxy_for(stream: Any) -> type[_StreamProxy]:
    """The proxy class for `stream`'s type: its shape, with the bare type's extra protocols.

    Cached per type: a subclass of the shape's proxy (SyncStreamProxy, ...) with `close()`,
    `with` and `async with` exactly when the stream's type has them.
    """
    kind = type(stream)
    proxy = _PROXIES.get(kind)
    if proxy is None:
        proxy = _PROXIES[kind] = _compose(kind, _classify(kind))
    return proxy


def _compose(kind: type, shape: type[_StreamProxy]) -> type[_StreamProxy]:
    asynchronous = issubclass(shape, AsyncStreamProxy | _AsyncIterableProxy)
    mixins: list[type[_StreamProxy]] = []
    if hasattr(kind, "close"):
        mixins.append(_AsyncClosing if asynchronous else _Closing)
    if hasattr(kind, "__enter__") and hasattr(kind, "__exit__"):
        mixins.append(_Context)
    if hasattr(kind, "__aenter__") and hasattr(kind, "__aexit__"):
        mixins.append(_AsyncContext)
    if not mixins:
        return shape
    return type(shape.__name__, (*mixins, shape), {"__module__": __name__})


def _classify(kind: type) -> type[_StreamProxy]:
    if all(hasattr(kind, name) for name in ("__anext__", "asend", "athrow", "aclose")):
        return AsyncGeneratorProxy
    if hasattr(kind, "__anext__"):
        return AsyncStreamProxy
    if all(hasattr(kind, name) for name in ("__next__", "send", "throw")):
        return GeneratorProxy
    if hasattr(kind, "__next__"):
        return SyncStreamProxy
    if hasattr(kind, "__iter__"):
        return IterableProxy
    if hasattr(kind, "__aiter__"):
        return _AsyncIterableProxy
    raise TypeError(f"{kind.__qualname__} is not a stream: it cannot be iterated")


class _AsyncIterableProxy(_StreamProxy):
    """Proxy for an async iterable that is no async iterator."""

    async def __aiter__(self) -> AsyncIterator[Any]:
        iterator = self.__wrapped__.__aiter__()
        while True:
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                self._self_end(completed=True)
                return
            except BaseException as exc:
                self._self_end(exc)
                raise
            if self._self_chunk(chunk):
                yield chunk
