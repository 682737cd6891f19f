"""Stainless raw responses (`with_raw_response`, `with_streaming_response`), read from the body."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import sys
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import wrapt

from otel_llm import _reaper
from otel_llm._errors import guarded
from otel_llm._reaper import Moment
from otel_llm.instrumentation.endpoint import CallHandle
from otel_llm.instrumentation.types import ResponseInfo, StreamState

_MAX_JSON_BYTES = 32 * 1024 * 1024
"""A non-streamed body larger than this is passed on unread: no reply is that large."""
_CR, _LF = 13, 10
_LINE_END = re.compile(rb"[\r\n]")


def _line_ends(data: bytes) -> Iterator[int]:
    return (match.start() for match in _LINE_END.finditer(data))


@dataclass(frozen=True)
class RawResponses:
    """An SDK's raw-response wrappers, and how a streamed body read from them ends."""

    types: tuple[type, ...] = ()
    """The wrappers (APIResponse, AsyncAPIResponse, openai's LegacyAPIResponse)."""
    final_events: frozenset[str] = frozenset()
    """SSE event names that end a stream's reply (besides `data: [DONE]`)."""
    stream_error: Callable[[str | None, Any, Any], BaseException | None] | None = None
    """(SSE event name, event data, HTTP response) -> the exception the SDK's stream raises for
    that event, or None; lets a raw stream that carried an error event end as failed."""


@guarded(default=False)
def observe_raw(call: CallHandle, raw: RawResponses, response: Any) -> bool:
    """End `call` from the body of raw `response`: now if it was read, else as it is read."""
    http = response.http_response
    endpoint = call.endpoint
    capturing = call.capturing
    if not call.stream:
        try:
            body = http.content
        except Exception:  # httpx's ResponseNotRead: with_streaming_response reads it later
            body = None
        if body is not None:
            call.succeed(_json_info(endpoint.response, body, capturing))
            return True
    reader: _EventReader | _JsonReader
    if "event-stream" in http.headers.get("content-type", ""):
        state = endpoint.stream_state(capturing) if endpoint.stream_state else None
        reader = _EventReader(call, raw, state, weakref.ref(http))
    else:
        reader = _JsonReader(endpoint.response, capturing)
    # A stream ends when its reader is done with it, even when the transport handed over the
    # whole body at once (test doubles, recorded replays): so the SDK's readers are observed,
    # not the transport's byte stream.
    response.http_response = ObservedResponse(http, call, reader)
    return True


_Read = Callable[[Any, bool], ResponseInfo]


@guarded(default=ResponseInfo())
def _json_info(read: _Read, body: bytes, capturing: bool) -> ResponseInfo:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (the provider's or a proxy's doing)
        return ResponseInfo()
    return read(data, capturing) if isinstance(data, dict) else ResponseInfo()


