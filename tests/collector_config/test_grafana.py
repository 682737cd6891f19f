"""Grafana: dashboards are current and valid, use only semconv series, and parse in promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.generate import OUTPUT_DIR, render_all, stale_files
from dashboards.model import SCHEMA_VERSION
from dashboards.promql import COLLECTOR_SERIES
from semconvgen.model import Metric, Registry
from semconvgen.prometheus import label_name, series_names
from tests.collector_config._dashboards import (
    dashboard_queries,
    grouping_labels,
    load_dashboards,
    metric_names,
    panels,
    selectors,
    substitute,
)

PROMTOOL = "/usr/bin/promtool"
GRAFANA_DIR = Path("collector-config/grafana")
UIDS = {
    "otel-llm-overview",
    "otel-llm-release",
    "otel-llm-outliers",
    "otel-llm-safety",
    "otel-llm-tools",
}
DATASOURCE_UIDS = {"prometheus", "jaeger", "-- Grafana --"}
# Labels every scraped series has besides its metric attributes.
TARGET_LABELS = {"job", "instance"}


@pytest.fixture(scope="module")
def boards(repo_root: Path) -> list[dict[str, Any]]:
    """The committed dashboard JSON files."""
    return load_dashboards(repo_root)


@pytest.fixture(scope="module")
def series(registry: Registry) -> dict[str, Metric]:
    """Every Prometheus series name semconv/ defines, with its metric."""
    return dict(series_names(registry.metrics))


def _labels(series_name: str, metric: Metric | None) -> set[str]:
    if metric is None:  # one of the Collectors' own metrics
        return set(COLLECTOR_SERIES[series_name]) | TARGET_LABELS
    labels = {label_name(ref.attribute.key) for ref in metric.attributes} | TARGET_LABELS
    return labels | {"le"} if series_name.endswith("_bucket") else labels


def _board(boards: list[dict[str, Any]], uid: str) -> dict[str, Any]:
    return next(board for board in boards if board["uid"] == uid)


def _data_panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return (panel for panel in panels(board) if panel["type"] != "row")


def test_dashboards_are_current_with_their_generator(repo_root: Path) -> None:
    """The committed JSON is exactly what `python -m dashboards` writes (drift check)."""
    assert stale_files(render_all(), repo_root) == []


def test_drift_check_reports_edits_and_orphans(tmp_path: Path) -> None:
    """A hand-edited dashboard and an extra JSON file are both reported as stale."""
    rendered = render_all()
    for path, text in rendered.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    assert stale_files(rendered, tmp_path) == []
    edited = next(iter(rendered))
    (tmp_path / edited).write_text(rendered[edited].replace("p95", "p96"), encoding="utf-8")
    (tmp_path / OUTPUT_DIR / "hand-made.json").write_text("{}", encoding="utf-8")
    assert stale_files(rendered, tmp_path) == sorted(
        [str(edited), str(OUTPUT_DIR / "hand-made.json")]
    )


def test_the_five_dashboards_exist_with_their_uids(boards: list[dict[str, Any]]) -> None:
    """Overview, release, outliers, safety and tools are provisioned, one file each."""
    assert {board["uid"] for board in boards} == UIDS
    assert len(boards) == len(UIDS)


def test_dashboards_are_valid_grafana_models(boards: list[dict[str, Any]]) -> None:
    """Current schemaVersion, null id, unique panel ids and refIds, known datasource uids."""
    for board in boards:
        assert board["schemaVersion"] == SCHEMA_VERSION == 42
        assert board["id"] is None
        assert board["title"].startswith("otel-llm / ")
        ids = [panel["id"] for panel in panels(board)]
        assert len(ids) == len(set(ids)), board["uid"]
        for panel in panels(board):
            assert panel["title"], board["uid"]
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] in DATASOURCE_UIDS
            ref_ids = [target["refId"] for target in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), panel["title"]
            for target in panel["targets"]:
                assert target["datasource"] == {"type": "prometheus", "uid": "prometheus"}
        for annotation in board["annotations"]["list"]:
            assert annotation["datasource"]["uid"] in DATASOURCE_UIDS


def test_panels_fit_the_grid_without_overlapping(boards: list[dict[str, Any]]) -> None:
    """Every gridPos lies within 24 columns, and no two panels share a cell."""
    for board in boards:
        taken: set[tuple[int, int]] = set()
        for panel in panels(board):
            pos = panel["gridPos"]
            assert min(pos["w"], pos["h"]) > 0
            assert min(pos["x"], pos["y"]) >= 0
            assert pos["x"] + pos["w"] <= 24, (board["uid"], panel["title"])
            cells = {
                (x, y)
                for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])
            }
            assert not cells & taken, (board["uid"], panel["title"])
            taken |= cells


def test_overview_top_row_is_the_five_headline_numbers(boards: list[dict[str, Any]]) -> None:
    """The first row holds request volume, error rate, p95 latency, p95 cost and pass rate."""
    overview = _board(boards, "otel-llm-overview")
    first_line = sorted(
        (p for p in panels(overview) if p["type"] != "row" and p["gridPos"]["y"] == 1),
        key=lambda p: p["gridPos"]["x"],
    )
    assert [p["title"] for p in first_line] == [
        "Request volume",
        "Error rate",
        "p95 latency",
        "p95 cost per call",
        "Eval pass rate",
    ]
    kinds = {p["type"] for p in panels(overview)}
    assert {"heatmap", "bargauge"} <= kinds  # latency and cost distributions


def test_every_variable_used_is_defined(boards: list[dict[str, Any]]) -> None:
    """Each $variable in a query or link is a templating variable of that dashboard."""
    for board in boards:
        defined = {variable["name"] for variable in board["templating"]["list"]}
        text = " ".join(
            str(target.get("expr", ""))
            for panel in panels(board)
            for target in panel.get("targets", [])
        )
        text += " ".join(str(panel.get("fieldConfig", {})) for panel in panels(board))
        text += " ".join(str(variable.get("query", "")) for variable in board["templating"]["list"])
        used = set(re.findall(r"\$\{?(\w+)", text)) - {"__rate_interval", "__range", "__data"}
        assert used <= defined, (board["uid"], used - defined)


def test_service_model_and_prompt_variables(boards: list[dict[str, Any]]) -> None:
    """Call dashboards filter by service (job), model, prompt and version; All means `.*`."""
    for board in boards:
        names = {variable["name"] for variable in board["templating"]["list"]}
        assert "job" in names
        if board["uid"] != "otel-llm-tools":
            assert {"model", "prompt_name", "prompt_version"} <= names, board["uid"]
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                assert variable["datasource"]["uid"] == "prometheus"
                assert variable.get("allValue") == (".*" if variable["multi"] else None)


def test_release_compares_two_prompt_versions(boards: list[dict[str, Any]]) -> None:
    """The release board has version A and B variables and every panel queries at least one."""
    release = _board(boards, "otel-llm-release")
    names = [variable["name"] for variable in release["templating"]["list"]]
    assert {"prompt_name", "baseline_version", "prompt_version"} <= set(names)
    titles = " ".join(p["title"] for p in _data_panels(release))
    for topic in ("pass rate", "latency", "cost", "Thumbs-down"):
        assert topic in titles
    for panel in _data_panels(release):
        exprs = " ".join(target["expr"] for target in panel["targets"])
        assert "$baseline_version" in exprs or "$prompt_version" in exprs, panel["title"]


def test_outlier_tables_link_to_jaeger_trace_search(boards: list[dict[str, Any]]) -> None:
    """Each outlier table links to a Jaeger search: Explore (by datasource uid) and the UI."""
    outliers = _board(boards, "otel-llm-outliers")
    tables = [p for p in panels(outliers) if p["type"] == "table"]
    titles = " ".join(table["title"] for table in tables)
    for kind in ("Slowest", "Most expensive", "Highest spend", "Lowest mean evaluation score"):
        assert kind in titles
    for panel in tables:
        links = panel["fieldConfig"]["defaults"]["links"]
        internal = [link for link in links if "internal" in link]
        assert internal
        assert internal[0]["internal"]["datasourceUid"] == "jaeger"
        assert internal[0]["internal"]["query"]["queryType"] == "search"
        assert any(link["url"].startswith("${jaeger_url}/search?") for link in links)
        assert all(target["instant"] for target in panel["targets"])


def test_latency_panels_show_exemplars(boards: list[dict[str, Any]]) -> None:
    """The overview's latency percentiles and heatmap request exemplars (trace links)."""
    overview = _board(boards, "otel-llm-overview")
    with_exemplars = {
        p["title"] for p in panels(overview) if any(t.get("exemplar") for t in p.get("targets", []))
    }
    assert {"Chat latency percentiles", "Chat latency heatmap"} <= with_exemplars


