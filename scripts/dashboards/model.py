"""Grafana dashboard JSON building blocks: queries, panels, template variables and a grid layout."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 42
"""`DASHBOARD_SCHEMA_VERSION` of Grafana 13.2, the pinned image; older schemas migrate on load."""

PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
JAEGER = {"type": "jaeger", "uid": "jaeger"}
GRID_WIDTH = 24
TAG = "otel-llm"

Json = dict[str, Any]
Step = tuple[float | None, str]
"""A threshold step: from this value (None for the base step) on, use this colour."""


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False
    format: str = "time_series"
    exemplar: bool = False

    def target(self, ref_id: str) -> Json:
        """The panel target, Prometheus datasource by uid."""
        return {
            "datasource": PROMETHEUS,
            "editorMode": "code",
            "exemplar": self.exemplar,
            "expr": self.expr,
            "format": self.format,
            "instant": self.instant,
            "legendFormat": self.legend or "__auto",
            "range": not self.instant,
            "refId": ref_id,
        }


@dataclass(frozen=True)
class Link:
    """A data link on a table's cells; `query` makes it an internal link to Jaeger in Explore."""

    title: str
    url: str = ""
    query: Mapping[str, str] | None = None

    def to_json(self) -> Json:
        """Grafana's data-link JSON."""
        if self.query is None:
            return {"targetBlank": True, "title": self.title, "url": self.url}
        return {
            "internal": {
                "datasourceName": "Jaeger",
                "datasourceUid": JAEGER["uid"],
                "query": dict(self.query),
            },
            "title": self.title,
            "url": "",
        }


def _targets(queries: Sequence[Query]) -> list[Json]:
    return [q.target(chr(ord("A") + i)) for i, q in enumerate(queries)]


def _thresholds(steps: Sequence[Step]) -> Json:
    return {
        "mode": "absolute",
        "steps": [{"color": color, "value": value} for value, color in steps or [(None, "green")]],
    }


def _panel(kind: str, title: str, description: str, queries: Sequence[Query]) -> Json:
    return {
        "datasource": PROMETHEUS,
        "description": description,
        "targets": _targets(queries),
        "title": title,
        "type": kind,
    }


def stat(title: str, description: str, query: Query, unit: str, steps: Sequence[Step] = ()) -> Json:
    """A single number with a sparkline, coloured by thresholds."""
    panel = _panel("stat", title, description, [query])
    panel["fieldConfig"] = {
        "defaults": {
            "color": {"mode": "thresholds"},
            "mappings": [],
            "thresholds": _thresholds(steps),
            "unit": unit,
        },
        "overrides": [],
    }
    panel["options"] = {
        "colorMode": "value",
        "graphMode": "area",
        "justifyMode": "auto",
        "orientation": "auto",
        "percentChangeColorMode": "standard",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showPercentChange": False,
        "textMode": "auto",
        "wideLayout": True,
    }
    return panel


def timeseries(
    title: str,
    description: str,
    queries: Sequence[Query],
    unit: str,
    *,
    stacked: bool = False,
    steps: Sequence[Step] = (),
) -> Json:
    """Lines over time (stacked areas when `stacked`), legend as a table."""
    panel = _panel("timeseries", title, description, queries)
    panel["fieldConfig"] = {
        "defaults": {
            "color": {"mode": "palette-classic"},
            "custom": {
                "drawStyle": "line",
                "fillOpacity": 60 if stacked else 10,
                "lineWidth": 1,
                "showPoints": "never",
                "spanNulls": False,
                "stacking": {"group": "A", "mode": "normal" if stacked else "none"},
                "thresholdsStyle": {"mode": "line" if steps else "off"},
            },
            "thresholds": _thresholds(steps),
            "unit": unit,
        },
        "overrides": [],
    }
    panel["options"] = {
        "legend": {
            "calcs": ["mean", "max", "lastNotNull"],
            "displayMode": "table",
            "placement": "bottom",
            "showLegend": True,
        },
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel


def heatmap(title: str, description: str, query: Query, unit: str) -> Json:
    """Buckets over time from a `sum by (le)` histogram query (Grafana de-accumulates `le`)."""
    panel = _panel("heatmap", title, description, [query])
    panel["fieldConfig"] = {
        "defaults": {
            "custom": {
                "hideFrom": {"legend": False, "tooltip": False, "viz": False},
                "scaleDistribution": {"type": "linear"},
            }
        },
        "overrides": [],
    }
    panel["options"] = {
        "calculate": False,
        "cellGap": 1,
        "color": {
            "exponent": 0.5,
            "fill": "dark-orange",
            "mode": "scheme",
            "reverse": False,
            "scale": "exponential",
            "scheme": "Oranges",
            "steps": 64,
        },
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "filterValues": {"le": 1e-09},
        "legend": {"show": True},
        "rowsFrame": {"layout": "auto"},
        "showValue": "auto",
        "tooltip": {"mode": "single", "showColorScale": False, "yHistogram": True},
        "yAxis": {"axisPlacement": "left", "reverse": False, "unit": unit},
    }
    return panel


def distribution(title: str, description: str, query: Query) -> Json:
    """A histogram: how many observations fell in each bucket over the dashboard's range."""
    panel = _panel("bargauge", title, description, [query])
    panel["fieldConfig"] = {
        "defaults": {
            "color": {"mode": "continuous-BlPu"},
            "thresholds": _thresholds(()),
            "unit": "short",
        },
        "overrides": [],
    }
    panel["options"] = {
        "displayMode": "gradient",
        "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": False},
        "maxVizHeight": 300,
        "minVizHeight": 16,
        "minVizWidth": 8,
        "namePlacement": "auto",
        "orientation": "vertical",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showUnfilled": True,
        "sizing": "auto",
        "valueMode": "color",
    }
    return panel


