"""What every payload module shares: the JSON type and how a reply is cut into stream pieces."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["Json", "deltas", "fragments", "obfuscation", "words"]

Json = dict[str, Any]
"""A JSON object as the payload builders return it."""

_WORD = re.compile(r"\s*\S+|\s+")


def words(text: str) -> list[str]:
    """`text` as the pieces a model streams: one word each, leading space kept (``" order"``).

    The pieces join back to `text` exactly; an empty text has no pieces.
    """
    return _WORD.findall(text)


def deltas(text: str, pieces: Sequence[str] | None = None) -> list[str]:
    """The stream deltas of `text`: the caller's `pieces`, which must add up to it, or its words."""
    if pieces is None:
        return words(text)
    if "".join(pieces) != text:
        raise ValueError(f"pieces {list(pieces)!r} do not add up to the text {text!r}")
    return list(pieces)


def fragments(text: str, size: int = 8) -> list[str]:
    """`text` (for example a tool call's JSON arguments) cut every `size` characters.

    Providers stream tool arguments in such arbitrary cuts, mid-token and mid-string.
    """
    if size < 1:
        raise ValueError(f"size must be at least 1, not {size}")
    return [text[i : i + size] for i in range(0, len(text), size)]


_PADDING = "Zq1xW8pK3vN0rT5mYb7cLd"


def obfuscation(number: int) -> str:
    """The padding OpenAI adds to the `number`-th stream event (``obfuscation``, on by default).

    Random characters in the API, a few fixed ones here, so events vary in length as recorded.
    """
    return _PADDING[: 2 + (number * 5) % 13]
