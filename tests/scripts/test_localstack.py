"""The no-Docker local stack: it scrapes the demo, loads the shipped rules, prints pages, stops."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localstack import cli
from localstack.collectors import missing_tools
from localstack.overlay import load_yaml, project_rule_files
from localstack.servers import (
    PROMETHEUS_PAGES,
    ServerProcess,
    format_notification,
    pick_port,
    prometheus_pages,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
BUDGET_S = 120.0
"""The whole smoke test: ~15 s to start, up to 15 s to the first scrape and 15 s to the first
rule evaluation (the shipped, unscaled intervals), a few seconds to stop."""
COLLECTOR_BUDGET_S = 180.0
"""With the Collectors: the gateway decides a trace 60 s (decision_wait, as shipped) after its
first span, then Jaeger stores it; the demo's metrics arrive every 15 s, then a scrape."""


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our 127.0.0.1 server
        return json.loads(response.read())


class _Output:
    """The stack's stdout, collected by a thread so waits can time out."""

    def __init__(self, stream: Any) -> None:
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._changed:
                self._lines.append(line)
                self._changed.notify_all()

    def join(self) -> None:
        """Wait for the end of the stream (the process has exited)."""
        self._thread.join(timeout=10)

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self._lines)

    def wait_for(self, needle: str, deadline: float) -> str:
        with self._changed:
            while needle not in "".join(self._lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    raise AssertionError(f"{needle!r} not printed; output:\n{''.join(self._lines)}")
                self._changed.wait(min(remaining, 1.0))
            return "".join(self._lines)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - 127.0.0.1
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def _poll(check: Callable[[], bool], deadline: float, what: str) -> None:
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


Run = tuple[subprocess.Popen[str], _Output, dict[str, int]]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Run]:
    """`python -m localstack --no-collectors` on free ports with a PII fault."""
    yield from _local_stack(tmp_path, ["--no-collectors"])


@pytest.fixture
def collector_stack(tmp_path: Path) -> Iterator[Run]:
    """`python -m localstack` with the Collectors and Jaeger, on free ports, a PII fault."""
    if missing := missing_tools():
        pytest.skip(f"{', '.join(missing)} not built (needs Go)")
    names = ("otlp-grpc", "otlp-http", "jaeger", "gateway-metrics")
    yield from _local_stack(tmp_path, [], names, COLLECTOR_BUDGET_S)


def _local_stack(
    tmp_path: Path, flags: list[str], more_ports: tuple[str, ...] = (), budget: float = BUDGET_S
) -> Iterator[Run]:
    """Start the stack, yield it, and stop it (Ctrl-C) if still up."""
    if missing := [str(p) for p in (cli.PROMETHEUS, cli.ALERTMANAGER) if not p.exists()]:
        pytest.skip(f"{', '.join(missing)} not installed (Debian packages: `make debs`)")
    names = ("prometheus", "alertmanager", "webhook", "metrics", *more_ports)
    ports = {name: pick_port(0) for name in names}
    argv = [sys.executable, "-m", "localstack", "--workdir", str(tmp_path / "stack"), *flags]
    argv += [f"--{name}-port={port}" for name, port in ports.items()]
    argv += ["--duration", str(budget), "--fault", "pii=0.3", "--concurrency", "1"]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "scripts")}
    process = subprocess.Popen(
        argv,
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = _Output(process.stdout)
    try:
        yield process, output, ports
    finally:
        # Ctrl-C first: the stack stops its servers and the demo (each in its own session,
        # so a SIGKILL here would leave them running after a failed test).
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=45)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait(timeout=10)
        output.join()
        assert process.stdout is not None
        process.stdout.close()