def table(
    title: str,
    description: str,
    query: Query,
    unit: str,
    *,
    value_title: str,
    links: Iterable[Link] = (),
) -> Json:
    """An instant query as a table, sorted by its value, with data links on every cell."""
    panel = _panel("table", title, description, [query])
    panel["fieldConfig"] = {
        "defaults": {
            "custom": {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False},
            "links": [link.to_json() for link in links],
            "unit": unit,
        },
        "overrides": [],
    }
    panel["options"] = {
        "cellHeight": "sm",
        "frameIndex": 0,
        "showHeader": True,
        "sortBy": [{"desc": True, "displayName": value_title}],
    }
    panel["transformations"] = [
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True},
                "renameByName": {"Value": value_title},
            },
        }
    ]
    return panel


def query_variable(name: str, label: str, query: str, *, multi: bool = True, sort: int = 1) -> Json:
    """A variable filled from `label_values(...)`; multi-valued ones offer All as `.*`.

    Multi-valued ones start on All; a single-valued one on nothing, so Grafana selects the
    first value it finds.
    """
    variable: Json = {"allValue": ".*"} if multi else {}
    current = {"text": ["All"], "value": ["$__all"]} if multi else {"text": "", "value": ""}
    return variable | {
        "current": current,
        "datasource": PROMETHEUS,
        "hide": 0,
        "includeAll": multi,
        "label": label,
        "multi": multi,
        "name": name,
        "options": [],
        "query": query,
        "refresh": 2,
        "regex": "",
        "skipUrlSync": False,
        "sort": sort,
        "type": "query",
    }


def textbox_variable(name: str, label: str, default: str) -> Json:
    """A free-text variable with a default (used for URLs, never inside PromQL)."""
    return {
        "current": {"text": default, "value": default},
        "hide": 0,
        "label": label,
        "name": name,
        "options": [{"selected": True, "text": default, "value": default}],
        "query": default,
        "skipUrlSync": False,
        "type": "textbox",
    }


@dataclass
class Dashboard:
    """A dashboard under construction: panels flow left to right, rows start a new line."""

    uid: str
    title: str
    description: str
    variables: list[Json]
    panels: list[Json] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _line_height: int = 0

    def _new_line(self) -> None:
        self._y += self._line_height
        self._x = 0
        self._line_height = 0

    def row(self, title: str) -> None:
        """A full-width row header below everything placed so far."""
        self._new_line()
        self.panels.append(
            {
                "collapsed": False,
                "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": self._y},
                "id": len(self.panels) + 1,
                "panels": [],
                "title": title,
                "type": "row",
            }
        )
        self._y += 1

    def add(self, panel: Json, width: int, height: int) -> None:
        """Place a panel at the cursor, wrapping to a new line when it would not fit."""
        if not 0 < width <= GRID_WIDTH:
            raise ValueError(f"panel {panel['title']!r}: width {width} is outside 1..{GRID_WIDTH}")
        if self._x + width > GRID_WIDTH:
            self._new_line()
        panel = {**panel, "gridPos": {"h": height, "w": width, "x": self._x, "y": self._y}}
        panel["id"] = len(self.panels) + 1
        self.panels.append(dict(sorted(panel.items())))
        self._x += width
        self._line_height = max(self._line_height, height)

    def to_json(self) -> Json:
        """The complete dashboard model, ready for file provisioning."""
        return {
            "annotations": {
                "list": [
                    {
                        "builtIn": 1,
                        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                        "enable": True,
                        "hide": True,
                        "iconColor": "rgba(0, 211, 255, 1)",
                        "name": "Annotations & Alerts",
                        "type": "dashboard",
                    }
                ]
            },
            "description": self.description,
            "editable": False,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "id": None,
            "links": [
                {
                    "asDropdown": True,
                    "icon": "external link",
                    "includeVars": False,
                    "keepTime": True,
                    "tags": [TAG],
                    "targetBlank": False,
                    "title": "otel-llm dashboards",
                    "tooltip": "",
                    "type": "dashboards",
                    "url": "",
                }
            ],
            "panels": self.panels,
            "refresh": "30s",
            "schemaVersion": SCHEMA_VERSION,
            "tags": [TAG, "genai"],
            "templating": {"list": self.variables},
            "time": {"from": "now-1h", "to": "now"},
            "timepicker": {},
            "timezone": "browser",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
        }
