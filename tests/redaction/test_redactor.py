"""Tests for the Redactor: tokens, HMAC, overlaps, structure-aware values, fail-closed, config."""

import hashlib
import hmac
import json
import logging
import re
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from otel_llm.config import ConfigError, Settings
from otel_llm.redaction import (
    DEFAULT_SAFE_KEYS,
    FAILED_TOKEN,
    Finding,
    RedactionResult,
    Redactor,
    _redactor,
)
from semconvgen.model import Registry
from tests.redaction import load_corpus

EMAIL = "jane.doe@example.com"
MESSAGES = "gen_ai.input.messages"


def test_replaces_findings_with_kind_tokens_and_reports_their_offsets() -> None:
    """Each finding becomes [REDACTED:<kind>]; offsets point into the original text."""
    text = f"mail {EMAIL} or call +1 415 555 0132"
    result = Redactor().redact(text)
    assert result == RedactionResult(
        "mail [REDACTED:email] or call [REDACTED:phone]",
        (Finding("email", 5, 25), Finding("phone", 34, 49)),
    )
    assert [text[f.start : f.end] for f in result.findings] == [EMAIL, "+1 415 555 0132"]


def test_text_without_findings_is_returned_as_is() -> None:
    """A clean text comes back as the same object with no findings (the cheap path)."""
    text = "The model answered in 1.2 s with 42 tokens at 10:30."
    result = Redactor().redact(text)
    assert result.text is text
    assert result.findings == ()


def test_hmac_tokens_are_deterministic_per_key() -> None:
    """With a key, equal values give equal 8-hex tokens; another key or value gives another."""
    pattern = re.compile(r"\[REDACTED:email:([0-9a-f]{8})\]")
    first = Redactor(hmac_key="k1").redact(f"{EMAIL} and {EMAIL} and other@example.com").text
    tokens = pattern.findall(first)
    assert len(tokens) == 3
    assert tokens[0] == tokens[1] != tokens[2]
    again = Redactor(hmac_key=b"k1").redact(EMAIL).text
    assert pattern.findall(again) == tokens[:1]
    other_key = Redactor(hmac_key="k2").redact(EMAIL).text
    assert pattern.findall(other_key) != tokens[:1]


def test_hmac_token_is_hmac_sha256_of_the_value() -> None:
    """The token's hex is the first 8 of HMAC-SHA256(key, value), so it can be recomputed."""
    digest = hmac.new(b"secret-key", EMAIL.encode(), hashlib.sha256).hexdigest()[:8]
    assert Redactor(hmac_key="secret-key").redact(EMAIL).text == f"[REDACTED:email:{digest}]"


def test_empty_hmac_key_is_rejected() -> None:
    """An empty key would make the hash an unkeyed, reversible one, so it is refused."""
    with pytest.raises(ValueError, match="hmac_key"):
        Redactor(hmac_key="")


def test_overlaps_keep_the_earliest_then_longest_finding() -> None:
    """Overlapping findings resolve to the earliest start, then the longest; tails stay hidden."""
    redactor = Redactor(extra_patterns={"short": r"jane\.doe", "inner": r"doe@example"})
    result = redactor.redact(f"to {EMAIL}.")
    assert result.text == "to [REDACTED:email]."
    assert result.findings == (Finding("email", 3, 23),)

    chained = Redactor(extra_patterns={"a": "foo bar", "b": "bar baz"}).redact("foo bar baz!")
    assert chained.text == "[REDACTED:custom][REDACTED:custom]!"
    assert chained.findings == (Finding("custom", 0, 7), Finding("custom", 7, 11))


def test_disabled_kinds_are_not_redacted() -> None:
    """A disabled kind passes through while the others are still redacted."""
    text = f"{EMAIL} from 10.0.0.7"
    assert Redactor(disabled=["email"]).redact(text).text == f"{EMAIL} from [REDACTED:ip_address]"


