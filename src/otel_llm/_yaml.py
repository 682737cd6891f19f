"""Strict YAML for the files users write: duplicate keys refused, misread scalars explained."""

from __future__ import annotations

import datetime
import math
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING


class _OnFirstUse:
    """PyYAML, imported when first used: only files users write need it (30 ms at start-up)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> object:
        import yaml  # noqa: PLC0415 - the point of this class

        return getattr(yaml, name)


if TYPE_CHECKING:
    import yaml
else:
    yaml = _OnFirstUse()

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The numbers YAML (1.1 and 1.2) and a reader agree on: decimal digits, no leading zero, no `_`,
# no base prefix, no `:`. An exponent is read from the text too (YAML 1.1 takes `1e3` as text).
_NUMBER = re.compile(r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?")
_WHOLE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_READER_DIGITS = re.compile(r"[-+]?[0-9_]*\.?[0-9_]*")


class YamlError(ValueError):
    """The text is not YAML otel-llm accepts; the message says where and why."""


@dataclass(frozen=True)
class Document:
    """A parsed YAML document: its data and the node tree it was built from (None when empty).

    Merge keys (`<<`) are already resolved in the tree: each mapping node holds its merged
    entries, so `node()` finds a merged value at the line of the anchor that gave it.
    """

    data: object
    root: yaml.Node | None
    text: str = ""
    """The text the document was parsed from."""
    problems: tuple[str, ...] = ()
    """Keys given twice and merge conflicts, when loaded with `strict=False`."""

    def node(self, *path: str | int) -> yaml.Node | None:
        """The node at `path` (mapping keys by their text, sequence items by index), or None."""
        node = self.root
        for step in path:
            if isinstance(node, yaml.MappingNode) and isinstance(step, str):
                node = next(
                    (value for key, value in node.value if _plain_text(key) == step),
                    None,
                )
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                node = node.value[step] if 0 <= step < len(node.value) else None
            else:
                return None
        return node

    def key_node(self, *path: str | int, key: object) -> yaml.Node | None:
        """The node of `key` (as constructed) in the mapping at `path`, or None."""
        mapping = self.node(*path)
        if not isinstance(mapping, yaml.MappingNode):
            return None
        for key_node, _ in mapping.value:
            if isinstance(key_node, yaml.ScalarNode) and _construct(key_node) == key:
                return key_node
        return None


def read(path: str | os.PathLike[str], *, strict: bool = True) -> Document:
    """Read and `load` the file at `path`; YamlError says why it cannot be used.

    A file that is not UTF-8 is refused with the position of the first bad byte (a BOM is
    allowed); an empty file (or one of comments only) is a Document with no data.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise YamlError(f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column {column}); "
            "save the file as UTF-8"
        ) from None
    return load(text, strict=strict)


def load(text: str, *, strict: bool = True) -> Document:
    """Parse one YAML document as `yaml.safe_load` does, refusing what it would silently lose.

    YAML keeps the last of two equal keys without a word, and a mapping that merges two others
    (`<<: [*a, *b]`) keeps the first one's value of a key both give; either way a value the user
    wrote is silently dropped. Both are problems (a merged key written again in the mapping
    itself is an override, as YAML defines it): YamlError names each with its path and lines,
    or, unless `strict`, they are listed in `Document.problems` for the caller to report with
    its own (the data then keeps the first of each).
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(None, None, text)
        problems = _Resolver().resolve(root)
        if strict and problems:
            raise YamlError("; ".join(problems))
        return Document(loader.construct_document(root), root, text, tuple(problems))
    except yaml.YAMLError as exc:
        raise YamlError(_describe(exc)) from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
    except ValueError as exc:  # a scalar YAML cannot build, such as the date 2026-13-45
        if isinstance(exc, YamlError):
            raise
        raise YamlError(f"invalid value: {exc}") from None
    finally:
        loader.dispose()


def line(node: yaml.Node | None) -> str:
    """`line N: ` for the start of `node`, or nothing when there is no node."""
    return "" if node is None else f"line {node.start_mark.line + 1}: "


def as_written(node: yaml.Node | None, value: object) -> str:
    """The text of scalar `node` as written in the file, else `value` as a string."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) else str(value)


def written_text(node: yaml.Node | None) -> str | None:
    """The text of a plain scalar YAML cannot have misread: `3` or `2026-11-20`, else None.

    A whole number with no sign, base, separator or leading zero, or a date written
    YYYY-MM-DD, prints back exactly as written, so taking its text loses nothing.
    """
    if not isinstance(node, yaml.ScalarNode) or node.style is not None:
        return None
    text = str(node.value)
    if (node.tag == _INT and _DECIMAL.fullmatch(text)) or (
        node.tag == _TIMESTAMP and _ISO_DATE.fullmatch(text)
    ):
        return text
    return None


