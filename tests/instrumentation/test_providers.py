"""The shared provider suite: every registered provider module passes the same checks.

Providers are found as `otel_llm.instrument()` finds them, through their entry points; each
has a `conformance.py` in its test package (see tests/instrumentation/_suite.py). A provider
whose SDK is not installed here is skipped; one without fixtures fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from otel_llm._errors import error_type
from otel_llm._setup import _entry_points
from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.instrumentation.instrumentor import ProviderInstrumentor
from semconvgen.model import Registry
from tests.conftest import REPO_ROOT, Captured, make_captured
from tests.instrumentation._suite import (
    SCHEMAS,
    SPAN_TYPES,
    Answer,
    Expected,
    ProviderFixtures,
    declared,
    type_ok,
)

MODULES = sorted(
    {
        point.value.split(":", 1)[0]
        for point in _entry_points()
        # Frameworks (LangChain, the Agents SDK, MCP) record through their own hooks, not Targets.
        if issubclass(point.load(), ProviderInstrumentor)
    }
)
"""The registered provider modules, e.g. otel_llm.instrumentation.openai."""
OUTCOME = "otel_llm.request.outcome"
CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages")
DETAILS = "gen_ai.client.inference.operation.details"


def _fixtures_module(module: str) -> str:
    return "tests." + module.removeprefix("otel_llm.") + ".conformance"


def _needs_async(fixtures: ProviderFixtures) -> None:
    if not fixtures.has_async:
        pytest.skip("this provider's SDK has no asynchronous client")


@pytest.fixture(params=MODULES, ids=lambda module: module.rsplit(".", 1)[1])
def fixtures(request: pytest.FixtureRequest) -> ProviderFixtures:
    """One registered provider's fixtures (skipped when its SDK is not installed here)."""
    name = _fixtures_module(request.param)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name.startswith(exc.name) or exc.name.startswith("tests.")):
            raise  # the fixtures themselves are missing: a provider must bring them
        pytest.skip(f"{request.param}: its SDK is not installed ({exc.name})")
    found: ProviderFixtures = module.FIXTURES
    return found


@contextlib.contextmanager
def instrumented(
    fixtures: ProviderFixtures, mode: ContentCapturingMode = ContentCapturingMode.NO_CONTENT
) -> Iterator[Captured]:
    """The provider instrumented against in-memory providers, with content capture `mode`."""
    captured = make_captured(Settings(capture_message_content=mode))
    instrumentor = fixtures.instrumentor()
    settings = captured.telemetry.settings
    instrumentor.instrument(**captured.providers, settings=settings, skip_dep_check=True)
    try:
        yield captured
    finally:
        instrumentor.uninstrument()
        set_telemetry(None)


def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except BaseException as exc:
        return exc
    raise AssertionError("the call did not fail")


def _one_span(captured: Captured) -> Any:
    spans = captured.finished_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def _outcome(captured: Captured) -> str:
    (point,) = captured.metric_points("otel_llm.client.requests")
    return str(point.attributes[OUTCOME])


def _check_declared(captured: Captured, registry: Registry) -> None:
    """Every span attribute and metric dimension is declared, with its declared type."""
    spans = {s.type: s for s in registry.spans}
    for span in captured.finished_spans():
        kind = spans[SPAN_TYPES[span.attributes["gen_ai.operation.name"]]]
        allowed = {r.attribute.key for r in kind.attributes}
        assert kind.kind == span.kind.name.lower(), span.name
        for key, value in span.attributes.items():
            attribute = declared(registry, key)
            assert attribute.key in allowed, f"{key} is not declared on {kind.type}"
            assert type_ok(attribute, value), (key, value)
    metrics = {m.name: m for m in registry.metrics}
    data = captured.metrics.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                assert metric.name in metrics, f"{metric.name} is emitted but not declared"
                allowed = {r.attribute.key for r in metrics[metric.name].attributes}
                for point in metric.data.data_points:
                    dimensions = dict(point.attributes or {})
                    assert set(dimensions) <= allowed, (metric.name, set(dimensions) - allowed)