class _EventReader:
    """Decodes server-sent events from body bytes and feeds their JSON data to a stream state."""

    __slots__ = (
        "_after_cr",
        "_call",
        "_data",
        "_event",
        "_http",
        "_pending",
        "_raw",
        "_state",
        "done",
        "error",
    )

    def __init__(
        self, call: CallHandle, raw: RawResponses, state: StreamState | None, http: Any
    ) -> None:
        self._call = call
        self._raw = raw
        self._state = state
        self._http = http
        self._pending = bytearray()
        self._after_cr = False
        self._event: str | None = None
        self._data: list[str] = []
        self.done = False  # the stream said it was complete (`data: [DONE]`)
        self.error: BaseException | None = None  # what the SDK raises for an error event

    def feed(self, data: bytes) -> None:
        """Take the next piece of the body."""
        start = 0
        for end in _line_ends(data):
            # A line ends at CR, LF or CRLF, at once (as the SDKs read it): the LF after a CR
            # ending the previous piece is not a second, empty line.
            if self._after_cr and end == start and data[end] == _LF:
                self._after_cr = False
                start = end + 1
                continue
            self._pending.extend(data[start:end])
            line = bytes(self._pending)
            self._pending.clear()
            self._after_cr = data[end] == _CR
            start = end + 1
            self._line(line)
        if start < len(data):
            self._after_cr = False
            self._pending.extend(data[start:])  # a bytearray: a long line stays linear

    def finish(self) -> None:
        """The body ended: an event not followed by a blank line still counts."""
        if self._pending:
            self._line(bytes(self._pending))
            self._pending.clear()
        self._line(b"")

    def _line(self, line: bytes) -> None:
        if not line:
            if self._data:
                self._dispatch(self._event, "\n".join(self._data))
            self._event, self._data = None, []
            return
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value.decode("utf-8", "replace"))
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")

    def _dispatch(self, event: str | None, text: str) -> None:
        if text.startswith("[DONE]"):
            self.done = True
            return
        try:
            data: Any = json.loads(text)
        except (ValueError, RecursionError):
            data = text
        final = self._raw.final_events
        if final and (event or (data.get("type") if isinstance(data, dict) else None)) in final:
            self.done = True  # the provider's last event: the call ends once it has been read
        stream_error = self._raw.stream_error
        if stream_error is not None and self.error is None:
            http = self._http()  # weak: the reader must not keep its response alive
            if http is not None:
                self.error = stream_error(event, data, http)
        if self._state is not None and isinstance(data, dict):
            self._call.on_chunk(self._state, Fields(data))

    def result(self) -> ResponseInfo:
        """What the events so far amount to."""
        return self._state.result() if self._state is not None else ResponseInfo()


class Fields:
    """A decoded JSON object read as SDK objects are (`getattr`), for the stream states.

    Missing fields read as None, as on an SDK object built without validation; nested
    objects (also inside lists) are views too, made as they are read.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # copy, pickle and friends must not see fields
        value = self._data.get(name)
        if type(value) is dict:
            return Fields(value)
        if type(value) is list:
            return [Fields(item) if type(item) is dict else item for item in value]
        return value


class _JsonReader:
    """Keeps a non-streamed body as it is read, to read the response from it at the end."""

    __slots__ = ("_capturing", "_parts", "_read", "_size", "done", "error")

    def __init__(self, read: _Read, capturing: bool) -> None:
        self._read = read
        self._capturing = capturing
        self._parts: list[bytes] = []
        self._size = 0
        self.done = False
        self.error: BaseException | None = None

    def feed(self, data: bytes) -> None:
        """Take the next piece of the body."""
        self._size += len(data)
        if self._size <= _MAX_JSON_BYTES:
            self._parts.append(data)
        else:
            self._parts.clear()

    def finish(self) -> None:
        """The body ended (nothing to flush)."""

    def result(self) -> ResponseInfo:
        """The response's facts, if the whole body was read."""
        if not self._parts or self._size > _MAX_JSON_BYTES:
            return ResponseInfo()
        return _json_info(self._read, b"".join(self._parts), self._capturing)


_Reader = _EventReader | _JsonReader


@guarded(default=None)
def _feed(response: ObservedResponse, data: bytes) -> None:
    reader: _Reader = response._self_reader
    reader.feed(data)
    if reader.done:
        response._self_end()  # `[DONE]`: the reply is complete even if nobody reads further


@guarded(default=None)
def _finish(reader: _Reader) -> None:
    reader.finish()


@guarded(default=ResponseInfo())
def _result(reader: _Reader) -> ResponseInfo:
    return reader.result()


def _end(
    call: CallHandle,
    reader: _Reader,
    read: bool,
    exc: BaseException | None,
    at: Moment | None = None,
) -> None:
    """End the call of a response: failed, read whole, or given up (`at`: when, if not now)."""
    info = _result(reader)
    error = exc or reader.error
    if error is not None:
        call.fail(error, info, at=at)
    elif read or reader.done:
        call.succeed(info, at=at)
    else:
        call.abandon(info, at=at)


