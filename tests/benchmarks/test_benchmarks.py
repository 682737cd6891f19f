"""Each benchmark runs end to end in a tiny configuration; the figures themselves are not tested."""

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import __main__ as runner
from benchmarks import (
    _corpus,
    _report,
    _venvs,
    export_load,
    overhead,
    redaction_throughput,
    startup,
)


def _here(peer: str) -> str:
    """Every peer runs in the test interpreter (openai 3.x here), not its benchmark virtualenv."""
    return sys.executable


def test_overhead_worker_sees_one_span_per_instrumented_call() -> None:
    """Interleaved rounds time every mode; otel-llm records one span per call, bare none.

    None either from the calls made with otel-llm's wrappers taken off (the baseline arm).
    """
    sizes = overhead.Sizes(calls=4, stream_calls=2, blocks=2, rounds=1)
    result = overhead.run(peers=("bare", "otel-llm"), sizes=sizes, python_for=_here)
    summary = result["summary"]
    assert set(summary) == {"bare", "otel-llm", "otel-llm+content"}
    assert result["problems"] == []
    assert summary["bare"]["check"]["spans_per_call"] == 0
    for key in ("otel-llm", "otel-llm+content"):
        check = summary[key]["check"]
        assert check["spans_per_call"] == 1
        assert check["span_name"] == "chat gpt-4o-mini"
        assert "gen_ai.client.inference.duration" in check["metrics"]
        for mode in overhead.MODES:
            assert summary[key][mode]["bare"] > 0
            assert "overhead" in summary[key][mode]
        for figure in overhead.FIGURES:
            assert "overhead" in summary[key][f"per_chunk_{figure}"]
    assert len(result["rounds"]) == 1


def test_the_core_configuration_runs_without_redaction_and_pricing() -> None:
    """otel-llm-core is otel-llm with no redaction processor and no cost, all else the same."""
    sizes = overhead.Sizes(calls=4, stream_calls=2, blocks=2, rounds=1)
    peers = ("bare", "otel-llm", "otel-llm-core")
    summary = overhead.run(peers=peers, sizes=sizes, python_for=_here)["summary"]
    full, core = summary["otel-llm"]["check"], summary["otel-llm-core"]["check"]
    # Content capture off in the check: other libraries' content dropped, names upgraded and
    # metrics derived in both (the derived metrics inline, the rest at export); redaction and
    # cost in the full one only.
    common = [
        "DerivedMetricsSpanProcessor",
        "BatchSpanProcessor",
        "ContentDropSpanProcessor (at export)",
        "SemconvUpgradeSpanProcessor (at export)",
    ]
    assert full["span_processors"] == [
        *common,
        "RedactionSpanProcessor (at export)",
        "CostSpanProcessor (at export)",
    ]
    assert core["span_processors"] == common
    assert summary["bare"]["check"]["span_processors"] == ["BatchSpanProcessor"]
    assert "otel_llm.client.request.cost" in full["metrics"]
    assert "otel_llm.client.request.cost" not in core["metrics"]
    assert set(core["metrics"]) < set(full["metrics"])
    assert core["span_attributes"] < full["span_attributes"]  # no otel_llm.cost.*


def test_against_a_ref_measures_that_trees_otel_llm_interleaved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `otel-llm@REF` peer imports the ref's checked-out tree; the report sets the two apart."""
    monkeypatch.setattr(_venvs, "VENVS", tmp_path)
    commit, tree = _venvs.checkout("HEAD")
    assert (tree / "src" / "otel_llm" / "__init__.py").is_file()
    sizes = overhead.Sizes(calls=4, stream_calls=2, blocks=2, rounds=1)
    peers = ("bare", "otel-llm", "otel-llm@HEAD")
    result = overhead.run(
        peers=peers, sizes=sizes, python_for=_here, sources={"otel-llm@HEAD": tree}
    )
    summary = result["summary"]
    assert result["problems"] == []
    assert summary["otel-llm@HEAD"]["check"]["otel_llm_file"].startswith(str(tree))
    assert not summary["otel-llm"]["check"]["otel_llm_file"].startswith(str(tree))
    result["against"] = {"otel-llm@HEAD": commit}
    labels = {"otel-llm@HEAD": f"otel-llm at HEAD ({commit})"}
    report = "\n".join(_report._overhead(result, labels))
    assert f"against otel-llm at HEAD ({commit})" in report
    # The ref's rows are otel-llm's, never the best peer the targets are set against.
    assert _report.targets(summary, "otel-llm") is None


