"""The test overlay of the project's configs: re-exported from `scripts/localstack/overlay.py`.

The rewrite lives with the no-Docker local stack, which runs the same configs unscaled; the
end-to-end harness (`_stack.py`) uses it with every duration divided by `speedup`.
"""

from __future__ import annotations

from localstack.overlay import (
    ALERTMANAGER_CONFIG,
    DEFAULT_SPEEDUP,
    PROMETHEUS_DIR,
    REPO_ROOT,
    ScrapeTarget,
    load_yaml,
    parse_duration,
    project_rule_files,
    prometheus_flags,
    scale_alertmanager_config,
    scale_duration,
    scale_prometheus_config,
    scale_promql,
    scale_rules,
    write_alertmanager_overlay,
    write_prometheus_overlay,
)

__all__ = [
    "ALERTMANAGER_CONFIG",
    "DEFAULT_SPEEDUP",
    "PROMETHEUS_DIR",
    "REPO_ROOT",
    "ScrapeTarget",
    "load_yaml",
    "parse_duration",
    "project_rule_files",
    "prometheus_flags",
    "scale_alertmanager_config",
    "scale_duration",
    "scale_prometheus_config",
    "scale_promql",
    "scale_rules",
    "write_alertmanager_overlay",
    "write_prometheus_overlay",
]
