"""Simulated users asking the support bot questions, from several tenants, with feedback."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import otel_llm
from otel_llm.demo.chatbot import Answer, SupportBot, User

__all__ = ["QUESTIONS", "TENANTS", "Traffic", "TrafficStats"]

TENANTS = ("acme-corp", "globex", "initech", "umbrella")
USERS_PER_TENANT = 25
QUESTIONS = (
    "How do I reset my password?",
    "Why is my invoice higher this month?",
    "Can I get a refund for my annual plan?",
    "What is the status of my account?",
    "Is my account locked? I cannot sign in.",
    "How do I rotate an API key without downtime?",
    "Why am I getting 429 rate limit errors?",
    "How do I export my data?",
    "My account shows an unpaid invoice, can you check it?",
    "How do I set up single sign-on with Okta?",
    "Which plan includes SSO and how much does it cost?",
    "How do I add a team member to my account?",
    "Where can I see incidents and maintenance windows?",
    "Can I move my project from the US to the EU region?",
    "How long do you keep my logs?",
    "My card payment failed, what happens now?",
)
FEEDBACK_RATE = 0.3
"""Share of answers the user rates with a thumb."""


@dataclass
class TrafficStats:
    """What the simulated users saw."""

    requests: int = 0
    answered: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    """Failed requests by exception class name."""
    feedback: int = 0
    thumbs_down: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    """Answered requests by support_answer prompt version."""


class Traffic:
    """Drives `bot` from `concurrency` threads until `requests` are done or `duration_s` passes.

    With neither, it runs until `stop` is set (or `stop()` is called).

    Users belong to tenants and keep a session for a few questions each. A share of answers
    gets a thumbs-up or -down, recorded with `otel_llm.record_feedback` as the feedback
    endpoint of a web app would, linked to the answer's span by its feedback token; answers
    that failed an evaluation or lost their tool call are rated down far more often.
    """

    def __init__(
        self,
        bot: SupportBot,
        *,
        requests: int | None,
        duration_s: float | None,
        concurrency: int = 8,
        seed: int | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._bot = bot
        self._limit = requests
        self._deadline = None if duration_s is None else time.monotonic() + duration_s
        self._duration = duration_s
        self._concurrency = concurrency
        self._rng = random.Random(seed)  # noqa: S311 - simulated users, not security
        self._lock = threading.Lock()
        self._started = 0
        self._stop = stop or threading.Event()
        self.stats = TrafficStats()

    @property
    def bounded(self) -> bool:
        """Whether the run ends by itself (after a number of requests or a duration)."""
        return self._limit is not None or self._deadline is not None

    def progress(self) -> float:
        """How far the run is, from 0 to 1 (by requests or by time, whichever is further).

        An unbounded run has no end to measure against: it stays at 0.
        """
        shares = [0.0]
        if self._limit is not None:
            shares.append(self.stats.requests / self._limit if self._limit else 1.0)
        if self._deadline is not None and self._duration:
            shares.append(1 - max(0.0, self._deadline - time.monotonic()) / self._duration)
        return min(1.0, max(shares))

    def stop(self) -> None:
        """Ask the workers to finish their current request and stop."""
        self._stop.set()

    def run(self, tick: Callable[[], None] | None = None, tick_s: float = 0.1) -> TrafficStats:
        """Run the traffic to the end, calling `tick` every `tick_s` seconds meanwhile.

        A KeyboardInterrupt stops it early: requests in flight finish, and the stats are
        returned as usual.
        """
        workers = [
            threading.Thread(target=self._work, name=f"demo-user-{i}", daemon=True)
            for i in range(self._concurrency)
        ]
        for worker in workers:
            worker.start()
        try:
            while any(w.is_alive() for w in workers):
                if tick is not None:
                    tick()
                time.sleep(tick_s)
        except KeyboardInterrupt:  # Ctrl-C (or SIGTERM, see the CLI): finish, then report.
            self.stop()
            for worker in workers:
                worker.join()
        if tick is not None:
            tick()
        return self.stats

    def _claim(self) -> tuple[str, User] | None:
        with self._lock:
            out_of_time = self._deadline is not None and time.monotonic() >= self._deadline
            if (
                self._stop.is_set()
                or out_of_time
                or (self._limit is not None and self._started >= self._limit)
            ):
                return None
            self._started += 1
            number = self._started
            tenant = self._rng.choice(TENANTS)
            user = self._rng.randrange(USERS_PER_TENANT)
            question = self._rng.choice(QUESTIONS)
        user_id = f"{tenant}-user-{user}"
        return question, User(
            user_id=user_id,
            tenant_id=tenant,
            session_id=f"sess-{user_id}-{number // 40}",
            account_id=f"acct-{tenant}-{user:04d}",
        )

    def _work(self) -> None:
        while (claimed := self._claim()) is not None:
            question, user = claimed
            try:
                answer = self._bot.handle(question, user)
            except Exception as exc:  # A failed request, as a web app would return a 5xx.
                with self._lock:
                    self.stats.requests += 1
                    self.stats.failed[type(exc).__name__] += 1
                continue
            self._maybe_rate(answer)

    def _maybe_rate(self, answer: Answer) -> None:
        with self._lock:
            self.stats.requests += 1
            self.stats.answered += 1
            self.stats.versions[answer.prompt_version] += 1
            rates = self._rng.random() < FEEDBACK_RATE
            unhappy = 0.05 + 0.55 * bool(answer.failed_evaluations) + 0.4 * answer.tool_failed
            negative = self._rng.random() < unhappy
            if rates:
                self.stats.feedback += 1
                self.stats.thumbs_down += negative
        if rates:
            otel_llm.record_feedback(
                token=answer.feedback_token,
                score=-1.0 if negative else 1.0,
                label="thumbs_down" if negative else "thumbs_up",
                prompt_name="support_answer",
                prompt_version=answer.prompt_version,
            )