class ObservedResponse(wrapt.ObjectProxy[Any]):
    """An HTTP response whose body is read into the call as the caller reads it.

    `.parse()` (the SDK's stream over it), `iter_lines()`, `iter_bytes()`, `read()`, `text()`
    and `json()` all read through `iter_bytes` / `aiter_bytes` or `content`, so those are
    observed; the call ends when the body ends, is closed, fails or is dropped.
    """

    def __init__(self, wrapped: Any, call: CallHandle, reader: _Reader) -> None:
        super().__init__(wrapped)
        _reaper.ready()  # a dropped response's call is ended on its worker
        self._self_call = call
        self._self_reader = reader
        self._self_read = False
        self._self_ended = False

    def _self_end(self, exc: BaseException | None = None) -> None:
        if self._self_ended:
            return
        self._self_ended = True
        _end(self._self_call, self._self_reader, self._self_read, exc)

    def _self_whole(self, body: bytes) -> None:
        # The body was handed over at once (read(), .content): it is all the reply there is.
        if not self._self_read:
            _feed(self, body)
            self._self_complete()

    def _self_complete(self) -> None:
        self._self_read = True
        _finish(self._self_reader)
        self._self_end()

    # --- sync readers ------------------------------------------------------------------------
    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The decoded body, observed."""
        try:
            for data in self.__wrapped__.iter_bytes(chunk_size):
                _feed(self, data)
                yield data
        except GeneratorExit:
            raise  # the reader stopped early; closing the response says how the call ended
        except BaseException as exc:
            self._self_end(exc)
            raise
        self._self_complete()

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The body as text, read through iter_bytes."""
        return type(self.__wrapped__).iter_text(self, chunk_size)  # type: ignore[no-any-return]

    def iter_lines(self) -> Iterator[str]:
        """The body's lines, read through iter_bytes."""
        return type(self.__wrapped__).iter_lines(self)  # type: ignore[no-any-return]

    def read(self) -> bytes:
        """The whole body, read through iter_bytes."""
        body: bytes = type(self.__wrapped__).read(self)
        self._self_whole(body)
        return body

    @property
    def content(self) -> bytes:
        """The body, once read."""
        body: bytes = self.__wrapped__.content
        self._self_whole(body)
        return body

    @property
    def text(self) -> str:
        """The body as text, once read."""
        return type(self.__wrapped__).text.fget(self)  # type: ignore[no-any-return]

    def json(self, **kwargs: Any) -> Any:
        """The body as JSON, once read."""
        return type(self.__wrapped__).json(self, **kwargs)

    def close(self) -> None:
        """Close the response; ends the call if it had not ended."""
        try:
            self.__wrapped__.close()
        finally:
            self._self_end()

    # --- async readers -----------------------------------------------------------------------
    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The decoded body, observed."""
        chunks = self.__wrapped__.aiter_bytes(chunk_size)
        try:
            async for data in chunks:
                _feed(self, data)
                yield data
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._self_end(exc)
            raise
        finally:
            await chunks.aclose()
        self._self_complete()

    def aiter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body as text, read through aiter_bytes."""
        return type(self.__wrapped__).aiter_text(self, chunk_size)  # type: ignore[no-any-return]

    def aiter_lines(self) -> AsyncIterator[str]:
        """The body's lines, read through aiter_bytes."""
        return type(self.__wrapped__).aiter_lines(self)  # type: ignore[no-any-return]

    async def aread(self) -> bytes:
        """The whole body, read through aiter_bytes."""
        body: bytes = await type(self.__wrapped__).aread(self)
        self._self_whole(body)
        return body

    async def aclose(self) -> None:
        """Close the response; ends the call if it had not ended."""
        try:
            await self.__wrapped__.aclose()
        finally:
            self._self_end()

    # --- the rest of the object protocol -----------------------------------------------------
    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    def __copy__(self) -> Any:
        return copy.copy(self.__wrapped__)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self.__wrapped__, memo)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__wrapped__.__reduce_ex__(protocol)

    def __del__(self) -> None:
        # A raw response dropped unread still ends its call, on the worker, as a dropped
        # stream does (see _StreamProxy.__del__).
        if sys.is_finalizing() or not hasattr(self, "_self_ended") or self._self_ended:
            return
        self._self_ended = True
        call: CallHandle = self._self_call
        reader: _Reader = self._self_reader
        read: bool = self._self_read
        with contextlib.suppress(Exception):
            _reaper.defer(lambda at: _end(call, reader, read, None, at))
