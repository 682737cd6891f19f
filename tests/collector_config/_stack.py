"""Real Prometheus and Alertmanager on 127.0.0.1 with the project's configs, and a webhook.

`Stack` starts Debian's `/usr/bin/prometheus` and `/usr/bin/prometheus-alertmanager` on free
ports with temporary storage, fed the test overlay of the project's files (`_overlay.py`:
every duration divided by `speedup`), and a stdlib HTTP server that records what Alertmanager
delivers. Scrape targets are `ScrapeTarget(job, "127.0.0.1:port")`; each gets its own `job`,
so assertions can be made per job, and `set_targets` swaps them on a running Prometheus.

    with Stack(tmp_path, [ScrapeTarget("faulty", app.address)]) as stack:
        alert = stack.wait_for_alert("LLMProviderErrorRateHigh", timeout=45, job="faulty")
        assert stack.webhook.alerts(job="clean") == []

Every wait has a deadline; on timeout the error carries Prometheus' alert states and the
servers' log tails. Leaving the `with` block stops both servers (SIGTERM, then SIGKILL after
10 s) and the webhook.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from localstack.servers import ServerError, ServerProcess, pick_port
from tests.collector_config._overlay import (
    DEFAULT_SPEEDUP,
    ScrapeTarget,
    prometheus_flags,
    write_alertmanager_overlay,
    write_prometheus_overlay,
)
from tests.collector_config._started import Started

__all__ = [
    "ALERTMANAGER",
    "PROMETHEUS",
    "ReceivedAlert",
    "ScrapeTarget",
    "Stack",
    "StackError",
    "WebhookReceiver",
    "free_port",
    "missing_binaries",
]

PROMETHEUS = Path("/usr/bin/prometheus")
ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
_POLL_S = 0.2


class StackError(AssertionError):
    """A server did not start, or an awaited alert or series did not appear in time."""


def missing_binaries() -> list[str]:
    """The server binaries this machine lacks (CI installs them with `make debs`)."""
    return [str(path) for path in (PROMETHEUS, ALERTMANAGER) if not path.exists()]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, below the ephemeral range."""
    return pick_port(0)


def _http_json(url: str, payload: object = None, timeout: float = 5.0) -> Any:
    """GET `url` (or POST `payload` as JSON) and parse the JSON answer (None when empty)."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 servers
        url, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body = response.read()
    return json.loads(body) if body else None


@dataclass(frozen=True)
class ReceivedAlert:
    """One alert of one webhook notification."""

    receiver: str
    """The receiver that sent it (the last path segment the overlay gives each receiver)."""
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    group_labels: dict[str, str]


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _WebhookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        self.server.record(self.path.rstrip("/").rsplit("/", 1)[-1], payload)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the recorded notifications are the log."""


class _WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _WebhookHandler)
        self.lock = threading.Condition()
        self.notifications: list[tuple[str, dict[str, Any]]] = []

    def record(self, receiver: str, payload: dict[str, Any]) -> None:
        with self.lock:
            self.notifications.append((receiver, payload))
            self.lock.notify_all()


