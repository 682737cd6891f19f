"""Raw responses (with_raw_response, with_streaming_response) through the real SDKs."""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pydantic
import pytest
from opentelemetry.trace import StatusCode

from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.anthropic import AnthropicInstrumentor
from otel_llm.instrumentation.openai import OpenAIInstrumentor
from tests.conftest import Captured, make_captured
from tests.instrumentation import _fakes as fakes

MESSAGES: Any = [{"role": "user", "content": "Where is my order?"}]
MODEL = "gpt-4o-mini"
CHAT_SSE = fakes.sse(fakes.chat_chunks())
STREAMED = {"gen_ai.response.id": "chatcmpl-Str3am", "gen_ai.response.model": MODEL + "-2024-07-18"}
# Both ways a body reaches the SDK: whole (test doubles, recorded replays) or in pieces.
BODIES = ["whole", "in pieces"]


@pytest.fixture
def instrumented() -> Iterator[Captured]:
    """OpenAI and Anthropic instrumented against in-memory providers."""
    captured = make_captured()
    OpenAIInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    AnthropicInstrumentor().instrument(**captured.providers, skip_dep_check=True)
    try:
        yield captured
    finally:
        OpenAIInstrumentor().uninstrument()
        AnthropicInstrumentor().uninstrument()


def _handler(payload: bytes, body: str) -> fakes.Handler:
    return fakes.respond_sse(payload) if body == "whole" else fakes.respond_streamed(payload)


def _one_span(captured: Captured) -> Any:
    (span,) = captured.finished_spans()
    return span


def _outcome(captured: Captured) -> str:
    (point,) = captured.metric_points("otel_llm.client.requests")
    return str(point.attributes["otel_llm.request.outcome"])


def _assert_recorded_reply(captured: Captured) -> None:
    """The span and metrics describe the streamed reply, as for a plain stream."""
    span = _one_span(captured)
    for key, value in STREAMED.items():
        assert span.attributes[key] == value
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.usage.input_tokens"] == 42
    assert span.attributes["gen_ai.usage.output_tokens"] == 4
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert span.status.status_code is StatusCode.UNSET
    (ttfc,) = captured.metric_points("gen_ai.client.inference.time_to_first_chunk")
    assert ttfc.count == 1
    (tokens,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == 42
    (duration,) = captured.metric_points("gen_ai.client.inference.duration")
    assert duration.attributes["gen_ai.response.model"] == STREAMED["gen_ai.response.model"]
    assert _outcome(captured) == "success"


@pytest.mark.parametrize("body", BODIES)
def test_raw_stream_parse_records_the_reply_when_read(instrumented: Captured, body: str) -> None:
    """with_raw_response(stream=True): the span ends with the stream the caller parses."""
    client = fakes.openai_client(_handler(CHAT_SSE, body))
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    )
    assert type(raw) is openai._legacy_response.LegacyAPIResponse
    assert instrumented.finished_spans() == []
    stream = raw.parse()
    assert type(stream) is openai.Stream
    chunks = [chunk.to_dict() for chunk in stream]
    assert chunks == fakes.chat_chunks()
    _assert_recorded_reply(instrumented)


@pytest.mark.parametrize("body", BODIES)
def test_async_raw_stream_parse_records_the_reply(instrumented: Captured, body: str) -> None:
    """The async raw stream records the same reply once the caller has read it."""

    async def main() -> int:
        client = fakes.async_openai_client(_handler(CHAT_SSE, body))
        raw = await client.chat.completions.with_raw_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        )
        assert instrumented.finished_spans() == []
        stream = raw.parse()
        assert type(stream) is openai.AsyncStream
        return len([chunk async for chunk in stream])

    assert asyncio.run(main()) == len(fakes.chat_chunks())
    _assert_recorded_reply(instrumented)


_READERS: dict[str, Callable[[Any], Any]] = {
    "iter_lines": lambda r: list(r.iter_lines()),
    "iter_bytes": lambda r: b"".join(r.iter_bytes()),
    "iter_text": lambda r: "".join(r.iter_text()),
    "read": lambda r: r.read(),
    "text": lambda r: r.text(),
    "parse": lambda r: list(r.parse()),
}


