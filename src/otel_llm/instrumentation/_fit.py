"""Structured content fitted into a byte budget as compact JSON, cut without splitting a finding."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from otel_llm._budget import REDACTION_MARGIN, Redact, truncation_marker

_MIN_STRING = 64  # encoded bytes; shorter strings are never cut
_MAX_DEPTH = 64
_TOO_DEEP = f"…[nested deeper than {_MAX_DEPTH} levels]"
_NEVER_CUT = frozenset({"type", "role", "finish_reason"})  # cutting these breaks the schema


@dataclass(slots=True)
class _Leaf:
    """A cuttable string and where it lives, so it can be replaced or restored in place."""

    container: Any
    key: str | int
    text: str


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Built once: json.dumps with arguments builds a new encoder on every call."""


def _dumps(value: object) -> str:
    return _ENCODER.encode(value)


def _enc(text: str) -> int:
    return len(_dumps(text).encode())


_ASCII = tuple(_enc(chr(code)) - 2 for code in range(128))  # JSON size of each ASCII char


def _fixed(text: str) -> str:
    return text.encode("utf-8", "replace").decode()  # lone surrogates cannot be UTF-8


def _clean(value: object, leaves: list[_Leaf], depth: int, fix: bool) -> object:
    """A JSON-safe copy of `value`, recording its string leaves; odd types become strings."""
    if isinstance(value, str):
        return _fixed(value) if fix else value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    out: Any
    if depth < _MAX_DEPTH and isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            name = _fixed(name) if fix else name
            out[name] = child = _clean(item, leaves, depth + 1, fix)
            if isinstance(child, str) and name not in _NEVER_CUT:
                leaves.append(_Leaf(out, name, child))
        return out
    if depth < _MAX_DEPTH and isinstance(value, list | tuple):
        out = [_clean(item, leaves, depth + 1, fix) for item in value]
        leaves.extend(_Leaf(out, i, c) for i, c in enumerate(out) if isinstance(c, str))
        return out
    return _clean(_as_text(value, depth), leaves, depth, fix)


def _as_text(value: object, depth: int) -> str:
    """What an odd value is recorded as: its str(), never a deep repr, never an exception."""
    if depth >= _MAX_DEPTH and isinstance(value, Mapping | list | tuple):
        # Not str(value): the repr of a deep structure recurses as deep as the structure.
        return _TOO_DEEP
    try:
        return str(value)
    except Exception:  # A user object whose __str__ fails must not cost the call its span.
        return f"<unprintable {type(value).__name__}>"


def _prepare(value: object) -> tuple[list[Any], list[_Leaf], str, int]:
    """`value` cleaned into a one-item box (so a top-level string is a cuttable leaf), serialised.

    Lone surrogates cannot be UTF-8: only when encoding fails is the value cleaned again with
    them replaced, so the common case costs one walk and one serialisation.
    """
    for fix in (False, True):
        leaves: list[_Leaf] = []
        box: Any = _clean([value], leaves, 0, fix)
        text = _dumps(box[0])
        try:
            return box, leaves, text, len(text.encode())
        except UnicodeEncodeError:
            continue
    raise AssertionError("unreachable: replaced strings always encode")  # pragma: no cover


def _truncate(text: str, cap: int, original: int | None = None) -> str:
    """`text` cut to at most `cap` encoded bytes, ending with a marker of its original size.

    `original` is the size to report when `text` is already a redacted form of the value.
    """
    marker = truncation_marker(len(text.encode()) if original is None else original)
    room = cap - _enc(marker)  # escaped bytes left for the prefix between the quotes
    used = 0
    # Whole characters, so UTF-8 is never split; at most `room` steps, so the total work of
    # all cuts is bounded by the budget rather than by the size of the input.
    for i, char in enumerate(text):
        code = ord(char)
        used += _ASCII[code] if code < 128 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if used > room:
            return text[:i] + marker
    return text + marker


_LeafCut = Callable[[str, int], str]
"""Cuts one string leaf to a cap of encoded bytes (redacting it first when redaction is on)."""


def _leaf_cutter(redact: Redact | None, max_bytes: int) -> _LeafCut:
    """How `_shrink` cuts leaves: as they are, or redacted first (once per leaf per fit).

    The redacted part is the same for every cap (a cap never exceeds `max_bytes`), so a leaf
    cut twice (before and after dropping middle messages) is redacted, and counted, once.
    """
    if redact is None:
        return _truncate
    redacted: dict[str, tuple[str, bool]] = {}

    def cut(text: str, cap: int) -> str:
        known = redacted.get(text)
        if known is None:
            part, first, last = redact(text, 0, min(len(text), max_bytes), REDACTION_MARGIN)
            known = redacted[text] = (part, first == 0 and last == len(text))
        safe, whole = known
        if whole and _enc(safe) <= cap:
            return safe  # redaction alone made it fit
        return _truncate(safe, cap, len(text.encode()))

    return cut


