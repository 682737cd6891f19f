"""Tests for OnlineEvaluations: background evaluation, bounded queue, drops, judges, shutdown."""

import asyncio
import logging
import random
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from otel_llm._telemetry import set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.evaluations import (
    JsonValid,
    Judge,
    LengthBounds,
    OnlineEvaluations,
    Result,
    Sample,
    get_online,
    install,
)
from otel_llm.semconv.events import gen_ai as ge
from otel_llm.semconv.metrics import otel_llm as om
from tests.conftest import Captured, make_captured

Factory = Callable[..., OnlineEvaluations]


@pytest.fixture
def make_online(captured: Captured) -> Iterator[Factory]:
    """Build OnlineEvaluations instances that are shut down when the test ends."""
    made: list[OnlineEvaluations] = []

    def make(*args: Any, **kwargs: Any) -> OnlineEvaluations:
        online = OnlineEvaluations(*args, **kwargs)
        made.append(online)
        return online

    yield make
    for online in made:
        online.shutdown(timeout_s=1.0)


class Gate:
    """An evaluator that blocks until released, to hold the worker busy."""

    def __init__(self, name: str = "slow") -> None:
        self.name = name
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, sample: Sample) -> Result:
        self.calls += 1
        self.started.set()
        self.release.wait(30)
        return Result(None, "ok", True)


def _dropped(captured: Captured) -> dict[tuple[str, str], int]:
    return {
        (p.attributes["gen_ai.evaluation.name"], p.attributes["otel_llm.evaluation.drop_reason"]): (
            p.value
        )
        for p in captured.metric_points(om.OTEL_LLM_EVALUATION_DROPPED)
    }


def _results(captured: Captured, name: str) -> int:
    points = captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)
    return sum(p.value for p in points if p.attributes["gen_ai.evaluation.name"] == name)