def test_unknown_disabled_kind_is_rejected() -> None:
    """Disabling a kind that does not exist is a mistake worth stopping for."""
    with pytest.raises(ValueError, match="emails"):
        Redactor(disabled=["emails"])


def test_extra_patterns_have_kind_custom() -> None:
    """User patterns are redacted with kind custom, alongside the built-in detectors."""
    redactor = Redactor(extra_patterns={"employee id": r"EMP-\d{6}"})
    assert redactor.redact("EMP-123456 wrote").text == "[REDACTED:custom] wrote"


def test_extra_pattern_that_does_not_compile_is_rejected() -> None:
    """A broken user regex fails at construction, naming the pattern."""
    with pytest.raises(ValueError, match="'broken'"):
        Redactor(extra_patterns={"broken": "(unclosed"})


def test_callback_sees_key_and_redacted_text_and_counts_as_custom() -> None:
    """The callback gets (key, text after patterns); a changed result is one custom finding."""
    seen: list[tuple[str, str]] = []

    def callback(key: str, text: str) -> str | None:
        seen.append((key, text))
        return text.replace("Acme", "[REDACTED:custom]") if "Acme" in text else None

    redactor = Redactor(callback=callback)
    value, findings = redactor.redact_value("gen_ai.system_instructions", f"Acme: {EMAIL}")
    assert value == "[REDACTED:custom]: [REDACTED:email]"
    assert [f.kind for f in findings] == ["email", "custom"]
    assert seen == [("gen_ai.system_instructions", "Acme: [REDACTED:email]")]
    assert redactor.redact("nothing here").findings == ()
    assert seen[-1] == ("", "nothing here")


def test_raising_callback_fails_closed(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callback that raises turns the value into [REDACTED:failed], logging no raw value."""
    monkeypatch.setattr(_redactor, "_reported", set())  # the warning is logged once per process

    def callback(key: str, text: str) -> str | None:
        raise RuntimeError("boom")

    redactor = Redactor(callback=callback)
    with caplog.at_level(logging.WARNING, logger="otel_llm.redaction"):
        result = redactor.redact(f"secret stuff {EMAIL}")
    assert result == RedactionResult(FAILED_TOKEN, (Finding("failed", 0, 33),))
    assert redactor.redact_value("k", "abc") == (FAILED_TOKEN, (Finding("failed", 0, 3),))
    assert EMAIL not in caplog.text
    assert "RuntimeError" in caplog.text


def test_callback_returning_a_non_string_fails_closed() -> None:
    """A callback result that is neither a string nor None is an error, so the value is dropped."""
    redactor = Redactor(callback=lambda key, text: 42)  # type: ignore[arg-type, return-value]
    assert redactor.redact("abc").text == FAILED_TOKEN


def test_internal_error_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any exception while redacting, not only the callback's, yields [REDACTED:failed]."""
    redactor = Redactor()

    def broken(text: str) -> list[tuple[int, int, str]]:
        raise IndexError("bug")

    monkeypatch.setattr(redactor, "_find", broken)
    assert redactor.redact(EMAIL).text == FAILED_TOKEN
    messages = json.dumps([{"role": "user", "content": EMAIL}])
    assert redactor.redact_value(MESSAGES, messages) == (
        FAILED_TOKEN,
        (Finding("failed", 0, len(messages)),),
    )
    redacted, findings = redactor.redact_mapping(
        {MESSAGES: messages, "gen_ai.usage.input_tokens": 3}
    )
    # The key is scanned too (it is not a safe key), and fails closed the same way.
    assert redacted == {FAILED_TOKEN: FAILED_TOKEN, "gen_ai.usage.input_tokens": 3}
    assert [f.kind for f in findings] == ["failed", "failed"]


def test_safe_keys_are_returned_untouched() -> None:
    """Values under safe keys (ids, models, counts) are never scanned, whatever they look like."""
    redactor = Redactor()
    for key in ("gen_ai.response.id", "gen_ai.request.model", "server.address"):
        assert redactor.redact_value(key, "10.0.0.7") == ("10.0.0.7", ())
    assert redactor.redact_value("gen_ai.usage.input_tokens", 4111111111111111) == (
        4111111111111111,
        (),
    )
    custom = Redactor(safe_keys={"my.key"})
    assert custom.redact_value("my.key", EMAIL) == (EMAIL, ())
    assert custom.redact_value("gen_ai.response.id", EMAIL)[0] == "[REDACTED:email]"


def test_json_content_stays_valid_json_with_keys_kept() -> None:
    """Message JSON has its string leaves redacted and is re-serialised compactly as valid JSON."""
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": f"Hi, I'm {EMAIL} ☕"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "lookup",
                    "arguments": {"ip": "10.0.0.7", "attempts": 3, "dry_run": False},
                }
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "response": [EMAIL, None]}]},
    ]
    value, findings = Redactor().redact_value(MESSAGES, json.dumps(messages, indent=2))
    assert isinstance(value, str)
    parsed = json.loads(value)
    assert parsed[0]["parts"][0]["content"] == "Hi, I'm [REDACTED:email] ☕"
    assert parsed[1]["parts"][0]["arguments"] == {
        "ip": "[REDACTED:ip_address]",
        "attempts": 3,
        "dry_run": False,
    }
    assert parsed[2]["parts"][0]["response"] == ["[REDACTED:email]", None]
    assert value == json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))
    assert Counter(f.kind for f in findings) == {"email": 2, "ip_address": 1}