def _shrink(leaves: list[_Leaf], size: int, budget: int, cut_leaf: _LeafCut = _truncate) -> int:
    """Cut the longest strings to one common cap that frees `size - budget` bytes; new size."""
    excess = size - budget
    if excess <= 0:
        return size
    big = sorted(
        ((n, leaf) for leaf in leaves if (n := _enc(leaf.text)) > _MIN_STRING),
        key=lambda pair: pair[0],
        reverse=True,
    )
    # Water-filling: the largest cap L with sum(max(0, n - L)) >= excess, found in one pass.
    cap, total = _MIN_STRING, 0
    for k, (n, _) in enumerate(big, 1):
        total += n
        level = (total - excess) // k
        if level >= (big[k][0] if k < len(big) else _MIN_STRING):
            cap = level
            break
    for n, leaf in big:
        if n <= cap:
            break
        cut = cut_leaf(leaf.text, cap)
        leaf.container[leaf.key] = cut
        size -= n - _enc(cut)
    return size


def _is_messages(value: object) -> TypeGuard[list[Any]]:
    if not isinstance(value, list) or not value:
        return False
    return all(isinstance(m, dict) and "role" in m and "parts" in m for m in value)


def _marker(messages: list[Any], part: dict[str, Any]) -> dict[str, Any]:
    marker: dict[str, Any] = {"role": "otel_llm", "parts": [part]}
    if "finish_reason" in messages[0]:
        marker["finish_reason"] = "truncated"  # output messages require one; ours is synthetic
    return marker


def _drop_middle(messages: list[Any], leaves: list[_Leaf], budget: int) -> list[Any] | None:
    """Keep first and last messages (alternating) around a drop marker; None if none fit."""
    sizes = [len(_dumps(m).encode()) for m in messages]
    n = len(messages)
    marker = _marker(messages, {"type": "truncated", "messages_dropped": n})
    room = budget - 2 - len(_dumps(marker).encode())  # a count of n is the widest marker
    head = tail = 0
    front = True
    failed: set[bool] = set()
    while head + tail < n and len(failed) < 2:
        cost = sizes[head if front else n - 1 - tail] + 1  # the comma before it
        if cost <= room:
            room -= cost
            head, tail = (head + 1, tail) if front else (head, tail + 1)
        else:
            failed.add(front)
        if (not front) not in failed:
            front = not front
    if head + tail == 0:
        return None
    for leaf in leaves:  # the kept messages are re-cut from their full text with the freed room
        leaf.container[leaf.key] = leaf.text
    marker["parts"][0]["messages_dropped"] = n - head - tail
    return [*messages[:head], marker, *messages[n - tail :]]


def _last_resort(value: object, size: int) -> object:
    if _is_messages(value):
        return [_marker(value, {"type": "truncated", "original_bytes": size})]
    # Parts and tool definitions need `type` (and tool definitions a `name`) to stay valid.
    part = {"type": "truncated", "name": "otel_llm", "original_bytes": size}
    return [part] if isinstance(value, list) else part


def _fit(value: object, max_bytes: int, redact: Redact | None = None) -> tuple[Any, str]:
    box, leaves, text, size = _prepare(value)
    if size <= max_bytes:
        return box[0], text
    cut_leaf = _leaf_cutter(redact, max_bytes)
    if _shrink(leaves, size, max_bytes, cut_leaf) <= max_bytes:
        return box[0], _dumps(box[0])
    if _is_messages(box[0]):
        kept = _drop_middle(box[0], leaves, max_bytes)
        if kept is not None:
            kept_box, kept_leaves, _, kept_size = _prepare(kept)
            if _shrink(kept_leaves, kept_size, max_bytes, cut_leaf) <= max_bytes:
                return kept_box[0], _dumps(kept_box[0])
    last = _last_resort(box[0], size)
    return last, _dumps(last)


def fit_json_structured(value: object, max_bytes: int, redact: Redact | None = None) -> Any:
    """`value` as JSON-compatible data whose compact UTF-8 JSON fits in `max_bytes` (>= 256).

    Shrinks in order: cut the longest strings (keeping a prefix and a `…[truncated N bytes]`
    marker with the original size), then replace middle messages with a marker message, then
    return a single marker with the original size. A string is cut only after `redact` ran
    over it (the part kept and a margin past it), so no finding is exported in part; values
    that fit are not redacted here (the redaction processor does that after).
    """
    return _fit(value, max_bytes, redact)[0]


def fit_json(value: object, max_bytes: int, redact: Redact | None = None) -> str:
    """The compact JSON of `fit_json_structured(value, max_bytes, redact)`, serialised once."""
    if _plain(value, 1):
        # Already plain JSON data: serialised as it is, the same text the cleaned copy gives.
        text = _dumps(value)
        try:
            if len(text.encode()) <= max_bytes:
                return text
        except UnicodeEncodeError:
            pass  # lone surrogates: the full path replaces them
    return _fit(value, max_bytes, redact)[1]


_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def _plain(value: object, depth: int) -> bool:
    """Whether `_clean` would copy `value` (at `depth`) unchanged.

    JSON types with str keys, finite floats, containers above the depth limit; exact types
    only, so a subclass takes the full path.
    """
    if type(value) in _PLAIN_SCALARS:
        return True
    if type(value) is float:
        return math.isfinite(value)
    if depth >= _MAX_DEPTH:
        return False
    if type(value) is dict:
        return all(type(key) is str and _plain(item, depth + 1) for key, item in value.items())
    if type(value) is list or type(value) is tuple:
        return all(_plain(item, depth + 1) for item in value)
    return False
