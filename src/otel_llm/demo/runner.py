"""`otel-llm demo`: run the support chatbot against the simulated provider and report."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from otel_llm.config import (
    CAPTURE_MESSAGE_CONTENT,
    ContentCapturingMode,
    Settings,
    load_settings,
)
from otel_llm.demo import report
from otel_llm.demo.chatbot import SupportBot
from otel_llm.demo.faults import Faults
from otel_llm.demo.provider import Behaviour, SimulatedProvider
from otel_llm.demo.summary import Summary, summarise
from otel_llm.demo.telemetry import DemoTelemetry, otlp_endpoint
from otel_llm.demo.traffic import Traffic, TrafficStats

__all__ = ["DemoOptions", "DemoResult", "behaviour_for", "run_demo"]

BASELINE_CITATION_SKIP = 0.03
CANARY_MARKER = "Keep it under 80 words"
"""Text only prompt support_answer v42 contains (see demo/prompts/)."""
CLIENT_TIMEOUT_S = 30.0
"""The clients' timeout; the `timeouts` fault makes the provider hang longer than this."""


@dataclass(frozen=True)
class DemoOptions:
    """How long to run, with which faults, and where the telemetry goes."""

    requests: int | None = None
    """Stop after this many requests (None: run for `duration_s`)."""
    duration_s: float | None = 20.0
    """Stop after this long; with `requests` also None the run goes on until `stop` is set."""
    faults: Faults = field(default_factory=Faults)
    faults_after_s: float = 0.0
    """Run healthy this long first, then switch the faults on (an incident starting mid-run:
    alerts that compare with a baseline need one)."""
    concurrency: int = 8
    canary_percent: float = 20.0
    seed: int | None = None
    time_scale: float = 1.0
    """Multiplies every simulated latency and the client timeout (tests run faster than life)."""
    output_dir: Path = Path("otel-llm-demo")
    write_files: bool = True
    """Write OTLP/JSON files to `output_dir` (off for endless runs, whose files would grow)."""
    prometheus_port: int | None = None
    prometheus_host: str = "127.0.0.1"
    progress: bool = True
    settings: Settings | None = None
    """otel-llm settings (default: from the environment, with content capture on for the demo)."""

    def __post_init__(self) -> None:
        """Refuse values that would make a nonsense run (ValueError naming the option)."""
        # Before, --canary-percent 150 made every request fail and the run still exit 0.
        if not 0 <= self.canary_percent <= 100:
            raise ValueError(f"canary_percent must be from 0 to 100, got {self.canary_percent}")
        if self.requests is not None and self.requests < 1:
            raise ValueError(f"requests must be at least 1, got {self.requests}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ValueError(f"duration_s must be above 0, got {self.duration_s}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")

    @property
    def forever(self) -> bool:
        """Whether the run goes on until stopped (neither a request count nor a duration)."""
        return self.requests is None and self.duration_s is None


@dataclass(frozen=True)
class DemoResult:
    """What a run produced: the summary, the report text and where the telemetry was written."""

    summary: Summary
    stats: TrafficStats
    report: str
    traces_path: Path | None
    logs_path: Path | None
    metrics_path: Path | None


def behaviour_for(faults: Faults, *, seed: int | None, time_scale: float) -> Behaviour:
    """The simulated provider's behaviour under `faults` (healthy when none is set)."""
    slow = faults.latency
    return Behaviour(
        latency_median_s=0.12 * slow,
        latency_sigma=0.5 if slow == 1 else 0.8,
        ttft_s=0.04 * slow,
        chunk_interval_s=0.002,
        error_rate=faults.errors,
        rate_limit_rate=faults.rate_limits,
        timeout_rate=faults.timeouts,
        timeout_sleep_s=CLIENT_TIMEOUT_S * 1.5,
        output_tokens=(30, 140),
        seed=seed,
        time_scale=time_scale,
        pii_rate=faults.pii,
        # A healthy model forgets to cite now and then; canary v42's new length rule makes it
        # forget far more often under the eval_regression fault.
        citation_skip=(("cite", BASELINE_CITATION_SKIP), (CANARY_MARKER, faults.eval_regression)),
    )


def demo_settings(
    env: Mapping[str, str] | None = None, *, base: Settings | None = None
) -> Settings:
    """Settings from the environment; message content is captured unless the variable says not.

    The demo's conversations are synthetic, and capturing them shows redaction at work. `base`
    is settings already read from `env` (reading again would repeat any warning).
    """
    settings = load_settings(env) if base is None else base
    if not CAPTURE_MESSAGE_CONTENT.is_set(env):
        settings = dataclasses.replace(
            settings, capture_message_content=ContentCapturingMode.SPAN_AND_EVENT
        )
    return settings


def _clients(provider: SimulatedProvider, timeout: float) -> tuple[object, object, object, object]:
    import anthropic  # noqa: PLC0415 - the demo extra
    import boto3  # noqa: PLC0415
    import openai  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415
    from google import genai  # noqa: PLC0415

    return (
        openai.OpenAI(
            base_url=provider.base_url_openai, api_key="sk-demo", timeout=timeout, max_retries=0
        ),
        anthropic.Anthropic(
            base_url=provider.base_url_anthropic,
            api_key="sk-ant-demo",
            timeout=timeout,
            max_retries=0,
        ),
        # google-genai's timeout is in milliseconds; it retries only when asked to.
        genai.Client(
            api_key="AIza-demo",
            http_options={"base_url": provider.base_url_gemini, "timeout": int(timeout * 1000)},
        ),
        boto3.client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=provider.endpoint_url_bedrock,
            aws_access_key_id="AKIADEMO",
            aws_secret_access_key="demo",  # noqa: S106 - the simulated provider checks nothing
            config=Config(read_timeout=timeout, retries={"total_max_attempts": 1}),
        ),
    )


