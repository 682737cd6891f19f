"""`otel-llm demo --forever` as a child process serving /metrics, started and stopped cleanly.

By default the demo picks its own free port (`--prometheus-port 0`); either way it prints the
scrape URL on its first lines, and `wait_ready` reads the address from there, so several demos
never race for a port.
`stop` sends SIGTERM, which the demo handles like Ctrl-C: requests in flight finish, then it
prints its report to the log.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["DemoError", "DemoProcess", "otel_llm_command"]

_SCRAPE_LINE = re.compile(r"Prometheus scrape: http://(?P<address>[^/\s]+)/metrics")
_POLL_S = 0.1


class DemoError(RuntimeError):
    """The demo exited or did not announce its /metrics endpoint in time."""


def otel_llm_command() -> list[str]:
    """How to run the `otel-llm` CLI: the script next to this interpreter, else on PATH."""
    beside = Path(sys.executable).with_name("otel-llm")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("otel-llm")
    if found is None:
        raise DemoError("otel-llm is not installed here (pip install -e '.[demo]')")
    return [found]


class DemoProcess:
    """One `otel-llm demo --forever` run named `service` (its OTEL_SERVICE_NAME).

    `demo_args` are extra demo flags (`--fault errors=0.1`, `--concurrency 4`, ...). Output
    goes to `log_path`. `env` adds variables (OTEL_EXPORTER_OTLP_ENDPOINT makes the demo export
    over OTLP too); with `output_dir` the demo writes its OTLP/JSON files there (traces.jsonl:
    every span, after otel-llm's processors), else none. The process runs in its own session,
    so a Ctrl-C meant for the parent reaches it only through `stop`.
    """

    def __init__(
        self,
        service: str,
        demo_args: Sequence[str],
        log_path: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        env: Mapping[str, str] | None = None,
        output_dir: Path | None = None,
    ) -> None:
        self.service = service
        self.env = dict(env or {})
        self.output_dir = output_dir
        files = ["--no-files"] if output_dir is None else [f"--output-dir={output_dir}"]
        self.argv = [
            *otel_llm_command(),
            "demo",
            "--forever",
            *files,
            "--quiet",
            f"--prometheus-host={host}",
            f"--prometheus-port={port}",
            *demo_args,
        ]
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._address: str | None = None

    @property
    def address(self) -> str:
        """`host:port` of the /metrics endpoint (after `wait_ready`)."""
        if self._address is None:
            raise DemoError(f"demo {self.service} has not announced its /metrics endpoint")
        return self._address

    @property
    def metrics_url(self) -> str:
        """The /metrics URL."""
        return f"http://{self.address}/metrics"

    def start(self) -> DemoProcess:
        """Launch the process (see `wait_ready` for its endpoint)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        environment = {**os.environ, **self.env, "OTEL_SERVICE_NAME": self.service}
        self.process = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float) -> str:
        """Wait until the demo prints its scrape URL; return `host:port` (DemoError if not)."""
        deadline = time.monotonic() + timeout
        while self._address is None:
            match = _SCRAPE_LINE.search(self.output())
            if match is not None:
                self._address = match.group("address")
                break
            if self.process is None or self.process.poll() is not None:
                raise DemoError(f"demo {self.service} exited:\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                raise DemoError(
                    f"demo {self.service} announced no /metrics endpoint in {timeout:g} s:\n"
                    + self.log_tail()
                )
            time.sleep(_POLL_S)
        return self._address

    def running(self) -> bool:
        """Whether the process is still alive."""
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> None:
        """Send SIGTERM without waiting (to stop several demos at once, then `stop` each)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (the demo finishes its requests and reports), SIGKILL after `timeout` s."""
        if self.process is not None and self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return None if self.process is None else self.process.returncode

    def __enter__(self) -> DemoProcess:
        """Start the demo (see `wait_ready`)."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the demo."""
        self.stop()

    def output(self) -> str:
        """Everything the demo printed so far."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the demo printed."""
        return "\n".join(self.output().splitlines()[-lines:]) or "(no output)"
