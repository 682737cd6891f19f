"""Content fitted into a byte budget: cut strings, dropped messages, markers, redaction."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_llm.instrumentation._fit import _fit, fit_json, fit_json_structured
from otel_llm.instrumentation.anthropic import _convert as anthropic
from otel_llm.instrumentation.openai import _convert as openai
from otel_llm.redaction import Redactor
from tests.instrumentation._schemas import (
    INPUT,
    OUTPUT,
    SYSTEM,
    TOOLS,
    assert_valid,
    compact,
    size,
    text_part,
)
from tests.test_budget import (
    EMAIL,
    FILLER,
    FINDINGS,
    leaked_fragment,
    recording,
    redactor_text,
    straddling_texts,
)


# --- Budget ------------------------------------------------------------------------------------
def conversation(length: int, text_bytes: int) -> list[dict[str, Any]]:
    """Input messages alternating user and assistant, each with one text part of about that size."""
    roles = ("user", "assistant")
    return [
        {"role": roles[i % 2], "parts": [text_part(f"message {i} " + "x" * text_bytes)]}
        for i in range(length)
    ]


TRUNCATED = "…[truncated "


def test_value_that_fits_is_unchanged_at_the_exact_budget() -> None:
    """A value exactly at the budget is returned as compact JSON; one byte less cuts it."""
    value = conversation(3, 200)
    exact = size(compact(value))
    assert fit_json(value, exact) == compact(value)
    assert fit_json_structured(value, exact) == value
    smaller = fit_json(value, exact - 1)
    assert size(smaller) <= exact - 1
    assert TRUNCATED in smaller


def test_cut_string_keeps_prefix_and_original_size() -> None:
    """A cut string keeps a prefix of the original and ends with the original UTF-8 size."""
    original = "The quick brown fox. " * 500
    value = [{"role": "user", "parts": [text_part(original)]}]
    result = fit_json_structured(value, 1000)
    content = result[0]["parts"][0]["content"]
    marker = f"…[truncated {size(original)} bytes]"
    assert content.endswith(marker)
    assert original.startswith(content.removesuffix(marker))
    assert len(content) > 900  # the budget is used, not just the marker
    assert size(fit_json(value, 1000)) <= 1000
    assert_valid(INPUT, result)


@pytest.mark.parametrize("char", ["é", "€", "😀", '"', "\n", "\x01"])
def test_multibyte_and_escaped_characters_are_never_split(char: str) -> None:
    """Multi-byte and JSON-escaped characters are cut whole, and the result fits every budget."""
    original = "ab" + char * 3000
    value = [{"role": "user", "parts": [text_part(original)]}]
    for budget in range(256, 600, 7):
        text = fit_json(value, budget)
        assert size(text) <= budget
        content = json.loads(text)[0]["parts"][0]["content"]
        prefix = content.removesuffix(f"…[truncated {size(original)} bytes]")
        assert prefix != content
        assert original.startswith(prefix)  # whole characters only: no replacement char


def test_longest_strings_are_cut_first() -> None:
    """Short strings survive while the longest ones absorb the cut."""
    short = "a short system-like instruction that should survive intact, " * 2
    value = [
        {"role": "user", "parts": [text_part(short), text_part("L" * 20_000)]},
        {"role": "assistant", "parts": [text_part("M" * 10_000)]},
    ]
    result = fit_json_structured(value, 4000)
    assert result[0]["parts"][0]["content"] == short
    long_one = result[0]["parts"][1]["content"]
    medium = result[1]["parts"][0]["content"]
    assert long_one.endswith("…[truncated 20000 bytes]")
    assert medium.endswith("…[truncated 10000 bytes]")
    assert abs(size(long_one) - size(medium)) < 8  # one common cap
    assert size(fit_json(value, 4000)) <= 4000


def test_tool_arguments_and_responses_are_cut_too() -> None:
    """Strings inside parsed tool arguments and tool responses are cut like text."""
    value = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "c", "name": "f", "arguments": {"q": "q" * 5000}}
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "c", "response": "r" * 5000}],
        },
    ]
    result = fit_json_structured(value, 1500)
    assert result[0]["parts"][0]["arguments"]["q"].endswith("…[truncated 5000 bytes]")
    assert result[1]["parts"][0]["response"].endswith("…[truncated 5000 bytes]")
    assert result[0]["parts"][0]["name"] == "f"
    assert_valid(INPUT, result)


def test_middle_messages_are_dropped() -> None:
    """When cutting strings is not enough, middle messages give way to a marker message."""
    value = conversation(200, 100)
    result = fit_json_structured(value, 4096)
    assert size(fit_json(value, 4096)) <= 4096
    markers = [m for m in result if m["role"] == "otel_llm"]
    assert len(markers) == 1
    marker_at = result.index(markers[0])
    dropped = markers[0]["parts"][0]["messages_dropped"]
    assert markers[0]["parts"] == [{"type": "truncated", "messages_dropped": dropped}]
    assert len(result) - 1 + dropped == 200
    head = result[:marker_at]
    tail = result[marker_at + 1 :]
    assert head[0]["parts"][0]["content"].startswith("message 0 ")
    assert tail[-1]["parts"][0]["content"].startswith("message 199 ")
    assert abs(len(head) - len(tail)) <= 1
    assert_valid(INPUT, result)


def test_dropping_keeps_what_fits_then_spends_the_rest() -> None:
    """After dropping, kept messages are re-cut from their full text with the room left over."""
    value = conversation(100, 3000)
    text = fit_json(value, 8192)
    assert 8192 - 100 < size(text) <= 8192
    assert_valid(INPUT, json.loads(text))


def test_last_resort_marker() -> None:
    """If even one message cannot fit, the result is a single marker with the original size."""
    value = [{"role": "user", "parts": [text_part("p") for _ in range(500)]}]
    original = size(compact(value))
    assert fit_json_structured(value, 256) == [
        {"role": "otel_llm", "parts": [{"type": "truncated", "original_bytes": original}]}
    ]
    assert size(fit_json(value, 256)) <= 256
    assert_valid(INPUT, fit_json_structured(value, 256))


def test_output_messages_stay_schema_valid_when_shrunk() -> None:
    """Shrunk output messages (dropped choices, last resort) still carry a finish_reason."""
    choices = [
        {"role": "assistant", "parts": [text_part("answer " * 200)], "finish_reason": "stop"}
        for _ in range(40)
    ]
    for budget in (256, 300, 1000, 5000):
        result = fit_json_structured(choices, budget)
        assert size(fit_json(choices, budget)) <= budget
        assert_valid(OUTPUT, result)
    one = [
        {
            "role": "assistant",
            "parts": [text_part("x") for _ in range(300)],
            "finish_reason": "stop",
        }
    ]
    assert fit_json_structured(one, 256)[0]["finish_reason"] == "truncated"
    assert_valid(OUTPUT, fit_json_structured(one, 256))


def test_system_instructions_and_tool_definitions_last_resort_valid() -> None:
    """Lists of parts or tool definitions shrink to a marker that their schemas still accept."""
    system = [text_part("rule") for _ in range(200)]
    tools = [{"type": "function", "name": f"tool_{i}"} for i in range(200)]
    assert_valid(SYSTEM, fit_json_structured(system, 256))
    assert_valid(TOOLS, fit_json_structured(tools, 256))
    assert size(fit_json(tools, 256)) <= 256


def test_realistic_conversation_fits_every_budget_and_stays_valid() -> None:
    """Converted provider data fits each budget from 256 bytes up and stays schema-valid."""
    messages = anthropic.input_messages(
        [
            {"role": "user", "content": "Describe Paris in detail. " * 80},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Long musing… " * 100},
                    {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "ü" * 900}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "Ω" * 2000}],
            },
            {"role": "user", "content": [{"type": "text", "text": "Thanks! " * 50}]},
        ]
    )
    for budget in range(256, 12_000, 331):
        text = fit_json(messages, budget)
        assert size(text) <= budget
        assert json.loads(text) == fit_json_structured(messages, budget)
        assert_valid(INPUT, json.loads(text))


def test_five_megabyte_prompt_fits_sixteen_kib() -> None:
    """A 5 MB prompt with a 16 KiB budget yields at most 16 KiB that keeps the prompt's start."""
    prompt = "Summarise the following log.\n" + "2026-01-01 INFO request served in 12ms\n" * 130_000
    assert size(prompt) > 5_000_000
    messages = openai.chat_input(
        [{"role": "system", "content": "You summarise logs."}, {"role": "user", "content": prompt}]
    )
    text = fit_json(messages, 16 * 1024)
    assert size(text) <= 16 * 1024
    result = json.loads(text)
    assert result[0]["parts"][0]["content"] == "You summarise logs."
    assert result[1]["parts"][0]["content"].startswith("Summarise the following log.\n")
    assert result[1]["parts"][0]["content"].endswith(f"…[truncated {size(prompt)} bytes]")
    assert_valid(INPUT, result)


