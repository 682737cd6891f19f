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


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], _Output, dict[str, int]]]:
    """`python -m localstack` on free ports with a PII fault, stopped (Ctrl-C) if still up."""
    if missing := [str(p) for p in (cli.PROMETHEUS, cli.ALERTMANAGER) if not p.exists()]:
        pytest.skip(f"{', '.join(missing)} not installed (Debian packages: `make debs`)")
    ports = {name: pick_port(0) for name in ("prometheus", "alertmanager", "webhook", "metrics")}
    argv = [sys.executable, "-m", "localstack", "--workdir", str(tmp_path / "stack")]
    argv += [f"--{name}-port={port}" for name, port in ports.items()]
    argv += ["--duration", str(BUDGET_S), "--fault", "pii=0.3", "--concurrency", "1"]
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


def test_local_stack_scrapes_the_demo_with_the_shipped_rules_and_pages(
    stack: tuple[subprocess.Popen[str], _Output, dict[str, int]],
) -> None:
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
