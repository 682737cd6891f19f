"""Redaction and content JSON handling on adversarial input: bounded time, never an exception.

Each case runs in a worker thread with a generous deadline (a hang or a super-linear blow-up
fails the test instead of stalling the suite); no timing is asserted beyond that deadline.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otel_llm.instrumentation import _fit
from otel_llm.instrumentation.anthropic import _convert as anthropic_convert
from otel_llm.instrumentation.openai import _convert as openai_convert
from otel_llm.redaction import Redactor
from tests.reliability._fuzz import FUZZ

LIMIT_S = 30.0
"""Per case. Linear work on these inputs takes well under a second; quadratic would take hours."""
SIZE = 200_000
"""Characters per hostile string: enough that a quadratic scan could never finish in LIMIT_S."""
SENTINEL = " write to jane.doe@example.com"
"""Appended to every adversarial string: it must still be found after the hostile prefix."""
_T = TypeVar("_T")


def bounded(function: Callable[[], _T]) -> _T:
    """Run `function` in a thread; fail if it has not returned within LIMIT_S."""
    results: list[_T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(function())
        except BaseException as exc:  # re-raised in the test's own thread below
            errors.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(LIMIT_S)
    assert not worker.is_alive(), f"did not finish within {LIMIT_S} s"
    if errors:
        raise errors[0]
    return results[0]


def _nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _repeat(unit: str) -> str:
    return unit * (SIZE // len(unit))


HOSTILE_TEXT: dict[str, str] = {
    "plain": _repeat("Where is my order? It was due on Monday. "),
    "one_long_word": _repeat("a"),
    "at_signs": _repeat("a" * 64 + "@"),
    "dotted_domains": "x@" + _repeat("a."),
    "plus_digits": _repeat("+1 "),
    "card_groups": _repeat("4111 1111 1111 1111 "),
    "digit_dashes": _repeat("1-"),
    "dotted_numbers": _repeat("1."),
    "colons": _repeat(":"),
    "hex_colons": _repeat("ab:"),
    "key_prefixes": _repeat("sk-"),
    "key_bodies": _repeat("sk-" + "a" * 999 + " "),
    "aws_ids": _repeat("AKIA"),
    "secret_labels": _repeat("aws secret access key = "),
    "bearer": _repeat("bearer "),
    "jwt_like": _repeat("eyJ" + "a" * 1000 + "."),
    "private_key_headers": _repeat("-----BEGIN PRIVATE KEY-----"),
    "url_credentials": _repeat("a://b:"),
    "password_labels": _repeat("password="),
    "iban_like": _repeat("DE89 "),
    "nul_bytes": _repeat("\x00"),
    "lone_surrogates": _repeat("\ud800\udfff\udc00"),
    "non_ascii": _repeat("é漢🙂"),
    "json_deep_unclosed": _repeat("["),
    "json_deep_balanced": '{"a":' * 20_000 + "1" + "}" * 20_000,
    "json_wide": json.dumps({f"k{i}": f"value {i}" for i in range(10_000)}),
    "json_array_of_strings": json.dumps(["call me at +1 415 555 0132"] * 5_000),
}


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    """The default redactor, with pseudonymising tokens (the slowest token path)."""
    return Redactor(hmac_key="k")


@pytest.mark.parametrize("name", sorted(HOSTILE_TEXT))
def test_redaction_of_hostile_text_is_bounded_and_still_redacts(
    redactor: Redactor, name: str
) -> None:
    """redact() and redact_value() finish in bounded time, never raise, and leak no email."""
    text = HOSTILE_TEXT[name] + SENTINEL
    result = bounded(lambda: redactor.redact(text))
    assert isinstance(result.text, str)
    assert "jane.doe@example.com" not in result.text
    value, _ = bounded(lambda: redactor.redact_value("gen_ai.input.messages", text))
    assert isinstance(value, str)
    assert "jane.doe@example.com" not in value


def test_redaction_of_wide_and_deep_attribute_values(redactor: Redactor) -> None:
    """Large sequences, many keys and deeply nested JSON strings never raise or leak."""
    many = tuple(f"row {i} {SENTINEL}" for i in range(10_000))
    redacted, findings = bounded(lambda: redactor.redact_value("rows", many))
    assert isinstance(redacted, tuple)
    assert len(findings) == len(many)
    attributes = {f"attribute.{i}": f"value {i}{SENTINEL}" for i in range(5_000)}
    mapping, _ = bounded(lambda: redactor.redact_mapping(attributes))
    assert not any("jane.doe@example.com" in str(v) for v in mapping.values())
    deep = json.dumps(_nested(900, "jane.doe@example.com"))
    value, _ = bounded(lambda: redactor.redact_value("gen_ai.output.messages", deep))
    assert "jane.doe@example.com" not in str(value)


def _fits(value: Any, budget: int) -> None:
    """fit_json's promise: valid UTF-8 JSON within the budget, equal to the structured form."""
    text = bounded(lambda: _fit.fit_json(value, budget))
    assert len(text.encode()) <= budget
    assert json.loads(text) == bounded(lambda: _fit.fit_json_structured(value, budget))


