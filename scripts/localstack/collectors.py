"""Our Collector distribution (otelcol-llm) and Jaeger on 127.0.0.1, with the shipped configs.

`make otelcol` and `make jaeger` (scripts/stackbuild.sh) link the binaries to build/bin/. A
Collector runs the shipped files of its deployment unchanged (`agent.yaml` + `redaction.yaml`,
`gateway.yaml`, `gateway-ha.yaml`), followed by one more `--config` file that the Collector
merges over them (maps key by key, lists replaced) and that holds only what is local:

- every listener the shipped files bind to `0.0.0.0:PORT` is bound to `127.0.0.1:<port>`, the
  port picked for PORT (`listen_overlay`), including the Collector's own metrics (8888);
- whatever a caller adds on top (`extra`), e.g. the end-to-end tests' static resolver for
  `load_balancing` or a smaller sending queue; each caller says why.

Where the shipped files read the environment (`OTEL_GATEWAY_ENDPOINT`, `JAEGER_OTLP_ENDPOINT`,
`HOSTNAME`), the process gets those variables. Jaeger runs collector-config/jaeger/config.yaml
with its addresses from the environment.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from localstack.overlay import REPO_ROOT
from localstack.servers import ServerProcess, pick_port

__all__ = [
    "DEPLOYMENTS",
    "JAEGER",
    "JAEGER_CONFIG",
    "OTELCOL",
    "OTELCOL_DIR",
    "CollectorProcess",
    "JaegerProcess",
    "deep_merge",
    "listen_overlay",
    "load_deployment",
    "missing_tools",
    "shipped_listeners",
]

OTELCOL_DIR = REPO_ROOT / "collector-config" / "otelcol"
JAEGER_CONFIG = REPO_ROOT / "collector-config" / "jaeger" / "config.yaml"
OTELCOL = REPO_ROOT / "build" / "bin" / "otelcol-llm"
"""Our distribution, linked here by `make otelcol`."""
JAEGER = REPO_ROOT / "build" / "bin" / "jaeger"
"""Jaeger v2 built from its Go module, linked here by `make jaeger`."""
DEPLOYMENTS: dict[str, tuple[str, ...]] = {
    "agent": ("agent.yaml", "redaction.yaml"),
    "gateway": ("gateway.yaml",),
    "gateway-ha": ("gateway-ha.yaml",),
}
"""Each deployment and the shipped --config files it runs with, in order."""

_ANY_ADDRESS = re.compile(r"^0\.0\.0\.0:(\d+)$")


def missing_tools() -> list[str]:
    """The binaries not built yet, each with the make target that builds it."""
    return [
        f"{path.relative_to(REPO_ROOT)} (make {target})"
        for path, target in ((OTELCOL, "otelcol"), (JAEGER, "jaeger"))
        if not path.exists()
    ]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge as the Collector merges --config files: maps key by key, anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_deployment(deployment: str) -> dict[str, Any]:
    """The shipped configuration of `deployment`, its files merged in order."""
    config: dict[str, Any] = {}
    for name in DEPLOYMENTS[deployment]:
        document = yaml.safe_load((OTELCOL_DIR / name).read_text(encoding="utf-8"))
        config = deep_merge(config, document)
    return config


def _walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    else:
        yield path, node


def _nest(path: Sequence[str], value: Any) -> dict[str, Any]:
    result: dict[str, Any] = {path[-1]: value}
    for key in reversed(path[:-1]):
        result = {key: result}
    return result


def _telemetry_port(config: Mapping[str, Any]) -> int | None:
    readers = config.get("service", {}).get("telemetry", {}).get("metrics", {}).get("readers", [])
    for reader in readers:
        port = reader.get("pull", {}).get("exporter", {}).get("prometheus", {}).get("port")
        if port is not None:
            return int(port)
    return None


def shipped_listeners(deployment: str) -> list[int]:
    """Every port the shipped config listens on (`0.0.0.0:PORT` and its own metrics), sorted."""
    config = load_deployment(deployment)
    ports = {
        int(match.group(1))
        for _, value in _walk(config)
        if isinstance(value, str) and (match := _ANY_ADDRESS.match(value))
    }
    telemetry = _telemetry_port(config)
    if telemetry is not None:
        ports.add(telemetry)
    return sorted(ports)


def listen_overlay(deployment: str, ports: Mapping[int, int]) -> dict[str, Any]:
    """The config that binds each shipped listener PORT to `127.0.0.1:ports[PORT]`.

    Every listener of the shipped config must have a port in `ports` (KeyError otherwise), so
    nothing of a test or a local stack ever listens beyond 127.0.0.1.
    """
    config = load_deployment(deployment)
    overlay: dict[str, Any] = {}
    for path, value in _walk(config):
        if isinstance(value, str) and (match := _ANY_ADDRESS.match(value)):
            local = f"127.0.0.1:{ports[int(match.group(1))]}"
            overlay = deep_merge(overlay, _nest(path, local))
    telemetry = _telemetry_port(config)
    if telemetry is not None:
        prometheus = {"host": "127.0.0.1", "port": ports[telemetry]}
        reader = {"pull": {"exporter": {"prometheus": prometheus}}}
        overlay = deep_merge(
            overlay, {"service": {"telemetry": {"metrics": {"readers": [reader]}}}}
        )
    return overlay


@dataclass
class CollectorProcess:
    """One otelcol-llm process running `deployment` on 127.0.0.1.

    `ports` maps each shipped listener port to the local one (unlisted ones get a free port,
    the shipped number when it is free and `prefer_shipped_ports`); `env` is given to the
    process; `extra` is merged over the listen overlay.
    """

    name: str
    deployment: str
    workdir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    ports: dict[int, int] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    prefer_shipped_ports: bool = False
    server: ServerProcess = field(init=False)

    def __post_init__(self) -> None:
        """Pick the ports, write the local overlay and prepare the process."""
        for port in shipped_listeners(self.deployment):
            if port not in self.ports:
                self.ports[port] = pick_port(port if self.prefer_shipped_ports else 0)
        self.workdir.mkdir(parents=True, exist_ok=True)
        overlay = deep_merge(listen_overlay(self.deployment, self.ports), self.extra)
        overlay_path = self.workdir / f"{self.name}.local.yaml"
        overlay_path.write_text(yaml.safe_dump(overlay, sort_keys=False), encoding="utf-8")
        flags = [f"--config={OTELCOL_DIR / name}" for name in DEPLOYMENTS[self.deployment]]
        self.server = ServerProcess(
            self.name,
            [str(OTELCOL), *flags, f"--config={overlay_path}"],
            f"http://127.0.0.1:{self.ports[13133]}",
            self.workdir / f"{self.name}.log",
            ready_path="/",
            env=self.env,
        )

    def address(self, shipped_port: int) -> str:
        """`127.0.0.1:port` of the listener shipped on `shipped_port` (4317, 8889, 8888...)."""
        return f"127.0.0.1:{self.ports[shipped_port]}"

    @property
    def otlp_grpc(self) -> str:
        """`host:port` of the OTLP/gRPC receiver."""
        return self.address(4317)

    @property
    def otlp_http_url(self) -> str:
        """The base URL of the OTLP/HTTP receiver."""
        return f"http://{self.address(4318)}"

    @property
    def telemetry(self) -> str:
        """`host:port` of the Collector's own metrics (/metrics)."""
        return self.address(8888)

    def start(self, timeout: float = 30.0) -> None:
        """Start (or restart) the process; ServerError when it does not become healthy."""
        self.server.start(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the Collector drains what it can), SIGKILL after `timeout` s."""
        self.server.stop(timeout)

    def running(self) -> bool:
        """Whether the process is alive."""
        return self.server.running()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the Collector logged."""
        return self.server.log_tail(lines)


