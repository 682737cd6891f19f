"""Attribute keys: the ones never scanned, and the ones naming a credential."""

from __future__ import annotations

import re

_SAFE_KEY_TEXT = (
    # What was called and how: names, enums and parameters the developer chose.
    "gen_ai.operation.name gen_ai.provider.name gen_ai.system gen_ai.request.model "
    "gen_ai.response.model gen_ai.request.max_tokens gen_ai.request.temperature "
    "gen_ai.request.top_p gen_ai.request.top_k gen_ai.request.frequency_penalty "
    "gen_ai.request.presence_penalty gen_ai.request.seed gen_ai.request.choice.count "
    "gen_ai.request.stream gen_ai.request.encoding_formats gen_ai.request.reasoning.level "
    "gen_ai.output.type gen_ai.token.modality gen_ai.response.finish_reasons "
    "gen_ai.response.time_to_first_chunk gen_ai.embeddings.dimension.count "
    "gen_ai.agent.name gen_ai.tool.name gen_ai.tool.type gen_ai.prompt.name "
    "gen_ai.prompt.version gen_ai.workflow.name gen_ai.evaluation.name "
    "gen_ai.evaluation.score.value gen_ai.conversation.compacted "
    # Identifiers, which dashboards join on; opaque by construction.
    "gen_ai.response.id gen_ai.request.previous_response.id gen_ai.conversation.id "
    "gen_ai.agent.id gen_ai.tool.call.id gen_ai.data_source.id otel_llm.session.id "
    "otel_llm.tenant.id trace_id span_id "
    # Counts.
    "gen_ai.usage.input_tokens gen_ai.usage.output_tokens gen_ai.usage.cache_read.input_tokens "
    "gen_ai.usage.cache_write.input_tokens gen_ai.usage.reasoning.output_tokens "
    "gen_ai.usage.text.input_tokens gen_ai.usage.text.output_tokens "
    "gen_ai.usage.text.cache_read.input_tokens gen_ai.usage.audio.input_tokens "
    "gen_ai.usage.audio.output_tokens gen_ai.usage.audio.cache_read.input_tokens "
    "gen_ai.usage.image.input_tokens gen_ai.usage.image.output_tokens "
    "gen_ai.usage.image.cache_read.input_tokens "
    # The endpoint and the outcome.
    "server.address server.port error.type openai.api.type openai.request.service_tier "
    "openai.response.service_tier openai.response.system_fingerprint otel_llm.request.outcome "
    # otel-llm's own derived values. Not the evaluation and feedback labels: any string a
    # judge or a feedback widget sends is accepted there, so they are scanned (and budgeted).
    "otel_llm.cost.total otel_llm.cost.input otel_llm.cost.output otel_llm.cost.cache_read "
    "otel_llm.cost.cache_write otel_llm.cost.currency otel_llm.cost.price_source "
    "otel_llm.cost.price_version otel_llm.cost.unpriced otel_llm.cost.unpriced_reason "
    "otel_llm.redaction.count otel_llm.redaction.kind otel_llm.redaction.kinds "
    "otel_llm.prompt.template_hash otel_llm.evaluation.passed otel_llm.feedback.score "
    "otel_llm.feedback.sentiment"
)
DEFAULT_SAFE_KEYS: frozenset[str] = frozenset(_SAFE_KEY_TEXT.split())
"""Attribute keys whose values are never scanned: model names, ids, counts, enums, the endpoint."""

# A value under a credential-named key (an attribute, a mapping key or a JSON field, at any
# depth above it) is a secret whatever it looks like: "password": "hunter2" has no pattern.
# Keys are lower-cased and split into words at anything but letters and digits ("X-Api-Key",
# "aws_secret_access_key"); the last word (trailing numbers dropped) decides, whole or as the
# end of a compound ("sessionToken", "clientSecret", "setCookie").
_CREDENTIAL_SUFFIXES = (
    "password",
    "passwords",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "cookie",
    "cookies",
    "apikey",
    "apikeys",
    "secretkey",
    "secretaccesskey",
    "privatekey",
    "authorization",
    "credential",
    "credentials",
    "creds",
)
# "<x>_key(s)": only these are credentials (cache_key, primary_key, sort_key are not).
_KEY_OWNERS = ("api", "secret", "private")
# "tokens" is a count in LLM telemetry (max_tokens, input_tokens); these own real ones.
_TOKEN_OWNERS = frozenset({"access", "refresh", "auth", "session", "api", "bearer", "id", "csrf"})
# Vocabulary tokens of a tokenizer or model configuration, not credentials.
_VOCABULARY = frozenset({"eos", "bos", "pad", "unk", "sep", "cls", "mask", "stop", "special"})
# A token's place in the output (time_to_first_token, timeToLastToken): a timing, not a credential.
_POSITIONS = ("first", "last")
# "password_confirmation", "password_new": the password is the qualified word.
_PASSWORD_QUALIFIERS = frozenset(
    {"confirmation", "confirm", "new", "old", "current", "repeat", "again", "plain", "plaintext"}
)
_WORDS = re.compile(r"[a-z]+|[0-9]+")
_PASSWORD_PREFIX = re.compile(r"passw(?:or)?d")
# Characters a case-insensitive match folds to ASCII letters although str.lower() does not.
_ASCII_FOLD = str.maketrans({"\u017f": "s", "\u212a": "K", "\u0130": "I", "\u0131": "i"})
CREDENTIAL_STEM = (
    r"passw|passphrase|pwd|secret|token|cookie|authorization|credential|creds"
    r"|(?:api|private)[^a-z0-9]*key"
)
"""What every key `is_credential_name` accepts contains, in lower case (the syntax RE2 and
Python's re share); the four characters of FOLD_EXCEPTIONS aside."""
FOLD_EXCEPTIONS = re.compile("[\u0130\u0131\u017f\u212a]")
"""Characters a key may fold to ASCII letters through, which a case-insensitive RE2 (or
str.lower()) does not read as those letters: a text holding one is checked in full."""
_CREDENTIAL_STEM = re.compile(CREDENTIAL_STEM)


def is_credential_name(key: str) -> bool:
    """Whether a key names a credential, so that any value under it is a secret."""
    words: list[str] = _WORDS.findall(key.translate(_ASCII_FOLD).lower())
    while words and words[-1].isdigit():
        words.pop()
    last, before = (words[-1], words[:-1]) if words else ("", [])
    previous = before[-1] if before else ""
    if last in ("key", "keys"):
        found = previous.endswith(_KEY_OWNERS) or before[-2:] == ["secret", "access"]
    elif last.endswith("tokens"):
        found = (previous if last == "tokens" else last[: -len("tokens")]) in _TOKEN_OWNERS
    elif last.endswith("token"):
        vocabulary = previous if last == "token" else last[: -len("token")]
        found = vocabulary not in _VOCABULARY and not vocabulary.endswith(_POSITIONS)
    elif last in _PASSWORD_QUALIFIERS:
        found = any(word.endswith(("password", "passwd")) for word in before)
    else:
        qualified = _PASSWORD_PREFIX.match(last)
        found = last.endswith(_CREDENTIAL_SUFFIXES) or (
            qualified is not None and last[qualified.end() :] in _PASSWORD_QUALIFIERS
        )
    return found


def may_name_credential(text: str) -> bool:
    """Whether `text` could hold a key `is_credential_name` accepts (False: it certainly not)."""
    if not text.isascii() and FOLD_EXCEPTIONS.search(text):
        return True  # rare enough to take the full walk
    return _CREDENTIAL_STEM.search(text.lower()) is not None
