"""The Collector tier for end-to-end tests: Jaeger, gateway and agent, and clients for them.

`CollectorTier` runs our distribution (build/bin/otelcol-llm) with the shipped configs and
Jaeger (build/bin/jaeger) on 127.0.0.1, wired as in docker-compose.yml:

    app --OTLP--> agent (agent.yaml + redaction.yaml) --OTLP--> gateway (gateway.yaml) --> Jaeger
                                                                   +-- :8889 <-- Prometheus

`JaegerClient` reads traces back through Jaeger's HTTP API (`/api/v3`, OTLP JSON), and
`post_spans` is a non-Python OTLP client: it sends OTLP/JSON over HTTP, as any language's
exporter would, without the OpenTelemetry SDK.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localstack.collectors import CollectorProcess, JaegerProcess, missing_tools
from tests.collector_config._overlay import ScrapeTarget
from tests.collector_config._started import Started

__all__ = [
    "CollectorTier",
    "JaegerClient",
    "Span",
    "missing_tools",
    "new_span_id",
    "new_trace_id",
    "otlp_span",
    "parse_resource_spans",
    "post_spans",
    "read_otlp_json_traces",
]

_POLL_S = 0.5
STATUS_ERROR = 2
"""OTLP's STATUS_CODE_ERROR."""


def new_trace_id() -> str:
    """A random 16-byte trace id in hex."""
    return secrets.token_hex(16)


def new_span_id() -> str:
    """A random 8-byte span id in hex."""
    return secrets.token_hex(8)


def _any_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def _from_any_value(value: Mapping[str, Any]) -> Any:
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_from_any_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _attributes(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {item["key"]: _from_any_value(item.get("value", {})) for item in items}


def otlp_span(
    trace_id: str,
    name: str,
    *,
    start_ns: int,
    duration_s: float,
    span_id: str | None = None,
    parent_span_id: str = "",
    attributes: Mapping[str, Any] | None = None,
    error: bool = False,
    links: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """One span in OTLP/JSON (ids in hex, times in ns since the epoch)."""
    span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id or new_span_id(),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + int(duration_s * 1e9)),
        "attributes": [
            {"key": key, "value": _any_value(value)} for key, value in (attributes or {}).items()
        ],
        "links": [{"traceId": t, "spanId": s} for t, s in links],
    }
    if parent_span_id:
        span["parentSpanId"] = parent_span_id
    if error:
        span["status"] = {"code": STATUS_ERROR, "message": "failed"}
    return span


def post_spans(base_url: str, service: str, spans: Sequence[Mapping[str, Any]]) -> None:
    """POST `spans` of `service` as one OTLP/JSON request to `base_url`/v1/traces."""
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": "otel-llm-e2e"}, "spans": list(spans)}],
            }
        ]
    }
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 Collector
        f"{base_url}/v1/traces",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


