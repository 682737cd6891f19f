"""Tests for the key names: which keys are never scanned and which name a credential."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otel_llm.redaction._keys import DEFAULT_SAFE_KEYS, is_credential_name, may_name_credential

CREDENTIALS = [
    "password",
    "PassWord",
    "db.password",
    "DB_PASSWORD",
    "password2",
    "new_password",
    "password_confirmation",
    "passwordConfirmation",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "client_secret",
    "clientSecret",
    "aws_secret_access_key",
    "secretAccessKey",
    "api_key",
    "apiKey",
    "api-key",
    "X-Api-Key",
    "x-api-key",
    "OPENAI_API_KEY",
    "api_keys",
    "private_key",
    "privateKey",
    "token",
    "session_token",
    "sessionToken",
    "access_token",
    "refresh_tokens",
    "id_token",
    "XSRF-TOKEN",
    "next_page_token",
    "cookie",
    "Cookie",
    "set-cookie",
    "Set-Cookie",
    "http.request.header.cookie",
    "http.response.header.set-cookie",
    "authorization",
    "Proxy-Authorization",
    "http.request.header.authorization",
    "credentials",
    "creds",
    "\u017fecret",  # long s: a case-insensitive match reads it as "secret"
]
NOT_CREDENTIALS = [
    "max_tokens",
    "maxTokens",
    "input_tokens",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.request.max_tokens",
    "token_count",
    "tokenCount",
    "tokens",
    "gen_ai.token.type",
    "tokenizer",
    "eos_token",
    "pad_token",
    "gen_ai.server.time_to_first_token",
    "timeToFirstToken",
    "time_to_last_token",
    "cache_key",
    "primary_key",
    "api_key_id",
    "private_key_id",
    "token_type",
    "password_hint",
    "secret_name",
    "key",
    "author",
    "session_id",
    "content",
    "",
]


@pytest.mark.parametrize("key", CREDENTIALS)
def test_credential_names_are_recognised(key: str) -> None:
    """Passwords, secrets, API keys, tokens, cookies and authorization headers, however spelled."""
    assert is_credential_name(key)
    assert may_name_credential(key)


@pytest.mark.parametrize("key", NOT_CREDENTIALS)
def test_counts_ids_and_vocabulary_are_not_credentials(key: str) -> None:
    """Token counts, tokenizer vocabulary, ids and hints are not secrets."""
    assert not is_credential_name(key)


def test_usage_counts_are_safe_keys_and_not_credentials() -> None:
    """Every gen_ai.usage.* key is never scanned, and none of them names a credential."""
    usage = [key for key in DEFAULT_SAFE_KEYS if key.startswith("gen_ai.usage.")]
    assert usage
    assert not any(is_credential_name(key) for key in usage)


KEY_PARTS = st.sampled_from(
    [
        *("api", "key", "Key", "KEY", "token", "Token", "tokens", "pass", "word", "PASS", "wd"),
        *("secret", "access", "private", "cookie", "id", "max", "eos", "new", "confirm", "2"),
        *("_", "-", ".", " ", "é", "\u017f", "\u212a", "\u0130", "\u0131", "x", "auth", "s"),
        "creds",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(KEY_PARTS, max_size=8).map("".join))
def test_the_stem_check_never_misses_a_credential_name(key: str) -> None:
    """The fast path's stem search finds every key the full walk calls a credential."""
    if is_credential_name(key):
        assert may_name_credential(key)
        assert may_name_credential(f'{{"content":"hi","{key}":"x"}}')