def test_thousands_of_strings_fit() -> None:
    """Many thousands of strings are cut in one pass and the result fits."""
    value = conversation(5000, 300)
    text = fit_json(value, 16 * 1024)
    assert size(text) <= 16 * 1024
    assert_valid(INPUT, json.loads(text))


def test_non_json_values_are_sanitised() -> None:
    """NaN, objects, tuples, non-string keys and lone surrogates become valid JSON, not errors."""
    value = [
        {
            "role": "user",
            "parts": [
                {
                    "type": "tool_call",
                    "name": "f",
                    "arguments": {1: float("nan"), "o": object(), "t": (1, 2), "s": "bad \ud800"},
                }
            ],
        }
    ]
    text = fit_json(value, 1024)
    args = json.loads(text)[0]["parts"][0]["arguments"]
    assert args["1"] == "nan"
    assert args["t"] == [1, 2]
    assert args["s"] == "bad ?"
    assert args["o"].startswith("<object object")
    assert fit_json("plain string", 256) == '"plain string"'
    assert size(fit_json("é" * 10_000, 256)) <= 256


def test_structures_nested_past_the_depth_limit_become_a_marker() -> None:
    """A 3,000-deep list (a pathological tool result) is cut with a marker, not a RecursionError."""
    deep: list[Any] = []
    node = deep
    for _ in range(3000):
        node.append([])
        node = node[0]
    text = fit_json({"role": "tool", "content": deep}, 16384)
    assert "nested deeper than 64 levels" in text
    json.loads(text)


