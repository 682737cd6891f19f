"""otelcol-llm and Jaeger as built: manifest, one release, the binary, `validate` on each config.

collector-config/otelcol/builder-config.yaml must hold exactly the components the shipped
configs use, every module of one Collector release; the built binary (build/bin/otelcol-llm,
`make otelcol`) must report those components and accept every config with `validate`.
collector-config/jaeger/go.mod is a tool module that pins the approved Jaeger version.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from localstack.collectors import DEPLOYMENTS, JAEGER, OTELCOL, OTELCOL_DIR, load_deployment

MANIFEST = OTELCOL_DIR / "builder-config.yaml"
JAEGER_MODULE = OTELCOL_DIR.parent / "jaeger"
CORE = "go.opentelemetry.io/collector/"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib/"
JAEGER_VERSION = "v1.75.0"
"""The approved version of github.com/jaegertracing/jaeger (released with Jaeger v2.12.0)."""
SECTIONS = {
    "receivers": "receivers",
    "processors": "processors",
    "exporters": "exporters",
    "connectors": "connectors",
    "extensions": "extensions",
}
ALIASES = {"otlp_grpc": "otlp", "span_metrics": "spanmetrics", "load_balancing": "loadbalancing"}
"""Component types whose module is named after their older name (otlp_grpc is otlpexporter)."""
needs_otelcol = pytest.mark.skipif(
    not OTELCOL.exists(), reason="build/bin/otelcol-llm not built (needs Go: make otelcol)"
)


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def _modules(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(module path, version) of every gomod line of the manifest."""
    entries = [m for section in SECTIONS for m in manifest.get(section, [])]
    entries += [*manifest.get("providers", []), manifest["telemetry"]]
    return [(entry["gomod"].split()[0], entry["gomod"].split()[1]) for entry in entries]


def _used_types() -> dict[str, set[str]]:
    """Section -> component types the shipped configs define (and the wiring test uses)."""
    used: dict[str, set[str]] = {section: set() for section in SECTIONS}
    for deployment in DEPLOYMENTS:
        config = load_deployment(deployment)
        for section in SECTIONS:
            used[section] |= {name.split("/", 1)[0] for name in config.get(section) or {}}
    return used


def _module_type(module: str) -> str:
    """`.../processor/tailsamplingprocessor` -> `tailsampling`."""
    name = module.rsplit("/", 1)[1]
    return re.sub(r"(receiver|processor|exporter|connector|extension)$", "", name)


def test_manifest_has_exactly_the_components_the_configs_use() -> None:
    """Every component type of agent, gateway and gateway-ha is built in, and nothing else."""
    manifest = _manifest()
    used = _used_types()
    for section in SECTIONS:
        built = {_module_type(entry["gomod"].split()[0]) for entry in manifest.get(section, [])}
        wanted = {ALIASES.get(kind, kind).replace("_", "") for kind in used[section]}
        assert built == wanted, section
    providers = {entry["gomod"].split()[0].rsplit("/", 1)[1] for entry in manifest["providers"]}
    assert providers == {"envprovider", "fileprovider"}  # ${env:...} and --config=<file>


def test_every_collector_module_is_of_one_release() -> None:
    """Core v0.161.0 with its stable modules at v1.67.0, contrib v0.161.0, one builder."""
    modules = _modules(_manifest())
    versions = {version for module, version in modules if module.startswith(CONTRIB)}
    core = {version for module, version in modules if module.startswith(CORE)}
    assert versions == {"v0.161.0"}
    assert core <= {"v0.161.0", "v1.67.0"}
    stable = {m for m, v in modules if v == "v1.67.0"}
    assert all("/confmap/provider/" in module for module in stable)
    makefile_builder = (OTELCOL_DIR.parents[1] / "scripts/stackbuild.sh").read_text("utf-8")
    assert "go.opentelemetry.io/collector/service" in makefile_builder  # the builder's release
    assert _manifest()["dist"]["version"].startswith("0.161.0")


def test_jaeger_is_a_tool_module_at_the_approved_version() -> None:
    """go.mod names cmd/jaeger as a tool and requires the approved module version."""
    gomod = (JAEGER_MODULE / "go.mod").read_text(encoding="utf-8")
    assert "\ntool github.com/jaegertracing/jaeger/cmd/jaeger\n" in gomod
    assert f"\tgithub.com/jaegertracing/jaeger {JAEGER_VERSION}" in gomod
    assert (JAEGER_MODULE / "go.sum").exists()


@needs_otelcol
def test_binary_reports_the_manifest_components() -> None:
    """`otelcol-llm components` lists each manifest module's component, at its version."""
    result = subprocess.run(
        [str(OTELCOL), "components"], capture_output=True, text=True, timeout=60, check=True
    )
    listed: dict[str, Any] = yaml.safe_load(result.stdout)
    assert listed["buildinfo"]["command"] == "otelcol-llm"
    used = _used_types()
    for section in SECTIONS:
        names = {component["name"] for component in listed[section]}
        assert names == used[section], section


@needs_otelcol
@pytest.mark.parametrize("deployment", sorted(DEPLOYMENTS))
def test_otelcol_validate_accepts_the_config(deployment: str, tmp_path: Path) -> None:
    """`otelcol-llm validate` accepts each shipped config as CI and users run it."""
    flags = [f"--config={OTELCOL_DIR / name}" for name in DEPLOYMENTS[deployment]]
    result = subprocess.run(
        [str(OTELCOL), "validate", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        # gateway-ha names its replica after HOSTNAME (a pod name); the shell may not export it.
        env={"HOSTNAME": "otel-gateway-0", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


@needs_otelcol
def test_validate_reports_the_integer_dns_port_it_was_given(tmp_path: Path) -> None:
    """The check can fail: resolver.dns.port as an integer is refused, naming the field."""
    config = yaml.safe_load((OTELCOL_DIR / "gateway-ha.yaml").read_text(encoding="utf-8"))
    config["exporters"]["load_balancing"]["resolver"]["dns"]["port"] = 4319
    broken = tmp_path / "gateway-ha.yaml"
    broken.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run(
        [str(OTELCOL), "validate", f"--config={broken}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"HOSTNAME": "otel-gateway-0"},
    )
    assert result.returncode != 0
    assert "'port' expected type 'string', got unconvertible type 'int'" in result.stderr


@pytest.mark.skipif(
    not JAEGER.exists(), reason="build/bin/jaeger not built (needs Go: make jaeger)"
)
def test_jaeger_binary_is_the_approved_version() -> None:
    """build/bin/jaeger reports the module version it was built from."""
    result = subprocess.run(
        [str(JAEGER), "version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert f'"gitVersion":"{JAEGER_VERSION}"' in result.stdout