def test_every_query_uses_only_semconv_series(repo_root: Path, series: dict[str, Metric]) -> None:
    """Each panel query reads at least one series, and only series semconv/ defines.

    The exception is the Collector row, which reads the Collectors' own metrics
    (`COLLECTOR_SERIES`) and nothing else.
    """
    queries = dashboard_queries(repo_root)
    assert len(queries) > 40
    for uid, title, expr in queries:
        names = metric_names(expr)
        assert names, (uid, title)
        if names & COLLECTOR_SERIES.keys():
            assert names <= COLLECTOR_SERIES.keys(), (uid, title)
            continue
        assert names <= series.keys(), (uid, title, sorted(names - series.keys()))


def test_every_label_used_belongs_to_the_queried_metric(
    repo_root: Path, series: dict[str, Metric]
) -> None:
    """Matchers name labels of their own metric; grouping labels exist on a queried metric."""
    for uid, title, expr in dashboard_queries(repo_root):
        available: set[str] = set()
        for name, labels in selectors(expr):
            allowed = _labels(name, series.get(name))
            assert set(labels) <= allowed, (uid, title, name, set(labels) - allowed)
        for name in metric_names(expr):
            available |= _labels(name, series.get(name))
        assert grouping_labels(expr) <= available, (uid, title, grouping_labels(expr) - available)


