"""One prompt file read and checked: every problem named with its line, field and fix."""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import re
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple, ParamSpec, TypeVar, cast

import yaml

from otel_llm import _prompt_settings, _yaml
from otel_llm.config import ConfigError

SUFFIXES = (".yaml", ".yml")
"""The extensions of prompt files, in any case (`.YAML` and `.Yml` too)."""

ROLES = ("system", "developer", "user", "assistant")
"""Message roles a prompt file may use: what the Chat Completions, Responses and Messages APIs
take as a plain {role, content} message (Anthropic takes the system one as `system=`)."""

_NAME = re.compile(r"[a-z0-9_.-]+")
_REQUIRED = ("name", "version")
_OPTIONAL_TEXT = ("model", "owner", "change_note", "eval_suite")
_FIELDS = (*_REQUIRED, "template", "messages", *_OPTIONAL_TEXT, "settings", "released_at")
_T = TypeVar("_T")
_P = ParamSpec("_P")


class PromptFile(NamedTuple):
    """The fields of one prompt file, checked (see otel_llm.prompts.Prompt for each)."""

    name: str
    version: str
    template: str | None
    messages: tuple[Mapping[str, str], ...] | None
    model: str | None
    settings: Mapping[str, object]
    owner: str | None
    change_note: str | None
    eval_suite: str | None
    released_at: datetime.date | None
    file: Path
    template_hash: str
    variables: tuple[str, ...]


def is_prompt_file(path: Path) -> bool:
    """Whether `path` has a prompt file's extension, whatever its case."""
    return path.suffix.lower() in SUFFIXES


class _Invalid(Exception):
    """A field that cannot be used; the rest of the file is still checked."""

    def __init__(self, field: str, problem: str, node: yaml.Node | None = None) -> None:
        super().__init__(f"{_yaml.line(node)}{field}: {problem}")