@dataclass
class JaegerProcess:
    """Jaeger v2 (build/bin/jaeger) with collector-config/jaeger/config.yaml on 127.0.0.1."""

    workdir: Path
    otlp_grpc_port: int = 0
    query_port: int = 0
    server: ServerProcess = field(init=False)

    def __post_init__(self) -> None:
        """Pick the ports and prepare the process."""
        self.otlp_grpc_port = pick_port(self.otlp_grpc_port)
        self.query_port = pick_port(self.query_port)
        env = {
            "JAEGER_OTLP_GRPC_ENDPOINT": f"127.0.0.1:{self.otlp_grpc_port}",
            "JAEGER_OTLP_HTTP_ENDPOINT": f"127.0.0.1:{pick_port(0)}",
            "JAEGER_QUERY_HTTP_ENDPOINT": f"127.0.0.1:{self.query_port}",
            "JAEGER_QUERY_GRPC_ENDPOINT": f"127.0.0.1:{pick_port(0)}",
        }
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.server = ServerProcess(
            "jaeger",
            [str(JAEGER), f"--config={JAEGER_CONFIG}"],
            self.query_url,
            self.workdir / "jaeger.log",
            ready_path="/api/services",
            env=env,
        )

    @property
    def otlp_grpc(self) -> str:
        """`host:port` Collectors export traces to."""
        return f"127.0.0.1:{self.otlp_grpc_port}"

    @property
    def query_url(self) -> str:
        """The base URL of the query service (HTTP API; the UI is a placeholder in this build)."""
        return f"http://127.0.0.1:{self.query_port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start Jaeger and wait until its query API answers."""
        self.server.start(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Jaeger (its in-memory traces are gone)."""
        self.server.stop(timeout)
