"""The `otel-llm` command line: the demo, the example run, the configuration and its check."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from otel_llm import __version__
from otel_llm._config_check import CheckResult, Problem, check_configuration, check_files
from otel_llm.config import ENV_VARS, ConfigError, Settings, load_settings

_CONFIG_ERROR = "otel-llm: configuration error:"


def _files_refused(settings: Settings, *, prompts: bool) -> bool:
    """Print each file the run would load and refuse, one line each; True if there was one."""
    result = CheckResult(settings)
    check_files(settings, result, prompts=prompts, unused=False)
    for problem in result.problems:
        print(f"{_CONFIG_ERROR} {problem.one_line()}", file=sys.stderr)
    return bool(result.problems)


def _example(settings: Settings) -> int:
    from otel_llm.example import format_result, run_example  # noqa: PLC0415 - keeps `config` fast

    if _files_refused(settings, prompts=False):
        return 2
    print(format_result(run_example(settings)))
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the demo pulls in both provider SDKs, too slow for `otel-llm config`.
    from otel_llm.demo.faults import FaultError, parse_faults  # noqa: PLC0415
    from otel_llm.demo.runner import DemoOptions, demo_settings, run_demo  # noqa: PLC0415

    try:
        faults = parse_faults(args.fault)
    except FaultError as exc:
        print(f"otel-llm demo: {exc}", file=sys.stderr)
        return 2
    # The demo brings its own prompt files; the redaction config and prices file are yours.
    if _files_refused(settings, prompts=False):
        return 2
    if args.forever:
        requests, duration = None, None
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
        settings=demo_settings(base=settings),
    )
    # Ctrl-C and `docker stop` (SIGTERM) end the run gracefully: requests in flight finish,
    # then the report is printed, whenever the signal comes.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_demo(options, stop=stop)
    except ConfigError as exc:  # anything the check above could not foresee: one line too
        print(f"{_CONFIG_ERROR} {exc}", file=sys.stderr)
        return 2
    return 0


def _add_demo_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    from otel_llm.demo.faults import FAULTS  # noqa: PLC0415 - cheap: no SDK imports

    faults = "; ".join(f"{name}: {s.help} ({s.unit})" for name, s in FAULTS.items())
    demo = commands.add_parser(
        "demo",
        help="run a support chatbot against a simulated LLM provider and report what it saw",
        description=(
            "Runs an instrumented support chatbot (real openai, anthropic, google-genai and boto3 "
            "clients) against a simulated provider on 127.0.0.1, prints a trace waterfall, a "
            "per-prompt-version table and the outliers, and writes the telemetry as OTLP/JSON. "
            "Exports over OTLP too when OTEL_EXPORTER_OTLP_ENDPOINT is set."
        ),
        epilog=f"Faults: {faults}.",
    )
    demo.add_argument("--requests", type=_positive_int, help="stop after N requests")
    demo.add_argument(
        "--duration",
        type=_positive_float,
        help="stop after S seconds (default 20 without --requests)",
    )
    demo.add_argument(
        "--forever",
        action="store_true",
        help="run until Ctrl-C or SIGTERM (for a stack); not with --requests or --duration",
    )
    demo.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="inject a production failure, e.g. errors=0.08 (repeatable)",
    )
    demo.add_argument(
        "--faults-after",
        type=_non_negative_float,
        default=0.0,
        metavar="S",
        help="run healthy for S seconds, then switch the faults on (default 0)",
    )
    demo.add_argument("--concurrency", type=_positive_int, default=8, help="concurrent users")
    demo.add_argument(
        "--canary-percent",
        type=_percent,
        default=20.0,
        metavar="P",
        help="users on prompt v42, from 0 to 100 (default 20)",
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
    demo.add_argument(
        "--prometheus-port", type=_port, help="serve /metrics on this port (0: a free one)"
    )
    demo.add_argument("--prometheus-host", default="127.0.0.1", help="address /metrics binds to")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    return demo


# argparse shows a type function's ArgumentTypeError as is, but its own ValueError as
# "invalid _positive_int value": each type says what it expects instead.
def _number(text: str, kind: type[int] | type[float], expected: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    expected = "a whole number of at least 1"
    value = int(_number(text, int, expected))
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _port(text: str) -> int:
    expected = "a port number from 0 to 65535"
    value = int(_number(text, int, expected))
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    expected = "a number above 0"
    value = _number(text, float, expected)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    expected = "a number of seconds, 0 or more"
    value = _number(text, float, expected)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _percent(text: str) -> float:
    expected = "a percentage from 0 to 100"
    value = _number(text, float, expected)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _check() -> int:
    """Load every variable and file as start-up would; each problem on stderr, exit 1 if any."""
    result = check_configuration()
    if not result.problems:
        print(f"otel-llm config: OK ({'; '.join(result.checked)})")
        return 0
    count = len(result.problems)
    print(f"otel-llm config: {count} problem{'s' * (count != 1)}", file=sys.stderr)
    for problem in result.problems:
        print(_describe(problem), file=sys.stderr)
    return 1


def _describe(problem: Problem) -> str:
    return f"  {problem.text}\n    fix: {problem.fix}"


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
    demo = _add_demo_parser(commands)
    commands.add_parser("example", help="record one example GenAI call and print the telemetry")
    config = commands.add_parser(
        "config",
        help="print the effective configuration, or check it (--check)",
        description="Print every otel-llm variable with its effective value and origin.",
    )
    config.add_argument(
        "--check",
        action="store_true",
        help=(
            "instead, load every variable and configured file (redaction config, prices file, "
            "prompt files) as start-up would, print each problem with its fix and exit 1 if "
            "there is one (for deploy pipelines)"
        ),
    )
    args = parser.parse_args(argv)
    limited = args.command == "demo" and (args.requests, args.duration) != (None, None)
    if limited and args.forever:
        demo.error(
            "--forever runs until Ctrl-C or SIGTERM: give it without --requests and --duration, "
            "or drop it to stop after those"
        )
    if args.command == "config" and args.check:
        return _check()
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"{_CONFIG_ERROR} {exc}", file=sys.stderr)
        return 2
    if args.command == "demo":
        return _demo(args, settings)
    if args.command == "example":
        return _example(settings)
    return _config(settings)


if __name__ == "__main__":
    sys.exit(main())