def test_variable_queries_use_semconv_series_and_labels(
    boards: list[dict[str, Any]], series: dict[str, Metric]
) -> None:
    """`label_values(metric{...}, label)` reads a semconv series and one of its labels."""
    pattern = re.compile(r"^label_values\((\w+)(\{.*\})?, (\w+)\)$")
    for board in boards:
        for variable in board["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = pattern.match(variable["query"])
            assert match, variable["query"]
            name, _, label = match.groups()
            assert name in series, variable["query"]
            assert label in _labels(name, series[name]), variable["query"]


def test_metric_name_extraction_sees_every_series() -> None:
    """The extractor finds bare and selected metric names and skips functions and keywords."""
    expr = (
        'sum by (le, job) (rate(foo_bucket{job=~"$service", a!="x{y}"}[5m])) / on (job) '
        "bar_total or vector(0) unless histogram_quantile(0.5, baz) offset 5m and 1e-09"
    )
    assert metric_names(expr) == {"foo_bucket", "bar_total", "baz"}
    assert selectors(expr) == [("foo_bucket", ("job", "a"))]
    assert grouping_labels(expr) == {"le", "job"}


def test_substitute_replaces_intervals_and_variables() -> None:
    """Interval variables become fixed windows; other variables become `.*` or a given value."""
    expr = 'rate(x{a=~"$model", b=~"${prompt_name}"}[$__rate_interval]) + increase(x[$__range])'
    assert substitute(expr) == 'rate(x{a=~".*", b=~".*"}[5m]) + increase(x[1h])'
    assert substitute('x{v=~"$prompt_version"}', {"prompt_version": "v41"}) == 'x{v=~"v41"}'
    with pytest.raises(ValueError, match="deprecated"):
        substitute('x{a=~"[[model]]"}')
    with pytest.raises(ValueError, match="unsupported"):
        substitute("x[$__unknown]")


def _promtool_check(
    tmp_path: Path, queries: list[tuple[str, str, str]]
) -> subprocess.CompletedProcess[str]:
    rules = [
        {"record": f"dashboard:query_{index}:check", "expr": expr}
        for index, (_, _, expr) in enumerate(queries)
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return subprocess.run(
        [PROMTOOL, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(shutil.which(PROMTOOL) is None, reason="promtool not installed (make debs)")
def test_every_query_parses_in_promtool(repo_root: Path, tmp_path: Path) -> None:
    """The real promtool accepts every substituted query as a recording-rule expression."""
    queries = dashboard_queries(repo_root)
    result = _promtool_check(tmp_path, queries)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(queries)} rules found" in result.stdout


@pytest.mark.skipif(shutil.which(PROMTOOL) is None, reason="promtool not installed (make debs)")
def test_promtool_rejects_a_malformed_query(tmp_path: Path) -> None:
    """The promtool check fails on a broken expression, so the test above can fail."""
    result = _promtool_check(tmp_path, [("x", "y", "sum by (le (rate(foo[5m]))")])
    assert result.returncode != 0


def _provisioning(repo_root: Path, kind: str) -> dict[str, Any]:
    path = repo_root / GRAFANA_DIR / "provisioning" / kind / "otel-llm.yaml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def test_datasources_have_fixed_uids_and_exemplar_links(repo_root: Path) -> None:
    """Prometheus (uid prometheus) sends exemplar trace ids to Jaeger (uid jaeger)."""
    sources = {ds["uid"]: ds for ds in _provisioning(repo_root, "datasources")["datasources"]}
    assert set(sources) == {"prometheus", "jaeger"}
    assert sources["prometheus"]["type"] == "prometheus"
    assert sources["jaeger"]["type"] == "jaeger"
    destinations = sources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert destinations == [
        {"name": "trace_id", "datasourceUid": "jaeger", "urlDisplayLabel": "Open trace in Jaeger"}
    ]
    assert sources["jaeger"]["jsonData"]["tracesToMetrics"]["datasourceUid"] == "prometheus"


def test_provisioning_escapes_dollars_and_uses_semconv_series(
    repo_root: Path, series: dict[str, Metric]
) -> None:
    """Grafana expands $VAR in provisioning files, so queries write `$$`; names are semconv's."""
    path = repo_root / GRAFANA_DIR / "provisioning" / "datasources" / "otel-llm.yaml"
    text = "\n".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )
    assert re.findall(r"(?<!\$)\$(?!\$)", text.replace("$$", "")) == []
    sources = {ds["uid"]: ds for ds in _provisioning(repo_root, "datasources")["datasources"]}
    for query in sources["jaeger"]["jsonData"]["tracesToMetrics"]["queries"]:
        expr = query["query"].replace("$$__tags", 'gen_ai_request_model="m"')
        assert metric_names(expr)
        assert metric_names(expr) <= series.keys()


def test_dashboard_provider_reads_one_folder(repo_root: Path) -> None:
    """One file provider, not editable from the UI, reading the mounted dashboards folder."""
    (provider,) = _provisioning(repo_root, "dashboards")["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    assert provider["options"]["path"] == "/etc/grafana/dashboards/otel-llm"


def test_alert_dashboard_links_set_existing_variables(
    repo_root: Path, boards: list[dict[str, Any]]
) -> None:
    """Every alert's dashboard_url opens one of these dashboards with variables it defines."""
    rules = yaml.safe_load(
        (repo_root / "collector-config/prometheus/rules/alerts.yml").read_text(encoding="utf-8")
    )
    variables = {
        board["uid"]: {variable["name"] for variable in board["templating"]["list"]}
        for board in boards
    }
    links = [
        rule["annotations"]["dashboard_url"]
        for group in rules["groups"]
        for rule in group["rules"]
        if "dashboard_url" in rule.get("annotations", {})
    ]
    assert links
    for link in links:
        match = re.search(r"/d/([\w-]+)\?", link)
        assert match, link
        assert match.group(1) in variables, link
        used = set(re.findall(r"[?&]var-(\w+)=", link))
        assert used <= variables[match.group(1)], (link, used - variables[match.group(1)])
