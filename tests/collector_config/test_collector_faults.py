"""Real Collector faults: the gateway down and back, the agent restarted, the app unaffected.

An app in this process (the OpenTelemetry SDK behind otel-llm's span pipeline, exporting
OTLP/gRPC to the agent, as `otel_llm.configure()` sets it up) serves 40 requests a second
while the test breaks the Collector tier underneath it (CollectorTier: agent.yaml +
redaction.yaml -> gateway.yaml -> Jaeger, all otelcol-llm on 127.0.0.1); Prometheus scrapes
both Collectors' own metrics every 0.5 s. Phases: healthy, gateway stopped, gateway back,
agent stopped, agent back.

What differs from the shipped configs, and why: the agent's exporter queue holds 20 requests
instead of 1,000, so a few seconds of outage overflow it (with 1,000, the same outage would
only be queued, and there would be no drop to see); the gateway decides after 5 s instead of
60 s, since every trace here is complete within milliseconds.

Asserted: no request of the app waits for an export (its median per phase stays within 3x the
healthy median + 2 ms, and none takes as long as the exporter's timeout), the agent's queue
never holds more than its capacity, the spans the agent dropped are in its own metrics in
Prometheus and on the dashboard panel made for them, and after each fault traces reach
Jaeger again.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import StatusCode

from otel_llm.config import Settings
from otel_llm.processors.pipeline import build_span_pipeline
from tests.collector_config._dashboards import dashboard_queries
from tests.collector_config._stack import Stack, missing_binaries
from tests.collector_config._tier import CollectorTier, missing_tools

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(missing_tools() or missing_binaries()),
        reason=f"{', '.join(missing_tools() + missing_binaries())} missing: no Collector tier to "
        "break (make otelcol jaeger debs)",
    ),
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE = "faults-app"
REQUESTS_PER_S = 40
QUEUE_SIZE = 20
EXPORT_TIMEOUT_S = 2.0
EXPORT_EVERY_MS = 100
"""The app's batch interval: each export is one request in the agent's queue, so at 10 a
second the outage overflows a queue of QUEUE_SIZE (plus the requests its 10 consumers hold)."""
PHASE_S = 6.0
OUTAGE_S = 8.0
AGENT = 'job="otelcol-agent", exporter="otlp_grpc/gateway"'
DROPS_PANEL = "Spans the Collectors dropped"


@dataclass
class App:
    """The app: a thread serving traced requests, timing each on its own thread."""

    tracer_provider: TracerProvider
    durations: dict[str, list[float]] = field(default_factory=dict)
    errored: dict[str, list[str]] = field(default_factory=dict)
    """Trace ids of the errored requests (tail sampling keeps them) of each phase."""
    phase: str = "healthy"
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start serving."""
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _serve(self) -> None:
        tracer = self.tracer_provider.get_tracer("faults-app")
        count = 0
        while not self._stop.is_set():
            count += 1
            started = time.perf_counter()
            with tracer.start_as_current_span("invoke_workflow support_chat") as root:
                root.set_attribute("gen_ai.workflow.name", "support_chat")
                with tracer.start_as_current_span("chat gpt-4o-mini") as chat:
                    chat.set_attribute("gen_ai.provider.name", "openai")
                    chat.set_attribute("gen_ai.request.model", "gpt-4o-mini")
                    chat.set_attribute("gen_ai.operation.name", "chat")
                    if count % 10 == 0:
                        chat.set_status(StatusCode.ERROR)
                        trace_id = format(root.get_span_context().trace_id, "032x")
                        self.errored.setdefault(self.phase, []).append(trace_id)
            self.durations.setdefault(self.phase, []).append(time.perf_counter() - started)
            self._stop.wait(1 / REQUESTS_PER_S)


@pytest.fixture
def tier(tmp_path: Path) -> Iterator[CollectorTier]:
    """The Collector tier with the agent's queue shrunk to QUEUE_SIZE requests."""
    agent_extra = {
        "exporters": {"otlp_grpc/gateway": {"sending_queue": {"queue_size": QUEUE_SIZE}}}
    }
    gateway_extra = {"processors": {"tail_sampling": {"decision_wait": "5s"}}}
    with CollectorTier(
        tmp_path / "tier", agent_extra=agent_extra, gateway_extra=gateway_extra
    ) as running:
        yield running


def test_app_is_unaffected_queue_bounded_and_drops_visible(
    tier: CollectorTier, tmp_path: Path
) -> None:
    """Gateway and agent faults never slow the app; the agent's drops are counted and shown."""
    exporter = OTLPSpanExporter(
        endpoint=f"http://{tier.agent.otlp_grpc}", insecure=True, timeout=EXPORT_TIMEOUT_S
    )
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    batches = BatchSpanProcessor(exporter, schedule_delay_millis=EXPORT_EVERY_MS)
    provider.add_span_processor(build_span_pipeline(batches, Settings()))
    app = App(provider)
    with Stack(tmp_path / "stack", tier.scrape_targets()) as stack:
        app.start()
        try:
            for phase, action, seconds in (
                ("healthy", None, PHASE_S),
                ("gateway down", tier.gateway.stop, OUTAGE_S),
                ("gateway back", tier.gateway.start, PHASE_S),
                ("agent down", tier.agent.stop, PHASE_S / 2),
                ("agent back", tier.agent.start, PHASE_S),
            ):
                if action is not None:
                    action()
                app.phase = phase
                time.sleep(seconds)
        finally:
            app.stop()
            provider.shutdown()

        healthy = statistics.median(app.durations["healthy"])
        report = {p: round(statistics.median(d) * 1000, 2) for p, d in app.durations.items()}
        print(f"\nmedian request time per phase (ms): {report}")
        for phase, durations in app.durations.items():
            assert statistics.median(durations) <= 3 * healthy + 0.002, phase
            assert max(durations) < EXPORT_TIMEOUT_S, phase

        capacity = stack.wait_for_query(f"max(otelcol_exporter_queue_capacity{{{AGENT}}})", 10)
        assert float(capacity[0]["value"][1]) == QUEUE_SIZE
        (fill,) = stack.query(f"max(max_over_time(otelcol_exporter_queue_size{{{AGENT}}}[10m]))")
        assert float(fill["value"][1]) <= QUEUE_SIZE
        (dropped,) = stack.wait_for_query(
            f"sum(increase(otelcol_exporter_enqueue_failed_spans{{{AGENT}}}[10m]))",
            10,
            accept=lambda r: bool(r) and float(r[0]["value"][1]) > 0,
        )
        print(
            f"agent queue peak {fill['value'][1]}, dropped ~{float(dropped['value'][1]):.0f} spans"
        )

        panel = [expr for _, title, expr in dashboard_queries(REPO_ROOT) if title == DROPS_PANEL]
        assert panel
        shown = {
            (sample["metric"].get("job"), sample["metric"].get("exporter")): float(
                sample["value"][1]
            )
            for expr in panel
            for sample in stack.query(expr)
            if float(sample["value"][1]) > 0
        }
        assert ("otelcol-agent", "otlp_grpc/gateway") in shown, shown

    for phase in ("gateway back", "agent back"):
        last = app.errored[phase][-5:]
        found = [t for t in last if tier.query.wait_for_trace(t, timeout=30, spans=2)]
        assert found, f"no trace of '{phase}' reached Jaeger\n{tier.logs()}"
