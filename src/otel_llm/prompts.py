"""Versioned prompt templates kept as YAML files: load, render, canary, and release markers."""

from __future__ import annotations

import datetime
import difflib
import hashlib
import json
import math
import re
import secrets
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import cast

from opentelemetry._logs import SeverityNumber
from opentelemetry.util.types import AttributeValue

from otel_llm import _yaml
from otel_llm._errors import internal_errors
from otel_llm._prompt import PromptScope
from otel_llm._prompt import prompt as _prompt_scope
from otel_llm._telemetry import get_telemetry
from otel_llm.config import ConfigError, get_settings
from otel_llm.semconv.attributes import gen_ai
from otel_llm.semconv.attributes import otel_llm as ol
from otel_llm.semconv.events import otel_llm as oe

__all__ = ["Prompt", "Rendered", "canary", "clear_cache", "load", "version_key"]

DEFAULT_DIRECTORY = "prompts"
"""Where prompt files are looked for when neither an argument nor OTEL_LLM_PROMPTS_DIR is given."""

_NAME = re.compile(r"[a-z0-9_.-]+")
_REQUIRED = ("name", "version")
_OPTIONAL_TEXT = ("model", "owner", "change_note", "eval_suite")
_FIELDS = frozenset(
    {*_REQUIRED, *_OPTIONAL_TEXT, "template", "messages", "settings", "released_at"}
)
_SUFFIXES = frozenset({".yaml", ".yml"})
_BUCKETS = 10_000  # canary resolution: 0.01%


@dataclass(frozen=True)
class Prompt:
    """One version of a prompt, as read from its file; render it with `render(**variables)`."""

    name: str
    version: str
    template: str | None
    """The str.format-style template text, or None when the prompt is a list of messages."""
    messages: tuple[Mapping[str, str], ...] | None
    """`{role, content}` messages whose contents are templates, or None for a text template."""
    model: str | None
    settings: Mapping[str, object]
    """Request settings from the file (temperature, max_tokens, ...); empty when none."""
    owner: str | None
    change_note: str | None
    eval_suite: str | None
    """Name of the eval suite linked to this prompt, if the file names one."""
    released_at: datetime.date | None
    file: Path
    template_hash: str
    """`sha256:` and the first 16 hex digits of the canonical JSON of the template or messages."""
    variables: tuple[str, ...]
    """The placeholder names, in order of first appearance."""

    def render(self, **variables: object) -> Rendered:
        """Substitute `variables` (KeyError naming any missing one; extra ones are ignored).

        Only message contents are templates, never roles. The first render of each
        (name, version) in the process emits the `otel_llm.prompt.release` event.
        """
        missing = [name for name in self.variables if name not in variables]
        if missing:
            raise KeyError(
                f"prompt {self.name!r} version {self.version!r} needs variable(s) "
                f"{', '.join(missing)} (from {self.file})"
            )
        used = {name: variables[name] for name in self.variables}
        text = None if self.template is None else self.template.format_map(used)
        messages = (
            None
            if self.messages is None
            else [
                {"role": m["role"], "content": m["content"].format_map(used)} for m in self.messages
            ]
        )
        _mark_release(self)
        return Rendered(
            text=text,
            messages=messages,
            prompt=self,
            variables={name: str(value) for name, value in used.items()},
        )


@dataclass(frozen=True)
class Rendered:
    """A rendered prompt: `text` for a template, `messages` for a messages prompt."""

    text: str | None
    messages: list[dict[str, str]] | None
    prompt: Prompt
    variables: dict[str, str]
    """The values substituted, stringified (only the template's own variables)."""

    def context(self) -> PromptScope:
        """A `prompt(...)` scope: LLM calls inside it carry this name, version and hash."""
        return _prompt_scope(
            self.prompt.name,
            version=self.prompt.version,
            variables=self.variables,
            template_hash=self.prompt.template_hash,
        )


_Catalog = dict[str, dict[str, Prompt]]
_cache: dict[Path, _Catalog] = {}
_cache_lock = threading.Lock()