def not_text(node: yaml.Node | None, value: object, field: str | None) -> str:
    """Why `value` (under `field`, or a mapping key when None) is not a string, with the fix.

    `010`, `0x2A`, `1:30`, `1.10`, `2026-11-20 10:30`, `yes` are plain scalars YAML turns into
    numbers, times and booleans; quoting them keeps the text as written.
    """
    if value is None:
        return "expected a string, got nothing (null)"
    if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag != _STR:
        written = node.value
        shown = value.isoformat() if isinstance(value, datetime.date) else repr(value)
        fix = f'"{written}":' if field is None else f'{field}: "{written}"'
        return (
            f"YAML reads {written} as {_kind(written, value)} {shown}, not as the text "
            f"{written}; quote it: {fix}"
        )
    return f"expected a string, got {type(value).__name__} {value!r}"


def number(node: yaml.Node | None, *, whole: bool = False) -> Decimal | None:
    """The number written at `node`, exactly as written, or None when it is not a plain one.

    Plain means what YAML and a reader agree on: `3`, `0.15`, `.5`, `-2`, `2.5e-7` (whole: `3`,
    `-2`). The value comes from the text, never through a float, so `0.1` is exactly 0.1.
    `010`, `0x1A`, `1:30`, `1_000`, quoted numbers and `.inf` are not plain (see `not_number`).
    """
    if not isinstance(node, yaml.ScalarNode) or node.style is not None:
        return None
    text = str(node.value)
    if not (_WHOLE if whole else _NUMBER).fullmatch(text):
        return None
    return Decimal(text)


def not_number(node: yaml.Node | None, field: str, *, whole: bool = False) -> str:
    """Why the value at `node` (under `field`) is not a plain number (see `number`), with the fix.

    YAML 1.1 reads `010` as the octal number 8 and `1:30` as 90 (base 60), so such a value is
    never taken: the message says what YAML reads and the plain decimal to write.
    """
    wanted = "a whole number" if whole else "a number"
    if not isinstance(node, yaml.ScalarNode):
        got = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
        return f"expected {wanted}, got {'nothing' if node is None else got}"
    text = str(node.value)
    if node.style is not None:
        if _NUMBER.fullmatch(text.strip()):
            return f"the number is quoted, so it is text: write {field}: {text.strip()}"
        return f"expected {wanted}, got the text {text!r}"
    if node.tag in (_INT, _FLOAT) or _NUMBER.fullmatch(text):
        return _misread_number(node, text, field, wanted, whole=whole)
    got = f"the text {text!r}"
    if node.tag == _NULL:
        got = "nothing (null)"
    elif node.tag in (_BOOL, _TIMESTAMP):
        value = _construct(node)
        shown = value.isoformat() if isinstance(value, datetime.date) else repr(value)
        got = f"{text}, which YAML reads as {_kind(text, value)} {shown}"
    return f"expected {wanted}, got {got}"


def _misread_number(
    node: yaml.ScalarNode, text: str, field: str, wanted: str, *, whole: bool
) -> str:
    value = _construct(node) if node.tag in (_INT, _FLOAT) else Decimal(text)
    if isinstance(value, float) and not math.isfinite(value):
        return f"expected a finite number, got {text}"
    if _NUMBER.fullmatch(text):  # a plain decimal, but not a whole number
        return f"expected {wanted}, got {text}"
    reading = f"YAML reads {text} as {_kind(text, value)} {value!r}"
    meant = _reader_decimal(text)
    if meant is None:  # base 16, 2 or 60: a reader cannot tell what was meant
        return f"{reading}; write {wanted} in plain decimal digits, such as {field}: {value!r}"
    if whole and not _WHOLE.fullmatch(meant):
        return f"{reading}; expected {wanted}"
    if Decimal(meant) == Decimal(str(value)):
        return f"{reading}; write it in plain decimal digits, no leading 0 or _: {field}: {meant}"
    return (
        f"{reading}, not {meant}; write it in plain decimal digits: {field}: {meant} "
        f"(or {field}: {value!r} if that is the number meant)"
    )


def _reader_decimal(text: str) -> str | None:
    """What a reader takes `010`, `1_000` or `01.5` for (10, 1000, 1.5); None for 0x, 0b, `:`."""
    if not _READER_DIGITS.fullmatch(text) or not any(c.isdigit() for c in text):
        return None
    sign = text[0] if text[0] in "+-" else ""
    digits = text.lstrip("+-").replace("_", "")
    whole, dot, fraction = digits.partition(".")
    whole = whole.lstrip("0") or "0"
    return f"{sign.replace('+', '')}{whole}{dot}{fraction}"


