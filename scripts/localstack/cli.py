"""`python -m localstack`: the otel-llm stack and the demo on 127.0.0.1, no Docker.

Debian's (or Ubuntu's) `prometheus` and `prometheus-alertmanager` run with the project's
configs as shipped — same rules, same routing — except for what is deployment-specific: the
scrape targets, Alertmanager is the local one, and every receiver posts to a small webhook
that prints the notifications here. `otel-llm demo --forever` runs alongside; any flag this
command does not know goes to the demo (`--fault errors=0.08`, `--faults-after 60`,
`--concurrency 4`, ...). Ctrl-C stops everything.

When our Collector distribution and Jaeger are built (`make otelcol jaeger`, which `make stack`
runs when Go is installed), the Collector tier runs too, as in docker-compose.yml: the demo
exports OTLP to the agent (agent.yaml + redaction.yaml, on 4317/4318 for your own apps too),
the gateway (gateway.yaml) sends the sampled traces to Jaeger (in memory; its HTTP API on
16686) and serves every metric on 8889, which Prometheus scrapes, with both Collectors' own
metrics. Without them (or with --no-collectors) Prometheus scrapes the demo's /metrics.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from localstack.collectors import CollectorProcess, JaegerProcess, missing_tools
from localstack.demo import DemoError, DemoProcess
from localstack.overlay import (
    ScrapeTarget,
    prometheus_flags,
    write_alertmanager_overlay,
    write_prometheus_overlay,
)
from localstack.servers import (
    PrintingWebhook,
    ServerError,
    ServerProcess,
    pick_port,
    prometheus_pages,
)

__all__ = ["ALERTMANAGER", "PROMETHEUS", "LocalStack", "Ports", "main"]

PROMETHEUS = Path("/usr/bin/prometheus")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
INSTALL_HINT = "sudo apt-get install prometheus prometheus-alertmanager  (or: make debs)"
_WATCH_S = 0.5


@dataclass(frozen=True)
class Ports:
    """Where each part listens on 127.0.0.1 (a taken port is replaced by a free one)."""

    prometheus: int = 9090
    alertmanager: int = 9093
    webhook: int = 5001
    metrics: int = 9464
    otlp_grpc: int = 4317
    otlp_http: int = 4318
    jaeger: int = 16686
    gateway_metrics: int = 8889


class LocalStack:
    """The webhook, Alertmanager, [Jaeger, gateway, agent,] the demo and Prometheus, in order."""

    def __init__(
        self,
        workdir: Path,
        ports: Ports,
        job: str,
        demo_args: Sequence[str],
        out: TextIO,
        *,
        collectors: bool = False,
    ) -> None:
        self.workdir = workdir
        self.job = job
        self._out = out
        self._out_lock = threading.Lock()
        am_port, prom_port = pick_port(ports.alertmanager), pick_port(ports.prometheus)
        self.alertmanager_url = f"http://127.0.0.1:{am_port}"
        self.prometheus_url = f"http://127.0.0.1:{prom_port}"
        self.prometheus_pages: list[str] = []
        """The UI pages the running Prometheus serves (Debian's: under /classic/)."""
        self.webhook = PrintingWebhook(pick_port(ports.webhook), self.say)
        self.jaeger: JaegerProcess | None = None
        self.gateway: CollectorProcess | None = None
        self.agent: CollectorProcess | None = None
        demo_env: dict[str, str] = {}
        if collectors:
            self.jaeger = JaegerProcess(workdir / "jaeger", query_port=ports.jaeger)
            self.gateway = CollectorProcess(
                "gateway",
                "gateway",
                workdir / "gateway",
                env={"JAEGER_OTLP_ENDPOINT": self.jaeger.otlp_grpc},
                ports={8889: pick_port(ports.gateway_metrics)},
            )
            self.agent = CollectorProcess(
                "agent",
                "agent",
                workdir / "agent",
                env={"OTEL_GATEWAY_ENDPOINT": self.gateway.otlp_grpc},
                ports={4317: pick_port(ports.otlp_grpc), 4318: pick_port(ports.otlp_http)},
            )
            demo_env = {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{self.agent.otlp_grpc}",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_METRIC_EXPORT_INTERVAL": "15000",
            }
        self.demo = DemoProcess(
            job, demo_args, workdir / "demo.log", port=pick_port(ports.metrics), env=demo_env
        )
        self.alertmanager = ServerProcess(
            "alertmanager",
            [
                str(ALERTMANAGER),
                f"--config.file={workdir / 'alertmanager' / 'alertmanager.yml'}",
                f"--storage.path={workdir / 'alertmanager' / 'data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                f"--web.external-url={self.alertmanager_url}",
                "--cluster.listen-address=",
            ],
            self.alertmanager_url,
            workdir / "alertmanager.log",
        )
        self.prometheus = ServerProcess(
            "prometheus",
            [
                str(PROMETHEUS),
                f"--config.file={workdir / 'prometheus' / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'prometheus' / 'data'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
                f"--web.external-url={self.prometheus_url}",
                "--web.enable-lifecycle",
                *prometheus_flags(1),
            ],
            self.prometheus_url,
            workdir / "prometheus.log",
        )

    def say(self, line: str) -> None:
        """Print a line (from any thread)."""
        with self._out_lock:
            self._out.write(line + "\n")
            self._out.flush()

    def start(self) -> None:
        """Write the configs and start every part; raise ServerError/DemoError if one fails."""
        self.webhook.start()
        write_alertmanager_overlay(self.workdir / "alertmanager", 1, self.webhook.url)
        self.alertmanager.start()
        for part in (self.jaeger, self.gateway, self.agent):
            if part is not None:
                part.start()
        self.demo.start()
        address = self.demo.wait_ready(timeout=60)
        write_prometheus_overlay(
            self.workdir / "prometheus",
            1,
            alertmanager=self.alertmanager_url.removeprefix("http://"),
            targets=self.scrape_targets(address),
        )
        self.prometheus.start()
        self.prometheus_pages = prometheus_pages(self.prometheus_url)

    def scrape_targets(self, demo_address: str) -> list[ScrapeTarget]:
        """The gateway's exporter and the Collectors' own metrics, or else the demo itself."""
        if self.gateway is None or self.agent is None:
            return [ScrapeTarget(self.job, demo_address)]
        return [
            ScrapeTarget("otel-collector", self.gateway.address(8889), honor_labels=True),
            ScrapeTarget("otelcol-agent", self.agent.telemetry),
            ScrapeTarget("otelcol-gateway", self.gateway.telemetry),
        ]

    def _servers(self) -> list[ServerProcess]:
        parts = [self.prometheus, self.alertmanager]
        for part in (self.jaeger, self.gateway, self.agent):
            if part is not None:
                parts.append(part.server)
        return parts

    def failed_part(self) -> str | None:
        """The log tail of a part that exited on its own, if any."""
        for server in self._servers():
            if not server.running():
                return f"{server.name} exited:\n{server.log_tail()}"
        if not self.demo.running():
            return f"the demo exited:\n{self.demo.log_tail()}"
        return None

    def stop(self) -> None:
        """Stop the demo (it reports), the Collectors, Jaeger, Prometheus, Alertmanager, webhook."""
        self.demo.stop()
        for part in (self.agent, self.gateway, self.jaeger):
            if part is not None:
                part.stop()
        self.prometheus.stop()
        self.alertmanager.stop()
        self.webhook.stop()

    def banner(self) -> str:
        """What runs where."""
        names = ["prometheus", "alertmanager", "demo"]
        pages = ", ".join(self.prometheus_pages)
        lines = [
            "otel-llm local stack (no Docker) is up; Ctrl-C stops everything.",
            f"  Prometheus     {self.prometheus_url}" + (f"  ({pages})" if pages else ""),
            f"  Alertmanager   {self.alertmanager_url}",
        ]
        if self.jaeger is not None and self.gateway is not None and self.agent is not None:
            names += ["jaeger/jaeger", "gateway/gateway", "agent/agent"]
            url = self.jaeger.query_url
            lines += [
                f"  Jaeger         {url}/api/services, {url}/api/v3/traces?query.service_name="
                f"{self.job}&... (HTTP API; a module build has no UI)",
                f"  OTLP           grpc {self.agent.otlp_grpc}, http {self.agent.address(4318)}"
                " (the agent: agent.yaml + redaction.yaml)",
                f"  gateway        metrics on http://{self.gateway.address(8889)}/metrics "
                f"(gateway.yaml; the demo's service {self.job!r} is its `job`)",
                f"  demo           OTLP to the agent; /metrics also on {self.demo.metrics_url}",
            ]
        else:
            lines.append(f"  demo /metrics  {self.demo.metrics_url}  (scrape job {self.job!r})")
        logs = ", ".join(f"{name}.log" for name in names)
        return "\n".join(
            [
                *lines,
                f"  notifications  printed below; webhook {self.webhook.url}/<receiver>",
                f"  logs           {self.workdir}/ ({logs})",
                "Alerts need their windows to fill: errors page after ~5 minutes, a cost spike "
                "needs a baseline first; see docs/alerts.md.",
            ]
        )


def _summary(demo_output: str) -> str:
    """The demo's closing "== Summary ==" block, if it printed one."""
    _, found, rest = demo_output.partition("== Summary ==")
    if not found:
        return ""
    return found + rest.split("\n\n", 1)[0]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localstack",
        description=(
            "Run Prometheus and Alertmanager (Debian/Ubuntu packages) with the otel-llm "
            "configs, and `otel-llm demo --forever` for them to scrape, on 127.0.0.1. "
            "Unknown flags go to the demo, e.g. --fault errors=0.08."
        ),
    )
    defaults = Ports()
    parser.add_argument("--prometheus-port", type=int, default=defaults.prometheus)
    parser.add_argument("--alertmanager-port", type=int, default=defaults.alertmanager)
    parser.add_argument("--webhook-port", type=int, default=defaults.webhook)
    parser.add_argument("--metrics-port", type=int, default=defaults.metrics)
    parser.add_argument("--otlp-grpc-port", type=int, default=defaults.otlp_grpc)
    parser.add_argument("--otlp-http-port", type=int, default=defaults.otlp_http)
    parser.add_argument("--jaeger-port", type=int, default=defaults.jaeger)
    parser.add_argument("--gateway-metrics-port", type=int, default=defaults.gateway_metrics)
    parser.add_argument(
        "--job", default="support-bot", help="scrape job and service name of the demo"
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep configs, data and logs here (default: a temp dir)"
    )
    parser.add_argument("--duration", type=float, help="stop after S seconds")
    parser.add_argument(
        "--no-collectors",
        action="store_true",
        help="no Collectors and Jaeger even when built: Prometheus scrapes the demo",
    )
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the stack until Ctrl-C, SIGTERM, `--duration` or a part failing; 0 on a clean stop."""
    args, demo_args = _parser().parse_known_args(argv)
    missing = [str(path) for path in (PROMETHEUS, ALERTMANAGER) if not path.exists()]
    if missing:
        print(f"localstack: {', '.join(missing)} missing; install: {INSTALL_HINT}", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="otel-llm-localstack-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ports = Ports(
        args.prometheus_port,
        args.alertmanager_port,
        args.webhook_port,
        args.metrics_port,
        args.otlp_grpc_port,
        args.otlp_http_port,
        args.jaeger_port,
        args.gateway_metrics_port,
    )
    collectors = not args.no_collectors and not missing_tools()
    if not collectors and not args.no_collectors:
        print(
            f"localstack: {', '.join(missing_tools())} not built (needs Go): running without "
            "the Collectors and Jaeger; Prometheus scrapes the demo",
            file=sys.stderr,
        )
    stack = LocalStack(workdir, ports, args.job, demo_args, out, collectors=collectors)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        stack.start()
        stack.say(stack.banner())
        until = None if args.duration is None else time.monotonic() + args.duration
        while not stop.wait(_WATCH_S):
            failure = stack.failed_part()
            if failure is not None:
                stack.say(f"localstack: {failure}")
                status = 1
                break
            if until is not None and time.monotonic() >= until:
                break
    except (ServerError, DemoError) as error:
        stack.say(f"localstack: {error}")
        status = 1
    finally:
        stack.say("stopping ...")
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if summary := _summary(stack.demo.output()):
            stack.say(summary)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            stack.say(f"configs, data and logs kept in {workdir}")
    return status