def test_results_arrive_after_flush(captured: Captured, make_online: Factory) -> None:
    """Evaluators for the sample's prompt and for "*" run in the background, tied to the span."""
    online = make_online({"support": [JsonValid()], "*": [LengthBounds(max_chars=10)]})
    attributes = {"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
    with captured.telemetry.tracer.start_as_current_span("chat", attributes=attributes) as span:
        assert online.submit(Sample('{"a": 1}', prompt_name="support"), response_id="r1")
    assert online.submit(Sample("not json at all", prompt_name="other"))
    assert online.flush(10)
    events = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    by_name = {
        (e.attributes["gen_ai.evaluation.name"], e.attributes.get("gen_ai.response.id")): e
        for e in events
    }
    assert set(by_name) == {("json_valid", "r1"), ("length_bounds", "r1"), ("length_bounds", None)}
    assert by_name["json_valid", "r1"].span_id == span.get_span_context().span_id
    assert by_name["length_bounds", None].attributes["otel_llm.evaluation.passed"] is False
    [verdict] = [
        p
        for p in captured.metric_points(om.OTEL_LLM_EVALUATION_RESULTS)
        if p.attributes["gen_ai.evaluation.name"] == "json_valid"
    ]
    assert dict(verdict.attributes) == {
        "gen_ai.evaluation.name": "json_valid",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.prompt.name": "support",
        "otel_llm.evaluation.passed": True,
    }


def test_has_evaluators_and_unconfigured_prompts(captured: Captured, make_online: Factory) -> None:
    """Only configured prompts have evaluators; submitting for others queues nothing."""
    online = make_online({"support": [JsonValid()], "empty": []})
    assert online.has_evaluators("support")
    assert not online.has_evaluators("empty")
    assert not online.has_evaluators("other")
    assert not online.has_evaluators(None)
    assert not online.submit(Sample("x", prompt_name="other"))
    assert online.flush(1)
    assert captured.events(ge.GEN_AI_EVALUATION_RESULT) == []
    assert captured.metric_points(om.OTEL_LLM_EVALUATION_DROPPED) == []
    assert make_online({"*": [JsonValid()]}).has_evaluators(None)


def test_bounded_queue_under_load(captured: Captured, make_online: Factory) -> None:
    """5,000 samples into a queue of 100 never block, stay bounded, and drops are exact."""
    gate = Gate()
    online = make_online({"*": [gate]}, queue_size=100)
    assert online.submit(Sample("first"))
    assert gate.started.wait(10)  # the worker now holds one sample and is blocked
    accepted: list[bool] = []
    sizes: list[int] = []
    peak: list[int] = []

    def flood() -> None:
        tracemalloc.start()
        try:
            for i in range(4999):
                accepted.append(online.submit(Sample(f"sample {i}")))
                sizes.append(online.qsize())
            peak.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()

    flooder = threading.Thread(target=flood)
    flooder.start()
    flooder.join(60)
    # The worker is still blocked, so a blocking submit() would still be stuck here.
    assert not flooder.is_alive()
    assert max(sizes) == 100
    assert peak[0] < 20_000_000
    assert not online.flush(0.01)
    gate.release.set()
    assert online.flush(30)
    processed = 1 + sum(accepted)
    assert processed == 101
    assert _results(captured, "slow") == processed == gate.calls
    assert _dropped(captured) == {("slow", "queue_full"): 4899}
    assert processed + _dropped(captured)["slow", "queue_full"] == 5000


def test_queue_full_counts_each_evaluator(captured: Captured, make_online: Factory) -> None:
    """A dropped sample counts one drop for every evaluator configured for its prompt."""
    gate = Gate()
    online = make_online({"p": [gate, JsonValid()]}, queue_size=1)
    assert online.submit(Sample("1", prompt_name="p"))
    assert gate.started.wait(10)
    assert online.submit(Sample("2", prompt_name="p"))
    assert not online.submit(Sample("3", prompt_name="p"))
    gate.release.set()
    assert online.flush(10)
    assert _dropped(captured) == {("slow", "queue_full"): 1, ("json_valid", "queue_full"): 1}


def test_judge_timeout_is_a_drop(captured: Captured, make_online: Factory) -> None:
    """A judge exceeding its timeout is abandoned and counted with reason timeout."""
    release = threading.Event()

    def hang(sample: Sample) -> Result:
        release.wait(30)
        return Result(1.0, None, True)

    online = make_online({"*": [Judge(hang, "slow_judge", timeout_s=0.05)]})
    try:
        assert online.submit(Sample("x"))
        assert online.flush(10)
    finally:
        release.set()
    assert _dropped(captured) == {("slow_judge", "timeout"): 1}
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    assert dict(event.attributes) == {
        "gen_ai.evaluation.name": "slow_judge",
        "error.type": "timeout",
    }
    assert _results(captured, "slow_judge") == 0


def test_evaluator_errors_are_drops_logged_once(
    captured: Captured, make_online: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing judge or evaluator counts reason error, is logged once, and never raises."""

    def boom(sample: Sample) -> Result:
        raise RuntimeError("judge down")

    class Broken:
        name = "broken"

        def __call__(self, sample: Sample) -> Result:
            raise ValueError("bug")

    online = make_online({"*": [Judge(boom, "judge"), Broken(), JsonValid()]})
    with caplog.at_level(logging.WARNING, logger="otel_llm"):
        for _ in range(3):
            assert online.submit(Sample("{}"))
        assert online.flush(10)
    assert _dropped(captured) == {("judge", "error"): 3, ("broken", "error"): 3}
    assert _results(captured, "json_valid") == 3
    assert caplog.text.count("evaluator 'judge' failed") == 1
    assert caplog.text.count("evaluator 'broken' failed") == 1
    error_types = {
        e.attributes.get("error.type") for e in captured.events(ge.GEN_AI_EVALUATION_RESULT)
    }
    assert error_types == {"RuntimeError", "ValueError", None}


def test_async_judge_runs_online(captured: Captured, make_online: Factory) -> None:
    """An async judge callable runs in its own event loop on a judge thread."""

    async def grade(sample: Sample) -> Result:
        await asyncio.sleep(0)
        return Result(0.9, "good", True, "fine")

    online = make_online({"*": [Judge(grade, "async_judge")]})
    assert online.submit(Sample("x"))
    assert online.flush(10)
    [event] = captured.events(ge.GEN_AI_EVALUATION_RESULT)
    assert event.attributes["gen_ai.evaluation.score.value"] == 0.9
    [score] = captured.metric_points(om.OTEL_LLM_EVALUATION_SCORE)
    assert score.count == 1


def test_judge_sample_rate_with_seeded_rng(captured: Captured, make_online: Factory) -> None:
    """A judge with sample_rate 0.3 judges the seeded rng's fraction of samples, about 30%."""
    calls: list[str] = []

    def grade(sample: Sample) -> Result:
        calls.append(sample.output)
        return Result(None, None, True)

    online = make_online(
        {"*": [Judge(grade, "sampled", sample_rate=0.3), JsonValid()]},
        queue_size=2000,
        rng=random.Random(1234),  # noqa: S311 - seeded sampling, not crypto
    )
    for i in range(1000):
        assert online.submit(Sample(str(i)))
    assert online.flush(30)
    expected_rng = random.Random(1234)  # noqa: S311 - replays the seed
    expected = sum(expected_rng.random() < 0.3 for _ in range(1000))
    assert len(calls) == expected
    assert 250 <= len(calls) <= 350
    assert _results(captured, "sampled") == expected
    assert _results(captured, "json_valid") == 1000
    assert captured.metric_points(om.OTEL_LLM_EVALUATION_DROPPED) == []


def test_shutdown_drops_queued_samples(captured: Captured, make_online: Factory) -> None:
    """Shutdown counts queued samples as dropped (reason shutdown) and refuses new ones."""
    gate = Gate()
    online = make_online({"*": [gate]})
    assert online.submit(Sample("running"))
    assert gate.started.wait(10)
    for i in range(4):
        assert online.submit(Sample(f"queued {i}"))
    online.shutdown(timeout_s=0.01)  # the running evaluation is still blocked
    assert not online.submit(Sample("late"))
    assert _dropped(captured) == {("slow", "shutdown"): 5}
    gate.release.set()
    for thread in online._threads:
        thread.join(10)
        assert not thread.is_alive()
    assert _results(captured, "slow") == 1
    online.shutdown()  # idempotent


def test_install_and_get_online(make_online: Factory) -> None:
    """install() makes an instance findable by get_online(); None removes it."""
    online = make_online({"*": [JsonValid()]})
    try:
        install(online)
        assert get_online() is online
    finally:
        install(None)
    assert get_online() is None


def test_invalid_configuration_is_rejected() -> None:
    """Non-positive queue size, worker or judge counts are configuration errors."""
    with pytest.raises(ValueError, match="queue_size"):
        OnlineEvaluations({}, queue_size=0)


def test_judge_raising_base_exception_does_not_kill_the_worker(captured: Captured) -> None:
    """A judge raising CancelledError is counted as an error; later samples still get evaluated."""

    def cancelled(sample: Sample) -> Result:
        raise asyncio.CancelledError

    online = OnlineEvaluations({"*": [Judge(cancelled, name="flaky"), JsonValid()]})
    online.submit(Sample(output="{}"))
    online.submit(Sample(output="{}"))
    assert online.flush(10)
    online.shutdown()
    names = [
        e.attributes["gen_ai.evaluation.name"] for e in captured.events("gen_ai.evaluation.result")
    ]
    assert names.count("json_valid") == 2


def test_hung_judge_does_not_block_interpreter_exit() -> None:
    """A judge stuck far past its timeout does not keep the process alive at exit."""
    script = (
        "import time\n"
        "from otel_llm import evaluations\n"
        "def judge(sample):\n"
        "    time.sleep(600)\n"
        "judges = [evaluations.Judge(judge, name='j', timeout_s=0.2)]\n"
        "online = evaluations.OnlineEvaluations({'*': judges})\n"
        "evaluations.install(online)\n"
        "online.submit(evaluations.Sample(output='x'))\n"
        "online.flush(5)\n"
        "print('exiting')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "exiting" in result.stdout


@pytest.mark.parametrize("mode", [ContentCapturingMode.NO_CONTENT, ContentCapturingMode.SPAN_ONLY])
def test_evaluator_failure_log_keeps_its_text_only_with_content_capture(
    mode: ContentCapturingMode, caplog: pytest.LogCaptureFixture
) -> None:
    """An evaluator error quoting the reply is logged by type and frames unless content is on."""
    captured = make_captured(Settings(capture_message_content=mode))
    set_telemetry(captured.telemetry)

    def judge(sample: Sample) -> Result:
        raise ValueError(f"cannot grade {sample.output!r}")

    online = OnlineEvaluations({"*": [Judge(judge, "quoting")]})
    try:
        with caplog.at_level(logging.WARNING, logger="otel_llm"):
            assert online.submit(Sample("reply for john.doe@example.com"))
            assert online.flush(10)
    finally:
        online.shutdown(timeout_s=1.0)
        set_telemetry(None)
    assert "evaluator 'quoting' failed (ValueError)" in caplog.text
    assert "in judge" in caplog.text  # the frames are there either way
    quoted = "john.doe@example.com" in caplog.text
    assert quoted is (mode is not ContentCapturingMode.NO_CONTENT)
