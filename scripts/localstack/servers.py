"""Child server processes (Prometheus, Alertmanager) and a webhook that prints notifications."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

__all__ = [
    "PROMETHEUS_PAGES",
    "PrintingWebhook",
    "ServerError",
    "ServerProcess",
    "format_notification",
    "pick_port",
    "prometheus_pages",
]

_POLL_S = 0.2

PROMETHEUS_PAGES: tuple[tuple[str, ...], ...] = (
    ("/alerts", "/classic/alerts"),
    ("/rules", "/classic/rules"),
    ("/targets", "/classic/targets"),
    ("/query", "/graph", "/classic/graph"),
)
"""Where each Prometheus page may live, newest UI first. Prometheus 3 serves /alerts, /rules,
/targets and /query; upstream 2.x builds serve /graph and the rest at the root too; Debian's
(and Ubuntu's) packages have no React UI and serve the classic pages under /classic/ only."""


class ServerError(RuntimeError):
    """A server did not start or exited; the message carries its log tail."""


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pick_port(preferred: int) -> int:
    """`preferred` if it is free on 127.0.0.1, else a free port (0 asks for a free one)."""
    if preferred and _is_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """A server binary run with `argv`, its output in `log_path`, ready when `ready_path` answers.

    `env` adds to (or overrides) this process's environment. `start` may be called again after
    `stop` (a restart): the log is appended to.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        url: str,
        log_path: Path,
        *,
        ready_path: str = "/-/ready",
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.url = url
        self.log_path = log_path
        self.ready_path = ready_path
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the process in its own session and wait until it is ready (ServerError if not)."""
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **self.env} if self.env else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.running():
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(_POLL_S)
        raise ServerError(f"{self.name} did not become ready:\n{self.log_tail()}")

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` s; close the log."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's output."""
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our 127.0.0.1
            return bool(response.status == 200)
    except OSError:  # HTTPError (a 404) included
        return False


def prometheus_pages(base_url: str) -> list[str]:
    """The paths of the alerts, rules, targets and query pages this Prometheus really serves."""
    found = []
    for candidates in PROMETHEUS_PAGES:
        path = next((p for p in candidates if _answers(base_url + p)), None)
        if path is not None:
            found.append(path)
    return found


def format_notification(receiver: str, payload: dict[str, Any]) -> list[str]:
    """One line per alert of an Alertmanager webhook payload: state, name, labels, summary."""
    lines = []
    for alert in payload.get("alerts", []):
        labels = dict(alert.get("labels", {}))
        name = labels.pop("alertname", "?")
        shown = " ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        summary = alert.get("annotations", {}).get("summary", "")
        state = str(alert.get("status", "?")).upper()
        line = f"[{receiver}] {state} {name} {shown}".rstrip()
        lines.append(f"{line}\n    {summary}" if summary else line)
    return lines


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            payload = {}
        receiver = self.path.rstrip("/").rsplit("/", 1)[-1]
        self.server.deliver(format_notification(receiver, payload))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the notifications are the output."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, deliver: Callable[[list[str]], None]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.deliver = deliver


class PrintingWebhook:
    """An Alertmanager webhook on 127.0.0.1:`port` that hands each alert's lines to `emit`."""

    def __init__(self, port: int, emit: Callable[[str], None]) -> None:
        self._emit = emit
        self._lock = threading.Lock()
        self._server = _Server(port, self._deliver)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL; Alertmanager posts to `<url>/<receiver name>`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/otel-llm"

    def _deliver(self, lines: list[str]) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock:
            for line in lines:
                self._emit(f"{stamp} {line}")

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