def test_targets_compare_otel_llm_with_the_best_peer_of_the_same_content_setting() -> None:
    """Ratios against the lowest peer overhead per figure; otel-llm's own rows are no peer."""

    def entry(call: float, chunk: float = 1.0) -> dict[str, Any]:
        figures = {
            mode: {"overhead": call, "q1": call, "q3": call, "bare": 1000.0}
            for mode in overhead.MODES
        }
        return {**figures, "per_chunk_thread_us": {"overhead": chunk}}

    summary = {
        "otel-llm": entry(100, chunk=1.5),
        "otel-llm-core": entry(10),
        "fast": entry(200),
        "slow": entry(400),
        "fast+content": entry(50),
    }
    found = _report.targets(summary, "otel-llm")
    assert found is not None
    assert found["call_thread_us"]["best_peer"] == "fast"
    assert found["call_thread_us"]["ratio"] == 0.5
    assert found["per_chunk_thread_us"] == 1.5
    assert _report.targets(summary, "otel-llm+content") is None


def test_verify_flags_an_instrumentation_that_recorded_nothing() -> None:
    """Not exactly one span per instrumented call (none, or the baseline's too) is invalid."""
    summary = {
        "bare": {"check": {"spans_per_call": 0.0}},
        "silent": {"check": {"spans_per_call": 0.0}},
        "fine": {"check": {"spans_per_call": 1.0}},
        "unwrapped": {"check": {"spans_per_call": 2.0}},
    }
    assert overhead.verify(summary) == [
        "silent: 0.00 spans per call, expected 1",
        "unwrapped: 2.00 spans per call, expected 1",
    ]
    summary["bare"]["check"]["spans_per_call"] = 1.0
    assert len(overhead.verify(summary)) == 3


def test_startup_times_import_and_configure() -> None:
    """Fresh processes measure the time and memory of import and configure()."""
    result = startup.run(runs=1, peers=(), python_for=_here, traced=False)
    ours = result["ours"]
    assert ours["import_ms"] > 0
    assert ours["configure_ms"] > 0
    assert ours["configure_rss_mb"] > 0
    assert result["peers_setup"] == {}


def test_fit_exponent_tells_linear_from_quadratic() -> None:
    """The fitted exponent of time against size is 1 for linear and 2 for quadratic data."""
    sizes = [1_000, 2_000, 4_000, 8_000]
    assert redaction_throughput.fit_exponent(sizes, [s * 3e-6 for s in sizes]) == pytest.approx(1)
    assert redaction_throughput.fit_exponent(sizes, [s * s * 1e-9 for s in sizes]) == (
        pytest.approx(2)
    )


def test_hostile_inputs_scale_and_match_the_shared_corpus() -> None:
    """adversarial(name) is the test suite's 100 KB input; scaling changes only its length."""
    for name, text in _corpus.ADVERSARIAL.items():
        assert _corpus.adversarial(name) == text
        assert len(_corpus.adversarial(name, 0.5)) < len(text) < len(_corpus.adversarial(name, 2))


def test_redaction_throughput_reports_every_size_and_input() -> None:
    """The throughput run reports MB/s per prompt size and an exponent per hostile input."""
    result = redaction_throughput.run(
        sizes_kb=(1,), scales=(0.01, 0.02), budget=0.001, names=["dashes", "digits"]
    )
    assert result["realistic"]["1KB"]["text_mb_s"] > 0
    assert set(result["hostile"]) == {"dashes", "digits"}
    assert result["hostile"]["dashes"]["sizes"] == [1_000, 2_000]


def test_export_load_delivers_every_span_to_the_receiver() -> None:
    """Every span offered in a short run reaches the local OTLP/gRPC receiver after the flush."""
    result = export_load.run(seconds=0.3, modes=("app",))["app"]
    assert result["flushed"] is True
    assert result["offered"] > 0
    assert result["received"] == result["offered"]
    assert result["dropped"] == 0
    assert result["rss_mb"]["peak"] >= result["rss_mb"]["before"] > 0


def test_runner_writes_json_and_the_markdown_summary(tmp_path: Path) -> None:
    """`python -m benchmarks --only redaction --quick` writes its JSON and RESULTS.md."""
    results = tmp_path / "results"
    runner.main(["--only", "redaction", "--quick", "--results", str(results)])
    saved = json.loads((results / "redaction.json").read_text(encoding="utf-8"))
    assert saved["quick"] is True
    assert saved["machine"]["cores"] > 0
    report = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "## Redaction throughput" in report
    assert "## Overhead per LLM call" not in report
