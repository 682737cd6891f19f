"""Stream proxies: transparent, and ending the span exactly once on every exit path."""

from __future__ import annotations

import asyncio
import copy
import gc
import inspect
import types
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, StatusCode

from otel_llm.instrumentation._engine import start_call
from otel_llm.instrumentation._streams import (
    AsyncGeneratorProxy,
    AsyncStreamProxy,
    GeneratorProxy,
    IterableProxy,
    SyncStreamProxy,
    proxy_for,
)
from otel_llm.instrumentation.endpoint import Endpoint, RequestInfo
from otel_llm.instrumentation.types import ResponseInfo
from tests.conftest import Captured


class FakeStream:
    """A minimal SDK-like stream: iterator, context manager, close(), extra attributes."""

    response = "http-response"

    def __init__(self, items: list[Any], fail_at: int | None = None) -> None:
        self._items = iter(items)
        self._index = 0
        self._fail_at = fail_at
        self.closed = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._fail_at is not None and self._index == self._fail_at:
            raise ConnectionResetError("peer went away")
        self._index += 1
        return next(self._items)

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def close(self) -> None:
        self.closed += 1


class FakeAsyncStream:
    """An async counterpart of FakeStream."""

    def __init__(self, items: list[Any]) -> None:
        self._items = iter(items)

    def __aiter__(self) -> FakeAsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._items)
        except StopIteration:
            raise StopAsyncIteration from None

    async def close(self) -> None:
        pass


class CountingState:
    """Counts chunks; reports usage only when the last chunk carried it."""

    def __init__(self) -> None:
        self.chunks: list[Any] = []

    def on_chunk(self, chunk: Any) -> None:
        self.chunks.append(chunk)

    def result(self) -> ResponseInfo:
        return ResponseInfo(finish_reasons=("stop",) if "end" in self.chunks else ("error",))


ENDPOINT = Endpoint(
    operation="chat",
    provider=lambda _: "openai",
    request=lambda resource, args, kwargs: RequestInfo(model="m", stream=True),
    response=lambda result, capture: ResponseInfo(),
)


def _proxy(stream: Any) -> Any:
    call = start_call(ENDPOINT, object(), (), {})
    assert call is not None
    return proxy_for(stream)(stream, call, CountingState())


def _outcome(captured: Captured) -> str:
    (point,) = captured.metric_points("otel_llm.client.requests")
    return str(point.attributes["otel_llm.request.outcome"])


def test_proxy_is_transparent(captured: Captured) -> None:
    """isinstance, attributes and the yielded items are those of the wrapped stream."""
    stream = FakeStream(["a", "b", "end"])
    proxy = _proxy(stream)
    assert isinstance(proxy, FakeStream)
    assert proxy.response == "http-response"
    assert list(proxy) == ["a", "b", "end"]
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert _outcome(captured) == "success"


def test_exhausting_twice_ends_once(captured: Captured) -> None:
    """Iterating past the end again, then closing, still leaves exactly one span."""
    proxy = _proxy(FakeStream(["end"]))
    list(proxy)
    with pytest.raises(StopIteration):
        next(proxy)
    proxy.close()
    assert len(captured.finished_spans()) == 1


def test_error_mid_stream(captured: Captured) -> None:
    """An exception while reading propagates unchanged and ends the span as ERROR."""
    proxy = _proxy(FakeStream(["a", "b"], fail_at=1))
    with pytest.raises(ConnectionResetError):
        list(proxy)
    (span,) = captured.finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ConnectionResetError"
    assert _outcome(captured) == "error"


def test_garbage_collected_without_close(captured: Captured) -> None:
    """A stream dropped unread ends its span when collected, as cancelled."""
    proxy = _proxy(FakeStream(["a", "end"]))
    next(proxy)
    del proxy
    gc.collect()
    assert len(captured.finished_spans()) == 1
    assert _outcome(captured) == "cancelled"