@pytest.mark.parametrize("reader", sorted(_READERS))
@pytest.mark.parametrize("body", BODIES)
def test_streaming_response_readers_record_the_reply(
    instrumented: Captured, reader: str, body: str
) -> None:
    """Every way of reading a with_streaming_response stream records the reply, once."""
    client = fakes.openai_client(_handler(CHAT_SSE, body))
    bare_client = fakes.openai_client(_handler(CHAT_SSE, body))
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    ) as response:
        assert type(response) is openai.APIResponse
        read = _READERS[reader](response)
    OpenAIInstrumentor().uninstrument()
    with bare_client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    ) as bare:
        expected = _READERS[reader](bare)
    OpenAIInstrumentor().instrument(**instrumented.providers, skip_dep_check=True)
    if reader == "parse":
        read, expected = [c.to_dict() for c in read], [c.to_dict() for c in expected]
    assert read == expected
    _assert_recorded_reply(instrumented)


async def _collect(items: Any) -> list[Any]:
    return [item async for item in items]


async def _parse_all(response: Any) -> list[Any]:
    return await _collect(await response.parse())


_ASYNC_READERS: dict[str, Callable[[Any], Any]] = {
    "iter_lines": lambda r: _collect(r.iter_lines()),
    "iter_bytes": lambda r: _collect(r.iter_bytes()),
    "read": lambda r: r.read(),
    "text": lambda r: r.text(),
    "parse": _parse_all,
}


@pytest.mark.parametrize("reader", sorted(_ASYNC_READERS))
@pytest.mark.parametrize("body", BODIES)
def test_async_streaming_response_readers_record_the_reply(
    instrumented: Captured, reader: str, body: str
) -> None:
    """The async readers of with_streaming_response record the reply, once."""

    async def main() -> None:
        client = fakes.async_openai_client(_handler(CHAT_SSE, body))
        async with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        ) as response:
            await _ASYNC_READERS[reader](response)

    asyncio.run(main())
    _assert_recorded_reply(instrumented)


@pytest.mark.parametrize("exit_path", ["close", "context_manager", "garbage_collected"])
def test_raw_stream_left_unread_ends_once_as_cancelled(
    instrumented: Captured, exit_path: str
) -> None:
    """Closing, leaving the with-block or dropping a raw stream read in part ends its span once."""
    # In pieces: a body handed over whole has arrived in full with its first read.
    client = fakes.openai_client(fakes.respond_streamed(CHAT_SSE))
    if exit_path == "close":
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        )
        stream = raw.parse()
        next(stream)
        stream.close()
        stream.close()
    elif exit_path == "context_manager":
        with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        ) as response:
            next(response.iter_lines())
    else:
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        )
        stream = raw.parse()
        next(stream)
        del stream, raw
        gc.collect()
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-Str3am"
    assert _outcome(instrumented) == "cancelled"


def test_raw_stream_dropped_unread_ends_once(instrumented: Captured) -> None:
    """A raw stream dropped without being read ends its span once, as cancelled."""
    client = fakes.openai_client(fakes.respond_sse(CHAT_SSE))
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    )
    del raw
    gc.collect()
    assert _outcome(instrumented) == "cancelled"
    assert "gen_ai.usage.input_tokens" not in _one_span(instrumented).attributes


def test_raw_stream_with_crlf_and_comments_byte_by_byte(instrumented: Captured) -> None:
    """CRLF line ends, keep-alive comments and one-byte pieces still give the full record."""
    events = [f": keep-alive\r\ndata: {json.dumps(c)}\r\n\r\n" for c in fakes.chat_chunks()]
    payload = ("".join(events) + "data: [DONE]\r\n\r\n").encode()
    client = fakes.openai_client(fakes.respond_streamed(payload, size=1))
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    ) as response:
        assert len(list(response.parse())) == len(fakes.chat_chunks())
    _assert_recorded_reply(instrumented)


def test_raw_stream_error_event_fails_the_call(instrumented: Captured) -> None:
    """An error event raises the SDK's APIError from parse() and ends the span as ERROR."""
    payload = fakes.sse(fakes.chat_chunks()[:2], done=False)
    payload += b'data: {"error": {"message": "cut", "type": "server_error"}}\n\n'
    client = fakes.openai_client(fakes.respond_streamed(payload))
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIError, match="cut"):
        list(raw.parse())
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "openai.APIError"
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-Str3am"
    assert _outcome(instrumented) == "error"