def test_an_object_whose_str_fails_is_recorded_by_type() -> None:
    """A user object with a raising __str__ is named by its type instead of failing the span."""

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert "<unprintable Hostile>" in fit_json({"content": Hostile()}, 1024)


class _Text(str):
    """A str subclass: the fast path leaves it to the full path."""


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities included
    st.text(),  # lone surrogates included
    st.builds(_Text, st.text(max_size=5)),
)
_keys = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.floats())
_json_like = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(value=_json_like, budget=st.sampled_from([256, 4096, 1 << 20]))
def test_fast_path_gives_the_text_of_the_full_path(value: Any, budget: int) -> None:
    """Plain values skip the cleaning walk; whatever the value, the text is the full path's."""
    assert fit_json(value, budget) == _fit(value, budget)[1]


def test_fast_path_respects_the_depth_limit() -> None:
    """A plain structure nested exactly past the limit still gets the marker, not its contents."""
    for depth in (62, 63, 64, 65):
        value: Any = "leaf"
        for _ in range(depth):
            value = [value]
        assert fit_json(value, 1 << 20) == _fit(value, 1 << 20)[1]
    assert "nested deeper" in fit_json(value, 1 << 20)


# --- Redact before cutting ---------------------------------------------------------------------
def kept_chars(value_for: Callable[[str], Any], total: int, budget: int) -> int:
    """How many characters of a `total`-character filler string a cut to `budget` keeps."""
    fitted = fit_json_structured(value_for(FILLER * total), budget)
    return len(json.dumps(fitted, ensure_ascii=False).split(TRUNCATED)[0].rsplit('"', 1)[1])