@dataclass(frozen=True)
class Span:
    """One span as stored: ids in lowercase hex, attributes as Python values."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, Any] = field(hash=False)
    links: tuple[tuple[str, str], ...] = ()


def _hex(value: str) -> str:
    """An OTLP/JSON id: hex (the spec) or base64 (protobuf JSON mapping), as lowercase hex."""
    if len(value) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    import base64  # noqa: PLC0415 - only for base64 ids

    return base64.b64decode(value).hex() if value else ""


def parse_resource_spans(resource_spans: Iterable[Mapping[str, Any]]) -> list[Span]:
    """The spans of OTLP/JSON `resourceSpans`."""
    found = []
    for resource in resource_spans:
        service = _attributes(resource.get("resource", {}).get("attributes", [])).get(
            "service.name", ""
        )
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                status = span.get("status", {}).get("code", 0)
                found.append(
                    Span(
                        trace_id=_hex(span["traceId"]),
                        span_id=_hex(span["spanId"]),
                        parent_span_id=_hex(span.get("parentSpanId", "")),
                        name=span["name"],
                        service=str(service),
                        start_ns=int(span.get("startTimeUnixNano", 0)),
                        end_ns=int(span.get("endTimeUnixNano", 0)),
                        error=status in (STATUS_ERROR, "STATUS_CODE_ERROR"),
                        attributes=_attributes(span.get("attributes", [])),
                        links=tuple(
                            (_hex(link["traceId"]), _hex(link["spanId"]))
                            for link in span.get("links", [])
                        ),
                    )
                )
    return found


def read_otlp_json_traces(path: Path) -> list[Span]:
    """Every span of an OTLP/JSON lines file (the demo's traces.jsonl); a torn last line skipped."""
    spans: list[Span] = []
    if not path.exists():
        return spans
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue  # the line being written right now
        spans += parse_resource_spans(document.get("resourceSpans", []))
    return spans


class JaegerClient:
    """Jaeger's HTTP query API on 127.0.0.1."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _get(self, path: str) -> Any:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def services(self) -> list[str]:
        """The services Jaeger has spans of."""
        answer = self._get("/api/services") or {}
        return sorted(answer.get("data") or [])

    def trace(self, trace_id: str) -> list[Span]:
        """Every span Jaeger has of `trace_id` (empty when it has none)."""
        answer = self._get(f"/api/v3/traces/{trace_id}")
        if not answer:
            return []
        return parse_resource_spans(answer.get("result", {}).get("resourceSpans", []))

    def traces(self, service: str, limit: int = 1000) -> dict[str, list[Span]]:
        """Up to `limit` traces of `service` from the last hour, by trace id."""
        query = urllib.parse.urlencode(
            {
                "query.service_name": service,
                "query.start_time_min": _rfc3339(time.time() - 3600),
                "query.start_time_max": _rfc3339(time.time() + 60),
                "query.num_traces": limit,
            }
        )
        answer = self._get(f"/api/v3/traces?{query}")
        if not answer:
            return {}
        by_trace: dict[str, list[Span]] = {}
        for span in parse_resource_spans(answer.get("result", {}).get("resourceSpans", [])):
            by_trace.setdefault(span.trace_id, []).append(span)
        return by_trace

    def wait_for_trace(self, trace_id: str, timeout: float, spans: int = 1) -> list[Span]:
        """The trace once Jaeger has at least `spans` of its spans, or what it has at `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.trace(trace_id)
            if len(found) >= spans or time.monotonic() >= deadline:
                return found
            time.sleep(_POLL_S)


def _rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class CollectorTier(Started):
    """Jaeger, one gateway and one agent (shipped configs; everything on 127.0.0.1).

    `agent_extra` and `gateway_extra` are merged over the shipped configs (after the listen
    overlay); each caller documents what it changes and why.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        agent_extra: Mapping[str, Any] | None = None,
        gateway_extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.jaeger = JaegerProcess(workdir / "jaeger")
        self.gateway = CollectorProcess(
            "gateway",
            "gateway",
            workdir / "gateway",
            env={"JAEGER_OTLP_ENDPOINT": self.jaeger.otlp_grpc},
            extra=gateway_extra or {},
        )
        self.agent = CollectorProcess(
            "agent",
            "agent",
            workdir / "agent",
            env={"OTEL_GATEWAY_ENDPOINT": self.gateway.otlp_grpc},
            extra=agent_extra or {},
        )
        self.query = JaegerClient(self.jaeger.query_url)

    def start(self) -> None:
        """Start Jaeger, the gateway, then the agent (each waits until healthy)."""
        self.jaeger.start()
        self.gateway.start()
        self.agent.start()

    def stop(self) -> None:
        """Stop the agent, the gateway and Jaeger, in that order (each drains what it can)."""
        self.agent.stop()
        self.gateway.stop()
        self.jaeger.stop()

    def scrape_targets(self, interval: str = "2s") -> list[ScrapeTarget]:
        """The gateway's exporter (`job` from service.name) and both Collectors' own metrics.

        Scraped every `interval`: the gateway's page holds every app's series, span metrics and
        exemplars, more than a busy machine renders within the half second a speedup of 30
        leaves (the scaled 5-minute windows still hold five scrapes).
        """
        return [
            ScrapeTarget(
                "otel-collector", self.gateway.address(8889), honor_labels=True, interval=interval
            ),
            ScrapeTarget("otelcol-agent", self.agent.telemetry, interval=interval),
            ScrapeTarget("otelcol-gateway", self.gateway.telemetry, interval=interval),
        ]

    def app_environment(self, metric_interval_ms: int = 1000) -> dict[str, str]:
        """The variables that point an OpenTelemetry SDK app at the agent over OTLP/gRPC."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{self.agent.otlp_grpc}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_METRIC_EXPORT_INTERVAL": str(metric_interval_ms),
        }

    def logs(self) -> str:
        """The tails of the three processes' logs, for failure messages."""
        return "\n".join(
            f"--- {name} ---\n{process.server.log_tail()}"
            for name, process in (
                ("jaeger", self.jaeger),
                ("gateway", self.gateway),
                ("agent", self.agent),
            )
        )


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