def _kind(written: str, value: object) -> str:
    kind = "the number" if isinstance(value, int | float | Decimal) else type(value).__name__
    digits = written.lstrip("+-")
    if isinstance(value, bool):
        kind = "the boolean"
    elif isinstance(value, datetime.datetime):
        kind = "the time"
    elif isinstance(value, datetime.date):
        kind = "the date"
    elif isinstance(value, int | float) and ":" in digits:
        kind = "the base-60 number"
    elif isinstance(value, int) and digits != "0":
        for prefix, base in (("0x", "hexadecimal"), ("0b", "binary"), ("0", "octal")):
            if digits.startswith(prefix):
                return f"the {base} number"
    return kind


def _plain_text(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
        return str(node.value)
    return None


def _construct(node: yaml.Node) -> object:
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


_Pair = tuple["yaml.Node", "yaml.Node"]


class _Resolver:
    """Refuses duplicate keys and resolves merge keys in a node tree, before construction."""

    def __init__(self) -> None:
        self._flat: dict[int, list[_Pair]] = {}
        self._active: set[int] = set()
        self._problems: list[str] = []

    def resolve(self, root: yaml.Node) -> list[str]:
        """Check every mapping of the tree, in document order, each node once; the problems."""
        seen: set[int] = set()
        pending: list[tuple[yaml.Node, str]] = [(root, "")]
        while pending:
            node, path = pending.pop()
            if id(node) in seen:  # an alias: its node was checked once
                continue
            seen.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                pending.extend(reversed([(n, f"{path}[{i}]") for i, n in enumerate(node.value)]))
            elif isinstance(node, yaml.MappingNode):
                pairs = self._flatten(node, path)
                pending.extend(reversed([(value, _where(path, key)) for key, value in pairs]))
        return self._problems

    def _flatten(self, node: yaml.MappingNode, path: str) -> list[_Pair]:
        """The mapping's entries with its merges applied (set on the node too)."""
        done = self._flat.get(id(node))
        if done is not None:
            return done
        if id(node) in self._active:
            raise YamlError(f"{path or 'the document'}: a mapping merges itself (`<<`)")
        self._active.add(id(node))
        local: dict[object, yaml.Node] = {}
        own: list[_Pair] = []
        sources: dict[int, yaml.MappingNode] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                for source in _merge_sources(value_node, _where(path, key_node)):
                    sources.setdefault(id(source), source)
                continue
            key = _key(key_node)
            earlier = local.get(key)
            if earlier is not None:
                self._problems.append(
                    f"{_where(path, key_node)}: the key is given twice (line "
                    f"{earlier.start_mark.line + 1} and line {key_node.start_mark.line + 1}) and "
                    "YAML would silently keep only the last; remove or rename one"
                )
                continue
            local[key] = key_node
            own.append((key_node, value_node))
        merged: dict[object, _Pair] = {}
        for source in sources.values():
            for key_node, value_node in self._flatten(source, f"{path}.<<".lstrip(".")):
                key = _key(key_node)
                if key in local:  # written in the mapping itself: an override, as YAML says
                    continue
                if key in merged:
                    self._problems.append(
                        _conflict(path, key_node, merged[key], (key_node, value_node))
                    )
                    continue
                merged[key] = (key_node, value_node)
        pairs = [*merged.values(), *own]
        node.value = pairs  # PyYAML finds no merge key left to apply (its own keeps the first)
        self._flat[id(node)] = pairs
        self._active.discard(id(node))
        return pairs


def _merge_sources(value: yaml.Node, where: str) -> list[yaml.MappingNode]:
    if isinstance(value, yaml.MappingNode):
        return [value]
    if isinstance(value, yaml.SequenceNode) and all(
        isinstance(item, yaml.MappingNode) for item in value.value
    ):
        return [item for item in value.value if isinstance(item, yaml.MappingNode)]
    raise YamlError(
        f"{line(value)}{where}: a merge key takes a mapping or a list of mappings (such as "
        "`<<: *defaults`), not this value"
    )


def _conflict(path: str, key_node: yaml.Node, first: _Pair, second: _Pair) -> str:
    label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
    shown = [
        f"line {k.start_mark.line + 1}: {v.value if isinstance(v, yaml.ScalarNode) else '…'}"
        for k, v in (first, second)
    ]
    return (
        f"{_where(path, key_node)}: given by two of the mappings merged here ({shown[0]}; "
        f"{shown[1]}) and YAML would silently keep the first; write {label} in "
        f"{path or 'this mapping'} itself, or merge only one of them"
    )


def _key(node: yaml.Node) -> object:
    """A key's identity: its constructed value for a scalar, the node itself otherwise."""
    return _construct(node) if isinstance(node, yaml.ScalarNode) else ("node", id(node))


def _where(path: str, key_node: yaml.Node) -> str:
    label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
    return f"{path}.{label}" if path else str(label)


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):  # "expected a single document ... but found ..."
        problem = f"{context} {problem}"
    if "'\\t'" in problem:
        problem = "a tab character; YAML indents with spaces only: replace the tab with spaces"
    return f"invalid YAML{where}: {problem}"
