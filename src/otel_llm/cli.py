"""The `otel-llm` command line: the example run and a view of the effective configuration."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from otel_llm import __version__
from otel_llm.config import ENV_VARS, ConfigError, Settings, load_settings


def _example(settings: Settings) -> int:
    from otel_llm.example import format_result, run_example  # noqa: PLC0415 - keeps `config` fast

    print(format_result(run_example(settings)))
    return 0


def _config(settings: Settings) -> int:
    for var in ENV_VARS:
        value = var.format(getattr(settings, var.setting))
        if var.secret and var.is_set():
            value = "***"
        origin = "set" if var.is_set() else "default"
        print(f"{var.name}={value}  ({origin})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `otel-llm` command; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="otel-llm", description="OpenTelemetry-native monitoring for LLM applications."
    )
    parser.add_argument("--version", action="version", version=f"otel-llm {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("example", help="record one example GenAI call and print the telemetry")
    commands.add_parser("config", help="print the effective configuration")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"otel-llm: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "example":
        return _example(settings)
    return _config(settings)


if __name__ == "__main__":
    sys.exit(main())
