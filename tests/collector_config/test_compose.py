"""docker-compose.yml, checked structurally: pinned images, mounts, ports and endpoints agree.

No container engine runs here, so the stack is never started by this suite. These tests read
docker-compose.yml next to the files it mounts and check that every name and port one
component uses to reach another is one the other really serves.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.collector_config.test_otelcol import env_default, load

SERVICES = {
    "demo",
    "otel-agent",
    "otel-collector",
    "jaeger",
    "prometheus",
    "alertmanager",
    "grafana",
}
UI_PORTS = {"grafana": 3000, "jaeger": 16686, "prometheus": 9090, "alertmanager": 9093}
SERVED = {
    "jaeger": {4317, 16686},
    "prometheus": {9090},
    "alertmanager": {9093},
    "grafana": {3000},
}
"""Ports the upstream images listen on by default (the Collectors' come from their configs)."""
_PINNED = re.compile(r"^[\w./-]+:v?\d+\.\d+\.\d+$")


@pytest.fixture(scope="module")
def compose(repo_root: Path) -> dict[str, Any]:
    """The parsed docker-compose.yml."""
    loaded: dict[str, Any] = yaml.safe_load(
        (repo_root / "docker-compose.yml").read_text(encoding="utf-8")
    )
    return loaded


def _mounts(service: dict[str, Any]) -> dict[PurePosixPath, str]:
    """Container path -> host path (relative to the repo) of a service's bind mounts."""
    mounts: dict[PurePosixPath, str] = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts[PurePosixPath(target)] = source[2:]
    return mounts


def _host_path(repo_root: Path, service: dict[str, Any], container_path: str) -> Path:
    """The repository file a container path resolves to through the service's bind mounts."""
    path = PurePosixPath(container_path)
    for target, source in _mounts(service).items():
        if path == target or target in path.parents:
            return repo_root / source / path.relative_to(target)
    raise AssertionError(f"{container_path} is not inside any bind mount")


def _flag(arguments: list[str], flag: str) -> list[str]:
    return [arg.split("=", 1)[1] for arg in arguments if arg.startswith(f"{flag}=")]


def _served_ports(repo_root: Path, name: str) -> set[int]:
    if name == "otel-agent":
        return _listen_ports(load(repo_root, "agent"))
    if name == "otel-collector":
        return _listen_ports(load(repo_root, "gateway"))
    return SERVED.get(name, set())


def _listen_ports(config: dict[str, Any]) -> set[int]:
    endpoints = [e.get("endpoint", "") for e in config["exporters"].values()]
    ports = {int(e.rsplit(":", 1)[1]) for e in endpoints if e.startswith("0.0.0.0:")}
    for receiver in config["receivers"].values():
        for protocol in receiver.get("protocols", {}).values():
            ports.add(int(protocol["endpoint"].rsplit(":", 1)[1]))
    return ports


def _assert_reachable(repo_root: Path, compose: dict[str, Any], address: str) -> None:
    """`host:port` names a compose service that listens on that port."""
    host, port = address.rsplit(":", 1)
    assert host in compose["services"], address
    assert int(port) in _served_ports(repo_root, host), address


def test_the_stack_has_every_service(compose: dict[str, Any]) -> None:
    """Demo, agent and gateway Collectors, Jaeger, Prometheus, Alertmanager and Grafana."""
    assert set(compose["services"]) == SERVICES


def test_images_are_pinned_and_the_demo_is_built_here(
    repo_root: Path, compose: dict[str, Any]
) -> None:
    """Every upstream image has an exact x.y.z tag; the demo is built from this repository."""
    for name, service in compose["services"].items():
        if name == "demo":
            assert service["build"]["context"] == "."
            assert (repo_root / service["build"]["dockerfile"]).is_file()
            continue
        assert _PINNED.match(service["image"]), (name, service["image"])
    images = {s["image"].split(":")[0] for s in compose["services"].values()}
    assert "otel/opentelemetry-collector-contrib" in images
    assert "jaegertracing/jaeger" in images  # Jaeger v2 (the v1 all-in-one image is EOL)
    assert compose["services"]["jaeger"]["image"].split(":")[1].startswith("2.")


def test_dockerfile_copies_only_existing_paths(repo_root: Path) -> None:
    """The demo image is built from pyproject.toml, README.md and src/ of this repository."""
    text = (repo_root / "Dockerfile").read_text(encoding="utf-8")
    copies = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]
    sources = [source for sources in copies for source in sources]
    assert sources == ["pyproject.toml", "README.md", "src"]
    for source in sources:
        assert (repo_root / source).exists(), source
    assert re.search(r"^FROM python:\d+\.\d+", text, re.MULTILINE)


def test_every_bind_mount_exists_in_the_repository(
    repo_root: Path, compose: dict[str, Any]
) -> None:
    """Each `./path:/container/path` source is a directory or file of this repository."""
    for name, service in compose["services"].items():
        for source in _mounts(service).values():
            assert (repo_root / source).exists(), (name, source)