def test_json_keys_are_redacted_like_values() -> None:
    """An object key that is an e-mail address is as much content as a value: it is redacted."""
    value, findings = Redactor().redact_value("gen_ai.tool.call.result", json.dumps({EMAIL: EMAIL}))
    assert json.loads(str(value)) == {"[REDACTED:email]": "[REDACTED:email]"}
    assert [f.kind for f in findings] == ["email", "email"]


def test_json_string_nested_in_json_is_redacted_and_kept_valid() -> None:
    """Tool-call arguments serialised as a JSON string inside message JSON are redacted too."""
    arguments = json.dumps({"email": EMAIL})
    messages = json.dumps([{"role": "assistant", "tool_calls": [{"arguments": arguments}]}])
    value, _ = Redactor().redact_value(MESSAGES, messages)
    inner = json.loads(json.loads(str(value))[0]["tool_calls"][0]["arguments"])
    assert inner == {"email": "[REDACTED:email]"}


def test_clean_json_is_returned_unchanged() -> None:
    """JSON with nothing to redact is returned byte for byte, not re-serialised."""
    pretty = json.dumps([{"role": "user", "content": "hello"}], indent=2)
    assert Redactor().redact_value(MESSAGES, pretty) == (pretty, ())


def test_text_that_only_starts_like_json_is_redacted_as_text() -> None:
    """A string starting with '{' that is not JSON is scanned as plain text."""
    assert Redactor().redact_value("note", "{oops " + EMAIL)[0] == "{oops [REDACTED:email]"


def test_values_under_credential_keys_are_secrets_whatever_they_look_like() -> None:
    """A string under a password/api_key/authorization key is redacted whole as a secret."""
    redactor = Redactor()
    config = json.dumps({"db": {"user": "app", "password": "hunter2"}, "api_key": "abc"})
    value, findings = redactor.redact_value("gen_ai.tool.call.arguments", config)
    assert json.loads(str(value)) == {
        "db": {"user": "app", "password": "[REDACTED:secret]"},
        "api_key": "[REDACTED:secret]",
    }
    assert [f.kind for f in findings] == ["secret", "secret"]
    header = redactor.redact_value("http.request.header.authorization", "Basic dXNlcjpw")
    assert header == ("[REDACTED:secret]", (Finding("secret", 0, 14),))
    assert redactor.redact_value("gen_ai.usage.output_tokens_detail", "12") == ("12", ())
    assert Redactor(disabled=["secret"]).redact_value("db.password", "hunter2")[0] == "hunter2"


