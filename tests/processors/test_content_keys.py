"""The table of content names: complete against the upgrade table and upstream, and exact."""

from __future__ import annotations

import json
import re

import pytest

from otel_llm.processors._content_keys import EMITTERS, ContentKeys, Emitter
from otel_llm.semconv.upgrades import (
    ATTRIBUTE_PATTERN_UPGRADES,
    ATTRIBUTE_UPGRADES,
    EVENT_UPGRADES,
)
from tests.conftest import REPO_ROOT

KEYS = ContentKeys()
NOT_CONTENT = re.compile(r"retrieval\.documents\.\{i\}\.document\.(id|score)")
"""Message-shaped names that only identify: kept with capture off (ids and scores)."""


def _example(pattern: str) -> str:
    return pattern.replace("{i}", "3").replace("{j}", "0").replace("{name}", "city")


def test_every_folded_message_field_is_content() -> None:
    """Whatever the upgrade folds into messages, tools or documents is dropped first (ids aside)."""
    folded = [u.old for u in ATTRIBUTE_PATTERN_UPGRADES if u.action == "messages"]
    folded += [u.old for u in ATTRIBUTE_UPGRADES if u.action == "messages"]
    missing = [
        name
        for name in folded
        if not NOT_CONTENT.fullmatch(name) and not KEYS.attribute(_example(name), "any.library")
    ]
    assert missing == []
    assert not KEYS.attribute(_example("retrieval.documents.{i}.document.id"), "any.library")


def test_every_message_event_is_content() -> None:
    """The per-message events the upgrade knows are dropped as a whole."""
    events = [u.old for u in EVENT_UPGRADES if u.action == "messages"]
    assert [name for name in events if not KEYS.event(name, "any.library")] == []


def test_upstream_content_attributes_are_content() -> None:
    """Every upstream GenAI attribute flagged as possibly sensitive, or holding messages."""
    registry = json.loads((REPO_ROOT / "semconv/upstream/registry.json").read_text("utf-8"))
    flagged = [
        name
        for name, entry in registry.items()
        if name.startswith("gen_ai.")
        and isinstance(entry, dict)
        and "sensitive" in str(entry.get("note") or "").lower()
    ]
    assert "gen_ai.input.messages" in flagged  # the flag is still how upstream says it
    names = [
        *flagged,
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.tool.description",  # what a tool definition's description says (ADK's spans)
        "tool.description",  # OpenInference's
    ]
    names = [
        f"{n}.city" if registry.get(n, {}).get("type") == "template[string]" else n for n in names
    ]
    assert [name for name in names if not KEYS.attribute(name, "any.library")] == []


@pytest.mark.parametrize(
    "key",
    [
        "gen_ai.prompt.name",  # prompt attribution, ours and upstream's
        "gen_ai.prompt.version",
        "gen_ai.request.model",
        "gen_ai.tool.name",
        "gen_ai.tool.call.id",
        "gen_ai.retrieval.documents",  # ids and scores
        "llm.token_count.prompt",
        "input.mime_type",
        "openinference.span.kind",
        "logfire.msg",
    ],
)
def test_identifiers_and_counts_are_not_content(key: str) -> None:
    """Names, ids, models and counts stay, whoever emits them."""
    assert not KEYS.attribute(key, "any.library")


def test_indexes_are_digits_and_scopes_are_prefixes() -> None:
    """`{i}` matches list indexes only; a scoped entry applies to its library's scopes only."""
    keys = ContentKeys(
        (
            Emitter("a", ("x.{i}.text", "y.{name}.raw", "z*")),
            Emitter("b", ("final",), events=("b.message",), scopes=("lib",)),
        )
    )
    assert keys.attribute("x.12.text", "")
    assert not keys.attribute("x.name.text", "")
    assert keys.attribute("y.openai.raw", "")
    assert not keys.attribute("y.a.b.raw", "")
    assert keys.attribute("z", "")
    assert keys.attribute("z.anything.at.all", "")
    assert keys.attribute("final", "lib.sub")
    assert not keys.attribute("final", "other")
    assert keys.event("b.message", "lib")
    assert not keys.event("b.message", "other")


def test_every_emitter_says_where_its_names_come_from() -> None:
    """Each library's entry names its source, so the table can be checked again upstream."""
    assert all(emitter.source for emitter in EMITTERS)
    assert len({emitter.name for emitter in EMITTERS}) == len(EMITTERS)