class _Check:
    """The problems found so far in one file."""

    def __init__(self, parsed: _yaml.Document) -> None:
        self.parsed = parsed
        self.problems: list[str] = list(parsed.problems)

    def add(self, field: str, problem: str, node: yaml.Node | None = None) -> None:
        self.problems.append(str(_Invalid(field, problem, node)))

    def get(self, default: _T, read: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """What `read(*args)` returns, or `default` (the problem noted) when it raises _Invalid."""
        try:
            return read(*args, **kwargs)
        except _Invalid as exc:
            self.problems.append(str(exc))
            return default

    def text(self, *path: str | int) -> str:
        """The string at `path`; a value YAML read as a number, time or boolean says to quote it."""
        value: object = self.parsed.data
        for step in path:
            value = cast(dict[str | int, object], value)[step]
        if isinstance(value, str):
            return value
        field = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
        node = self.parsed.node(*path)
        raise _Invalid(field.lstrip("."), _yaml.not_text(node, value, str(path[-1])), node)


def read(path: Path) -> PromptFile:
    """The prompt in the file at `path`; ConfigError lists every problem, with lines and fixes."""
    parsed = _parse(path)
    check = _Check(parsed)
    doc = cast(dict[object, object], parsed.data)
    for key in doc:
        if key not in _FIELDS:
            written = _yaml.as_written(node := parsed.key_node(key=key), key)
            close = difflib.get_close_matches(written.lower(), _FIELDS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            check.add(written, f"unknown field ({hint}expected {', '.join(_FIELDS)})", node)
    for key in _REQUIRED:
        if doc.get(key) is None:
            check.add(key, "required field missing")
    name = check.get("", _name, check) if doc.get("name") is not None else ""
    version = check.get("", _version, check) if doc.get("version") is not None else ""
    texts: dict[str, str | None] = {
        key: None if doc.get(key) is None else check.get(None, check.text, key)
        for key in _OPTIONAL_TEXT
    }
    template, messages, variables, canonical = _body(check)
    settings = _prompt_settings.read(parsed, check.add)
    released_at = check.get(None, _date, parsed)
    if check.problems:
        in_order = sorted(check.problems, key=_line_number)  # stable: unlined ones first
        raise ConfigError(f"prompt file {path}: {'; '.join(in_order)}")
    return PromptFile(
        name=name,
        version=version,
        template=template,
        messages=messages,
        model=texts["model"],
        settings=MappingProxyType(settings),
        owner=texts["owner"],
        change_note=texts["change_note"],
        eval_suite=texts["eval_suite"],
        released_at=released_at,
        file=path,
        template_hash=_hash(canonical),
        variables=variables,
    )


def _line_number(problem: str) -> int:
    found = re.match(r"line (\d+): ", problem)
    return int(found.group(1)) if found else 0


def _parse(path: Path) -> _yaml.Document:
    try:
        parsed = _yaml.read(path, strict=False)
    except _yaml.YamlError as exc:
        raise ConfigError(f"prompt file {path}: {exc}") from None
    if parsed.data is None:
        raise ConfigError(
            f"prompt file {path}: the file is empty; expected a mapping with name, version and "
            "template or messages"
        )
    if not isinstance(parsed.data, dict):
        raise ConfigError(
            f"prompt file {path}: expected a mapping with name, version and template or "
            f"messages, got {type(parsed.data).__name__}"
        )
    return parsed


def _name(check: _Check) -> str:
    name = check.text("name")
    if not _NAME.fullmatch(name):
        raise _Invalid(
            "name",
            f"expected lower-case letters, digits, _ . - only, got {name!r}",
            check.parsed.node("name"),
        )
    return name


def _version(check: _Check) -> str:
    # YAML turns 010, 0x2A, 1:30 and 1.10 into 8, 42, 90 and 1.1: the version must be the text
    # as written, so only what YAML cannot misread (`3`, `2026-11-20`) is taken unquoted.
    node = check.parsed.node("version")
    version = _yaml.written_text(node) or check.text("version")
    if not version.strip():
        raise _Invalid("version", "expected a non-empty string", node)
    if version != version.strip():
        raise _Invalid(
            "version",
            f"{version!r} starts or ends with spaces, so load(name, {version.strip()!r}) would "
            f'not find it; write version: "{version.strip()}"',
            node,
        )
    return version


_Body = tuple[str | None, tuple[Mapping[str, str], ...] | None, tuple[str, ...], object]


def _body(check: _Check) -> _Body:
    """The template or messages, their placeholder names, and the canonical form to hash."""
    doc = cast(dict[str, object], check.parsed.data)
    template, messages = doc.get("template"), doc.get("messages")
    if template is not None and messages is not None:
        check.add("template/messages", "give either template or messages, not both")
        return None, None, (), None
    if template is None and messages is None:
        check.add("template", "required field missing (or give messages instead)")
        return None, None, (), None
    if template is not None:
        text = check.get("", check.text, "template")
        names: tuple[str, ...] = check.get((), _placeholders, text, "template", check)
        return text, None, names, {"template": text}
    parsed, variables = _messages(check)
    return None, parsed, variables, {"messages": [dict(m) for m in parsed]}


def _messages(check: _Check) -> tuple[tuple[Mapping[str, str], ...], tuple[str, ...]]:
    """The messages and the placeholder names of their contents, in order of appearance."""
    raw = cast(dict[str, object], check.parsed.data)["messages"]
    if not isinstance(raw, list) or not raw:
        check.add(
            "messages",
            "expected a non-empty list of {role, content} mappings",
            check.parsed.node("messages"),
        )
        return (), ()
    result = []
    variables: dict[str, None] = {}
    for i, message in enumerate(raw):
        node = check.parsed.node("messages", i)
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            check.add(
                f"messages[{i}]", f"expected a mapping with role and content, got {message!r}", node
            )
            continue
        role = check.get(None, _role, check, i)
        content = check.get(None, check.text, "messages", i, "content")
        if content is not None:
            field = f"messages[{i}].content"
            variables.update(dict.fromkeys(check.get((), _placeholders, content, field, check)))
        if role is not None and content is not None:
            result.append(MappingProxyType({"role": role, "content": content}))
    return tuple(result), tuple(variables)


def _role(check: _Check, index: int) -> str:
    role = check.text("messages", index, "role")
    if role in ROLES:
        return role
    if role.lower() in ROLES:
        hint = f"did you mean {role.lower()}? Roles are lower-case"
    elif role.lower() in ("tool", "function"):
        hint = (
            "a tool result answers one tool call and needs its id, which a prompt file cannot "
            "know; append tool messages in code"
        )
    else:
        close = difflib.get_close_matches(role.lower(), ROLES, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]}?" if close else "not a role the providers take"
    raise _Invalid(
        f"messages[{index}].role",
        f"{role!r}: {hint} (the roles are {', '.join(ROLES)})",
        check.parsed.node("messages", index, "role"),
    )


def _placeholders(template: str, field: str, check: _Check) -> tuple[str, ...]:
    node = check.parsed.node(*_steps(field))
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise _Invalid(
            field, f"malformed placeholder: {exc} (write {{{{ and }}}} for braces)", node
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise _Invalid(
                field,
                f"placeholder {{{name}}} must be a plain variable name such as "
                "{customer_name} (write {{ and }} for literal braces)",
                node,
            )
        if conversion not in (None, "r", "s", "a"):
            raise _Invalid(field, f"placeholder {{{name}!{conversion}}}: unknown conversion", node)
        names.append(name)
        if spec and "{" in spec:
            names.extend(_placeholders(spec, field, check))
    return tuple(dict.fromkeys(names))


def _steps(field: str) -> tuple[str | int, ...]:
    """`messages[0].content` as ("messages", 0, "content")."""
    return tuple(
        int(part) if part.isdigit() else part for part in re.split(r"[.\[\]]+", field) if part
    )


def _date(parsed: _yaml.Document) -> datetime.date | None:
    raw = cast(dict[str, object], parsed.data).get("released_at")
    if raw is None:
        return None
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    if isinstance(raw, str):
        try:
            return datetime.date.fromisoformat(raw)
        except ValueError:
            pass
    raise _Invalid(
        "released_at",
        f"expected a date such as 2026-11-20, got {raw!r}",
        parsed.node("released_at"),
    )


def _hash(canonical: object) -> str:
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]
