"""OnlineEvaluations: run evaluators on live LLM responses in the background, never blocking."""

from __future__ import annotations

import atexit
import contextvars
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import SpanContext

from otel_llm._budget import capture_mode
from otel_llm._errors import error_type, guarded
from otel_llm._failure import frames_only
from otel_llm._telemetry import get_telemetry
from otel_llm.config import ContentCapturingMode
from otel_llm.evaluations._evaluators import Evaluator, Judge, Result, Sample
from otel_llm.evaluations._record import operation_defaults, record_evaluation
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import otel_llm as oa

__all__ = ["OnlineEvaluations", "get_online", "install"]

_logger = logging.getLogger("otel_llm")

ALL_PROMPTS = "*"
"""The `evaluators_by_prompt` key whose evaluators run for every prompt (and none)."""

QUEUE_FULL = "queue_full"
TIMEOUT = "timeout"
ERROR = "error"
SHUTDOWN = "shutdown"


@dataclass(frozen=True)
class _Work:
    sample: Sample
    evaluators: tuple[Evaluator, ...]
    span_context: SpanContext | None
    response_id: str | None
    provider: str | None
    model: str | None
    prompt_version: str | None


_STOP = object()

_evaluating: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "otel_llm_evaluating", default=False
)


def in_evaluation() -> bool:
    """True on evaluator and judge threads: LLM calls made there are not evaluated again."""
    return _evaluating.get()


def _run_marked(fn: Callable[[Sample], object], sample: Sample, box: list[object]) -> None:
    # Runs on a daemon thread: a hung judge can neither block exit nor evaluate its own calls.
    _evaluating.set(True)
    try:
        box.append(fn(sample))
    except BaseException as exc:
        box.append(_Raised(exc))


@dataclass(frozen=True)
class _Raised:
    exc: BaseException


class _JudgeTimeout(Exception):
    pass