HOSTILE_VALUES: dict[str, Any] = {
    "deep_list_5000": _nested(5_000),
    "deep_list_100": _nested(100),
    "huge_string": "x" * (4 * SIZE),
    "many_messages": [{"role": "user", "parts": [{"type": "text", "content": "hi " * 10}]}] * 5_000,
    "many_leaves": [{"type": "text", "content": "y" * 100} for _ in range(10_000)],
    "surrogates_and_nul": {"\ud800key\x00": ["\udfff" * 10_000, "\x00" * 10_000]},
    "bytes_and_odd_types": {"b": b"\xff\xfe\x00", "set": {1, 2}, "obj": object(), "big": 2**200},
    "non_finite_floats": [float("nan"), float("inf"), -float("inf")] * 1_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_content_json_on_hostile_values_is_bounded_and_fits(name: str) -> None:
    """fit_json / fit_json_structured finish in bounded time, never raise, and keep the budget."""
    for budget in (256, 16_384):
        _fits(HOSTILE_VALUES[name], budget)


def test_content_conversion_of_hostile_messages() -> None:
    """Provider message converters accept bytes, deep tool arguments and odd shapes, then fit."""
    deep_arguments = "[" * 100_000 + "]" * 100_000
    chat = [
        {"role": "user", "content": [{"type": "text", "text": b"\xff\xfe invalid utf-8"}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": b"\x00\xff"}}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c",
                    "type": "function",
                    "function": {"name": "f", "arguments": deep_arguments},
                },
                {
                    "id": 1,
                    "type": "function",
                    "function": {"name": None, "arguments": {"a": b"\xff"}},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c", "content": _nested(3_000)},
        {"role": b"user", "content": "\ud800" * 1000},
        "not a message",
        None,
    ]
    anthropic_messages = [
        {"role": "user", "content": [{"type": "tool_result", "content": [[[[b"\xff"]]]]}]},
        {"role": "assistant", "content": [{"type": "tool_use", "input": _nested(3_000)}]},
        {
            "role": "user",
            "content": [{"type": "image", "source": {"type": "base64", "data": b"\xff"}}],
        },
    ]
    converted = [
        bounded(lambda: openai_convert.chat_input(chat)),
        bounded(lambda: openai_convert.responses_input(chat)),
        bounded(lambda: anthropic_convert.input_messages(anthropic_messages)),
    ]
    for messages in converted:
        _fits(messages, 16_384)


HOSTILE_CHARACTERS = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),  # lone surrogates
    st.sampled_from(["\x00", "@", ".", "-", ":", "{", "[", '"', "\\", "é", "🙂"]),
)


def _jsonish(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=6)
            | st.dictionaries(st.text(HOSTILE_CHARACTERS, max_size=6), children, max_size=6)
        ),
        max_leaves=40,
    )


JSON_VALUES = _jsonish(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(HOSTILE_CHARACTERS)
)
"""What json.dumps accepts (NaN and infinities included), with hostile strings."""
ANY_VALUES = _jsonish(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(HOSTILE_CHARACTERS)
    | st.binary(max_size=8)
)
"""Also bytes, which content parts may carry."""


@FUZZ
@given(value=ANY_VALUES, budget=st.integers(256, 2_048))
def test_fit_json_property(value: Any, budget: int) -> None:
    """Any JSON-like value (surrogates, NUL, bytes, NaN) fits the budget as valid UTF-8 JSON."""
    _fits(value, budget)


@FUZZ
@given(value=JSON_VALUES)
def test_redaction_property(value: Any) -> None:
    """Any value, raw or as a JSON string, is redacted without raising and without the email."""
    redactor = Redactor()
    text = json.dumps([value, SENTINEL])
    redacted, _ = redactor.redact_value("gen_ai.input.messages", text)
    assert "jane.doe@example.com" not in str(redacted)
    result = redactor.redact(str(value) + SENTINEL)
    assert "jane.doe@example.com" not in result.text