def messages_of(text: str) -> Any:
    """One user message holding `text`, as the content converters produce it."""
    return [{"role": "user", "parts": [text_part(text)]}]


def _tool_result(text: str) -> Any:
    return {"rows": [{"note": text, "id": 7}]}


@pytest.mark.parametrize("value_for", [messages_of, _tool_result], ids=["messages", "tool_result"])
@pytest.mark.parametrize(("prefix", "secret"), FINDINGS, ids=["aws_secret", "email", "card"])
def test_json_cut_never_exports_part_of_a_finding(
    value_for: Callable[[str], Any], prefix: str, secret: str
) -> None:
    """At every cut position around a finding in a JSON string, no piece of it is exported."""
    budget, total = 512, 2000
    room = kept_chars(value_for, total, budget)
    redact = redactor_text()
    exporter = Redactor()
    for start, text in straddling_texts(prefix, secret, room, total):
        for fitted in (
            fit_json(value_for(text), budget, redact),
            compact(fit_json_structured(value_for(text), budget, redact)),
        ):
            assert size(fitted) <= budget
            exported, _ = exporter.redact_value("gen_ai.input.messages", fitted)
            assert isinstance(exported, str)
            assert leaked_fragment(exported, secret) is None, (start, exported)


# The AWS secret is left out: its label alone now marks any value after it as a secret.
@pytest.mark.parametrize(("prefix", "secret"), FINDINGS[1:], ids=["email", "card"])
def test_json_cut_without_redaction_would_leak(prefix: str, secret: str) -> None:
    """The same cuts without a redactor leave most of the finding for nothing to catch."""
    budget, total = 512, 2000
    room = kept_chars(messages_of, total, budget)
    exporter = Redactor()
    leaks = []
    for _, text in straddling_texts(prefix, secret, room, total):
        exported, _ = exporter.redact_value("x", fit_json(messages_of(text), budget))
        leaks.append(leaked_fragment(str(exported), secret))
    assert any(leak is not None and len(leak) >= len(secret) - 6 for leak in leaks)


def test_values_that_fit_are_not_redacted_here() -> None:
    """Only a value that must be cut is redacted here; the rest is left to the processor."""
    calls: list[str] = []
    redact = recording(calls)
    value = messages_of(f"write to {EMAIL}")
    assert fit_json(value, 4096, redact) == compact(value)
    assert fit_json_structured(value, 4096, redact) == value
    assert calls == []


def test_each_cut_string_is_redacted_once_even_when_messages_are_dropped() -> None:
    """A string cut, restored and cut again (middle messages dropped) is redacted only once."""
    calls: list[str] = []

    def redact(text: str, start: int, stop: int, margin: int) -> tuple[str, int, int]:
        calls.append(text)
        return text[start:stop].replace(EMAIL, "[REDACTED:email]"), start, stop

    value = conversation(40, 600)
    value[0]["parts"][0]["content"] = EMAIL + "x" * 2000
    text = fit_json(value, 2048, redact)
    assert size(text) <= 2048
    assert EMAIL not in text
    assert len(calls) == len(set(calls))


def test_redaction_that_makes_a_string_fit_leaves_it_uncut() -> None:
    """A string that fits its cap once redacted is kept whole, without a truncation marker."""
    key = "-----BEGIN PRIVATE KEY-----" + "A" * 3000 + "-----END PRIVATE KEY-----"
    value = messages_of("my key: " + key)
    fitted = fit_json_structured(value, 512, redactor_text())
    assert fitted[0]["parts"][0]["content"] == "my key: [REDACTED:secret]"
