"""A synthetic LLM app to scrape: the real OTel SDK and Prometheus exporter, our metric names.

Each `SyntheticApp` owns a MeterProvider whose `PrometheusMetricReader` writes into its own
`prometheus_client` registry, served on 127.0.0.1 by `prometheus_client`'s HTTP server. A
background thread records calls at a steady rate through the generated semconv factories, so
the series are exactly what an instrumented app exports: `otel_llm_client_requests_total` by
outcome and `gen_ai_client_inference_duration_seconds` with the release labels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, start_http_server

from otel_llm.semconv.attributes.error import ERROR_TYPE
from otel_llm.semconv.attributes.gen_ai import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROMPT_NAME,
    GEN_AI_PROMPT_VERSION,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
)
from otel_llm.semconv.attributes.otel_llm import (
    OTEL_LLM_REQUEST_OUTCOME,
    OtelLlmRequestOutcomeValues,
)
from otel_llm.semconv.metrics.gen_ai import create_gen_ai_client_inference_duration
from otel_llm.semconv.metrics.otel_llm import create_otel_llm_client_requests
from tests.collector_config._started import Started


@dataclass(frozen=True)
class Traffic:
    """What the app does each second: how many calls, which share fails, how slow."""

    requests_per_second: float = 20.0
    error_ratio: float = 0.0
    """Share of calls ending with outcome `error` (a provider 5xx)."""
    latency_s: float = 0.4
    provider: str = "openai"
    model: str = "gpt-4o-mini"
    prompt_name: str = "support_answer"
    prompt_version: str = "v42"


class SyntheticApp(Started):
    """A /metrics endpoint on 127.0.0.1 fed by a thread recording `traffic` until stopped."""

    def __init__(self, service_name: str, traffic: Traffic, tick_s: float = 0.1) -> None:
        self.traffic = traffic
        self._tick_s = tick_s
        self._registry = CollectorRegistry()
        self._reader = PrometheusMetricReader(registry=self._registry)
        self._provider = MeterProvider(
            metric_readers=[self._reader],
            resource=Resource.create({"service.name": service_name}),
        )
        meter = self._provider.get_meter("otel_llm")
        self._requests = create_otel_llm_client_requests(meter)
        self._duration = create_gen_ai_client_inference_duration(meter)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: WSGIServer | None = None
        self._server_thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """`127.0.0.1:port` of the /metrics endpoint."""
        if self._server is None:
            raise RuntimeError("not started")
        return f"127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        """Serve /metrics, then start recording calls."""
        self._server, self._server_thread = start_http_server(
            0, addr="127.0.0.1", registry=self._registry
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop recording, the server and the meter provider."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._server_thread is not None:
            self._server_thread.join(timeout=5)
        self._provider.shutdown()

    def _run(self) -> None:
        """Record calls so that, over time, the counts match `traffic` exactly (no randomness)."""
        traffic = self.traffic
        base = {
            GEN_AI_OPERATION_NAME: "chat",
            GEN_AI_PROVIDER_NAME: traffic.provider,
            GEN_AI_REQUEST_MODEL: traffic.model,
            GEN_AI_PROMPT_NAME: traffic.prompt_name,
            GEN_AI_PROMPT_VERSION: traffic.prompt_version,
        }
        success = {**base, OTEL_LLM_REQUEST_OUTCOME: OtelLlmRequestOutcomeValues.SUCCESS.value}
        failure = {
            **base,
            OTEL_LLM_REQUEST_OUTCOME: OtelLlmRequestOutcomeValues.ERROR.value,
            ERROR_TYPE: "InternalServerError",
        }
        calls_due = errors_due = 0.0
        while not self._stop.wait(self._tick_s):
            calls_due += traffic.requests_per_second * self._tick_s
            while calls_due >= 1:
                calls_due -= 1
                errors_due += traffic.error_ratio
                attributes = success
                if errors_due >= 1:
                    errors_due -= 1
                    attributes = failure
                self._requests.add(1, attributes)
                self._duration.record(traffic.latency_s, attributes)