@pytest.mark.slow
def test_local_stack_scrapes_the_demo_with_the_shipped_rules_and_pages(stack: Run) -> None:
    """Prometheus scrapes the demo with the shipped rules; a PII page prints; Ctrl-C stops all."""
    process, output, ports = stack
    deadline = time.monotonic() + BUDGET_S - 20
    prometheus = f"http://127.0.0.1:{ports['prometheus']}"
    banner = output.wait_for("notifications", deadline)
    for port in ports.values():
        assert f"127.0.0.1:{port}" in banner
    [line] = [line for line in banner.splitlines() if line.strip().startswith("Prometheus ")]
    pages = re.findall(r"(/[\w/]+)[,)]", line)
    assert len(pages) == len(PROMETHEUS_PAGES), line
    assert {page: _status(prometheus + page) for page in pages} == dict.fromkeys(pages, 200)

    groups = _get(f"{prometheus}/api/v1/rules")["data"]["groups"]
    shipped = {str(path): load_yaml(path)["groups"] for path in project_rule_files()}
    assert {(g["file"], g["name"]) for g in groups} == {
        (file, group["name"]) for file, file_groups in shipped.items() for group in file_groups
    }
    alert_names = {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
    assert len(alert_names) == 9

    def demo_scraped() -> bool:
        targets = _get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        query = urllib.parse.urlencode(
            {"query": 'otel_llm_client_requests_total{job="support-bot"}'}
        )
        series = _get(f"{prometheus}/api/v1/query?{query}")["data"]["result"]
        return [t["health"] for t in targets] == ["up"] and bool(series)

    _poll(demo_scraped, deadline, "Prometheus to scrape the demo")
    output.wait_for("[trust-safety-page] FIRING LLMSafetyViolation", deadline)

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    text = output.wait_for("== Summary ==", time.monotonic() + 5)
    assert "safety violations" in text
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(f"{prometheus}/-/ready", timeout=2)  # noqa: S310


@pytest.mark.slow
def test_local_stack_runs_the_collector_tier_and_jaeger_when_built(
    collector_stack: Run,
) -> None:
    """The demo's metrics reach Prometheus through the gateway and its traces reach Jaeger.

    The banner prints the Jaeger API, the agent's OTLP endpoints and the gateway's metrics.
    """
    process, output, ports = collector_stack
    deadline = time.monotonic() + COLLECTOR_BUDGET_S - 20
    prometheus = f"http://127.0.0.1:{ports['prometheus']}"
    banner = output.wait_for("notifications", deadline)
    for port in ports.values():
        assert f"127.0.0.1:{port}" in banner
    assert f"http://127.0.0.1:{ports['jaeger']}/api/services" in banner

    def through_the_gateway() -> bool:
        targets = _get(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
        query = urllib.parse.urlencode(
            {"query": 'otel_llm_client_requests_total{job="support-bot"}'}
        )
        series = _get(f"{prometheus}/api/v1/query?{query}")["data"]["result"]
        jobs = {t["labels"]["job"]: t["health"] for t in targets}
        return jobs == dict.fromkeys(
            ("otel-collector", "otelcol-agent", "otelcol-gateway"), "up"
        ) and bool(series)

    _poll(through_the_gateway, deadline, "the demo's metrics through the gateway")
    jaeger = f"http://127.0.0.1:{ports['jaeger']}"
    # The gateway decides after decision_wait (60 s); PII failures make it keep those traces.
    _poll(
        lambda: "support-bot" in (_get(f"{jaeger}/api/services").get("data") or []),
        deadline,
        "Jaeger to store a trace of the demo",
    )
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0


def test_format_notification_prints_state_name_labels_and_summary() -> None:
    """Each alert of a webhook payload becomes one line (plus its summary) naming the receiver."""
    payload = {
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "LLMSafetyViolation", "job": "bot", "severity": "critical"},
                "annotations": {"summary": "pii_in_output failed"},
            },
            {"status": "resolved", "labels": {"alertname": "LLMCostSpike"}, "annotations": {}},
        ]
    }
    assert format_notification("trust-safety-page", payload) == [
        "[trust-safety-page] FIRING LLMSafetyViolation job=bot severity=critical\n"
        "    pii_in_output failed",
        "[trust-safety-page] RESOLVED LLMCostSpike",
    ]


def test_pick_port_keeps_a_free_port_and_replaces_a_taken_one() -> None:
    """A free preferred port is used as is; a taken one is swapped for another free port."""
    free = pick_port(0)
    assert pick_port(free) == free
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert pick_port(port) != port


def test_picked_ports_are_below_the_ephemeral_range() -> None:
    """A picked port is never one the kernel may hand to an outgoing connection meanwhile."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    assert all(pick_port(0) < low for _ in range(50))


def test_missing_binaries_exit_2_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without the Debian packages the command says how to install them and starts nothing."""
    monkeypatch.setattr(cli, "PROMETHEUS", tmp_path / "no-prometheus")
    assert cli.main(["--duration", "1"]) == 2
    assert "apt-get install prometheus prometheus-alertmanager" in capsys.readouterr().err


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The installed /usr/bin/prometheus on a free 127.0.0.1 port, with an empty config."""
    if not cli.PROMETHEUS.exists():
        pytest.skip(f"{cli.PROMETHEUS} not installed (Debian package: `make debs`)")
    workdir = tmp_path_factory.mktemp("prometheus")
    (workdir / "prometheus.yml").write_text("global: {}\n")
    url = f"http://127.0.0.1:{pick_port(0)}"
    server = ServerProcess(
        "prometheus",
        [
            str(cli.PROMETHEUS),
            f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address={url.removeprefix('http://')}",
        ],
        url,
        workdir / "prometheus.log",
    )
    server.start()
    try:
        yield url
    finally:
        server.stop()


def test_prometheus_pages_are_found_where_the_installed_server_serves_them(
    prometheus: str,
) -> None:
    """Each page the stack prints answers 200; Debian's build serves the classic UI only."""
    pages = prometheus_pages(prometheus)
    assert len(pages) == len(PROMETHEUS_PAGES)
    assert {page: _status(prometheus + page) for page in pages} == dict.fromkeys(pages, 200)
    if _status(f"{prometheus}/alerts") == 404:  # Debian's 2.42, as `make debs` installs
        assert pages[:3] == ["/classic/alerts", "/classic/rules", "/classic/targets"]


def _make_stack_paths(path: Path) -> list[str]:
    """Backticked URL paths in the paragraphs of `path` that describe `make stack`."""
    paragraphs = path.read_text(encoding="utf-8").split("\n\n")
    return [
        found
        for paragraph in paragraphs
        if "make stack" in paragraph
        for found in re.findall(r"`(/[\w/.-]*)`", paragraph)
    ]


def test_documented_make_stack_pages_answer_on_the_installed_prometheus(
    prometheus: str,
) -> None:
    """The Prometheus paths README and docs/deploy.md give for `make stack` are not 404."""
    documented = {
        name: _make_stack_paths(REPO_ROOT / name) for name in ("README.md", "docs/deploy.md")
    }
    statuses = {
        (name, page): _status(prometheus + page)
        for name, pages in documented.items()
        for page in pages
        if page != "/metrics"  # the demo's endpoint, which the same paragraph names
    }
    assert statuses == dict.fromkeys(statuses, 200)
    assert all(documented.values()), documented
