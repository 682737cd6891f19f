"""The demo end to end, bounded: every table has data, and each fault moves its own number.

Each run drives the real chatbot (real openai, anthropic, google-genai and boto3 clients, real
HTTP to the simulated provider, otel-llm's full processor pipeline) for a fixed number of
requests, with simulated latencies scaled down 20x so the whole matrix stays within seconds.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from otel_llm.config import Settings
from otel_llm.demo.faults import Faults
from otel_llm.demo.runner import (
    DemoOptions,
    DemoResult,
    _elapsed,
    behaviour_for,
    demo_settings,
    run_demo,
)
from otel_llm.demo.summary import Summary
from otel_llm.demo.versions import NOTE

REQUESTS = 100
TIME_SCALE = 0.05


def _run(tmp: Path, faults: Faults, **extra: object) -> DemoResult:
    options = DemoOptions(
        requests=REQUESTS,
        duration_s=60,  # A safety net only: the runs end by request count.
        faults=faults,
        seed=11,
        time_scale=TIME_SCALE,
        output_dir=tmp,
        progress=False,
        settings=Settings(),
    )
    return run_demo(replace(options, **extra), io.StringIO())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """One healthy run, shared by the tests of this module."""
    return _run(tmp_path_factory.mktemp("baseline"), Faults())


def test_a_healthy_run_fills_every_table(baseline: DemoResult) -> None:
    """All requests answered; waterfall, both canary versions, outliers and files all have data."""
    summary = baseline.summary
    assert summary.requests == REQUESTS
    assert baseline.stats.answered == REQUESTS
    assert summary.provider_error_ratio == summary.timeout_ratio == 0
    assert summary.safety_violations == 0
    assert summary.tool_calls > 0
    assert summary.feedback > 0
    # A healthy model forgets a citation about 3 % of the time (a run may see none of it).
    assert 0.85 <= summary.quality_pass_rate <= 1.0
    assert set(summary.quality_pass_rate_by_version) == {"41", "42"}
    report = baseline.report
    waterfall = report.split("== Slowest request ==")[1].split("==")[0]
    assert "invoke_workflow support_chat" in waterfall
    assert "chat claude-haiku-4-5" in waterfall
    assert "retrieval help_center" in waterfall
    table = report.split("== Prompt versions ==")[1].split("==")[0]
    for version in ("41", "42"):
        [row] = [
            line.split()
            for line in table.splitlines()
            if line.startswith("support_answer") and line.split()[1] == version
        ]
        assert "—" not in row, row  # requests, latency, cost, eval pass rate and thumbs-down
    outliers = report.split("== Outliers ==")[1]
    assert outliers.count("trace ") >= 9
    assert "(none)" not in outliers
    assert baseline.traces_path is not None
    lines = baseline.traces_path.read_text().splitlines()
    names = {
        span["name"]
        for line in lines
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    }
    assert "invoke_workflow support_chat" in names
    assert "user_feedback" in names
    assert baseline.metrics_path is not None
    assert baseline.metrics_path.stat().st_size > 0


# The numbers each fault may move. Everything else must stay close to the healthy run.
_GUARDS = {
    "provider_error_ratio": 0.02,
    "rate_limited_ratio": 0.02,
    "timeout_ratio": 0.02,
    "tool_failure_ratio": 0.08,
    "quality_pass_rate": 0.08,
    "safety_violations": 0,
}
# A slow provider needs real sleeps to show: fewer requests at a slower time scale.
_SLOW = {"requests": 24, "time_scale": 0.25}
_FAULTS = {
    "errors": (Faults(errors=0.1), {"provider_error_ratio", "request_error_ratio"}),
    "rate_limits": (Faults(rate_limits=0.1), {"rate_limited_ratio", "request_error_ratio"}),
    "timeouts": (Faults(timeouts=0.05), {"timeout_ratio", "request_error_ratio"}),
    "latency": (Faults(latency=20), {"p95_request_ms"}),
    "cost_spike": (Faults(cost_spike=0.5), {"mean_cost_per_request"}),
    "eval_regression": (Faults(eval_regression=0.9), {"quality_pass_rate"}),
    "pii": (Faults(pii=0.3), {"safety_violations"}),
    "tool_failures": (Faults(tool_failures=0.5), {"tool_failure_ratio"}),
}


def _moved(summary: Summary, baseline: Summary, name: str) -> bool:
    """Whether the fault's own number moved the way that fault should move it."""
    checks = {
        "errors": summary.provider_error_ratio >= 0.05,
        "rate_limits": summary.rate_limited_ratio >= 0.05,
        "timeouts": summary.timeout_ratio >= 0.02,
        # At this run's time scale 20x the provider's latency makes each call ~0.6 s (median),
        # so a request of 5-7 calls takes seconds: an absolute margin of 2 s over the healthy
        # p95 is far beyond what CPU contention on a busy machine adds to either run.
        "latency": summary.p95_request_ms >= baseline.p95_request_ms + 2000,
        "cost_spike": summary.mean_cost_per_request >= 2 * baseline.mean_cost_per_request,
        # Citation is one of v42's two quality checks: 90 % uncited answers halve its pass rate.
        "eval_regression": summary.quality_pass_rate_by_version["42"]
        <= baseline.quality_pass_rate_by_version["42"] - 0.3
        and summary.quality_pass_rate_by_version["41"] >= 0.85,
        "pii": summary.safety_violations >= 0.15 * summary.requests,
        "tool_failures": summary.tool_failure_ratio >= 0.3,
    }
    return checks[name]