class _Incident:
    """Switches the faults on once `faults_after_s` have passed (at once when it is 0)."""

    def __init__(
        self, options: DemoOptions, provider: SimulatedProvider, bot: SupportBot, out: TextIO
    ) -> None:
        self._options, self._provider, self._bot, self._out = options, provider, bot, out
        self._at = time.monotonic() + options.faults_after_s
        self._pending = options.faults_after_s > 0 and bool(options.faults.active())

    def __call__(self) -> None:
        if not self._pending or time.monotonic() < self._at:
            return
        self._pending = False
        options = self._options
        self._provider.behaviour = behaviour_for(
            options.faults, seed=options.seed, time_scale=options.time_scale
        )
        self._bot.faults = options.faults
        if options.progress:
            self._out.write(f"\n  faults on after {options.faults_after_s:g} s\n")


class _ProgressBar:
    """A one-line progress bar on a terminal; a line every 10 % elsewhere.

    A run without an end (`--forever`) has no bar to fill: it shows the elapsed time and the
    counts, on a terminal as one updated line, elsewhere as a line every `UNBOUNDED_EVERY_S`.
    """

    UNBOUNDED_EVERY_S = 30.0

    def __init__(self, traffic: Traffic, out: TextIO, enabled: bool) -> None:
        self._traffic, self._out, self._enabled = traffic, out, enabled
        self._tty = out.isatty()
        self._last_decile = -1
        self._started = time.monotonic()
        self._next_line = self._started + self.UNBOUNDED_EVERY_S

    def __call__(self) -> None:
        if not self._enabled:
            return
        stats = self._traffic.stats
        failed = sum(stats.failed.values())
        elapsed = time.monotonic() - self._started
        line = f"{stats.requests} requests ({failed} failed), {_elapsed(elapsed)}"
        if not self._traffic.bounded:
            self._unbounded(line)
            return
        share = self._traffic.progress()
        if self._tty:
            filled = int(share * 30)
            self._out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {line}  ")
            self._out.flush()
        elif (decile := int(share * 10)) > self._last_decile:
            self._last_decile = decile
            self._out.write(f"  {decile * 10:3d}%  {line}\n")

    def _unbounded(self, line: str) -> None:
        if self._tty:
            self._out.write(f"\r{line} (Ctrl-C stops and reports)  ")
            self._out.flush()
        elif time.monotonic() >= self._next_line:
            self._next_line += self.UNBOUNDED_EVERY_S
            self._out.write(f"  {line}\n")
            self._out.flush()

    def done(self) -> None:
        if self._enabled and self._tty:
            self._out.write("\n")