class WebhookReceiver:
    """An Alertmanager webhook on 127.0.0.1 that records every notification it receives."""

    def __init__(self) -> None:
        self._server = _WebhookServer()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL; the overlay appends `/<receiver name>` for each receiver."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/alerts"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def notifications(self) -> list[tuple[str, dict[str, Any]]]:
        """(receiver, payload) of every notification so far, in arrival order."""
        with self._server.lock:
            return list(self._server.notifications)

    def alerts(self, status: str | None = None, **labels: str) -> list[ReceivedAlert]:
        """Every delivered alert whose labels include `labels` (and with `status`, if given)."""
        found = []
        for receiver, payload in self.notifications():
            for alert in payload.get("alerts", []):
                received = ReceivedAlert(
                    receiver=receiver,
                    status=alert.get("status", ""),
                    labels=dict(alert.get("labels", {})),
                    annotations=dict(alert.get("annotations", {})),
                    group_labels=dict(payload.get("groupLabels", {})),
                )
                if status not in (None, received.status):
                    continue
                if all(received.labels.get(k) == v for k, v in labels.items()):
                    found.append(received)
        return found

    def wait_for(
        self, alertname: str, timeout: float, status: str = "firing", **labels: str
    ) -> ReceivedAlert | None:
        """The first delivered `alertname` alert matching `labels`, or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._server.lock:
            while True:
                found = self.alerts(status, alertname=alertname, **labels)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found[0] if found else None
                self._server.lock.wait(remaining)


class Stack(Started):
    """Prometheus + Alertmanager + webhook, with the project's configs and the test overlay."""

    def __init__(
        self,
        workdir: Path,
        targets: Sequence[ScrapeTarget] = (),
        *,
        speedup: float = DEFAULT_SPEEDUP,
        with_prometheus: bool = True,
        startup_timeout: float = 20.0,
    ) -> None:
        self.workdir = workdir
        self.speedup = speedup
        self.targets = list(targets)
        self.webhook = WebhookReceiver()
        self.startup_timeout = startup_timeout
        am_port, prom_port = free_port(), free_port()
        self.alertmanager_url = f"http://127.0.0.1:{am_port}"
        self.prometheus_url = f"http://127.0.0.1:{prom_port}"
        self._alertmanager = ServerProcess(
            "alertmanager",
            [
                str(ALERTMANAGER),
                f"--config.file={workdir / 'alertmanager' / 'alertmanager.yml'}",
                f"--storage.path={workdir / 'alertmanager' / 'data'}",
                f"--web.listen-address=127.0.0.1:{am_port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            self.alertmanager_url,
            workdir / "alertmanager.log",
        )
        self._prometheus: ServerProcess | None = None
        if with_prometheus:
            self._prometheus = ServerProcess(
                "prometheus",
                [
                    str(PROMETHEUS),
                    f"--config.file={workdir / 'prometheus' / 'prometheus.yml'}",
                    f"--storage.tsdb.path={workdir / 'prometheus' / 'data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--web.enable-lifecycle",
                    "--log.level=warn",
                    *prometheus_flags(speedup),
                ],
                self.prometheus_url,
                workdir / "prometheus.log",
            )

    def start(self) -> None:
        """Write the overlays, start the webhook, Alertmanager, then Prometheus."""
        self.webhook.start()
        write_alertmanager_overlay(self.workdir / "alertmanager", self.speedup, self.webhook.url)
        try:
            self._alertmanager.start(self.startup_timeout)
            if self._prometheus is not None:
                self._write_prometheus_config()
                self._prometheus.start(self.startup_timeout)
        except ServerError as exc:
            raise StackError(str(exc)) from exc

    def stop(self) -> None:
        """Stop Prometheus, Alertmanager and the webhook (each only if it was started)."""
        if self._prometheus is not None:
            self._prometheus.stop()
        self._alertmanager.stop()
        self.webhook.stop()

    def _write_prometheus_config(self) -> None:
        write_prometheus_overlay(
            self.workdir / "prometheus",
            self.speedup,
            alertmanager=self.alertmanager_url.removeprefix("http://"),
            targets=self.targets,
        )

    def set_targets(self, targets: Sequence[ScrapeTarget]) -> None:
        """Replace the scrape targets of the running Prometheus (config rewrite + reload)."""
        self.targets = list(targets)
        self._write_prometheus_config()
        request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 server
            f"{self.prometheus_url}/-/reload", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - our own server
            pass

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query: the result vector's samples ({"metric": ..., "value": [t, "v"]})."""
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        answer = _http_json(url)
        if answer.get("status") != "success":
            raise StackError(f"query {expr!r} failed: {answer}")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def wait_for_query(
        self,
        expr: str,
        timeout: float,
        accept: Callable[[list[dict[str, Any]]], bool] = bool,
    ) -> list[dict[str, Any]]:
        """Poll `expr` until `accept(result)` (default: non-empty); raise after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if accept(result):
                return result
            if time.monotonic() >= deadline:
                raise StackError(f"{expr!r} gave {result} for {timeout} s\n{self.diagnostics()}")
            time.sleep(_POLL_S)

    def rule_alerts(self, **labels: str) -> list[dict[str, Any]]:
        """Prometheus' pending and firing alerts whose labels include `labels`."""
        answer = _http_json(f"{self.prometheus_url}/api/v1/alerts")
        alerts: list[dict[str, Any]] = answer["data"]["alerts"]
        return [a for a in alerts if all(a["labels"].get(k) == v for k, v in labels.items())]

    def post_alerts(self, alerts: Sequence[dict[str, Any]]) -> None:
        """Send alerts straight to Alertmanager (API v2), as Prometheus would."""
        _http_json(f"{self.alertmanager_url}/api/v2/alerts", list(alerts))

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        """Alertmanager's view of its alerts, with `status.inhibitedBy` and `receivers`."""
        alerts: list[dict[str, Any]] = _http_json(f"{self.alertmanager_url}/api/v2/alerts")
        return alerts

    def wait_for_alert(self, alertname: str, timeout: float, **labels: str) -> ReceivedAlert:
        """The first firing `alertname` the webhook receives with `labels`; raise on timeout."""
        alert = self.webhook.wait_for(alertname, timeout, **labels)
        if alert is None:
            raise StackError(
                f"no firing {alertname} {labels} reached the webhook in {timeout} s\n"
                + self.diagnostics()
            )
        return alert

    def diagnostics(self) -> str:
        """Prometheus' alert states, the webhook's notifications and the servers' log tails."""
        parts = [f"webhook: {self.webhook.notifications()}"]
        servers = [self._alertmanager]
        if self._prometheus is not None:
            servers.append(self._prometheus)
            try:
                parts.append(f"prometheus alerts: {self.rule_alerts()}")
            except OSError as error:
                parts.append(f"prometheus alerts: unavailable ({error})")
        parts += [f"--- {s.name} log ---\n{s.log_tail()}" for s in servers]
        return "\n".join(parts)
