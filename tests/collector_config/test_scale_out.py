"""Scaled out for real: load balancing by trace id over two tail-sampling gateways, one stopped.

gateway-ha.yaml deployed as two tiers, its header's failure-isolating shape, all otelcol-llm on
127.0.0.1:

    test --OTLP/HTTP--> agent --> router (gateway-ha.yaml: span metrics, load_balancing)
                          +--> sampler A (gateway-ha.yaml on :4319, tail_sampling) --> Jaeger A
                          +--> sampler B (gateway-ha.yaml on :4319, tail_sampling) --> Jaeger B

Each sampler exports to its own Jaeger, so where a trace went is visible. The test sends a
steady stream of three-span traces, each span in its own request 0.3 s apart (so a trace's
spans travel in different batches), every one errored so both samplers keep all of them.

What differs from the shipped files, and why:
- `resolver`: a static list of the two samplers instead of the headless service's DNS name;
- `decision_wait` 5 s instead of 60 s: every trace here is complete within 1 s;
- mid-run, sampler B is stopped, then the router restarts with sampler A alone. With DNS,
  that is what the router does by itself once the headless service stops returning the
  stopped pod (re-resolved every 5 s); a static list never changes, so the test changes it.

Asserted: before the stop, every trace is whole in exactly one Jaeger and both samplers get a
share; after the reroute, every trace is whole in Jaeger A; the agent kept running and
delivered what it queued while the router restarted. The spans lost in between (sampler B's
undecided traces, the router's queue for B) are counted and printed, and bounded by what
was sent during the outage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localstack.collectors import CollectorProcess, JaegerProcess
from localstack.servers import pick_port
from tests.collector_config._tier import (
    JaegerClient,
    missing_tools,
    new_span_id,
    new_trace_id,
    otlp_span,
    post_spans,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(missing_tools()),
        reason=f"{', '.join(missing_tools())} not built (needs Go): no Collector to scale out",
    ),
]

SERVICE = "scale-out-probe"
TRACES_PER_S = 10
SPAN_GAP_S = 0.3
"""Between the spans of one trace: each goes out in its own request."""
PHASE_S = 8.0
OUTAGE_S = 4.0
"""Sampler B down, the router still sending B's share to it."""
DECISION_WAIT_S = 5
SETTLE_DEADLINE_S = 120.0
"""After the last span, the longest the checks wait for the traces sent outside the outage to
be whole in Jaeger (the decision and the export take seconds; a loaded machine, longer)."""
SETTLE_POLL_S = 2.0


def _static_resolver(*endpoints: str) -> dict[str, Any]:
    return {
        "exporters": {
            "load_balancing": {"resolver": {"dns": None, "static": {"hostnames": list(endpoints)}}}
        },
        "processors": {"tail_sampling": {"decision_wait": f"{DECISION_WAIT_S}s"}},
    }


@dataclass
class SentTrace:
    """One trace the sender emitted: its id, span count and when its first span went out."""

    trace_id: str
    spans: int
    first_sent: float


@dataclass
class Sender:
    """A thread sending TRACES_PER_S three-span traces per second to the agent over OTLP/HTTP."""

    url: str
    sent: list[SentTrace] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start sending."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop starting traces, and wait until the last one's spans are sent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        pending: list[tuple[float, dict[str, Any]]] = []
        next_trace = time.monotonic()
        while not self._stop.is_set() or pending:
            now = time.monotonic()
            if not self._stop.is_set() and now >= next_trace:
                pending += self._new_trace(now)
                next_trace += 1 / TRACES_PER_S
            due = [span for at, span in pending if at <= now]
            pending = [(at, span) for at, span in pending if at > now]
            for span in due:
                try:
                    post_spans(self.url, SERVICE, [span])
                except OSError as error:  # the agent is never down here: a failure is a finding
                    self.errors.append(str(error))
            time.sleep(0.02)

    def _new_trace(self, now: float) -> list[tuple[float, dict[str, Any]]]:
        trace_id, root = new_trace_id(), new_span_id()
        start = time.time_ns()
        spans = [
            otlp_span(trace_id, "invoke_workflow", start_ns=start, duration_s=0.8, span_id=root),
            otlp_span(trace_id, "chat", start_ns=start + 1000, duration_s=0.2, parent_span_id=root),
            otlp_span(
                trace_id,
                "execute_tool",
                start_ns=start + 2000,
                duration_s=0.1,
                parent_span_id=root,
                error=True,
            ),
        ]
        self.sent.append(SentTrace(trace_id, len(spans), now))
        # Children end first, as in an app; the root last.
        return [(now + i * SPAN_GAP_S, span) for i, span in enumerate(reversed(spans))]


@dataclass
class ScaledOut:
    """The processes of the scaled-out tier and Jaeger clients for both samplers."""

    agent: CollectorProcess
    router: CollectorProcess
    samplers: dict[str, CollectorProcess]
    jaegers: dict[str, JaegerClient]
    restart_router: Any