def _check_call(span: Any, fixtures: ProviderFixtures, expected: Expected) -> None:
    """The span of a successful call: name, kind, request and response attributes."""
    assert span.name == f"{expected.operation} {expected.model}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is not StatusCode.ERROR
    attributes = span.attributes
    address, port = fixtures.server
    assert attributes["gen_ai.operation.name"] == expected.operation
    assert attributes["gen_ai.provider.name"] == fixtures.provider
    assert attributes["gen_ai.request.model"] == expected.model
    assert attributes["server.address"] == address
    assert attributes["server.port"] == port
    assert attributes.get("gen_ai.response.model") == expected.response_model
    assert attributes["gen_ai.usage.input_tokens"] == expected.input_tokens
    if expected.output_tokens is not None:
        assert attributes["gen_ai.usage.output_tokens"] == expected.output_tokens
    if expected.finish_reasons:
        assert attributes["gen_ai.response.finish_reasons"] == expected.finish_reasons
    if expected.response_id is not None:
        assert attributes["gen_ai.response.id"] == expected.response_id


def _check_inference_metrics(captured: Captured, fixtures: ProviderFixtures, e: Expected) -> None:
    (duration,) = captured.metric_points("gen_ai.client.inference.duration")
    assert duration.attributes["gen_ai.provider.name"] == fixtures.provider
    assert duration.attributes["gen_ai.request.model"] == e.model
    assert duration.attributes.get("gen_ai.response.model") == e.response_model
    (tokens,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == e.input_tokens
    assert tokens.attributes["gen_ai.operation.name"] == e.operation


# --- plain calls -------------------------------------------------------------------------------
def test_every_registered_provider_brings_its_fixtures() -> None:
    """Each provider module declared as an entry point has a conformance.py in its tests."""
    assert MODULES, "no provider module is registered"
    for module in MODULES:
        path = REPO_ROOT / Path(*_fixtures_module(module).split(".")).with_suffix(".py")
        assert path.exists(), f"{module} is registered but has no {path}"


def test_plain_call_is_transparent_and_recorded_once(
    fixtures: ProviderFixtures, registry: Registry
) -> None:
    """Same result as the bare client; one CLIENT span and its metrics, all as declared."""
    bare = fixtures.call(fixtures.client(Answer.REPLY))
    with instrumented(fixtures) as captured:
        result = fixtures.call(fixtures.client(Answer.REPLY))
    assert type(result) is type(bare)
    assert fixtures.comparable(result) == fixtures.comparable(bare)
    _check_call(_one_span(captured), fixtures, fixtures.plain)
    _check_inference_metrics(captured, fixtures, fixtures.plain)
    assert _outcome(captured) == "success"
    _check_declared(captured, registry)


def test_async_plain_call_is_transparent_and_recorded_once(fixtures: ProviderFixtures) -> None:
    """The async client returns the same result and records the same span."""
    _needs_async(fixtures)
    bare = asyncio.run(fixtures.acall(fixtures.async_client(Answer.REPLY)))
    with instrumented(fixtures) as captured:
        result = asyncio.run(fixtures.acall(fixtures.async_client(Answer.REPLY)))
    assert type(result) is type(bare)
    assert fixtures.comparable(result) == fixtures.comparable(bare)
    _check_call(_one_span(captured), fixtures, fixtures.plain)
    assert _outcome(captured) == "success"


# --- streams ---------------------------------------------------------------------------------
def test_stream_read_to_the_end(fixtures: ProviderFixtures, registry: Registry) -> None:
    """Same chunks and stream type as the bare client; the span ends once, with its usage."""
    bare_result = fixtures.stream(fixtures.client(Answer.STREAM))
    bare = [fixtures.comparable(c) for c in fixtures.chunks(bare_result)]
    with instrumented(fixtures) as captured:
        result = fixtures.stream(fixtures.client(Answer.STREAM))
        assert isinstance(fixtures.stream_of(result), type(fixtures.stream_of(bare_result)))
        chunks = [fixtures.comparable(c) for c in fixtures.chunks(result)]
    assert chunks == bare
    span = _one_span(captured)
    _check_call(span, fixtures, fixtures.streamed)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert captured.metric_points("gen_ai.client.inference.time_to_first_chunk")
    _check_inference_metrics(captured, fixtures, fixtures.streamed)
    assert _outcome(captured) == "success"
    _check_declared(captured, registry)


def test_async_stream_read_to_the_end(fixtures: ProviderFixtures) -> None:
    """The async stream yields the bare chunks and ends the span once, successfully."""
    _needs_async(fixtures)

    async def read(client: Any) -> tuple[Any, list[Any]]:
        result = await fixtures.astream(client)
        return result, [fixtures.comparable(c) async for c in fixtures.achunks(result)]

    bare_result, bare = asyncio.run(read(fixtures.async_client(Answer.STREAM)))
    with instrumented(fixtures) as captured:
        result, chunks = asyncio.run(read(fixtures.async_client(Answer.STREAM)))
        assert isinstance(fixtures.stream_of(result), type(fixtures.stream_of(bare_result)))
    assert chunks == bare
    _check_call(_one_span(captured), fixtures, fixtures.streamed)
    assert _outcome(captured) == "success"


def test_iterating_a_stream_is_like_iterating_the_bare_one(fixtures: ProviderFixtures) -> None:
    """iter() gives what the bare stream's gives; a loop left early lets a later loop read on."""

    def read(result: Any) -> tuple[list[Any], list[Any]]:
        stream = fixtures.stream_of(result)
        head = []
        for chunk in stream:
            head.append(fixtures.comparable(chunk))
            break
        return head, [fixtures.comparable(c) for c in stream]

    bare = fixtures.stream_of(fixtures.stream(fixtures.client(Answer.STREAM)))
    bare_chunks = read(fixtures.stream(fixtures.client(Answer.STREAM)))
    with instrumented(fixtures) as captured:
        stream = fixtures.stream_of(fixtures.stream(fixtures.client(Answer.STREAM)))
        assert (iter(stream) is stream) is (iter(bare) is bare)
        # __class__, not type(): a proxy that is its own iterator (a generator's) reports the
        # class of what it proxies, as isinstance() sees it.
        assert iter(stream).__class__ is type(iter(bare))
        assert not captured.finished_spans()
        assert read(fixtures.stream(fixtures.client(Answer.STREAM))) == bare_chunks
        del stream
        gc.collect()
    points = captured.metric_points("otel_llm.client.requests")
    assert sorted((p.attributes[OUTCOME], p.value) for p in points) == [
        ("cancelled", 1),
        ("success", 1),
    ]
    assert len(captured.finished_spans()) == 2


def test_async_iterating_a_stream_is_like_iterating_the_bare_one(
    fixtures: ProviderFixtures,
) -> None:
    """aiter() gives what the bare stream's gives; a loop left early lets a later loop read on."""
    _needs_async(fixtures)

    async def read(client: Any) -> tuple[Any, list[Any], list[Any]]:
        stream = fixtures.stream_of(await fixtures.astream(client))
        iterator = aiter(stream)
        same, kind = iterator is stream, iterator.__class__  # as isinstance() sees it
        head = []
        async for chunk in stream:
            head.append(fixtures.comparable(chunk))
            break
        return (same, kind), head, [fixtures.comparable(c) async for c in stream]

    bare = asyncio.run(read(fixtures.async_client(Answer.STREAM)))
    with instrumented(fixtures) as captured:
        result = asyncio.run(read(fixtures.async_client(Answer.STREAM)))
        gc.collect()
    assert result == bare
    assert _outcome(captured) == "success"
    _check_call(_one_span(captured), fixtures, fixtures.streamed)


def _entering(action: Callable[[Any], None], stream: Any) -> tuple[type[BaseException], str] | None:
    """The type and message of what `action(stream)` raises (None when it raises nothing)."""
    try:
        action(stream)
    except Exception as exc:
        return type(exc), str(exc)
    return None


def _enter(stream: Any) -> None:
    with stream:
        pass


def test_a_stream_has_the_bare_streams_protocols(fixtures: ProviderFixtures) -> None:
    """close() exists as on the bare stream; `with` works, or raises what the bare one raises."""
    bare = fixtures.stream_of(fixtures.stream(fixtures.client(Answer.STREAM)))
    with instrumented(fixtures) as captured:
        stream = fixtures.stream_of(fixtures.stream(fixtures.client(Answer.STREAM)))
        assert hasattr(stream, "close") is hasattr(bare, "close") is fixtures.stream_has_close
        expected = _entering(_enter, bare)
        assert (expected is None) is fixtures.stream_is_context_manager
        assert _entering(_enter, stream) == expected
        del stream
        gc.collect()
    assert len(captured.finished_spans()) == 1


EXITS = ("break", "close", "with", "gc")


@pytest.mark.parametrize("exit_path", EXITS)
def test_stream_left_early_ends_its_span_once_as_cancelled(
    fixtures: ProviderFixtures, exit_path: str
) -> None:
    """break, close(), leaving `with` and dropping the stream each end the span once, cancelled."""
    if exit_path == "with" and not fixtures.stream_is_context_manager:
        pytest.skip("this provider's stream is no context manager")
    if exit_path == "close" and not fixtures.stream_has_close:
        pytest.skip("this provider's stream has no close()")
    with instrumented(fixtures) as captured:
        result = fixtures.stream(fixtures.client(Answer.STREAM))
        stream = fixtures.stream_of(result)
        if exit_path == "break":
            for _ in fixtures.chunks(result):
                break
        elif exit_path == "close":
            next(fixtures.chunks(result))
            stream.close()
            assert len(captured.finished_spans()) == 1  # at once, not at collection
        elif exit_path == "with":
            with stream as opened:
                next(iter(opened))
            assert len(captured.finished_spans()) == 1
        del result, stream
        gc.collect()
        assert _outcome(captured) == "cancelled"
        assert "error.type" not in _one_span(captured).attributes


def test_error_mid_stream_is_raised_unchanged_and_ends_the_span(
    fixtures: ProviderFixtures,
) -> None:
    """A connection lost mid-stream raises what the bare client raises; the span fails once."""
    bare = _raised(
        lambda: list(fixtures.chunks(fixtures.stream(fixtures.client(Answer.BROKEN_STREAM))))
    )
    with instrumented(fixtures) as captured:
        client = fixtures.client(Answer.BROKEN_STREAM)
        exc = _raised(lambda: list(fixtures.chunks(fixtures.stream(client))))
        gc.collect()
    assert type(exc) is type(bare)
    assert str(exc) == str(bare)
    span = _one_span(captured)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_type(exc)
    assert _outcome(captured) == "error"


def test_cancelled_task_mid_stream_ends_the_span_as_cancelled(fixtures: ProviderFixtures) -> None:
    """A task cancelled while it awaits the next chunk ends the call once, cancelled."""
    _needs_async(fixtures)

    async def main() -> None:
        result = await fixtures.astream(fixtures.async_client(Answer.STALLED_STREAM))
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in fixtures.achunks(result):
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with instrumented(fixtures) as captured:
        asyncio.run(main())
        gc.collect()
    assert _outcome(captured) == "cancelled"
    assert "error.type" not in _one_span(captured).attributes


# --- failures --------------------------------------------------------------------------------
FAILURES = [
    (Answer.SERVER_ERROR, "error"),
    (Answer.RATE_LIMITED, "rate_limited"),
    (Answer.TIMEOUT, "timeout"),
]


@pytest.mark.parametrize(("answer", "outcome"), FAILURES, ids=[a.name for a, _ in FAILURES])
def test_failures_are_raised_unchanged_and_classified(
    fixtures: ProviderFixtures, answer: Answer, outcome: str
) -> None:
    """A 500, a 429 and a timeout raise what the bare client raises and count as classified."""
    bare = _raised(lambda: fixtures.call(fixtures.client(answer)))
    with instrumented(fixtures) as captured:
        exc = _raised(lambda: fixtures.call(fixtures.client(answer)))
    assert type(exc) is type(bare)
    assert str(exc) == str(bare)
    span = _one_span(captured)
    assert span.status.status_code is StatusCode.ERROR
    assert _outcome(captured) == outcome
    (point,) = captured.metric_points("gen_ai.client.inference.duration")
    assert point.attributes["error.type"] == span.attributes["error.type"]


class _Starts(SpanProcessor):
    """Counts the spans started (a call in flight has started its span)."""

    def __init__(self) -> None:
        self.count = 0

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.count += 1


def test_cancelled_call_counts_as_cancelled_not_failed(fixtures: ProviderFixtures) -> None:
    """A task cancelled while awaiting the provider's answer ends the call as cancelled."""
    _needs_async(fixtures)
    starts = _Starts()

    async def main() -> None:
        task = asyncio.create_task(fixtures.acall(fixtures.async_client(Answer.STALLED)))
        while not starts.count:  # the call is in flight once its span has started
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with instrumented(fixtures) as captured:
        captured.providers["tracer_provider"].add_span_processor(starts)
        asyncio.run(main())
    assert _outcome(captured) == "cancelled"
    span = _one_span(captured)
    assert "error.type" not in span.attributes
    assert span.status.status_code is not StatusCode.ERROR


# --- content -----------------------------------------------------------------------------------
MODES = list(ContentCapturingMode)


@pytest.mark.parametrize("mode", MODES, ids=[m.name for m in MODES])
@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "streamed"])
def test_content_goes_only_where_the_capture_mode_says(
    fixtures: ProviderFixtures, mode: ContentCapturingMode, streamed: bool, repo_root: Path
) -> None:
    """Messages on the span, on the details event, on both or nowhere; schema-valid where set."""
    with instrumented(fixtures, mode) as captured:
        if streamed:
            list(fixtures.chunks(fixtures.stream(fixtures.client(Answer.STREAM))))
        else:
            fixtures.call(fixtures.client(Answer.REPLY))
    span = _one_span(captured)
    events = captured.events(DETAILS)
    assert [key in span.attributes for key in CONTENT_KEYS] == [mode.on_spans] * 2
    assert len(events) == (1 if mode.on_events else 0)
    for record in events:
        assert all(key in record.attributes for key in CONTENT_KEYS)
    validators = {
        key: Draft202012Validator(
            json.loads((repo_root / "semconv/upstream/schemas" / name).read_text("utf-8"))
        )
        for key, name in SCHEMAS.items()
    }
    for key, validator in validators.items():
        if key in span.attributes:
            validator.validate(json.loads(span.attributes[key]))
        for record in events:
            if key in record.attributes:
                validator.validate(json.loads(json.dumps(record.attributes[key])))