def test_sequences_numbers_and_bytes() -> None:
    """String sequences are redacted item by item (type kept); clean numbers, bools pass."""
    redactor = Redactor()
    assert redactor.redact_value("tags", [EMAIL, "ok"]) == (
        ["[REDACTED:email]", "ok"],
        (Finding("email", 0, 20),),
    )
    assert redactor.redact_value("tags", (EMAIL,))[0] == ("[REDACTED:email]",)
    clean = ["a", "b"]
    assert redactor.redact_value("tags", clean)[0] is clean
    for value in (3, 2.5, True, b"no address here", None, 0.4532015112830366):
        assert redactor.redact_value("x", value) == (value, ())


def test_redact_mapping_handles_nested_event_values() -> None:
    """Span and event attributes, nested dicts and lists included, come back redacted."""
    attributes: dict[str, Any] = {
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.input.messages": [
            {"role": "user", "parts": [{"type": "text", "content": f"I am {EMAIL}"}]}
        ],
        "gen_ai.system_instructions": f"Escalate to {EMAIL}",
    }
    redacted, findings = Redactor().redact_mapping(attributes)
    assert redacted == {
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.input.messages": [
            {"role": "user", "parts": [{"type": "text", "content": "I am [REDACTED:email]"}]}
        ],
        "gen_ai.system_instructions": "Escalate to [REDACTED:email]",
    }
    assert [f.kind for f in findings] == ["email", "email"]
    assert attributes["gen_ai.system_instructions"] == f"Escalate to {EMAIL}"  # not mutated


def test_default_safe_keys_are_registered_attributes(registry: Registry) -> None:
    """Every default safe key is a registered attribute (no typos), bar legacy and log fields."""
    unregistered = DEFAULT_SAFE_KEYS - set(registry.attributes)
    assert unregistered <= {"gen_ai.system", "trace_id", "span_id"}


# --- from_settings and the configuration file -------------------------------------------


def test_from_settings_returns_none_when_redaction_is_off() -> None:
    """OTEL_LLM_REDACTION_ENABLED=false means no Redactor at all."""
    assert Redactor.from_settings(Settings(redaction_enabled=False)) is None


def test_from_settings_defaults_and_hmac_key() -> None:
    """Without a file the defaults apply; the HMAC key setting switches tokens to hashes."""
    plain = Redactor.from_settings(Settings())
    assert plain is not None
    assert plain.redact(EMAIL).text == "[REDACTED:email]"
    keyed = Redactor.from_settings(Settings(redaction_hmac_key="k"))
    assert keyed is not None
    assert re.fullmatch(r"\[REDACTED:email:[0-9a-f]{8}\]", keyed.redact(EMAIL).text)