@pytest.fixture
def scaled_out(tmp_path: Path) -> Iterator[ScaledOut]:
    """Jaeger A and B, samplers A and B, a router over both, an agent: all started."""
    jaeger = {name: JaegerProcess(tmp_path / f"jaeger-{name}") for name in "AB"}
    endpoints = {name: f"127.0.0.1:{pick_port(0)}" for name in "AB"}
    samplers = {
        name: CollectorProcess(
            f"sampler-{name}",
            "gateway-ha",
            tmp_path / f"sampler-{name}",
            env={"HOSTNAME": f"sampler-{name}", "JAEGER_OTLP_ENDPOINT": jaeger[name].otlp_grpc},
            ports={4319: int(endpoints[name].rsplit(":", 1)[1])},
            extra=_static_resolver(*endpoints.values()),
        )
        for name in "AB"
    }
    router_env = {"HOSTNAME": "router", "JAEGER_OTLP_ENDPOINT": jaeger["A"].otlp_grpc}
    router = CollectorProcess(
        "router",
        "gateway-ha",
        tmp_path / "router",
        env=router_env,
        extra=_static_resolver(*endpoints.values()),
    )
    agent = CollectorProcess(
        "agent", "agent", tmp_path / "agent", env={"OTEL_GATEWAY_ENDPOINT": router.otlp_grpc}
    )
    started: list[CollectorProcess | JaegerProcess] = []

    def restart_router_with(*names: str) -> CollectorProcess:
        """What a DNS re-resolution does: the router's backends become `names` only."""
        nonlocal router
        router.stop()
        started.remove(router)
        router = CollectorProcess(
            "router",
            "gateway-ha",
            tmp_path / "router",
            env=router_env,
            ports=dict(router.ports),
            extra=_static_resolver(*(endpoints[name] for name in names)),
        )
        router.start()
        started.append(router)
        return router

    try:
        processes: list[CollectorProcess | JaegerProcess] = [
            *jaeger.values(),
            *samplers.values(),
            router,
            agent,
        ]
        for process in processes:
            process.start()
            started.append(process)
        yield ScaledOut(
            agent,
            router,
            samplers,
            {name: JaegerClient(j.query_url) for name, j in jaeger.items()},
            restart_router_with,
        )
    finally:
        for process in reversed(started):
            process.stop()


def _whole_in(jaegers: dict[str, JaegerClient], trace: SentTrace) -> dict[str, int]:
    """How many spans of `trace` each Jaeger has (only those that have any)."""
    counts = {name: len(client.trace(trace.trace_id)) for name, client in jaegers.items()}
    return {name: count for name, count in counts.items() if count}


def _settled_placement(
    jaegers: dict[str, JaegerClient], sent: list[SentTrace], must_arrive: list[SentTrace]
) -> dict[str, dict[str, int]]:
    """Where each sent trace's spans are, once `must_arrive` is whole and two reads agree.

    Waits at most SETTLE_DEADLINE_S; past it the placement is returned as it is, and the
    assertions say what is missing.
    """
    deadline = time.monotonic() + SETTLE_DEADLINE_S
    time.sleep(DECISION_WAIT_S)  # nothing is decided before that
    previous: dict[str, dict[str, int]] | None = None
    while True:
        placement = {t.trace_id: _whole_in(jaegers, t) for t in sent}
        arrived = all(sum(placement[t.trace_id].values()) == t.spans for t in must_arrive)
        if (arrived and placement == previous) or time.monotonic() > deadline:
            return placement
        previous = placement
        time.sleep(SETTLE_POLL_S)


def test_traces_stay_whole_on_one_sampler_and_reroute_when_one_stops(
    scaled_out: ScaledOut,
) -> None:
    """Each trace is whole on one sampler; with B stopped, new traces all go to A, whole.

    The agent keeps running; the spans lost while B was down are counted and bounded.
    """
    sender = Sender(scaled_out.agent.otlp_http_url)
    sender.start()
    try:
        time.sleep(PHASE_S)
        stopped_at = time.monotonic()
        scaled_out.samplers["B"].stop()
        time.sleep(OUTAGE_S)
        scaled_out.restart_router("A")
        rerouted_at = time.monotonic()
        time.sleep(PHASE_S)
    finally:
        sender.stop()
    assert sender.errors == []
    assert scaled_out.agent.running()

    before = [t for t in sender.sent if t.first_sent < stopped_at - 1]
    between = [t for t in sender.sent if stopped_at - 1 <= t.first_sent < rerouted_at + 1]
    after = [t for t in sender.sent if t.first_sent >= rerouted_at + 1]
    placement = _settled_placement(scaled_out.jaegers, sender.sent, before + after)

    split = [t.trace_id for t in before if len(placement[t.trace_id]) != 1]
    assert split == []
    partial = [t.trace_id for t in before if sum(placement[t.trace_id].values()) != t.spans]
    assert partial == []
    shares = {name: sum(name in placement[t.trace_id] for t in before) for name in "AB"}
    assert min(shares.values()) >= len(before) / 5, shares  # hashing spreads the traces

    off_a = [t.trace_id for t in after if placement[t.trace_id] != {"A": t.spans}]
    assert off_a == []

    sent = sum(t.spans for t in sender.sent)
    found = sum(sum(placement[t.trace_id].values()) for t in sender.sent)
    lost = sent - found
    lost_between = sum(t.spans - sum(placement[t.trace_id].values()) for t in between)
    print(
        f"\nscale-out: {len(sender.sent)} traces / {sent} spans sent; before the stop "
        f"{len(before)} traces, A {shares['A']} / B {shares['B']}; during the "
        f"{rerouted_at - stopped_at:.1f} s outage {len(between)} traces; lost {lost} spans "
        f"({lost_between} of them in the outage window); after the reroute {len(after)} "
        "traces, all whole on A"
    )
    assert lost == lost_between
    assert lost <= sum(t.spans for t in between)