@pytest.mark.parametrize("name", list(_FAULTS))
def test_each_fault_moves_its_number_and_no_other_by_much(
    name: str, baseline: DemoResult, tmp_path: Path
) -> None:
    """The switch moves the number its alert watches; the other alerts' numbers stay put."""
    faults, allowed = _FAULTS[name]
    summary = _run(tmp_path, faults, **(_SLOW if name == "latency" else {})).summary
    assert _moved(summary, baseline.summary, name), (summary, baseline.summary)
    for field, tolerance in _GUARDS.items():
        if field in allowed or (name == "eval_regression" and field == "quality_pass_rate"):
            continue
        value, healthy = getattr(summary, field), getattr(baseline.summary, field)
        assert abs(value - healthy) <= tolerance, (name, field, value, healthy)


def test_provider_behaviour_follows_the_faults() -> None:
    """Fault switches map onto the simulated provider's knobs; a healthy plan has no faults."""
    healthy = behaviour_for(Faults(), seed=1, time_scale=1.0)
    assert healthy.error_rate == healthy.timeout_rate == healthy.pii_rate == 0
    faulty = behaviour_for(Faults(errors=0.2, latency=3, pii=0.1), seed=1, time_scale=0.5)
    assert faulty.error_rate == 0.2
    assert faulty.pii_rate == 0.1
    assert faulty.latency_median_s == pytest.approx(3 * healthy.latency_median_s)
    assert faulty.time_scale == 0.5


def test_demo_captures_content_unless_the_environment_decides() -> None:
    """The demo turns content capture on (synthetic data), but an explicit setting wins."""
    assert demo_settings({}).capture_message_content.on_spans
    off = demo_settings({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "NO_CONTENT"})
    assert not off.capture_message_content.on_spans


def test_faults_can_start_mid_run(tmp_path: Path) -> None:
    """With faults_after_s the run starts healthy: early requests pass, later ones hit the fault."""
    result = _run(
        tmp_path,
        Faults(errors=1.0),
        requests=None,
        duration_s=3.0,
        faults_after_s=1.5,
        concurrency=2,
    )
    assert result.stats.answered > 0
    assert sum(result.stats.failed.values()) > 0


def test_a_provider_down_from_the_start_still_runs_and_reports(tmp_path: Path) -> None:
    """errors=1 from the start: start-up (embedding the articles) works, every request fails."""
    result = _run(tmp_path, Faults(errors=1.0), requests=5)
    assert result.stats.requests == 5
    assert sum(result.stats.failed.values()) == 5
    assert "== Prompt versions ==" in result.report