def test_raw_lines_with_an_error_event_fail_the_call(instrumented: Captured) -> None:
    """Read as lines, a stream that carried an error event still ends its span as ERROR."""
    payload = fakes.sse(fakes.chat_chunks()[:2], done=False)
    payload += b'data: {"error": {"message": "cut"}}\n\n'
    client = fakes.openai_client(fakes.respond_streamed(payload))
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    ) as response:
        lines = list(response.iter_lines())
    assert lines[-2] == 'data: {"error": {"message": "cut"}}'
    assert _one_span(instrumented).attributes["error.type"] == "openai.APIError"


def test_raw_stream_transport_error_mid_way(instrumented: Captured) -> None:
    """A connection lost mid-body raises what the bare SDK raises and ends the span as ERROR."""
    error = fakes.http.ReadError("connection reset")
    payload = fakes.sse(fakes.chat_chunks()[:3], done=False)

    def read() -> type[BaseException]:
        client = fakes.openai_client(fakes.respond_streamed(payload, error=error))
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        )
        with pytest.raises(Exception) as caught:  # noqa: PT011 - compared with the bare SDK's
            list(raw.parse())
        return type(caught.value)

    raised = read()
    OpenAIInstrumentor().uninstrument()
    assert raised is read()  # openai 3 wraps it in APIConnectionError, openai 2 does not
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"].endswith("ReadError")
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-Str3am"
    assert _outcome(instrumented) == "error"


def test_async_raw_stream_task_cancelled(instrumented: Captured) -> None:
    """Cancelling the task reading a raw stream ends its span once, as cancelled."""

    async def main() -> None:
        client = fakes.async_openai_client(fakes.respond_streamed(CHAT_SSE))
        async with client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        ) as response:

            async def consume() -> None:
                async for _ in response.iter_lines():
                    await asyncio.sleep(10)

            task = asyncio.create_task(consume())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert _outcome(instrumented) == "cancelled"


@pytest.mark.parametrize("body", BODIES)
def test_responses_raw_stream(instrumented: Captured, body: str) -> None:
    """A raw Responses API stream records the completed response's usage when read."""
    client = fakes.openai_client(_handler(fakes.responses_events(), body))
    raw = client.responses.with_raw_response.create(model="gpt-4o", input="hi", stream=True)
    assert instrumented.finished_spans() == []
    assert [event.type for event in raw.parse()][-1] == "response.completed"
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.response.id"] == "resp_67ccd2bed1ec8190"
    assert span.attributes["gen_ai.usage.output_tokens"] == 5
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_non_streamed_streaming_response_records_usage_when_parsed(
    instrumented: Captured,
) -> None:
    """with_streaming_response without stream=True records the reply's usage once it is read."""
    client = fakes.openai_client(
        fakes.respond_streamed(
            json.dumps(fakes.chat_completion()).encode(), content_type="application/json"
        )
    )
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES
    ) as response:
        assert instrumented.finished_spans() == []
        usage = response.parse().usage
        assert usage is not None
        assert usage.prompt_tokens == 42
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.usage.input_tokens"] == 42
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-AbC123"


class Order(pydantic.BaseModel):
    """The caller's structured-output model."""

    status: str
    eta_days: int


def test_raw_parse_leaves_validation_to_the_caller(instrumented: Captured) -> None:
    """with_raw_response.parse whose reply fails validation raises only in the caller's parse()."""
    invalid = fakes.chat_completion(content='{"status": "shipped", "eta_days": "soon"}')
    client = fakes.openai_client(fakes.respond_json(invalid))
    raw = client.chat.completions.with_raw_response.parse(
        model=MODEL, messages=MESSAGES, response_format=Order
    )
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.usage.input_tokens"] == 42
    assert span.status.status_code is StatusCode.UNSET
    with pytest.raises(pydantic.ValidationError) as caught:
        raw.parse()
    OpenAIInstrumentor().uninstrument()
    bare = fakes.openai_client(fakes.respond_json(invalid))
    bare_raw = bare.chat.completions.with_raw_response.parse(
        model=MODEL, messages=MESSAGES, response_format=Order
    )
    with pytest.raises(pydantic.ValidationError) as bare_caught:
        bare_raw.parse()
    assert caught.value.errors() == bare_caught.value.errors()


