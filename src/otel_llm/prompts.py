"""Versioned prompt templates kept as YAML files: load, render, canary, and release markers."""

from __future__ import annotations

import datetime
import hashlib
import math
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from opentelemetry._logs import SeverityNumber
from opentelemetry.util.types import AttributeValue

from otel_llm import _prompt_file
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
    (extension in any case) under it, at any depth, is read and validated on first use and
    cached per directory, so a malformed file fails every load with a ConfigError naming each
    bad file and, in it, every problem with its line, field and fix. Edits are
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
    catalog, problems = _scan(root)
    if problems:
        raise ConfigError("; ".join(str(problem) for problem in problems))
    return catalog


def _scan(root: Path) -> tuple[_Catalog, list[ConfigError]]:
    """Every prompt file under `root` read and checked: the catalog, and each file's problems."""
    if not root.is_dir():
        problem = (
            f"prompts directory {root} does not exist (pass directory= or set OTEL_LLM_PROMPTS_DIR)"
        )
        return {}, [ConfigError(problem)]
    # Not is_file(): a dangling link or unreadable file named *.yaml is reported, not skipped.
    files = sorted(p for p in root.rglob("*") if _prompt_file.is_prompt_file(p) and not p.is_dir())
    catalog: _Catalog = {}
    problems: list[ConfigError] = []
    for path in files:
        try:
            loaded = Prompt(**_prompt_file.read(path)._asdict())
        except ConfigError as exc:
            problems.append(exc)
            continue
        versions = catalog.setdefault(loaded.name, {})
        earlier = versions.get(loaded.version)
        if earlier is not None:
            problems.append(
                ConfigError(
                    f"prompt files {earlier.file} and {path}: both define name {loaded.name!r} "
                    f"version {loaded.version!r}; bump the version in one of them"
                )
            )
            continue
        versions[loaded.version] = loaded
    return catalog, problems


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
