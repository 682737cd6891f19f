"""The knowledge base: one batched embedding of the articles, exact cosine top-k search."""

from otel_llm.demo.knowledge import ARTICLES, Article, KnowledgeBase

_ARTICLES = (
    Article("doc-1", "x axis", "a"),
    Article("doc-2", "y axis", "b"),
    Article("doc-3", "diagonal", "c"),
)
_VECTORS = {"x axis. a": [1.0, 0.0], "y axis. b": [0.0, 2.0], "diagonal. c": [1.0, 1.0]}


def test_search_ranks_by_cosine_similarity() -> None:
    """Hits come best first with their cosine scores; vector length does not matter."""
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [_VECTORS.get(t, [3.0, 0.1]) for t in texts]

    kb = KnowledgeBase(embed, _ARTICLES)
    hits = kb.search("query near x", 2)
    assert [h.article.doc_id for h in hits] == ["doc-1", "doc-3"]
    assert hits[0].score > hits[1].score
    assert abs(hits[1].score - (3.0 + 0.1) / (3.0017 * 2**0.5)) < 1e-3
    assert calls[0] == ["x axis. a", "y axis. b", "diagonal. c"]  # One batched call at start.
    assert len(kb.search("q", 10)) == 3


def test_bundled_articles_have_unique_ids() -> None:
    """Citations name articles by id, so ids must be unique."""
    assert len({a.doc_id for a in ARTICLES}) == len(ARTICLES) >= 10