def test_raw_parse_is_the_callers_own(instrumented: Captured) -> None:
    """The caller's raw.parse() runs the SDK's parser itself, on a response nobody parsed before."""
    finished = fakes.chat_completion(content='{"status": "shipped"', finish_reason="length")
    client = fakes.openai_client(fakes.respond_json(finished))
    raw = client.chat.completions.with_raw_response.parse(
        model=MODEL, messages=MESSAGES, response_format=Order
    )
    assert _one_span(instrumented).attributes["gen_ai.response.finish_reasons"] == ("length",)
    with pytest.raises(openai.LengthFinishReasonError):
        raw.parse()
    valid = fakes.chat_completion(content='{"status": "shipped", "eta_days": 2}')
    client = fakes.openai_client(fakes.respond_json(valid))
    raw = client.chat.completions.with_raw_response.parse(
        model=MODEL, messages=MESSAGES, response_format=Order
    )
    assert raw._parsed_by_type == {}  # the SDK's parse cache: untouched until the caller parses
    assert raw.parse().choices[0].message.parsed == Order(status="shipped", eta_days=2)


def test_async_raw_parse_leaves_validation_to_the_caller(instrumented: Captured) -> None:
    """The async with_raw_response.parse records the call and leaves validation to the caller."""
    invalid = fakes.chat_completion(content='{"status": 3}')

    async def main() -> Any:
        client = fakes.async_openai_client(fakes.respond_json(invalid))
        return await client.chat.completions.with_raw_response.parse(
            model=MODEL, messages=MESSAGES, response_format=Order
        )

    raw = asyncio.run(main())
    assert _one_span(instrumented).attributes["gen_ai.usage.output_tokens"] == 9
    with pytest.raises(pydantic.ValidationError):
        raw.parse()


def test_raw_http_response_copies_and_pickles_as_the_bare_one(instrumented: Captured) -> None:
    """The raw response's http_response still shows, copies and pickles like the bare one."""
    client = fakes.openai_client(fakes.respond_sse(CHAT_SSE))
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    )
    assert isinstance(raw.http_response, fakes.http.Response)
    assert repr(raw.http_response) == "<Response [200 OK]>"
    assert type(copy.copy(raw.http_response)) is fakes.http.Response
    assert pickle.loads(pickle.dumps(raw.http_response)).content == CHAT_SSE  # noqa: S301
    list(raw.parse())
    assert len(instrumented.finished_spans()) == 1


# --- Anthropic ---------------------------------------------------------------------------------
ANTHROPIC_SSE = fakes.anthropic_sse(fakes.anthropic_events())


def _anthropic_handler(body: str) -> fakes.Handler:
    if body == "whole":
        return fakes.anthropic_respond(ANTHROPIC_SSE)
    import httpx2  # noqa: PLC0415 - anthropic talks through httpx2 on every openai line

    return fakes.respond_streamed(ANTHROPIC_SSE, module=httpx2)


def _assert_anthropic_reply(captured: Captured) -> None:
    span = _one_span(captured)
    assert span.attributes["gen_ai.response.id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert span.attributes["gen_ai.response.model"] == "claude-sonnet-4-6-20260217"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.usage.input_tokens"] == 1210
    assert span.attributes["gen_ai.usage.output_tokens"] == 7
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert _outcome(captured) == "success"


@pytest.mark.parametrize("body", BODIES)
def test_anthropic_raw_stream_records_a_successful_reply(instrumented: Captured, body: str) -> None:
    """An Anthropic raw stream ends with the stream, with usage and its real finish reason."""
    client = fakes.anthropic_client(_anthropic_handler(body))
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=True
    )
    assert instrumented.finished_spans() == []
    assert [event.type for event in raw.parse()][-1] == "message_stop"
    _assert_anthropic_reply(instrumented)


@pytest.mark.parametrize("body", BODIES)
def test_anthropic_streaming_response_lines(instrumented: Captured, body: str) -> None:
    """Anthropic's with_streaming_response read line by line records the reply, sync and async."""
    client = fakes.anthropic_client(_anthropic_handler(body))
    with client.messages.with_streaming_response.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=True
    ) as response:
        assert "event: message_stop" in list(response.iter_lines())
    _assert_anthropic_reply(instrumented)
    instrumented.spans.clear()

    async def main() -> None:
        aclient = fakes.async_anthropic_client(_anthropic_handler(body))
        async with aclient.messages.with_streaming_response.create(
            model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=True
        ) as response:
            await _collect(response.iter_lines())

    asyncio.run(main())
    _assert_anthropic_reply(instrumented)