class _SeenAtStart(SpanProcessor):
    """Keeps the attributes each span has when processors' on_start run."""

    def __init__(self) -> None:
        self.attributes: list[dict[str, Any]] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.attributes.append(dict(span.attributes or {}))


SPAN_CONTENT_MODES = [m for m in MODES if m.on_spans]


@pytest.mark.parametrize("mode", SPAN_CONTENT_MODES, ids=[m.name for m in SPAN_CONTENT_MODES])
@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "streamed"])
def test_content_is_not_visible_to_span_processors_on_start(
    fixtures: ProviderFixtures, mode: ContentCapturingMode, streamed: bool
) -> None:
    """Captured request content is set after the span started: on_start sees none of it."""
    seen = _SeenAtStart()
    with instrumented(fixtures, mode) as captured:
        captured.providers["tracer_provider"].add_span_processor(seen)
        if streamed:
            list(fixtures.chunks(fixtures.stream(fixtures.client(Answer.STREAM))))
        else:
            fixtures.call(fixtures.client(Answer.REPLY))
    (at_start,) = seen.attributes
    ended = _one_span(captured).attributes
    assert "gen_ai.input.messages" in ended
    assert at_start["gen_ai.operation.name"] == ended["gen_ai.operation.name"]
    assert not [key for key in at_start if key in SCHEMAS]


