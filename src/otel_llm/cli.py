"""The `otel-llm` command line: the demo, the example run and the effective configuration."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from otel_llm import __version__
from otel_llm.config import ENV_VARS, ConfigError, Settings, load_settings


def _example(settings: Settings) -> int:
    from otel_llm.example import format_result, run_example  # noqa: PLC0415 - keeps `config` fast

    print(format_result(run_example(settings)))
    return 0


FOREVER_S = 10 * 365 * 24 * 3600.0
"""How long `otel-llm demo --forever` runs: until stopped, in practice."""


def _demo(args: argparse.Namespace) -> int:
    # Imported here: the demo pulls in both provider SDKs, too slow for `otel-llm config`.
    from otel_llm.demo.faults import FaultError, parse_faults  # noqa: PLC0415
    from otel_llm.demo.runner import DemoOptions, demo_settings, run_demo  # noqa: PLC0415

    try:
        faults = parse_faults(args.fault)
    except FaultError as exc:
        print(f"otel-llm demo: {exc}", file=sys.stderr)
        return 2
    if args.forever:
        requests, duration = None, FOREVER_S
    else:
        requests = args.requests
        duration = args.duration if args.duration is not None or requests is not None else 20.0
    options = DemoOptions(
        requests=requests,
        duration_s=duration,
        faults=faults,
        faults_after_s=args.faults_after,
        concurrency=args.concurrency,
        canary_percent=args.canary_percent,
        seed=args.seed,
        time_scale=args.time_scale,
        output_dir=Path(args.output_dir),
        write_files=not args.no_files,
        prometheus_port=args.prometheus_port,
        prometheus_host=args.prometheus_host,
        progress=not args.quiet,
        settings=demo_settings(),
    )
    # Ctrl-C and `docker stop` (SIGTERM) end the run gracefully: requests in flight finish,
    # then the report is printed, whenever the signal comes.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run_demo(options, stop=stop)
    return 0


def _add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from otel_llm.demo.faults import FAULTS  # noqa: PLC0415 - cheap: no SDK imports

    faults = "; ".join(f"{name}: {s.help} ({s.unit})" for name, s in FAULTS.items())
    demo = commands.add_parser(
        "demo",
        help="run a support chatbot against a simulated LLM provider and report what it saw",
        description=(
            "Runs an instrumented support chatbot (real openai and anthropic clients) against "
            "a simulated provider on 127.0.0.1, prints a trace waterfall, a per-prompt-version "
            "table and the outliers, and writes the telemetry as OTLP/JSON. Exports over OTLP "
            "too when OTEL_EXPORTER_OTLP_ENDPOINT is set."
        ),
        epilog=f"Faults: {faults}.",
    )
    demo.add_argument("--requests", type=_positive_int, help="stop after N requests")
    demo.add_argument(
        "--duration",
        type=_positive_float,
        help="stop after S seconds (default 20 without --requests)",
    )
    demo.add_argument("--forever", action="store_true", help="run until interrupted (for a stack)")
    demo.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="inject a production failure, e.g. errors=0.08 (repeatable)",
    )
    demo.add_argument(
        "--faults-after",
        type=float,
        default=0.0,
        metavar="S",
        help="run healthy for S seconds, then switch the faults on (default 0)",
    )
    demo.add_argument("--concurrency", type=_positive_int, default=8, help="concurrent users")
    demo.add_argument(
        "--canary-percent", type=float, default=20.0, help="users on prompt v42 (default 20)"
    )
    demo.add_argument("--seed", type=int, help="seed the simulation (reproducible faults)")
    demo.add_argument(
        "--time-scale",
        type=_positive_float,
        default=1.0,
        metavar="X",
        help="multiply every simulated latency and the clients' timeout (default 1)",
    )
    demo.add_argument("--output-dir", default="otel-llm-demo", help="where OTLP/JSON files go")
    demo.add_argument("--no-files", action="store_true", help="write no OTLP/JSON files")
    demo.add_argument("--prometheus-port", type=int, help="serve /metrics on this port")
    demo.add_argument("--prometheus-host", default="127.0.0.1", help="address /metrics binds to")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


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
    _add_demo_parser(commands)
    commands.add_parser("example", help="record one example GenAI call and print the telemetry")
    commands.add_parser("config", help="print the effective configuration")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"otel-llm: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "demo":
        return _demo(args)
    if args.command == "example":
        return _example(settings)
    return _config(settings)


if __name__ == "__main__":
    sys.exit(main())