def test_config_files_named_on_command_lines_are_mounted(
    repo_root: Path, compose: dict[str, Any]
) -> None:
    """--config / --config.file arguments resolve, through the mounts, to repository files."""
    services = compose["services"]
    agent = _flag(services["otel-agent"]["command"], "--config")
    assert [PurePosixPath(p).name for p in agent] == ["agent.yaml", "redaction.yaml"]
    gateway = _flag(services["otel-collector"]["command"], "--config")
    assert [PurePosixPath(p).name for p in gateway] == ["gateway.yaml"]
    checked = {
        "otel-agent": agent,
        "otel-collector": gateway,
        "prometheus": _flag(services["prometheus"]["command"], "--config.file"),
        "alertmanager": _flag(services["alertmanager"]["command"], "--config.file"),
    }
    for name, paths in checked.items():
        assert paths, name
        for path in paths:
            assert _host_path(repo_root, services[name], path).is_file(), (name, path)
    prometheus = _host_path(repo_root, services["prometheus"], "/etc/prometheus/prometheus.yml")
    rule_files = yaml.safe_load(prometheus.read_text(encoding="utf-8")).get("rule_files", [])
    for pattern in rule_files:
        assert list(prometheus.parent.glob(pattern)), pattern


def test_ui_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    """Each UI is published at its usual port on 127.0.0.1; no host port is used twice."""
    published: list[str] = []
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            host_ip, host_port, container_port = str(mapping).split(":")
            assert host_ip == "127.0.0.1", (name, mapping)
            published.append(host_port)
            if name in UI_PORTS:
                assert int(container_port) == UI_PORTS[name]
    assert len(published) == len(set(published))
    for name, port in UI_PORTS.items():
        assert f"127.0.0.1:{port}:{port}" in compose["services"][name]["ports"]


def test_depends_on_names_services_without_cycles(compose: dict[str, Any]) -> None:
    """Dependencies exist, and following them never returns to the start."""
    graph = {name: list(s.get("depends_on", [])) for name, s in compose["services"].items()}
    for name, needs in graph.items():
        assert set(needs) <= set(graph), name

    def reaches(start: str, node: str, seen: frozenset[str]) -> bool:
        return any(
            n == start or (n not in seen and reaches(start, n, seen | {n})) for n in graph[node]
        )

    assert not [name for name in graph if reaches(name, name, frozenset())]
    assert graph["demo"] == ["otel-agent"]
    assert graph["otel-agent"] == ["otel-collector"]


def test_telemetry_flows_demo_agent_gateway_jaeger(
    repo_root: Path, compose: dict[str, Any]
) -> None:
    """The demo sends to the agent, the agent to the gateway, the gateway to Jaeger's OTLP port."""
    services = compose["services"]
    demo = urlsplit(services["demo"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"])
    _assert_reachable(repo_root, compose, demo.netloc)
    assert demo.hostname == "otel-agent"

    agent_exporter = load(repo_root, "agent")["exporters"]["otlp_grpc/gateway"]["endpoint"]
    gateway_address = services["otel-agent"]["environment"]["OTEL_GATEWAY_ENDPOINT"]
    assert env_default(agent_exporter) == gateway_address  # same with or without the variable
    _assert_reachable(repo_root, compose, gateway_address)
    assert gateway_address.startswith("otel-collector:")

    jaeger_exporter = load(repo_root, "gateway")["exporters"]["otlp_grpc/jaeger"]["endpoint"]
    jaeger_address = services["otel-collector"]["environment"]["JAEGER_OTLP_ENDPOINT"]
    assert env_default(jaeger_exporter) == jaeger_address
    _assert_reachable(repo_root, compose, jaeger_address)


def test_prometheus_scrapes_the_gateway_and_alerts_alertmanager(
    repo_root: Path, compose: dict[str, Any]
) -> None:
    """Scrape and Alertmanager targets are compose services on ports they serve."""
    prometheus = yaml.safe_load(
        (repo_root / "collector-config/prometheus/prometheus.yml").read_text(encoding="utf-8")
    )
    scraped = []
    for job in prometheus["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                if target.startswith("localhost:"):
                    continue  # Prometheus itself
                _assert_reachable(repo_root, compose, target)
                scraped.append((job, target))
    gateway_jobs = [job for job, target in scraped if target == "otel-collector:8889"]
    assert gateway_jobs, "Prometheus does not scrape the gateway's prometheus exporter"
    # The exporter writes job/instance from service.name/service.instance.id: keep them.
    assert all(job.get("honor_labels") is True for job in gateway_jobs)
    for alerting in prometheus["alerting"]["alertmanagers"]:
        for static in alerting["static_configs"]:
            for target in static["targets"]:
                _assert_reachable(repo_root, compose, target)


def test_grafana_finds_its_datasources_and_dashboards(
    repo_root: Path, compose: dict[str, Any]
) -> None:
    """Datasource URLs are compose services; the provider path and home dashboard are mounted."""
    grafana = compose["services"]["grafana"]
    provisioning = _host_path(repo_root, grafana, "/etc/grafana/provisioning")
    datasources = yaml.safe_load(
        (provisioning / "datasources/otel-llm.yaml").read_text(encoding="utf-8")
    )
    for source in datasources["datasources"]:
        _assert_reachable(repo_root, compose, urlsplit(source["url"]).netloc)
    providers = yaml.safe_load((provisioning / "dashboards/otel-llm.yaml").read_text("utf-8"))
    (provider,) = providers["providers"]
    folder = _host_path(repo_root, grafana, provider["options"]["path"])
    assert folder == repo_root / "collector-config/grafana/dashboards"
    assert len(list(folder.glob("*.json"))) == 5
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert _host_path(repo_root, grafana, home).name == "otel-llm-overview.json"
    assert _host_path(repo_root, grafana, home).is_file()
