"""The demo's knowledge base: support articles embedded once and searched by cosine similarity."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ARTICLES", "Article", "KnowledgeBase", "Match"]


@dataclass(frozen=True)
class Article:
    """One support article."""

    doc_id: str
    title: str
    text: str


ARTICLES: tuple[Article, ...] = tuple(
    Article(f"doc-{i}", title, text)
    for i, (title, text) in enumerate(
        [
            ("Reset your password", "Use the sign-in page link; reset links expire after 1 hour."),
            ("Rotate an API key", "Create a new key, deploy it, then revoke the old key."),
            ("Understand your invoice", "Invoices list usage per project and taxes per region."),
            ("Request a refund", "Refunds for annual plans are prorated within 30 days."),
            ("Change your plan", "Upgrades apply at once; downgrades at the next renewal."),
            ("Rate limits", "Each plan has requests-per-minute limits; 429 means slow down."),
            ("Export your data", "Exports run nightly and are kept for 7 days."),
            ("Delete your account", "Deletion is final after a 14-day grace period."),
            ("Set up single sign-on", "SAML and OIDC are available on the Business plan."),
            ("Add team members", "Owners invite members by e-mail; seats bill monthly."),
            ("Billing currency", "Invoices are issued in USD, EUR or GBP by billing country."),
            ("Failed payments", "We retry a failed card three times over seven days."),
            ("Usage alerts", "Set a monthly budget and get e-mail alerts at 80 and 100 %."),
            ("Data retention", "Logs are kept 30 days; audit events 1 year."),
            ("Webhooks", "Webhooks retry with backoff for 24 hours on non-2xx answers."),
            ("Service status", "Incidents and maintenance windows are posted on the status page."),
            ("Two-factor authentication", "Use an authenticator app or a hardware key."),
            ("Account locked", "Ten failed sign-ins lock an account for 15 minutes."),
            ("Tax exemption", "Upload an exemption certificate in billing settings."),
            ("Regions", "Projects run in the US or EU region, chosen at creation."),
        ],
        start=1,
    )
)


@dataclass(frozen=True)
class Match:
    """A search hit: the article and its cosine similarity to the query."""

    article: Article
    score: float


def _normalised(vector: Sequence[float]) -> tuple[float, ...]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return tuple(x / norm for x in vector)


class KnowledgeBase:
    """Articles with their embeddings, searched in memory (exact cosine similarity, top k)."""

    def __init__(
        self,
        embed: Callable[[list[str]], list[list[float]]],
        articles: Sequence[Article] = ARTICLES,
    ) -> None:
        """Embed every article once with `embed` (one batched call)."""
        self.articles = tuple(articles)
        self._embed = embed
        vectors = embed([f"{a.title}. {a.text}" for a in self.articles])
        self._vectors = [_normalised(v) for v in vectors]

    def search(self, query: str, k: int) -> list[Match]:
        """The `k` articles most similar to `query`, best first."""
        [raw] = self._embed([query])
        q = _normalised(raw)
        scored = [
            Match(article, sum(a * b for a, b in zip(q, vector, strict=True)))
            for article, vector in zip(self.articles, self._vectors, strict=True)
        ]
        scored.sort(key=lambda match: -match.score)
        return scored[:k]
