"""Strict YAML for the files users write: duplicate keys refused, misread scalars explained."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import yaml

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class YamlError(ValueError):
    """The text is not YAML otel-llm accepts; the message says where and why."""


@dataclass(frozen=True)
class Document:
    """A parsed YAML document: its data and the node tree it was built from (None when empty)."""

    data: object
    root: yaml.Node | None

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


def load(text: str) -> Document:
    """Parse one YAML document as `yaml.safe_load` does, refusing any key given twice.

    YAML keeps the last of two equal keys without a word, so a price or a version the user
    wrote would be silently replaced. YamlError gives the line and column.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(None, None)
        _refuse_duplicates(root)
        return Document(loader.construct_document(root), root)
    except yaml.YAMLError as exc:
        raise YamlError(_describe(exc)) from None
    except ValueError as exc:  # a scalar YAML cannot build, such as the date 2026-13-45
        if isinstance(exc, YamlError):
            raise
        raise YamlError(f"invalid value: {exc}") from None
    finally:
        loader.dispose()


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
    if isinstance(node, yaml.ScalarNode) and node.style is None and node.tag != _STR:
        written = node.value
        shown = value.isoformat() if isinstance(value, datetime.date) else repr(value)
        fix = f'"{written}":' if field is None else f'{field}: "{written}"'
        return (
            f"YAML reads {written} as {_kind(written, value)} {shown}, not as the text "
            f"{written}; quote it: {fix}"
        )
    return f"expected a string, got {type(value).__name__} {value!r}"


def _kind(written: str, value: object) -> str:
    kind = "the number" if isinstance(value, int | float) else type(value).__name__
    digits = written.lstrip("+-")
    if isinstance(value, bool):
        kind = "the boolean"
    elif isinstance(value, datetime.datetime):
        kind = "the time"
    elif isinstance(value, datetime.date):
        kind = "the date"
    elif isinstance(value, int) and ":" in digits:
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


def _refuse_duplicates(root: yaml.Node) -> None:
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, str]] = [(root, "")]
    while pending:
        node, path = pending.pop()
        if id(node) in seen:  # an alias: its node was (or will be) checked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            pending.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
            continue
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[object, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:  # `<<: *base` keys are meant to be overridden
                pending.append((value_node, path))
                continue
            label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            where = f"{path}.{label}" if path else str(label)
            if isinstance(key_node, yaml.ScalarNode):
                key = _construct(key_node)
                earlier = first.get(key)
                if earlier is not None:
                    raise YamlError(
                        f"{where}: the key is given twice (line {earlier.start_mark.line + 1} "
                        f"and line {key_node.start_mark.line + 1}) and YAML would silently keep "
                        "only the last; remove or rename one"
                    )
                first[key] = key_node
            pending.append((value_node, where))


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):  # "expected a single document ... but found ..."
        problem = f"{context} {problem}"
    return f"invalid YAML{where}: {problem}"
