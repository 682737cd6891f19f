"""What the simulated provider says: a reply planned from the prompt, whatever the provider."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import threading
from typing import Any, Protocol

__all__ = ["Reply", "Style", "embedding"]

Json = dict[str, Any]

_WORD_TEXT = (
    "the model observes latency tokens span trace metric cost budget prompt reply cache "
    "provider request stream chunk usage account region service signal quality answer "
    "context window retrieval document summary insight pipeline evaluation feedback"
)
_WORDS = _WORD_TEXT.split()

_LEAK = " You can also reach Dana Whitfield at dana.whitfield@example.com or +1 415 555 0132."
_DOC_ID = re.compile(r"\[(doc-[0-9]+)\]")
_LABELS = re.compile(r"one of: ([a-z_]+(?:, [a-z_]+)+)")
_ARTICLE = re.compile(r"\[(doc-[0-9]+)\] [^:\n]*: ([^\n]+)")
_WORD = re.compile(r"[a-z0-9-]+")
_STOPWORDS = frozenset(
    {
        *("a", "an", "the", "i", "my", "me", "we", "our", "you", "your", "is", "am", "are"),
        *("was", "do", "does", "did", "how", "what", "why", "when", "can", "could", "to"),
        *("of", "in", "on", "for", "with", "it", "this", "that", "and", "or", "be", "have"),
        *("has", "not"),
    }
)


class Style(Protocol):
    """How replies read: their length, whether they cite, whether they leak (a Behaviour)."""

    @property
    def output_tokens(self) -> tuple[int, int]:
        """The range a reply's length in words is drawn from."""

    @property
    def pii_rate(self) -> float:
        """Share of replies that leak a customer's e-mail address and phone number."""

    @property
    def citation_skip(self) -> tuple[tuple[str, float], ...]:
        """(marker, rate): share of replies to prompts with `marker` that cite no source."""


def _text_of(value: object) -> str:
    """All text inside a message content value (a string, content parts, or nested blocks)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text_of(item) for item in value)
    if isinstance(value, dict):
        return " ".join(_text_of(value.get(key)) for key in ("text", "content"))
    return ""


def _chunked(text: str) -> list[str]:
    """`text` as stream chunks, one word (with its trailing space) each."""
    words = text.split()
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)] or [text]


def _account_sentence(tool_result: str | None) -> str:
    """A sentence about the customer's account from a crm_account_lookup result."""
    if not tool_result:
        return ""
    try:
        account = json.loads(tool_result)
    except ValueError:
        return ""
    if not isinstance(account, dict) or "error" in account:
        return "I could not look up your account just now, sorry."
    return (
        f"Your account {account.get('account_id')} is {account.get('status')} on the "
        f"{account.get('plan')} plan with {account.get('open_invoices')} open invoice(s)."
    )


def _has_tool_result(message: object) -> bool:
    """Whether `message` returns a tool's result (OpenAI `tool` role, Anthropic `tool_result`)."""
    if not isinstance(message, dict):
        return False
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    return message.get("role") == "tool" or any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in blocks
    )


def _example_value(schema: object) -> object:
    """A plausible value for a JSON-schema property."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    examples: dict[object, object] = {
        "integer": 42,
        "number": 1.5,
        "boolean": True,
        "array": [],
        "object": {},
    }
    return examples.get(kind, "acct_1234")


def _tool_arguments(schema: object) -> Json:
    """JSON arguments for a tool, one example value per property of its parameter schema."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict) or not props:
        return {}
    return {str(name): _example_value(prop) for name, prop in props.items()}