def test_config_file_applies_every_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """disabled, extra_patterns, safe_keys (added to the defaults) and callback all take effect."""
    (tmp_path / "redaction_hooks.py").write_text(
        "def shout(key, text):\n    return text.replace('ACME', '[REDACTED:custom]')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / "redaction.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            disabled: [ip_address]
            extra_patterns:
              ticket: "TCK-[0-9]{4}"
            safe_keys: [app.user_email]
            callback: redaction_hooks:shout
            """
        )
    )
    redactor = Redactor.from_settings(Settings(redaction_config=str(config)))
    assert redactor is not None
    assert redactor.redact(f"ACME TCK-1234 10.0.0.7 {EMAIL}").text == (
        "[REDACTED:custom] [REDACTED:custom] 10.0.0.7 [REDACTED:email]"
    )
    assert redactor.redact_value("app.user_email", EMAIL) == (EMAIL, ())
    assert "gen_ai.request.model" in redactor.safe_keys


def test_empty_config_file_means_defaults(tmp_path: Path) -> None:
    """An empty file is a valid configuration with nothing changed."""
    config = tmp_path / "empty.yaml"
    config.write_text("")
    redactor = Redactor.from_settings(Settings(redaction_config=str(config)))
    assert redactor is not None
    assert redactor.safe_keys == DEFAULT_SAFE_KEYS


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read"),
        ("disabled: [email\n", "not valid YAML"),
        ("- email\n", "must be a mapping"),
        ("disable: [email]\n", "unknown key(s) disable"),
        ("disabled: [emails]\n", "unknown kind(s) emails"),
        ("disabled: email\n", "disabled must be a list of strings"),
        ("extra_patterns: [a]\n", "extra_patterns must map names"),
        ("extra_patterns: {bad: '(x'}\n", "extra_patterns.bad: '(x' is not RE2 syntax"),
        ("safe_keys: [1, 2]\n", "safe_keys must be a list of strings"),
        ("callback: no_such_module_xyz:f\n", "cannot be imported"),
        ("callback: json\n", "must have the form 'module:function'"),
        ("callback: 'json:nope'\n", "cannot be imported"),
        ("callback: 'json:__doc__'\n", "is not callable"),
        ("callback: 3\n", "callback must be a string"),
    ],
)
def test_config_file_errors_name_the_file_and_the_problem(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    """Every malformed file raises ConfigError naming the path and what is wrong."""
    path = tmp_path / "redaction.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as raised:
        Redactor.from_settings(Settings(redaction_config=str(path)))
    message = str(raised.value)
    assert str(path) in message
    assert problem in message


# --- quality on the benchmark's corpus --------------------------------------------------


def test_recall_and_false_positive_rate_on_the_synthetic_corpus() -> None:
    """On the seeded Faker corpus, recall is at least 95% per kind and FP rate at most 2%.

    Samples with a key (tool arguments with a phone number or an id) are attribute values.
    """
    corpus = load_corpus()
    samples = corpus.generate(per_kind=40, negative_count=400)
    redactor = Redactor()
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    false_positives = negatives = 0
    for sample in samples:
        if sample.key:
            output, findings = redactor.redact_value(sample.key, sample.text)
            text = str(output)
        else:
            result = redactor.redact(sample.text)
            text, findings = result.text, result.findings
        if sample.kind:
            totals[sample.kind] += 1
            kinds = {f.kind for f in findings}
            hits[sample.kind] += sample.value not in text and sample.kind in kinds
        else:
            negatives += 1
            false_positives += bool(findings)
    assert set(totals) == set(corpus.KINDS)
    recall = {kind: hits[kind] / totals[kind] for kind in totals}
    assert all(value >= 0.95 for value in recall.values()), recall
    assert false_positives / negatives <= 0.02


# --- numbers, keys, nesting under credential names, bytes -------------------------------

CARD = 4111111111111111


def test_card_numbers_as_json_numbers_are_redacted() -> None:
    """Tool-call arguments carrying a card as a JSON number lose it; other numbers stay."""
    arguments = json.dumps({"card": CARD, "amount": 42, "ratio": 0.4532015112830366})
    value, findings = Redactor().redact_value("gen_ai.tool.call.arguments", arguments)
    assert json.loads(str(value)) == {
        "card": "[REDACTED:payment_card]",
        "amount": 42,
        "ratio": 0.4532015112830366,
    }
    assert [f.kind for f in findings] == ["payment_card"]
    literal = '{"card": 4111111111111111.0, "n": [1, 4111111111111111e0, 4.111111111111111E15]}'
    value, findings = Redactor().redact_value("gen_ai.tool.call.arguments", literal)
    assert json.loads(str(value)) == {
        "card": "[REDACTED:payment_card]",
        "n": [1, "[REDACTED:payment_card]", "[REDACTED:payment_card]"],
    }
    assert [f.kind for f in findings] == ["payment_card"] * 3


def test_numbers_inside_structured_values_are_redacted() -> None:
    """Ints in structured attribute values and in a number attribute are scanned too."""
    redactor = Redactor()
    nested: Any = {"payment": {"card": CARD, "items": [1, 2]}}
    assert redactor.redact_value("app.order", nested)[0] == {
        "payment": {"card": "[REDACTED:payment_card]", "items": [1, 2]}
    }
    assert redactor.redact_value("app.card", CARD)[0] == "[REDACTED:payment_card]"
    assert redactor.redact_value("app.cards", (CARD, 7))[0] == ("[REDACTED:payment_card]", 7)
    assert redactor.redact_value("gen_ai.usage.input_tokens", CARD) == (CARD, ())  # a safe key


def test_object_keys_are_redacted_and_colliding_keys_keep_their_values() -> None:
    """An e-mail used as a key is redacted; two keys redacting alike keep both values."""
    value, findings = Redactor().redact_value(
        "gen_ai.tool.call.arguments",
        json.dumps({EMAIL: 1, "bob@example.com": 2, "[REDACTED:email]": 3, "ok": 4}),
    )
    assert json.loads(str(value)) == {
        "[REDACTED:email] (2)": 1,
        "[REDACTED:email] (3)": 2,
        "[REDACTED:email]": 3,
        "ok": 4,
    }
    assert [f.kind for f in findings] == ["email", "email"]
    structured: Any = {"by_user": {EMAIL: "note"}}
    assert Redactor().redact_value("app.notes", structured)[0] == {
        "by_user": {"[REDACTED:email]": "note"}
    }


def test_everything_under_a_credential_name_is_a_secret_at_any_depth() -> None:
    """Nested objects, lists and numbers under password/api_key/token are redacted whole."""
    arguments = {
        "password": {"new": "hunter2", "old": ["hunter1", 1234], "strength": None},
        "user": {"pin": 1234, "api_key": 9876543210, "token": {"value": "abc"}},
        "settings": {"max_tokens": 512, "enabled": True},
        "session_token": "",
    }
    value, findings = Redactor().redact_value("gen_ai.tool.call.arguments", json.dumps(arguments))
    assert json.loads(str(value)) == {
        "password": {
            "new": "[REDACTED:secret]",
            "old": ["[REDACTED:secret]", "[REDACTED:secret]"],
            "strength": None,
        },
        "user": {
            "pin": 1234,
            "api_key": "[REDACTED:secret]",
            "token": {"value": "[REDACTED:secret]"},
        },
        "settings": {"max_tokens": 512, "enabled": True},
        "session_token": "",
    }
    assert [f.kind for f in findings] == ["secret"] * 5
    structured: Any = {"credentials": [{"user": "app", "secret": 42}]}
    redacted = Redactor().redact_value("db.connection", structured)[0]
    assert redacted == {
        "credentials": [{"user": "[REDACTED:secret]", "secret": "[REDACTED:secret]"}]
    }
    assert Redactor().redact_value("db.password", 123456)[0] == "[REDACTED:secret]"


@pytest.mark.parametrize(
    "key",
    ["token", "session_token", "cookie", "set-cookie", "x-api-key", "Authorization", "idToken"],
)
def test_opaque_values_under_token_and_cookie_keys_are_secrets(key: str) -> None:
    """Session tokens, cookies and API key headers have no pattern: their key gives them away."""
    headers = json.dumps({key: "a8f5f167f44f4964e6c998dee827110c", "accept": "json"})
    value, _ = Redactor().redact_value("http.headers", headers)
    assert json.loads(str(value)) == {key: "[REDACTED:secret]", "accept": "json"}
    assert Redactor().redact_value(f"http.request.header.{key}", ("v1",))[0] == (
        "[REDACTED:secret]",
    )


@pytest.mark.parametrize("key", ["max_tokens", "input_tokens", "token_count", "eos_token"])
def test_token_counts_and_vocabulary_are_not_secrets(key: str) -> None:
    """LLM settings and usage counts named after tokens pass untouched."""
    settings = json.dumps({key: 512, "label": "fine"})
    assert Redactor().redact_value("gen_ai.request.settings", settings) == (settings, ())


def test_bytes_are_scanned_and_stay_bytes() -> None:
    """UTF-8 and non-UTF-8 bytes are redacted as text and come back as bytes, other bytes kept."""
    redactor = Redactor()
    value, findings = redactor.redact_value("app.raw", f"mail {EMAIL}".encode())
    assert value == b"mail [REDACTED:email]"
    assert [f.kind for f in findings] == ["email"]
    raw = b"\xff\xfe mail " + EMAIL.encode() + b" \x80"
    assert redactor.redact_value("app.raw", raw)[0] == b"\xff\xfe mail [REDACTED:email] \x80"
    document = json.dumps({"api_key": "abc", "note": "hi"}).encode()
    assert json.loads(redactor.redact_value("app.raw", document)[0]) == {  # type: ignore[arg-type]
        "api_key": "[REDACTED:secret]",
        "note": "hi",
    }
    assert redactor.redact_value("db.password", b"hunter2")[0] == b"[REDACTED:secret]"
    clean = b"\x00\x01 no findings"
    assert redactor.redact_value("app.raw", clean)[0] is clean


def test_a_log_body_is_redacted_as_an_attribute_value() -> None:
    """redact_body walks a JSON string body as JSON and keeps a bytes body bytes."""
    redactor = Redactor()
    body, findings = redactor.redact_body('{"api_key": "abc123", "msg": "hi"}')
    assert json.loads(str(body)) == {"api_key": "[REDACTED:secret]", "msg": "hi"}
    assert [f.kind for f in findings] == ["secret"]
    assert redactor.redact_body(EMAIL.encode())[0] == b"[REDACTED:email]"
    assert Redactor(safe_keys={"body"}).redact_body(EMAIL)[0] == "[REDACTED:email]"


def test_a_failure_on_bytes_drops_them_as_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed keeps the type: a bytes value becomes the failed token as bytes."""
    redactor = Redactor()

    def broken(text: str) -> list[tuple[int, int, str]]:
        raise IndexError("bug")

    monkeypatch.setattr(redactor, "_find", broken)
    assert redactor.redact_value("app.raw", b"x") == (
        FAILED_TOKEN.encode(),
        (Finding("failed", 0, 0),),
    )


def test_one_redactor_per_configuration_is_shared(tmp_path: Any) -> None:
    """The same settings give the same Redactor; a changed config file gives a new one."""
    path = tmp_path / "redaction.yaml"
    path.write_text("disabled: [ip_address]\n", encoding="utf-8")
    settings = Settings(redaction_config=str(path))
    first = Redactor.from_settings(settings)
    assert first is Redactor.from_settings(settings)
    assert Redactor.from_settings(Settings()) is not first
    path.write_text("disabled: [ip_address, email]\n", encoding="utf-8")
    changed = Redactor.from_settings(settings)
    assert changed is not first
    assert first is not None
    assert changed is not None
    assert first.redact("mail bob@example.com").text == "mail [REDACTED:email]"
    assert changed.redact("mail bob@example.com").text == "mail bob@example.com"


def test_top_level_keys_are_scanned_and_never_lose_a_value() -> None:
    """An attribute key holding an e-mail is redacted; keys redacted alike are numbered."""
    redactor = Redactor()
    redacted, findings = redactor.redact_mapping(
        {"zqx.leak@quorvandix.com": 1, EMAIL: 2, "[REDACTED:email] (2)": 3, "ok": "x"}
    )
    assert redacted == {
        "[REDACTED:email]": 1,
        "[REDACTED:email] (3)": 2,
        "[REDACTED:email] (2)": 3,
        "ok": "x",
    }
    assert [f.kind for f in findings] == ["email", "email"]
    assert redactor.redact_mapping({"gen_ai.request.model": "m"}) == (
        {"gen_ai.request.model": "m"},
        (),
    )


def test_is_clean_scans_top_level_keys() -> None:
    """The fast path says "not sure" for a key holding a finding, as the full walk redacts it."""
    redactor = Redactor()
    assert redactor.is_clean([{"zqx.leak@quorvandix.com": 1}]) is False
    assert redactor.is_clean([{"app.user_id": 1, "gen_ai.request.model": "x@y.com"}]) is True
