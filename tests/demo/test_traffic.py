"""Simulated users: request counts, failures, feedback and stopping, against a stand-in bot."""

from __future__ import annotations

import threading
from typing import Any

from otel_llm.demo.chatbot import Answer, User
from otel_llm.demo.traffic import TENANTS, Traffic
from tests.conftest import Captured


class _Bot:
    """Answers every other request, fails the rest; remembers who asked."""

    def __init__(self, failed_evaluations: tuple[str, ...] = ()) -> None:
        self.users: list[User] = []
        self._lock = threading.Lock()
        self._failed = failed_evaluations

    def handle(self, question: str, user: User) -> Answer:
        with self._lock:
            self.users.append(user)
            number = len(self.users)
        if number % 2 == 0:
            raise TimeoutError("provider too slow")
        return Answer(question, "41", f"resp-{number}", None, self._failed, False)


def test_runs_exactly_the_requested_number_and_counts_failures(captured: Captured) -> None:
    """N requests across threads: answered + failed == N, users spread over tenants."""
    bot = _Bot()
    traffic = Traffic(bot, requests=200, duration_s=None, concurrency=4, seed=5)  # type: ignore[arg-type]
    stats = traffic.run(tick_s=0.01)
    assert stats.requests == 200 == len(bot.users)
    assert stats.answered == 100
    assert stats.failed == {"TimeoutError": 100}
    assert {u.tenant_id for u in bot.users} == set(TENANTS)
    assert traffic.progress() == 1.0
    feedback = [s for s in captured.spans.get_finished_spans() if s.name == "user_feedback"]
    assert len(feedback) == stats.feedback
    assert 10 <= stats.feedback <= 50  # About 30 % of 100 answers.


def test_failed_evaluations_make_thumbs_down_likely(captured: Captured) -> None:
    """Users rate answers that failed an evaluation down far more often than good ones."""
    good = Traffic(_Bot(), requests=400, duration_s=None, seed=1)  # type: ignore[arg-type]
    bad = Traffic(_Bot(("citation",)), requests=400, duration_s=None, seed=1)  # type: ignore[arg-type]
    good_stats, bad_stats = good.run(tick_s=0.01), bad.run(tick_s=0.01)
    assert good_stats.thumbs_down / good_stats.feedback < 0.2
    assert bad_stats.thumbs_down / bad_stats.feedback > 0.4


def test_stop_ends_a_timed_run_early() -> None:
    """stop() lets in-flight requests finish and ends the run long before its duration."""
    bot: Any = _Bot()
    traffic = Traffic(bot, requests=None, duration_s=300, concurrency=2)
    timer = threading.Timer(0.2, traffic.stop)
    timer.start()
    stats = traffic.run(tick_s=0.01)
    timer.join()
    assert stats.requests == len(bot.users) > 0
    assert traffic.progress() < 0.1


def test_without_a_limit_it_runs_until_stopped() -> None:
    """With neither a request count nor a duration the run goes on until stop(); no progress."""
    bot: Any = _Bot()
    traffic = Traffic(bot, requests=None, duration_s=None, concurrency=2)
    assert not traffic.bounded

    def tick() -> None:
        if traffic.stats.requests >= 30:
            traffic.stop()

    stats = traffic.run(tick=tick, tick_s=0.01)
    assert stats.requests == len(bot.users) >= 30
    assert traffic.progress() == 0.0