def _elapsed(seconds: float) -> str:
    """`12.3 s`, `4 min 05 s` or `2 h 03 min`: elapsed time a reader takes in at a glance."""
    if seconds < 60:
        return f"{seconds:4.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def run_demo(
    options: DemoOptions, out: TextIO = sys.stdout, stop: threading.Event | None = None
) -> DemoResult:
    """Serve the simulated provider, drive the chatbot through it, print the report.

    Setting `stop` (from a signal handler, say) ends the traffic early; the report follows.
    """
    settings = options.settings or demo_settings()
    endpoint = otlp_endpoint()
    delayed = options.faults_after_s > 0
    first = Faults() if delayed else options.faults
    # The knowledge base is embedded at start-up against a healthy provider: the incident is
    # the traffic's, not the deployment's.
    healthy = behaviour_for(Faults(), seed=options.seed, time_scale=options.time_scale)
    with SimulatedProvider(healthy) as provider:
        telemetry = DemoTelemetry(
            settings,
            options.output_dir if options.write_files else None,
            prometheus_port=options.prometheus_port,
            prometheus_host=options.prometheus_host,
            export_otlp=endpoint is not None,
        )
        try:
            _intro(options, telemetry, endpoint, out)
            openai_client, anthropic_client, gemini_client, bedrock_client = _clients(
                provider, CLIENT_TIMEOUT_S * options.time_scale
            )
            bot = SupportBot(
                openai_client,
                anthropic_client,
                gemini_client,
                bedrock_client,
                faults=first,
                canary_percent=options.canary_percent,
                seed=options.seed,
            )
            provider.behaviour = behaviour_for(
                first, seed=options.seed, time_scale=options.time_scale
            )
            traffic = Traffic(
                bot,
                requests=options.requests,
                duration_s=options.duration_s,
                concurrency=options.concurrency,
                seed=options.seed,
                stop=stop,
            )
            bar = _ProgressBar(traffic, out, options.progress)
            incident = _Incident(options, provider, bot, out)

            def tick() -> None:
                incident()
                bar()

            try:
                stats = traffic.run(tick=tick)
            finally:
                bar.done()
            telemetry.flush()
            spans, logs = telemetry.spans.get(), telemetry.logs.get()
        finally:
            telemetry.close()
    summary = summarise(spans, logs)
    traces = None if telemetry.traces_path is None else str(telemetry.traces_path)
    text = report.render(spans, logs, traces)
    out.write("\n" + _headline(summary, stats) + "\n\n" + text)
    if telemetry.logs_path is not None:
        out.write(f"GenAI events written to {telemetry.logs_path} (OTLP/JSON)\n")
        out.write(f"metrics written to {telemetry.metrics_path} (OTLP/JSON)\n")
    out.flush()
    return DemoResult(
        summary=summary,
        stats=stats,
        report=text,
        traces_path=telemetry.traces_path,
        logs_path=telemetry.logs_path,
        metrics_path=telemetry.metrics_path,
    )


def _intro(
    options: DemoOptions, telemetry: DemoTelemetry, endpoint: str | None, out: TextIO
) -> None:
    active = options.faults.active()
    faults = ", ".join(f"{k}={v:g}" for k, v in active.items()) if active else "none"
    limits = []
    if options.requests is not None:
        limits.append(f"{options.requests} requests")
    if options.duration_s is not None:
        limits.append(f"{options.duration_s:g} s")
    how_long = " or ".join(limits) if limits else "until Ctrl-C or SIGTERM"
    lines = [
        "otel-llm demo: a support chatbot on the real openai, anthropic, google-genai and boto3",
        "clients, talking to a simulated provider on 127.0.0.1, instrumented by otel-llm.",
        f"  running: {how_long}, {options.concurrency} concurrent users, faults: {faults}",
        f"  OTLP export: {endpoint or 'off (set OTEL_EXPORTER_OTLP_ENDPOINT to export)'}",
    ]
    if options.prometheus_port is not None:
        lines.append(f"  Prometheus scrape: {telemetry.prometheus_url}")
    out.write("\n".join(lines) + "\n")
    out.flush()


def _headline(summary: Summary, stats: TrafficStats) -> str:
    failed = ", ".join(f"{n} {name}" for name, n in stats.failed.most_common()) or "none"
    versions = ", ".join(f"v{v}: {n}" for v, n in sorted(stats.versions.items()))
    return "\n".join(
        [
            "== Summary ==",
            f"requests {summary.requests} (failed: {failed}); answers per prompt version: "
            f"{versions}",
            f"LLM calls {summary.llm_calls}: provider errors {summary.provider_error_ratio:.1%}, "
            f"rate limited {summary.rate_limited_ratio:.1%}, timeouts {summary.timeout_ratio:.1%}",
            f"request p95 {summary.p95_request_ms:.0f} ms; mean cost per request "
            f"${summary.mean_cost_per_request:.5f}",
            f"quality evals passed {summary.quality_pass_rate:.1%}; safety violations "
            f"{summary.safety_violations}; tool calls {summary.tool_calls} "
            f"({summary.tool_failure_ratio:.1%} failed); feedback {summary.feedback} "
            f"({summary.thumbs_down_ratio:.1%} thumbs-down)",
        ]
    )