class OnlineEvaluations:
    """Evaluate samples of live traffic on background threads, per prompt.

    `evaluators_by_prompt` maps a prompt name to the evaluators for its responses; those under
    `"*"` run for every response. `submit()` only enqueues (a bounded queue of `queue_size`
    samples): when the queue is full the sample is dropped and counted in
    `otel_llm.evaluation.dropped{otel_llm.evaluation.drop_reason=queue_full}`, so evaluation can
    never slow down or grow the memory of the application. `workers` daemon threads run the
    evaluators; Judges additionally run on a pool of `judge_concurrency` threads so their
    `timeout_s` can be enforced. `rng` decides Judge sampling (seed it for reproducible tests).
    """

    def __init__(
        self,
        evaluators_by_prompt: Mapping[str, Sequence[Evaluator]],
        *,
        queue_size: int = 1000,
        workers: int = 1,
        judge_concurrency: int = 2,
        rng: random.Random | None = None,
    ) -> None:
        if queue_size < 1 or workers < 1 or judge_concurrency < 1:
            raise ValueError("queue_size, workers and judge_concurrency must each be at least 1")
        by_prompt = {key: tuple(evs) for key, evs in evaluators_by_prompt.items() if evs}
        self._all_prompts: tuple[Evaluator, ...] = by_prompt.pop(ALL_PROMPTS, ())
        self._by_prompt: dict[str, tuple[Evaluator, ...]] = by_prompt
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._rng = rng or random.Random()  # noqa: S311 - sampling, not cryptography
        self._rng_lock = threading.Lock()
        self._judge_slots = threading.BoundedSemaphore(judge_concurrency)
        self._reported: set[str] = set()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"otel-llm-eval-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def queue_size(self) -> int:
        """The bound on samples waiting to be evaluated."""
        return self._queue.maxsize

    def qsize(self) -> int:
        """Samples waiting to be evaluated now (approximate, as for queue.Queue)."""
        return self._queue.qsize()

    def has_evaluators(self, prompt_name: str | None) -> bool:
        """Whether any evaluator is configured for responses of `prompt_name` (cheap)."""
        return bool(self._all_prompts) or (
            prompt_name is not None and prompt_name in self._by_prompt
        )

    def evaluators_for(self, prompt_name: str | None) -> tuple[Evaluator, ...]:
        """The evaluators that run for `prompt_name`: its own, then those for every prompt."""
        own = self._by_prompt.get(prompt_name, ()) if prompt_name is not None else ()
        return own + self._all_prompts

    @guarded(False)
    def submit(
        self,
        sample: Sample,
        *,
        span_context: SpanContext | None = None,
        response_id: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        prompt_version: str | None = None,
    ) -> bool:
        """Queue `sample` for evaluation without blocking; False if it was dropped (or not run).

        Without `span_context` the current span's is used. Provider, model and prompt version
        default to the current recording span's (see `record_evaluation`).
        """
        evaluators = self.evaluators_for(sample.prompt_name)
        if not evaluators:
            return False
        if self._closed:
            self._count_dropped(evaluators, SHUTDOWN)
            return False
        if span_context is None:
            current = trace.get_current_span().get_span_context()
            span_context = current if current.is_valid else None
        if provider is None or model is None or prompt_version is None:
            # Read now: the worker thread does not see this thread's context.
            defaults = operation_defaults(span_context)
            provider = provider if provider is not None else defaults.provider
            model = model if model is not None else defaults.model
            if prompt_version is None and defaults.prompt_name == sample.prompt_name:
                prompt_version = defaults.prompt_version
        work = _Work(sample, evaluators, span_context, response_id, provider, model, prompt_version)
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            self._count_dropped(evaluators, QUEUE_FULL)
            return False
        return True

    def flush(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` until every queued sample is evaluated; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop the workers; samples still queued are counted as dropped (reason `shutdown`).

        An evaluation already running is given `timeout_s` to finish.
        """
        if self._closed:
            return
        self._closed = True
        self._drain()
        for _ in self._threads:
            try:
                self._queue.put(_STOP, timeout=timeout_s)
            except queue.Full:  # pragma: no cover - only if submit raced the drain
                break
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._drain()

    def _drain(self) -> None:
        stops = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Work):
                self._count_dropped(item.evaluators, SHUTDOWN)
            else:
                stops += 1
            self._queue.task_done()
        for _ in range(stops):  # still owed to workers busy with a last evaluation
            self._queue.put_nowait(_STOP)

    def _run(self) -> None:
        _evaluating.set(True)  # this thread's own context: calls made here are not evaluated
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if isinstance(item, _Work):
                    if self._closed:
                        self._count_dropped(item.evaluators, SHUTDOWN)
                    else:
                        self._process(item)
            except BaseException as exc:
                self._report("worker", exc)
            finally:
                self._queue.task_done()

    def _process(self, work: _Work) -> None:
        for evaluator in work.evaluators:
            name = evaluator.name
            if isinstance(evaluator, Judge) and not self._sampled(evaluator.sample_rate):
                continue
            try:
                result = self._evaluate(evaluator, work.sample)
            except _JudgeTimeout:
                self._count_dropped((evaluator,), TIMEOUT)
                self._record(work, name, Result(None, None, None), error=TIMEOUT)
                continue
            except BaseException as exc:
                self._count_dropped((evaluator,), ERROR)
                self._report(name, exc)
                self._record(work, name, Result(None, None, None), error=error_type(exc))
                continue
            self._record(work, name, result)

    def _sampled(self, rate: float) -> bool:
        if rate >= 1.0:
            return True
        with self._rng_lock:
            return self._rng.random() < rate

    def _evaluate(self, evaluator: Evaluator, sample: Sample) -> Result:
        result: object
        if not isinstance(evaluator, Judge):
            result = evaluator(sample)
        else:
            # At most judge_concurrency judges run at once; one that overran its timeout keeps
            # its slot until it returns, so a hung judge cannot multiply.
            if not self._judge_slots.acquire(timeout=evaluator.timeout_s):
                raise _JudgeTimeout
            box: list[object] = []

            def run() -> None:
                try:
                    _run_marked(evaluator, sample, box)
                finally:
                    self._judge_slots.release()

            thread = threading.Thread(target=run, name="otel-llm-judge", daemon=True)
            thread.start()
            thread.join(evaluator.timeout_s)
            if not box:
                raise _JudgeTimeout
            outcome = box[0]
            if isinstance(outcome, _Raised):
                raise outcome.exc
            result = outcome
        if not isinstance(result, Result):
            raise TypeError(f"evaluator {evaluator.name!r} returned {type(result).__name__}")
        return result

    def _record(self, work: _Work, name: str, result: Result, error: str | None = None) -> None:
        record_evaluation(
            name,
            score=result.score,
            label=result.label,
            passed=result.passed,
            explanation=result.explanation,
            span_context=work.span_context,
            response_id=work.response_id,
            provider=work.provider,
            model=work.model,
            prompt_name=work.sample.prompt_name,
            prompt_version=work.prompt_version,
            error_type=error,
        )

    def _report(self, name: str, exc: BaseException) -> None:
        if name in self._reported:
            return
        self._reported.add(name)
        message = (
            "otel-llm: evaluator %r failed (%s); its failures are counted in "
            "otel_llm.evaluation.dropped{otel_llm.evaluation.drop_reason=error}"
        )
        if capture_mode(get_telemetry()) is not ContentCapturingMode.NO_CONTENT:
            _logger.warning(message, name, error_type(exc), exc_info=exc)
            return
        # An evaluator reads the reply, and its error may quote it; logs can be exported too,
        # so with content capture off the trace is logged by frames and types only.
        _logger.warning(message + "\n%s", name, error_type(exc), frames_only(exc))

    @staticmethod
    def _count_dropped(evaluators: Sequence[Evaluator], reason: str) -> None:
        counter = get_telemetry().instruments.evaluation_dropped
        for evaluator in evaluators:
            counter.add(
                1,
                {
                    ga.GEN_AI_EVALUATION_NAME: evaluator.name,
                    oa.OTEL_LLM_EVALUATION_DROP_REASON: reason,
                },
            )


_online: OnlineEvaluations | None = None


def install(online: OnlineEvaluations | None) -> None:
    """Make `online` the instance LLM responses are submitted to (None: stop evaluating).

    A previously installed instance is shut down. Queued work is flushed (bounded) at exit,
    before the SDK's own exit hooks shut the exporters down.
    """
    global _online, _atexit_registered  # noqa: PLW0603 - one process-wide handle
    previous, _online = _online, online
    if previous is not None and previous is not online:
        previous.shutdown(timeout_s=1.0)
    if online is not None and not _atexit_registered:
        atexit.register(_flush_at_exit)
        _atexit_registered = True


_atexit_registered = False


def _flush_at_exit() -> None:
    online = _online
    if online is not None:
        online.flush(_EXIT_FLUSH_SECONDS)
        online.shutdown(timeout_s=0.5)


_EXIT_FLUSH_SECONDS = 2.0


def get_online() -> OnlineEvaluations | None:
    """The installed OnlineEvaluations, if any."""
    return _online