def test_context_manager_closes_the_real_stream(captured: Captured) -> None:
    """Leaving a with-block closes the wrapped stream once and ends the span once."""
    stream = FakeStream(["a", "end"])
    with _proxy(stream) as proxy:
        next(proxy)
    assert stream.closed == 1
    assert len(captured.finished_spans()) == 1


def test_async_proxy(captured: Captured) -> None:
    """The async proxy yields the same items and ends the span when exhausted."""

    async def main() -> list[Any]:
        proxy = _proxy(FakeAsyncStream(["a", "end"]))
        assert isinstance(proxy, FakeAsyncStream)
        return [item async for item in proxy]

    assert asyncio.run(main()) == ["a", "end"]
    assert _outcome(captured) == "success"


def test_copy_reports_to_the_same_span(captured: Captured) -> None:
    """copy.copy of a stream is a stream of the same type whose chunks end the one span once."""
    original = _proxy(FakeStream(["a", "b", "end"]))
    duplicate = copy.copy(original)
    assert isinstance(duplicate, FakeStream)
    assert duplicate is not original
    assert next(original) == "a"
    del original
    gc.collect()
    assert captured.finished_spans() == []  # the copy may still be read
    assert list(duplicate) == ["b", "end"]  # a shallow copy shares the wrapped iterator
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    del duplicate
    gc.collect()
    assert len(captured.finished_spans()) == 1
    assert _outcome(captured) == "success"


def test_last_copy_dropped_ends_the_span(captured: Captured) -> None:
    """When a stream and all its copies are dropped unfinished, the span ends once, cancelled."""
    original = _proxy(FakeStream(["a", "end"]))
    copies = [copy.copy(original), copy.deepcopy(original)]
    assert all(isinstance(c, FakeStream) for c in copies)
    del original
    gc.collect()
    assert captured.finished_spans() == []
    copies.clear()
    gc.collect()
    assert len(captured.finished_spans()) == 1
    assert _outcome(captured) == "cancelled"


def test_deepcopy_raises_what_the_bare_stream_raises(captured: Captured) -> None:
    """A stream that cannot be deep-copied raises the same error through the proxy."""

    class Locked(FakeStream):
        def __deepcopy__(self, memo: dict[int, Any]) -> Any:
            raise TypeError("cannot pickle '_thread.RLock' object")

    with pytest.raises(TypeError, match="RLock"):
        copy.deepcopy(_proxy(Locked(["end"])))


# --- every shape of stream -----------------------------------------------------------------
def _observe(stream: Any) -> Any:
    call = start_call(ENDPOINT, object(), (), {})
    assert call is not None
    return call.observe(stream, CountingState())


def _generator(items: list[Any]) -> Iterator[Any]:
    yield from items