def test_async_anthropic_raw_stream_parse(instrumented: Captured) -> None:
    """The async Anthropic raw stream, parsed, records the reply once it has been read."""

    async def main() -> str:
        client = fakes.async_anthropic_client(_anthropic_handler("in pieces"))
        raw = await client.messages.with_raw_response.create(
            model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=True
        )
        assert instrumented.finished_spans() == []
        events = await _parse_all(raw)
        return str(events[-1].type)

    assert asyncio.run(main()) == "message_stop"
    _assert_anthropic_reply(instrumented)


def test_anthropic_raw_stream_error_event(instrumented: Captured) -> None:
    """An Anthropic error event raises the SDK's error from parse() and ends the span as ERROR."""
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    payload = fakes.anthropic_sse([*fakes.anthropic_events()[:3], error])
    client = fakes.anthropic_client(fakes.anthropic_respond(payload))
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES, stream=True
    )
    import anthropic  # noqa: PLC0415

    with pytest.raises(anthropic.APIStatusError) as caught:
        list(raw.parse())
    span = _one_span(instrumented)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == f"anthropic.{type(caught.value).__name__}"


def test_anthropic_raw_response_records_usage(instrumented: Captured) -> None:
    """A non-streamed Anthropic with_raw_response records usage without parsing for the caller."""
    client = fakes.anthropic_client(fakes.anthropic_respond(fakes.anthropic_message()))
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-4-6", max_tokens=64, messages=MESSAGES
    )
    span = _one_span(instrumented)
    assert span.attributes["gen_ai.usage.output_tokens"] == 12
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert raw.parse().usage.output_tokens == 12


# --- the same record as the SDK's own stream ---------------------------------------------------
def _records(captured: Captured) -> list[dict[str, Any]]:
    ignored = ("gen_ai.response.time_to_first_chunk",)
    return [
        {k: v for k, v in span.attributes.items() if k not in ignored}
        for span in captured.finished_spans()
    ]


_TOOL_CHUNKS: list[dict[str, Any]] = [
    *fakes.chat_chunks(),
    {
        **fakes.chat_chunks()[0],
        "choices": [
            {
                "index": 1,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"id": 1}'},
                        }
                    ]
                },
                "finish_reason": "tool_calls",
            }
        ],
    },
]


_CALLS: dict[str, tuple[Callable[[], Any], Callable[[Any], Any], Callable[[Any], Any]]] = {
    # name: (client, create(stream=True) through a resource, its raw variant)
    "chat": (
        lambda: fakes.openai_client(fakes.respond_streamed(fakes.sse(_TOOL_CHUNKS))),
        lambda c: c.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True),
        lambda c: c.chat.completions.with_raw_response.create(
            model=MODEL, messages=MESSAGES, stream=True
        ),
    ),
    "responses": (
        lambda: fakes.openai_client(fakes.respond_streamed(fakes.responses_events())),
        lambda c: c.responses.create(model="gpt-4o", input="hi", stream=True),
        lambda c: c.responses.with_raw_response.create(model="gpt-4o", input="hi", stream=True),
    ),
    "anthropic": (
        lambda: fakes.anthropic_client(_anthropic_handler("in pieces")),
        lambda c: c.messages.create(model="m", max_tokens=9, messages=MESSAGES, stream=True),
        lambda c: c.messages.with_raw_response.create(
            model="m", max_tokens=9, messages=MESSAGES, stream=True
        ),
    ),
}


@pytest.mark.parametrize("kind", sorted(_CALLS))
def test_raw_stream_is_recorded_as_the_sdk_stream_is(kind: str) -> None:
    """With content captured, a raw stream's span equals that of the same stream read plainly."""
    captured = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY))
    settings = captured.telemetry.settings
    OpenAIInstrumentor().instrument(**captured.providers, settings=settings, skip_dep_check=True)
    AnthropicInstrumentor().instrument(**captured.providers, settings=settings, skip_dep_check=True)
    try:
        client, plain, raw = _CALLS[kind]
        list(plain(client()))
        list(raw(client()).parse())
    finally:
        OpenAIInstrumentor().uninstrument()
        AnthropicInstrumentor().uninstrument()
    expected, observed = _records(captured)
    assert "gen_ai.output.messages" in observed
    assert observed == expected
