"""Grafana dashboards type-checked with tsc against @grafana/schema at the pinned Grafana version.

`make grafana-schema` (part of `make test`) installs @grafana/schema and TypeScript from the
npm registry, at the versions collector-config/grafana/typecheck/package-lock.json pins, into
build/grafana-typecheck. Each dashboard becomes a TypeScript module:

    export const dashboard = {...the JSON...} satisfies Json<Dashboard>;
    export const options_7 = {...panel 7's options...} satisfies Json<stat.Options>;
    export const custom_7 = {...its fieldConfig.defaults.custom...} satisfies Json<...FieldConfig>;

`Dashboard` is the dashboard model of @grafana/schema; each panel's `options` (and custom field
config, where the panel plugin has one) are checked against that plugin's own schema (the
`panelcfg` types, generated from the same CUE as Grafana 13.2.1's panels). `satisfies` on an
object literal rejects unknown keys, missing required ones and wrong types. `Json<T>` only lets
JSON spell TypeScript's string enums as their values (`"absolute"` for
`ThresholdsMode.Absolute`).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.collector_config._dashboards import load_dashboards, panels

TYPECHECK = Path("build/grafana-typecheck")
PANEL_SCHEMAS = {
    "timeseries": "TimeSeriesPanelCfg",
    "stat": "StatPanelCfg",
    "table": "TablePanelCfg",
    "heatmap": "HeatmapPanelCfg",
    "bargauge": "BarGaugePanelCfg",
}
"""Panel type -> its schema module under @grafana/schema/dist/esm/raw/composable/."""
JSON_TYPE = """/** A schema type as JSON can spell it: string enums become their values. */
export type Json<T> = T extends string
  ? `${T}`
  : T extends readonly (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;
"""
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "target": "es2022",
        "skipLibCheck": True,
        "types": [],
    }
}


@pytest.fixture(scope="module")
def tsc(repo_root: Path) -> Path:
    """The TypeScript compiler of build/grafana-typecheck (skip when not installed)."""
    compiler = repo_root / TYPECHECK / "node_modules" / ".bin" / "tsc"
    if not compiler.exists():
        pytest.skip(f"{TYPECHECK} is not installed (needs Node.js and npm: make grafana-schema)")
    return compiler


def _has_custom_config(repo_root: Path, kind: str) -> bool:
    module = (
        repo_root
        / TYPECHECK
        / "node_modules/@grafana/schema/dist/types/raw/composable"
        / kind
        / "panelcfg/x/types.gen.d.ts"
    )
    return "export interface FieldConfig " in module.read_text(encoding="utf-8")


def write_project(repo_root: Path, directory: Path, boards: dict[str, dict[str, Any]]) -> None:
    """One TypeScript module per dashboard, and a tsconfig.json listing them, in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / "node_modules"
    if not link.exists():
        link.symlink_to((repo_root / TYPECHECK / "node_modules").resolve())
    (directory / "json.ts").write_text(JSON_TYPE, encoding="utf-8")
    files = ["json.ts"]
    for name, board in boards.items():
        lines = [
            'import type { Dashboard } from "@grafana/schema";',
            'import type { Json } from "./json";',
        ]
        lines += [
            f'import type * as {kind} from "@grafana/schema/dist/esm/raw/composable/{kind}'
            f'/panelcfg/x/{module}_types.gen";'
            for kind, module in PANEL_SCHEMAS.items()
        ]
        lines.append(
            f"export const dashboard = {json.dumps(board, indent=1)} satisfies Json<Dashboard>;"
        )
        for panel in panels(board):
            kind = panel["type"]
            if kind == "row":
                continue
            if kind not in PANEL_SCHEMAS:
                raise AssertionError(f"{name}: panel type {kind} has no schema module listed")
            options = json.dumps(panel.get("options", {}))
            lines.append(
                f"export const options_{panel['id']} = {options} satisfies Json<{kind}.Options>;"
            )
            if _has_custom_config(repo_root, kind):
                custom = json.dumps(
                    panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
                )
                lines.append(
                    f"export const custom_{panel['id']} = {custom}"
                    f" satisfies Json<{kind}.FieldConfig>;"
                )
        module_name = re.sub(r"\W", "_", name) + ".ts"
        (directory / module_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(module_name)
    tsconfig = {**TSCONFIG, "files": files}
    (directory / "tsconfig.json").write_text(json.dumps(tsconfig, indent=1), encoding="utf-8")


def typecheck(tsc: Path, directory: Path) -> list[str]:
    """Tsc's error lines for the project in `directory` (empty when it type-checks)."""
    result = subprocess.run(
        [str(tsc), "-p", str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if "error TS" in line]
    assert errors or result.returncode == 0, result.stdout + result.stderr
    return errors


def test_typecheck_uses_the_schema_of_the_pinned_grafana(repo_root: Path, tsc: Path) -> None:
    """@grafana/schema's version, and its panels' plugin version, equal the compose image tag."""
    compose = yaml.safe_load((repo_root / "docker-compose.yml").read_text(encoding="utf-8"))
    grafana = compose["services"]["grafana"]["image"].rsplit(":", 1)[1]
    lock = json.loads(
        (repo_root / "collector-config/grafana/typecheck/package-lock.json").read_text("utf-8")
    )
    assert lock["packages"]["node_modules/@grafana/schema"]["version"] == grafana
    installed = repo_root / TYPECHECK / "node_modules/@grafana/schema"
    assert json.loads((installed / "package.json").read_text("utf-8"))["version"] == grafana
    stat_schema = installed / "dist/types/raw/composable/stat/panelcfg/x/types.gen.d.ts"
    assert f'pluginVersion = "{grafana}"' in stat_schema.read_text("utf-8")


def test_every_dashboard_satisfies_grafana_schema(
    repo_root: Path, tsc: Path, tmp_path: Path
) -> None:
    """Every dashboard, and every panel's options, type-check against @grafana/schema."""
    boards = {board["uid"]: board for board in load_dashboards(repo_root)}
    assert len(boards) == 5
    write_project(repo_root, tmp_path, boards)
    assert typecheck(tsc, tmp_path) == []


def test_typecheck_rejects_what_grafana_would_not_read(
    repo_root: Path, tsc: Path, tmp_path: Path
) -> None:
    """An unknown key, a wrong type and an unknown enum value are each reported (it can fail)."""
    board = load_dashboards(repo_root)[0]
    unknown_key = json.loads(json.dumps(board))
    unknown_key["graphTooltp"] = 1
    wrong_types = json.loads(json.dumps(board))
    data_panels = [p for p in panels(wrong_types) if p["type"] != "row"]
    data_panels[0]["gridPos"]["h"] = "8"
    timeseries = next(p for p in data_panels if p["type"] == "timeseries")
    timeseries["options"]["tooltip"]["mode"] = "everything"
    # Two modules: tsc reports an unknown key only where a literal has no other error.
    write_project(repo_root, tmp_path, {"unknown": unknown_key, "types": wrong_types})
    errors = "\n".join(typecheck(tsc, tmp_path))
    assert "'\"graphTooltp\"' does not exist" in errors
    assert "'string' is not assignable to type 'number'" in errors
    assert '"everything"' in errors