# --- embeddings ----------------------------------------------------------------------------------
def test_embeddings_are_recorded_and_their_tokens_counted(
    fixtures: ProviderFixtures, registry: Registry
) -> None:
    """An embeddings call: one span of its own type, and its input tokens counted."""
    expected = fixtures.embedded
    if expected is None:
        pytest.skip("this provider has no embeddings call")
    bare = fixtures.embed(fixtures.client(Answer.EMBEDDINGS))
    with instrumented(fixtures) as captured:
        result = fixtures.embed(fixtures.client(Answer.EMBEDDINGS))
    assert fixtures.comparable(result) == fixtures.comparable(bare)
    span = _one_span(captured)
    assert span.name == f"embeddings {expected.model}"
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.usage.input_tokens"] == expected.input_tokens
    (tokens,) = captured.metric_points("gen_ai.client.inference.usage.input_tokens")
    assert tokens.value == expected.input_tokens
    assert tokens.attributes["gen_ai.operation.name"] == "embeddings"
    assert captured.metric_points("gen_ai.client.operation.duration")
    assert not captured.metric_points("gen_ai.client.inference.duration")
    assert not captured.metric_points("gen_ai.client.inference.usage.output_tokens")
    assert _outcome(captured) == "success"
    _check_declared(captured, registry)
