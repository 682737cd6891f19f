"""What a newcomer copies: OTLP examples that reach a Collector, and `make test`'s prerequisites."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from urllib.parse import urlsplit

import pytest
import yaml
from opentelemetry.sdk._configuration import _get_exporter_entry_point

_DOCUMENTED = ("README.md", "Dockerfile", "docker-compose.yml")
_DOCUMENTED_TREES = (("docs", "*.md"), ("collector-config", "*.yaml"), ("src", "*.py"))
_VARIABLE = re.compile(
    r"\b(?P<name>OTEL_EXPORTER_OTLP(?:_(?P<signal>TRACES|METRICS|LOGS))?_(?P<kind>ENDPOINT|PROTOCOL))"
    r"""\s*[=:]\s*["']?(?P<value>[^\s"'`\\,)]+)"""
)
_EXPORTERS = {"otlp_proto_grpc": "grpc", "otlp_proto_http": "http"}
"""The SDK's exporter entry points by the OTLP protocol family they speak."""


@dataclass(frozen=True)
class _Endpoint:
    """One documented OTLP endpoint, with the variables set next to it."""

    where: str
    name: str
    signal: str | None
    url: str
    protocols: dict[str, str]
    """The protocol variables in the same example (name -> value)."""


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each example: a fenced code block or a paragraph."""
    number, fenced = 1, False
    lines: list[str] = []
    for index, line in enumerate([*text.splitlines(), ""], start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not line.strip() and not fenced:
            if lines:
                yield number, "\n".join(lines)
            number, lines = index + 1, []
        else:
            lines.append(line)


def _documented_files(root: Path) -> list[Path]:
    files = [root / name for name in _DOCUMENTED]
    for directory, pattern in _DOCUMENTED_TREES:
        files += sorted((root / directory).rglob(pattern))
    return files


def _endpoints(root: Path, files: list[Path] | None = None) -> list[_Endpoint]:
    found = []
    for path in _documented_files(root) if files is None else files:
        for line, block in _blocks(path.read_text(encoding="utf-8")):
            matches = list(_VARIABLE.finditer(block))
            protocols = {m["name"]: m["value"] for m in matches if m["kind"] == "PROTOCOL"}
            for m in matches:
                if m["kind"] == "ENDPOINT":
                    where = f"{path.relative_to(root)}:{line}"
                    found.append(_Endpoint(where, m["name"], m["signal"], m["value"], protocols))
    return found


def _collector_ports(root: Path) -> dict[int, str]:
    """The port each OTLP protocol listens on in the Collector configs we ship."""
    agent = yaml.safe_load((root / "collector-config/otelcol/agent.yaml").read_text())
    protocols = agent["receivers"]["otlp"]["protocols"]
    return {int(protocols[kind]["endpoint"].rsplit(":", 1)[1]): kind for kind in ("grpc", "http")}


def _protocol(endpoint: _Endpoint, monkeypatch: pytest.MonkeyPatch) -> str:
    """What the SDK's OTLP exporter would speak with the example's variables (and no others)."""
    signal = (endpoint.signal or "traces").lower()
    for name in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in endpoint.protocols.items():
        monkeypatch.setenv(name, value)
    return _EXPORTERS[_get_exporter_entry_point("otlp", signal)]  # type: ignore[arg-type]


def test_documented_otlp_endpoints_use_the_port_of_their_protocol(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every documented OTLP endpoint is on the Collector port of the protocol the SDK would use."""
    ports = _collector_ports(repo_root)
    assert ports == {4317: "grpc", 4318: "http"}
    endpoints = _endpoints(repo_root)
    assert {e.where.split(":")[0] for e in endpoints} >= {"README.md", "docker-compose.yml"}
    problems = []
    for endpoint in endpoints:
        url = urlsplit(endpoint.url)
        protocol = _protocol(endpoint, monkeypatch)
        expected = ports.get(url.port or 0)
        if expected is not None and expected != protocol:
            problems.append(
                f"{endpoint.where}: {endpoint.name}={endpoint.url} sends {protocol} to the "
                f"Collector's {expected} port"
            )
        # Over HTTP a per-signal endpoint is used as is, the general one gets /v1/<signal>.
        signal_path = f"/v1/{(endpoint.signal or '').lower()}"
        if protocol == "http" and endpoint.signal and not url.path.endswith(signal_path):
            problems.append(f"{endpoint.where}: {endpoint.name} needs the path {signal_path}")
    assert problems == []


def test_the_checker_reads_the_protocol_beside_each_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An example without a protocol variable is gRPC (the default); one beside it decides."""
    readme = tmp_path / "README.md"
    readme.write_text(
        "```sh\nOTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318 app\n```\n\n"
        "`OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf` with `OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318`\n"
        "\nOTEL_EXPORTER_OTLP_ENDPOINT: http://c:4317\n"
    )
    endpoints = _endpoints(tmp_path, [readme])
    assert [(e.where, _protocol(e, monkeypatch)) for e in endpoints] == [
        ("README.md:1", "grpc"),
        ("README.md:5", "http"),
        ("README.md:7", "grpc"),
    ]


def _make_debs(root: Path, missing: str, *, path: str, as_nobody: bool) -> CompletedProcess[str]:
    """`make debs` with `missing` as the only binary it needs, as nobody when asked (and root)."""
    argv = [shutil.which("make") or "make", "-s", "debs", f"DEB_BINARIES={missing}"]
    if as_nobody and os.geteuid() == 0:
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    environment = {**os.environ, "PATH": path, "LC_ALL": "C"}
    return subprocess.run(
        argv, cwd=root, env=environment, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs a Debian/Ubuntu machine")
@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None, reason="root without setpriv"
)
def test_make_debs_without_root_stops_with_the_install_command(
    repo_root: Path, tmp_path: Path
) -> None:
    """As a non-root user, a missing binary stops `make debs` at once with the sudo command."""
    result = _make_debs(
        repo_root, str(tmp_path / "prometheus"), path=os.environ["PATH"], as_nobody=True
    )
    assert result.returncode != 0
    assert f"missing: {tmp_path / 'prometheus'}" in result.stderr
    assert "sudo apt-get install prometheus prometheus-alertmanager" in result.stderr
    assert "lock" not in result.stderr.lower()


def test_make_debs_without_apt_says_what_to_install(repo_root: Path, tmp_path: Path) -> None:
    """With no apt-get on PATH (not Debian/Ubuntu), `make debs` names the binaries and stops."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").symlink_to(shutil.which("id") or "/usr/bin/id")
    result = _make_debs(repo_root, str(tmp_path / "prometheus"), path=str(bin_dir), as_nobody=False)
    assert result.returncode != 0
    assert f"missing: {tmp_path / 'prometheus'}" in result.stderr
    assert "no apt-get here" in result.stderr
    assert "https://prometheus.io/download/" in result.stderr


def test_quick_start_says_what_make_test_needs_and_how_long_it_takes(repo_root: Path) -> None:
    """The quick start names the Prometheus/Alertmanager packages, root and apt, and a duration."""
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    packages = re.search(r"^DEBS := (.+)$", makefile, re.MULTILINE)
    assert packages is not None
    assert f"sudo apt-get install {packages[1]}" in quick_start
    assert "sudo make debs" in quick_start
    assert "Debian/Ubuntu" in quick_start
    assert re.search(r"about \d+ minutes", quick_start)