async def _agenerator(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


class EventStreamLike:
    """An iterable that is no iterator, with close() (as botocore's EventStream)."""

    def __init__(self, items: list[Any]) -> None:
        self._items = iter(items)
        self.closed = 0

    def __iter__(self) -> Iterator[Any]:
        yield from self._items

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize(
    ("make", "proxy"),
    [
        (lambda: FakeStream([]), SyncStreamProxy),
        (lambda: _generator([]), GeneratorProxy),
        (lambda: EventStreamLike([]), IterableProxy),
        (lambda: FakeAsyncStream([]), AsyncStreamProxy),
        (lambda: _agenerator([]), AsyncGeneratorProxy),
    ],
    ids=["iterator", "generator", "iterable", "async-iterator", "async-generator"],
)
def test_each_shape_of_stream_gets_its_proxy(make: Any, proxy: type) -> None:
    """proxy_for picks the proxy from the protocol the stream's type implements."""
    stream = make()
    assert issubclass(proxy_for(stream), proxy)
    if hasattr(stream, "aclose"):
        asyncio.run(stream.aclose())


class BareIterator:
    """An iterator with nothing else: no close(), no `with`."""

    def __init__(self, items: list[Any]) -> None:
        self._items = iter(items)

    def __iter__(self) -> BareIterator:
        return self

    def __next__(self) -> Any:
        return next(self._items)


SHAPES: dict[str, Callable[[], Any]] = {
    "iterator": lambda: FakeStream(["end"]),
    "bare-iterator": lambda: BareIterator(["end"]),
    "generator": lambda: _generator(["end"]),
    "iterable": lambda: EventStreamLike(["end"]),
    "async-iterator": lambda: FakeAsyncStream(["end"]),
    "async-generator": lambda: _agenerator(["end"]),
}
METHODS = ("close", "aclose", "send", "throw", "asend", "athrow")


def _raised(action: Callable[[Any], None], stream: Any) -> tuple[type[BaseException], str] | None:
    """The type and message of what `action(stream)` raises (None when it raises nothing)."""
    try:
        action(stream)
    except Exception as exc:
        return type(exc), str(exc)
    return None


def _with(stream: Any) -> None:
    with stream:
        pass


def _async_with(stream: Any) -> None:
    async def enter() -> None:
        async with stream:
            pass

    asyncio.run(enter())


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_proxy_has_the_protocols_of_its_stream_no_more_no_fewer(
    captured: Captured, shape: str
) -> None:
    """close() and kin exist as on the bare stream; `with`/`async with` raise what it raises."""
    bare, proxy = SHAPES[shape](), _observe(SHAPES[shape]())
    assert {m for m in METHODS if hasattr(proxy, m)} == {m for m in METHODS if hasattr(bare, m)}
    for enter in (_with, _async_with):
        expected = _raised(enter, bare)
        if expected is not None:  # the bare stream is no such context manager
            assert _raised(enter, proxy) == expected
    for stream in (bare, proxy):
        if hasattr(stream, "aclose"):
            asyncio.run(stream.aclose())
    # Ended here: a proxy left to a later collection would end its call inside whatever that
    # thread is doing then (here, the next test's set-up holding a lock its metrics need).
    del bare, proxy, stream
    gc.collect()


def test_a_value_that_cannot_be_iterated_is_no_stream() -> None:
    """proxy_for refuses what is not a stream, rather than proxying it wrongly."""
    with pytest.raises(TypeError, match="not a stream"):
        proxy_for(42)


def test_generator_read_to_the_end(captured: Captured) -> None:
    """A generator stream is still a generator and ends its span once, successfully."""
    proxy = _observe(_generator(["a", "end"]))
    assert isinstance(proxy, types.GeneratorType)
    assert list(proxy) == ["a", "end"]
    (span,) = captured.finished_spans()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert _outcome(captured) == "success"


def test_generator_send_and_close(captured: Captured) -> None:
    """send() is observed like next(); close() ends the span once, cancelled."""
    proxy = _observe(_generator(["a", "b", "end"]))
    assert next(proxy) == "a"
    assert proxy.send(None) == "b"
    proxy.close()
    assert len(captured.finished_spans()) == 1
    assert _outcome(captured) == "cancelled"


def test_generator_throw_of_the_callers_exception_abandons(captured: Captured) -> None:
    """An exception the caller throws in and gets back is theirs: the stream is abandoned."""
    proxy = _observe(_generator(["a", "end"]))
    next(proxy)
    with pytest.raises(KeyError):
        proxy.throw(KeyError("mine"))
    assert _outcome(captured) == "cancelled"


def test_iterable_stream_read_to_the_end(captured: Captured) -> None:
    """An iterable stream (no __next__) is read through its proxy and ends once."""
    stream = EventStreamLike(["a", "end"])
    proxy = _observe(stream)
    assert isinstance(proxy, EventStreamLike)
    assert list(proxy) == ["a", "end"]
    assert _outcome(captured) == "success"


def test_iterable_stream_left_by_break_can_be_read_on(captured: Captured) -> None:
    """Breaking out of a loop does not end the call: a later loop reads on, close() ends it."""
    stream = EventStreamLike(["a", "b", "end"])
    proxy = _observe(stream)
    for _ in proxy:
        break
    gc.collect()
    assert captured.finished_spans() == []
    assert list(proxy) == ["b", "end"]
    proxy.close()
    assert len(captured.finished_spans()) == 1
    assert _outcome(captured) == "success"


def test_iterable_stream_closed_early(captured: Captured) -> None:
    """close() on an iterable stream closes it and ends the span once, cancelled."""
    stream = EventStreamLike(["a", "end"])
    proxy = _observe(stream)
    proxy.close()
    assert stream.closed == 1
    assert _outcome(captured) == "cancelled"


def test_async_generator_read_to_the_end(captured: Captured) -> None:
    """An async generator stream is still one, and ends its span once, successfully."""

    async def main() -> list[Any]:
        proxy = _observe(_agenerator(["a", "end"]))
        assert inspect.isasyncgen(proxy)
        return [item async for item in proxy]

    assert asyncio.run(main()) == ["a", "end"]
    assert _outcome(captured) == "success"


def test_async_generator_asend_athrow_and_aclose(captured: Captured) -> None:
    """asend() is observed, athrow() of the caller's exception abandons, aclose() too, once."""

    async def main() -> None:
        proxy = _observe(_agenerator(["a", "b", "c", "end"]))
        assert await proxy.__anext__() == "a"
        assert await proxy.asend(None) == "b"
        with pytest.raises(KeyError):
            await proxy.athrow(KeyError("mine"))
        await proxy.aclose()

    asyncio.run(main())
    (span,) = captured.finished_spans()
    assert _outcome(captured) == "cancelled"
    assert "error.type" not in span.attributes


def test_async_generator_closed_before_reading(captured: Captured) -> None:
    """aclose() before the first chunk ends the span once, cancelled."""

    async def main() -> None:
        proxy = _observe(_agenerator(["a", "end"]))
        await proxy.aclose()
        await proxy.aclose()

    asyncio.run(main())
    assert len(captured.finished_spans()) == 1
    assert _outcome(captured) == "cancelled"


class SdkLikeStream(FakeStream):
    """Like openai.Stream / anthropic.Stream: `__iter__` is a generator over `__next__`."""

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                item = self.__next__()
            except StopIteration:
                return
            yield item


class SdkLikeAsyncStream(FakeAsyncStream):
    """Like openai.AsyncStream: `__aiter__` is an async generator over `__anext__`."""

    async def __aiter__(self) -> AsyncIterator[Any]:  # type: ignore[override]
        while True:
            try:
                item = await self.__anext__()
            except StopAsyncIteration:
                return
            yield item


@pytest.mark.parametrize("make", [FakeStream, SdkLikeStream], ids=["returns self", "generator"])
def test_iter_gives_what_the_bare_streams_iter_gives(captured: Captured, make: Any) -> None:
    """iter(proxy) is the proxy exactly when iter(stream) is the stream, else a new generator."""
    bare = make(["a", "end"])
    proxy = _proxy(make(["a", "end"]))
    assert (iter(proxy) is proxy) is (iter(bare) is bare)
    assert isinstance(iter(proxy), proxy_for(bare) if iter(bare) is bare else types.GeneratorType)
    assert list(iter(proxy)) == ["a", "end"]
    assert _outcome(captured) == "success"
    assert len(captured.finished_spans()) == 1


def test_a_generator_left_early_leaves_the_stream_to_be_read_on(captured: Captured) -> None:
    """Closing iter()'s generator ends no call; the stream reads on and ends its call once."""
    proxy = _proxy(SdkLikeStream(["a", "b", "end"]))
    first = iter(proxy)
    assert next(first) == "a"
    first.close()
    assert not captured.finished_spans()
    assert list(proxy) == ["b", "end"]
    assert list(proxy) == []
    del proxy, first
    gc.collect()
    assert _outcome(captured) == "success"
    assert len(captured.finished_spans()) == 1


def test_a_generator_dropped_mid_stream_ends_the_call_with_the_stream(captured: Captured) -> None:
    """The stream's last reference (held by iter()'s generator too) ends the call, cancelled."""
    proxy = _proxy(SdkLikeStream(["a", "b", "end"]))
    iterator = iter(proxy)
    next(iterator)
    del proxy
    gc.collect()
    assert not captured.finished_spans()  # the generator still reads the stream
    del iterator
    gc.collect()
    assert _outcome(captured) == "cancelled"
    assert len(captured.finished_spans()) == 1


def test_an_error_through_iters_generator_fails_the_call_once(captured: Captured) -> None:
    """An error raised by the stream under iter()'s generator is raised as is and fails once."""
    proxy = _proxy(SdkLikeStream(["a", "b"], fail_at=1))
    with pytest.raises(ConnectionResetError):
        list(iter(proxy))
    del proxy
    gc.collect()
    (span,) = captured.finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert _outcome(captured) == "error"


@pytest.mark.parametrize(
    "make", [FakeAsyncStream, SdkLikeAsyncStream], ids=["returns self", "async generator"]
)
def test_aiter_gives_what_the_bare_streams_aiter_gives(captured: Captured, make: Any) -> None:
    """aiter(proxy) is the proxy exactly when aiter(stream) is; read to the end it ends once."""

    async def main() -> list[Any]:
        bare = make(["a", "end"])
        proxy = _proxy(make(["a", "end"]))
        assert (aiter(proxy) is proxy) is (aiter(bare) is bare)
        if aiter(bare) is not bare:
            assert type(aiter(proxy)) is types.AsyncGeneratorType
        head = []
        async for chunk in proxy:
            head.append(chunk)
            break
        return head + [chunk async for chunk in proxy]

    assert asyncio.run(main()) == ["a", "end"]
    gc.collect()
    assert _outcome(captured) == "success"
    assert len(captured.finished_spans()) == 1


def _spans_seen(items: list[Any], seen: list[Any]) -> Iterator[Any]:
    for item in items:
        seen.append(trace.get_current_span())  # what SDK code in the step would see
        yield item
    seen.append(trace.get_current_span())


async def _aspans_seen(items: list[Any], seen: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        seen.append(trace.get_current_span())
        yield item
    seen.append(trace.get_current_span())


def test_generator_steps_run_with_the_calls_span_current(captured: Captured) -> None:
    """Every step of a generator (a lazy SDK's request, later requests) sees the call's span."""
    seen: list[Any] = []
    proxy = _observe(_spans_seen(["a", "b", "end"], seen))
    assert next(proxy) == "a"
    assert trace.get_current_span() is INVALID_SPAN  # not between the steps
    assert proxy.send(None) == "b"
    assert list(proxy) == ["end"]
    (span,) = captured.finished_spans()
    assert {s.get_span_context().span_id for s in seen} == {span.context.span_id}
    assert trace.get_current_span() is INVALID_SPAN


def test_async_generator_steps_run_with_the_calls_span_current(captured: Captured) -> None:
    """Every step of an async generator sees the call's span, and only during the step."""
    seen: list[Any] = []

    async def main() -> list[Any]:
        proxy = _observe(_aspans_seen(["a", "b", "end"], seen))
        first = await proxy.__anext__()
        assert trace.get_current_span() is INVALID_SPAN
        second = await proxy.asend(None)
        return [first, second, *[item async for item in proxy]]

    assert asyncio.run(main()) == ["a", "b", "end"]
    (span,) = captured.finished_spans()
    assert {s.get_span_context().span_id for s in seen} == {span.context.span_id}