def embedding(text: str, dimension: int) -> list[float]:
    """A unit bag-of-words vector: each word (and its 5-letter stem) hashed to a dimension.

    Texts that share words point the same way, so a vector search over these embeddings finds
    related articles, like a real embedding model would (only cruder).
    """
    raw = [0.0] * dimension
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        for token in {word, word[:5]}:
            raw[hashlib.sha256(token.encode()).digest()[0] % dimension] += 1.0
    if not any(raw):  # No content words: a fixed direction derived from the text.
        digest = hashlib.sha256(text.encode()).digest()
        raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dimension)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _cached(prompt_tokens: int) -> int:
    """Tokens served from the prompt cache: half of long prompts, in 128-token blocks."""
    return (prompt_tokens // 2 // 128) * 128 if prompt_tokens >= 1024 else 0


class Reply:
    """One planned reply to a chat request: what to say and how many tokens it costs.

    Reads the request body's `messages`, `system`, `tools` and token limit as OpenAI and
    Anthropic send them; a provider with another request shape translates into it first.
    `rng` is drawn from under `lock` (the server answers on many threads).
    """

    def __init__(self, body: Json, style: Style, rng: random.Random, lock: threading.Lock) -> None:
        messages = body.get("messages") or []
        texts = [_text_of(body.get("system"))]
        texts += [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
        self.prompt_tokens = max(1, len(" ".join(t for t in texts if t)) // 4)
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        last_user = _text_of(users[-1].get("content")).lower() if users else ""
        self.model = str(body.get("model") or "simulated-model")
        low, high = style.output_tokens
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        with lock:
            count = rng.randint(low, max(low, high))
            cap = limit if isinstance(limit, int) and limit > 0 else count
            words = [rng.choice(_WORDS) for _ in range(min(count, cap))]
        self.truncated = cap < count
        self.output_tokens = len(words)
        words[0] = words[0].capitalize()
        self.chunks = [w + (" " if i < len(words) - 1 else ".") for i, w in enumerate(words)]
        self.text = "".join(self.chunks)
        self.tool: tuple[str, Json] | None = None
        answered = any(_has_tool_result(m) for m in messages)
        self.tool_result = self._tool_result(messages) if answered else None
        for tool in [] if answered else body.get("tools") or []:
            if not isinstance(tool, dict):
                continue
            fn: Json = tool["function"] if isinstance(tool.get("function"), dict) else tool
            name = str(fn.get("name", ""))
            schema = fn.get("parameters", fn.get("input_schema"))
            if name and (name.lower() in last_user or "account" in last_user):
                self.tool = (name, _tool_arguments(schema))
            break  # Only the first tool is ever called.
        if self.tool is not None:
            self.output_tokens = max(1, len(json.dumps(self.tool[1])) // 4 + 10)
        else:
            self._follow_instructions(style, rng, lock, " ".join(texts), last_user)
        self.cached = _cached(self.prompt_tokens)

    def _follow_instructions(
        self, style: Style, rng: random.Random, lock: threading.Lock, prompt: str, question: str
    ) -> None:
        """Answer a classification with one label; cite a source when asked to; maybe leak PII."""
        labels = _LABELS.search(prompt)
        with lock:
            if "case note" in prompt.lower():
                # A note about the exchange; the answer it quotes is not to be answered again.
                topic = " ".join([w for w in _WORD.findall(question) if w not in _STOPWORDS][:8])
                self._replace(_chunked(f"Customer asked about {topic or 'their account'}."))
                return
            if labels is not None:
                options = labels.group(1).split(", ")
                named = [label for label in options if label.split("_")[0] in question]
                self._replace([named[0] if named else rng.choice(options)])
                return
            if "search query" in prompt.lower():
                keywords = [w for w in _WORD.findall(question) if w not in _STOPWORDS]
                self._replace(_chunked(" ".join(keywords) or question))
                return
            sources = _DOC_ID.findall(prompt)
            if sources:
                # Answer from one of the articles in the prompt (and the tool's result, if any).
                doc_id = sources[0] if rng.random() < 0.7 else rng.choice(sources)
                articles = dict(_ARTICLE.findall(prompt))
                parts = [_account_sentence(self.tool_result), articles.get(doc_id, "").strip()]
                parts.append("Anything else I can help with?")
                text = " ".join(p for p in parts if p)
                skip = max(
                    (rate for marker, rate in style.citation_skip if marker in prompt),
                    default=0,
                )
                if "cite" in prompt.lower() and rng.random() >= skip:
                    text = f"{text} [{doc_id}]"
                self._replace(_chunked(text))
            if style.pii_rate > 0 and rng.random() < style.pii_rate:
                self._replace([*self.chunks, _LEAK])

    @staticmethod
    def _tool_result(messages: list[Any]) -> str | None:
        """The content of the last tool result in the conversation, if any."""
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "tool":
                return _text_of(message.get("content"))
            if _has_tool_result(message):
                return _text_of(message.get("content"))
        return None

    def _replace(self, chunks: list[str]) -> None:
        self.chunks = chunks
        self.text = "".join(chunks)
        self.output_tokens = max(1, len(self.text) // 4)