def load(name: str, version: str | None = None, *, directory: str | Path | None = None) -> Prompt:
    """The prompt `name` at `version`, or its latest version when `version` is None.

    `directory` defaults to OTEL_LLM_PROMPTS_DIR, else `./prompts`. Every `*.yaml`/`*.yml` file
    under it (any depth) is read and validated on first use and cached per directory, so one
    malformed file fails every load with a ConfigError naming that file and field. Edits are
    not picked up until `clear_cache()`. "Latest" is the highest version by `version_key`.
    An unknown name or version raises LookupError listing what is available.
    """
    root = Path(directory or get_settings().prompts_dir or DEFAULT_DIRECTORY).expanduser().resolve()
    with _cache_lock:
        catalog = _cache.get(root)
        if catalog is None:
            catalog = _cache[root] = _read_directory(root)
    versions = catalog.get(name)
    if versions is None:
        available = ", ".join(sorted(catalog)) or "none"
        raise LookupError(f"no prompt named {name!r} in {root}; available: {available}")
    if version is None:
        return versions[max(versions, key=version_key)]
    found = versions.get(version)
    if found is None:
        available = ", ".join(sorted(versions, key=version_key))
        raise LookupError(
            f"prompt {name!r} has no version {version!r} in {root}; available: {available}"
        )
    return found


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for natural version order: v9 < v10 < v42, 1.2 < 1.10, 1.0 < 1.0.1.

    The version is split into runs of digits and of other characters. Digit runs compare as
    numbers, other runs as (case-insensitive) text, a number before text at the same position;
    a version that is a prefix of another is the older one. Ties (v01, v1) break on the text.
    """
    parts = [
        (0, int(run), "") if run.isdigit() else (1, 0, run.lower())
        for run in re.findall(r"\d+|\D+", version)
    ]
    return (*parts, (-1, 0, version))  # sorts before any further run: a prefix is older


def clear_cache() -> None:
    """Forget every loaded directory, so the next load reads the files again."""
    with _cache_lock:
        _cache.clear()


def _read_directory(root: Path) -> _Catalog:
    if not root.is_dir():
        raise ConfigError(
            f"prompts directory {root} does not exist (pass directory= or set OTEL_LLM_PROMPTS_DIR)"
        )
    files = sorted(p for p in root.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
    catalog: _Catalog = {}
    for path in files:
        loaded = _read_file(path)
        versions = catalog.setdefault(loaded.name, {})
        earlier = versions.get(loaded.version)
        if earlier is not None:
            raise ConfigError(
                f"prompt files {earlier.file} and {path}: both define name {loaded.name!r} "
                f"version {loaded.version!r}; bump the version in one of them"
            )
        versions[loaded.version] = loaded
    return catalog


_Fail = Callable[[str, str], ConfigError]


def _read_file(path: Path) -> Prompt:
    def fail(field: str, problem: str) -> ConfigError:
        return ConfigError(f"prompt file {path}: {field}: {problem}")

    parsed = _parse_yaml(path)
    doc = cast(dict[str, object], parsed.data)
    for key in doc:
        if key not in _FIELDS:
            close = difflib.get_close_matches(str(key), _FIELDS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise fail(
                str(key), f"unknown field (expected one of {', '.join(sorted(_FIELDS))}){hint}"
            )
    for key in _REQUIRED:
        if doc.get(key) is None:
            raise fail(key, "required field missing")
    name = _text(parsed, ("name",), fail)
    if not _NAME.fullmatch(name):
        raise fail("name", f"expected lower-case letters, digits, _ . - only, got {name!r}")
    # YAML turns 010, 0x2A, 1:30 and 1.10 into 8, 42, 90 and 1.1: the version must be the text
    # as written, so only what YAML cannot misread (`3`, `2026-11-20`) is taken unquoted.
    version = _yaml.written_text(parsed.node("version")) or _text(parsed, ("version",), fail)
    if not version.strip():
        raise fail("version", "expected a non-empty string")
    texts = {
        key: None if doc.get(key) is None else _text(parsed, (key,), fail) for key in _OPTIONAL_TEXT
    }
    template, messages, variables, canonical = _body(parsed, fail)
    settings = doc.get("settings")
    if settings is None:
        settings = {}
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        raise fail("settings", f"expected a mapping of setting names to values, got {settings!r}")
    return Prompt(
        name=name,
        version=version,
        template=template,
        messages=messages,
        model=texts["model"],
        settings=MappingProxyType(dict(settings)),
        owner=texts["owner"],
        change_note=texts["change_note"],
        eval_suite=texts["eval_suite"],
        released_at=_date(doc.get("released_at"), fail),
        file=path,
        template_hash=_hash(canonical),
        variables=variables,
    )


def _parse_yaml(path: Path) -> _yaml.Document:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"prompt file {path}: cannot be read: {exc}") from None
    try:
        parsed = _yaml.load(text)
    except _yaml.YamlError as exc:
        raise ConfigError(f"prompt file {path}: {exc}") from None
    if not isinstance(parsed.data, dict):
        raise ConfigError(
            f"prompt file {path}: expected a mapping with name, version and template or "
            f"messages, got {type(parsed.data).__name__}"
        )
    return parsed


def _text(parsed: _yaml.Document, path: tuple[str | int, ...], fail: _Fail) -> str:
    """The string at `path`; a value YAML read as a number, time or boolean says to quote it."""
    value: object = parsed.data
    for step in path:
        value = cast(dict[str | int, object], value)[step]
    if isinstance(value, str):
        return value
    field = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)
    field = field.lstrip(".")
    raise fail(field, _yaml.not_text(parsed.node(*path), value, str(path[-1])))


_Body = tuple[str | None, tuple[Mapping[str, str], ...] | None, tuple[str, ...], object]


def _body(document: _yaml.Document, fail: _Fail) -> _Body:
    """The template or messages, their placeholder names, and the canonical form to hash."""
    doc = cast(dict[str, object], document.data)
    template, messages = doc.get("template"), doc.get("messages")
    if template is not None and messages is not None:
        raise fail("template/messages", "give either template or messages, not both")
    if template is None and messages is None:
        raise fail("template", "required field missing (or give messages instead)")
    if template is not None:
        template = _text(document, ("template",), fail)
        return template, None, _placeholders(template, "template", fail), {"template": template}
    parsed = _messages(document, fail)
    variables = tuple(
        dict.fromkeys(
            name
            for i, m in enumerate(parsed)
            for name in _placeholders(m["content"], f"messages[{i}].content", fail)
        )
    )
    return None, parsed, variables, {"messages": [dict(m) for m in parsed]}


def _messages(document: _yaml.Document, fail: _Fail) -> tuple[Mapping[str, str], ...]:
    raw = cast(dict[str, object], document.data)["messages"]
    if not isinstance(raw, list) or not raw:
        raise fail("messages", "expected a non-empty list of {role, content} mappings")
    result = []
    for i, message in enumerate(raw):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise fail(
                f"messages[{i}]", f"expected a mapping with role and content, got {message!r}"
            )
        role, content = (_text(document, ("messages", i, key), fail) for key in ("role", "content"))
        result.append(MappingProxyType({"role": role, "content": content}))
    return tuple(result)


def _placeholders(template: str, field: str, fail: _Fail) -> tuple[str, ...]:
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise fail(
            field, f"malformed placeholder: {exc} (write {{{{ and }}}} for braces)"
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise fail(
                field,
                f"placeholder {{{name}}} must be a plain variable name such as "
                "{customer_name} (write {{ and }} for literal braces)",
            )
        if conversion not in (None, "r", "s", "a"):
            raise fail(field, f"placeholder {{{name}!{conversion}}}: unknown conversion")
        names.append(name)
        if spec and "{" in spec:
            names.extend(_placeholders(spec, field, fail))
    return tuple(dict.fromkeys(names))


def _date(raw: object, fail: _Fail) -> datetime.date | None:
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
    raise fail("released_at", f"expected a date such as 2026-11-20, got {raw!r}")


def _hash(canonical: object) -> str:
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


_released: set[tuple[str, str]] = set()
_released_lock = threading.Lock()


def _mark_release(prompt: Prompt) -> None:
    """Emit `otel_llm.prompt.release` the first time this (name, version) renders here."""
    key = (prompt.name, prompt.version)
    with _released_lock:
        if key in _released:
            return
        _released.add(key)
    with internal_errors("otel_llm.prompts._mark_release"):
        attributes: dict[str, AttributeValue] = {
            gen_ai.GEN_AI_PROMPT_NAME: prompt.name,
            gen_ai.GEN_AI_PROMPT_VERSION: prompt.version,
            ol.OTEL_LLM_PROMPT_TEMPLATE_HASH: prompt.template_hash,
        }
        if prompt.owner is not None:
            attributes[ol.OTEL_LLM_PROMPT_OWNER] = prompt.owner
        if prompt.change_note is not None:
            attributes[ol.OTEL_LLM_PROMPT_CHANGE_NOTE] = prompt.change_note
        get_telemetry().logger.emit(
            event_name=oe.OTEL_LLM_PROMPT_RELEASE,
            severity_number=SeverityNumber(oe.OTEL_LLM_PROMPT_RELEASE_SEVERITY_NUMBER),
            attributes=attributes,
        )


def canary(
    name: str,
    *,
    stable: str,
    candidate: str,
    percent: float,
    key: str | None,
    directory: str | Path | None = None,
) -> Prompt:
    """Version `candidate` of prompt `name` for `percent`% of keys, version `stable` otherwise.

    A key (user, tenant or conversation id) always gets the same version for the same
    percentage, in every process: it is hashed with SHA-256 together with the prompt name into
    one of 10,000 buckets (0.01% resolution), and raising `percent` only moves keys from stable
    to candidate. With `key=None` each call picks at random, so one user may see both versions.
    Both versions must exist; `percent` must be a number from 0 to 100 (else ValueError).
    """
    if (
        isinstance(percent, bool)
        or not isinstance(percent, (int, float))
        or not math.isfinite(percent)
        or not 0 <= percent <= 100
    ):
        raise ValueError(f"canary percent must be a number from 0 to 100, got {percent!r}")
    stable_prompt = load(name, stable, directory=directory)
    candidate_prompt = load(name, candidate, directory=directory)
    if key is None:
        bucket = secrets.randbelow(_BUCKETS)
    else:
        digest = hashlib.sha256(f"{name}\0{key}".encode()).digest()
        bucket = int.from_bytes(digest[:8], "big") % _BUCKETS
    return candidate_prompt if bucket < percent * (_BUCKETS / 100) else stable_prompt