class _Terminal(io.StringIO):
    """A terminal that asks the run to stop once it has shown progress with some requests."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self._stop = stop

    def isatty(self) -> bool:
        """Pretend to be a terminal, so the one-line progress display is used."""
        return True

    def write(self, text: str) -> int:
        """Keep the text; stop the run after the first progress line counting a request."""
        if re.match(r"\r[1-9]\d* requests", text):
            self._stop.set()
        return super().write(text)


def test_an_endless_run_shows_elapsed_time_and_counts_until_stopped(tmp_path: Path) -> None:
    """With no request count or duration the run says so and shows counts, not a frozen bar."""
    stop = threading.Event()
    out = _Terminal(stop)
    options = DemoOptions(
        requests=None,
        duration_s=None,
        concurrency=2,
        seed=3,
        time_scale=TIME_SCALE,
        output_dir=tmp_path,
        write_files=False,
        settings=Settings(),
    )
    assert options.forever
    result = run_demo(options, out, stop=stop)
    text = out.getvalue()
    assert "running: until Ctrl-C or SIGTERM, 2 concurrent users" in text
    assert "e+" not in text
    progress = [line.split("\n")[0] for line in text.split("\r") if re.match(r"\d+ requests", line)]
    assert progress
    for line in progress:
        assert re.fullmatch(
            r"\d+ requests \(\d+ failed\), +\d+\.\d s \(Ctrl-C stops and reports\) +", line
        ), line
    assert result.stats.requests > 0
    assert "== Summary ==" in text


@pytest.mark.parametrize(
    ("option", "value"),
    [("canary_percent", 150.0), ("canary_percent", -1.0), ("requests", 0), ("concurrency", 0)],
)
def test_options_refuse_values_that_make_a_nonsense_run(option: str, value: float) -> None:
    """A canary share outside 0..100 (every request would fail) and similar are refused."""
    with pytest.raises(ValueError, match=option):
        DemoOptions(**{option: value})  # type: ignore[arg-type]


def test_elapsed_time_reads_at_a_glance() -> None:
    """Seconds below a minute, then minutes and seconds, then hours and minutes."""
    assert _elapsed(4.25) == " 4.2 s"
    assert _elapsed(125) == "2 min 05 s"
    assert _elapsed(3 * 3600 + 7 * 60 + 59) == "3 h 07 min"


def _version_rows(report: str) -> dict[tuple[str, str], list[str]]:
    """The report's prompt-version table, by (prompt, version), cells split on 2+ spaces."""
    section = report.split("== Prompt versions ==\n")[1].split("\n\n", maxsplit=1)[0]
    body = section.splitlines()[3 : -len(NOTE.splitlines())]
    cells = [re.split(r"\s{2,}", line.strip()) for line in body]
    return {(row[0], row[1]): row[2:] for row in cells}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """A run with provider errors and PII leaks, shared by the tests of this module."""
    return _run(tmp_path_factory.mktemp("faulty"), Faults(errors=0.05, pii=0.3))


@pytest.mark.parametrize("name", ["baseline", "faulty"])
def test_the_version_table_reconciles_with_the_summary(
    name: str, request: pytest.FixtureRequest
) -> None:
    """Requests, answers, calls, failures, quality and safety in the table add up to the summary."""
    result: DemoResult = request.getfixturevalue(name)
    summary, stats = result.summary, result.stats
    rows = _version_rows(result.report)
    answers = {
        version: row for (prompt, version), row in rows.items() if prompt == "support_answer"
    }
    assert {version: int(row[1]) for version, row in answers.items()} == dict(stats.versions)
    # Every request starts by classifying the question; answered requests are answered.
    classify = rows[("support_classify", "3")]
    assert (int(classify[0]), int(classify[1])) == (summary.requests, stats.answered)
    assert sum(int(row[2]) for row in rows.values()) == summary.llm_calls
    failed_calls = sum(
        round(int(row[2]) * float(row[3].rstrip("%")) / 100) for row in rows.values()
    )
    ratios = summary.provider_error_ratio + summary.rate_limited_ratio + summary.timeout_ratio
    assert failed_calls == round(ratios * summary.llm_calls)
    for version, row in answers.items():
        assert row[9] == f"{100 * summary.quality_pass_rate_by_version[version]:.1f}%"
    assert sum(int(row[10]) for row in answers.values()) == summary.safety_violations


def test_failed_requests_lead_the_outliers_with_their_trace_ids(faulty: DemoResult) -> None:
    """With faults on, the outliers start with the failed requests and their trace ids."""
    failures = sum(faulty.stats.failed.values())
    assert failures > 3
    outliers = faulty.report.split("== Outliers ==\n")[1].splitlines()
    assert outliers[0] == f"Failed requests (first 3 of {failures}):"
    for line in outliers[1:4]:
        # A 500 as each SDK names it: InternalServerError (openai, anthropic), INTERNAL (Gemini),
        # InternalServerException (Bedrock's AWS error code).
        assert re.match(r"  (\S*InternalServerError|INTERNAL|InternalServerException) ", line)
        assert re.search(r"trace [0-9a-f]{32}$", line)
    assert outliers[4] == "Slowest LLM calls:"
