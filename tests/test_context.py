"""Tests for otel_llm.context: session ids in baggage, propagated and read back as attributes."""

import asyncio
import inspect
from collections.abc import Iterator

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagate import extract, get_global_textmap, inject, set_global_textmap
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_llm.context import CONTEXT_KEYS, context_span_attributes, session
from otel_llm.semconv.metrics import gen_ai as gm
from otel_llm.semconv.metrics import otel_llm as om

ALL = {
    "otel_llm.session.id": "s-1",
    "otel_llm.tenant.id": "acme",
    "gen_ai.conversation.id": "conv-9",
}


def test_no_baggage_gives_no_attributes() -> None:
    """Without a session there are no context attributes."""
    assert context_span_attributes() == {}


def test_session_puts_ids_in_baggage() -> None:
    """Inside the block the ids are baggage entries and span attributes; after it, gone."""
    with session(session_id="s-1", tenant_id="acme", conversation_id="conv-9"):
        assert baggage.get_baggage("otel_llm.tenant.id") == "acme"
        assert context_span_attributes() == ALL
    assert context_span_attributes() == {}


def test_unrelated_baggage_is_not_an_attribute() -> None:
    """Only the three context keys are read back, not other baggage entries."""
    token = otel_context.attach(baggage.set_baggage("user.email", "a@example.com"))
    try:
        with session(tenant_id="acme"):
            assert context_span_attributes() == {"otel_llm.tenant.id": "acme"}
    finally:
        otel_context.detach(token)


def test_nesting_overrides_and_restores_outer_values() -> None:
    """An inner session overrides what it names, keeps the rest, and restores on exit."""
    with session(session_id="outer", tenant_id="acme"):
        with session(session_id="inner", conversation_id="c-2"):
            assert context_span_attributes() == {
                "otel_llm.session.id": "inner",
                "otel_llm.tenant.id": "acme",
                "gen_ai.conversation.id": "c-2",
            }
        assert context_span_attributes() == {
            "otel_llm.session.id": "outer",
            "otel_llm.tenant.id": "acme",
        }


def test_exception_in_block_restores_context() -> None:
    """An exception leaving the block propagates and the outer values come back."""
    with session(session_id="outer"):
        with pytest.raises(RuntimeError), session(session_id="inner"):
            raise RuntimeError("boom")
        assert context_span_attributes() == {"otel_llm.session.id": "outer"}


def test_decorates_sync_functions() -> None:
    """A decorated function sees the ids on every call; the caller does not."""

    @session(tenant_id="acme")
    def handler(x: int) -> tuple[int, dict[str, object]]:
        return x * 2, dict(context_span_attributes())

    assert handler(2) == (4, {"otel_llm.tenant.id": "acme"})
    assert handler(3) == (6, {"otel_llm.tenant.id": "acme"})
    assert handler.__name__ == "handler"
    assert context_span_attributes() == {}


def test_decorates_async_functions() -> None:
    """A decorated coroutine function sets the ids while it runs, also concurrently."""

    @session(session_id="s-a")
    async def first() -> dict[str, object]:
        await asyncio.sleep(0)
        return dict(context_span_attributes())

    @session(session_id="s-b")
    async def second() -> dict[str, object]:
        await asyncio.sleep(0)
        return dict(context_span_attributes())

    async def main() -> list[dict[str, object]]:
        return list(await asyncio.gather(first(), second()))

    assert asyncio.run(main()) == [
        {"otel_llm.session.id": "s-a"},
        {"otel_llm.session.id": "s-b"},
    ]
    assert inspect.iscoroutinefunction(first)
    assert context_span_attributes() == {}


@pytest.fixture
def w3c_propagators() -> Iterator[None]:
    """Install the standard tracecontext + baggage propagators globally for one test."""
    previous = get_global_textmap()
    set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    )
    try:
        yield
    finally:
        set_global_textmap(previous)


@pytest.mark.usefixtures("w3c_propagators")
def test_ids_propagate_to_another_service_with_w3c_baggage() -> None:
    """Injected as a `baggage` header and extracted elsewhere, the ids read back as attributes."""
    headers: dict[str, str] = {}
    with session(session_id="s 1/é", tenant_id="acme", conversation_id="conv-9"):
        inject(headers)
    assert "otel_llm.tenant.id=acme" in headers["baggage"]
    assert context_span_attributes() == {}

    # The receiving service: a fresh context built only from the incoming headers.
    token = otel_context.attach(extract(headers, context=otel_context.Context()))
    try:
        assert context_span_attributes() == {**ALL, "otel_llm.session.id": "s 1/é"}
        with session(tenant_id="other"):
            assert context_span_attributes()["otel_llm.session.id"] == "s 1/é"
    finally:
        otel_context.detach(token)


def test_reading_is_one_baggage_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """context_span_attributes() reads the baggage once per call."""
    calls = []
    real = baggage.get_all

    def counting(context: otel_context.Context | None = None) -> object:
        calls.append(context)
        return real(context)

    monkeypatch.setattr(baggage, "get_all", counting)
    with session(session_id="s-1", tenant_id="acme", conversation_id="conv-9"):
        assert context_span_attributes() == ALL
    assert len(calls) == 1


def test_context_ids_are_never_metric_dimensions() -> None:
    """No metric's allowed attribute set contains a session, tenant or conversation id."""
    allowed: set[str] = set()
    for module in (gm, om):
        for name in dir(module):
            if name.endswith("_ATTRIBUTES"):
                allowed |= getattr(module, name)
    assert allowed
    assert allowed.isdisjoint(CONTEXT_KEYS)


def test_shared_session_object_in_interleaved_tasks() -> None:
    """One Session object used by interleaved tasks restores each task's own context."""
    import asyncio  # noqa: PLC0415

    from opentelemetry import baggage  # noqa: PLC0415

    from otel_llm.context import session  # noqa: PLC0415

    shared = session(tenant_id="acme")

    async def task(event_in: asyncio.Event, event_out: asyncio.Event) -> None:
        with shared:
            event_out.set()
            await event_in.wait()
        assert baggage.get_baggage("otel_llm.tenant.id") is None

    async def main() -> None:
        a, b = asyncio.Event(), asyncio.Event()
        await asyncio.gather(task(a, b), task(b, a))

    asyncio.run(main())
    assert baggage.get_baggage("otel_llm.tenant.id") is None


def test_non_string_ids_are_kept_as_text() -> None:
    """An integer session id is recorded as its text, not silently dropped."""
    from otel_llm.context import context_span_attributes, session  # noqa: PLC0415

    with session(session_id=42):  # type: ignore[arg-type]
        assert context_span_attributes()["otel_llm.session.id"] == "42"
