"""Render src/otel_llm/semconv/ and docs/{semconv,configuration}.md; --check detects drift."""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jinja2

from otel_llm import config
from otel_llm.redaction import render_collector_yaml
from semconvgen.model import Registry, RegistryError, load_registry

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path("src/otel_llm/semconv")
GENERATOR = "scripts/semconvgen"


def python_name(name: str) -> str:
    """`gen_ai.request.model` -> `GEN_AI_REQUEST_MODEL`; the constant's identifier."""
    ident = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").upper()
    return f"_{ident}" if ident[:1].isdigit() else ident


def enum_class_name(key: str) -> str:
    """`gen_ai.operation.name` -> `GenAiOperationNameValues`."""
    parts = re.split(r"[^0-9A-Za-z]+", key)
    return "".join(p[:1].upper() + p[1:] for p in parts if p) + "Values"


def docstring(text: str, indent: int = 0) -> str:
    """Wrap prose for a docstring body, escaping what would end the string early."""
    safe = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    width = 96 - indent
    paragraphs = [textwrap.fill(p, width) for p in safe.split("\n\n") if p.strip()]
    return textwrap.indent("\n\n".join(paragraphs), " " * indent).lstrip()


def pystr(text: str, indent: int = 8) -> str:
    """A Python string literal, split into implicitly joined parts if it would pass column 100."""
    literal = repr(text)
    width = 99 - indent - len("description=,")
    if len(literal) <= width:
        return literal
    words = re.split(r"(?<= )", text)
    parts: list[str] = []
    for word in words:
        if parts and len(repr(parts[-1] + word)) <= width - 4:
            parts[-1] += word
        else:
            parts.append(word)
    pad = " " * (indent + 4)
    return "(\n" + "".join(f"{pad}{p!r}\n" for p in parts) + " " * indent + ")"


def md(text: Any) -> str:
    """Make text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # renders Python and Markdown, never HTML
    )
    env.filters.update(python_name=python_name, enum_class_name=enum_class_name)
    env.filters.update(docstring=docstring, md=md, pyrepr=repr, pystr=pystr)
    return env


def check_identifiers(registry: Registry) -> None:
    """Raise RegistryError when two names would become one Python identifier in a module."""
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}

    def claim(module: str, ident: str, name: str, file: str) -> None:
        other = seen.setdefault((module, ident), name)
        if other != name:
            problems.append(f"{file}: {name}: Python name {ident} collides with {other!r}")

    for a in registry.attributes.values():
        claim(f"attributes.{a.namespace}", python_name(a.key), a.key, a.file)
        if a.members:
            claim(f"attributes.{a.namespace}", enum_class_name(a.key), a.key, a.file)
            for member in a.members:
                claim(f"{a.key} enum", python_name(member.id), member.id, a.file)
    for m in registry.metrics:
        claim(f"metrics.{m.namespace}", python_name(m.name), m.name, m.file)
    for e in registry.events:
        claim(f"events.{e.namespace}", python_name(e.name), e.name, e.file)
    if problems:
        raise RegistryError(problems)


def render_all(registry: Registry) -> dict[Path, str]:
    """Every generated file, keyed by its path relative to the repository root."""
    check_identifiers(registry)
    env = _environment()
    header = {"generator": GENERATOR, "manifest": registry.manifest}
    out: dict[Path, str] = {}
    namespaces = registry.namespaces()
    out[PACKAGE_DIR / "__init__.py"] = env.get_template("package_init.py.j2").render(
        **header, namespaces=namespaces
    )
    kinds = {
        "attributes": _by_namespace(registry.attributes.values()),
        "metrics": _by_namespace(registry.metrics),
        "events": _by_namespace(registry.events),
    }
    for kind, groups in kinds.items():
        out[PACKAGE_DIR / kind / "__init__.py"] = env.get_template("kind_init.py.j2").render(
            **header, kind=kind, namespaces=sorted(groups)
        )
        template = env.get_template(f"{kind}.py.j2")
        for namespace, items in groups.items():
            out[PACKAGE_DIR / kind / f"{namespace}.py"] = template.render(
                **header, namespace=namespace, items=items
            )
    out[PACKAGE_DIR / "upgrades.py"] = env.get_template("upgrades.py.j2").render(
        **header, upgrades=registry.upgrades
    )
    out[Path("docs/semconv.md")] = env.get_template("semconv.md.j2").render(
        **header, registry=registry, enums=[a for a in registry.attributes.values() if a.members]
    )
    out[Path("docs/configuration.md")] = env.get_template("configuration.md.j2").render(
        generator=GENERATOR, variables=config.ENV_VARS
    )
    out[Path("collector-config/otelcol/redaction.yaml")] = render_collector_yaml()
    return {path: _format(path, text) for path, text in out.items()}


def _by_namespace(items: Iterable[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(item.namespace, []).append(item)
    return dict(sorted(groups.items()))


def _format(path: Path, text: str) -> str:
    if path.suffix != ".py":
        return text
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ruff could not format generated {path}:\n{result.stderr}")
    return result.stdout


def stale_files(rendered: dict[Path, str], root: Path) -> list[str]:
    """Paths whose committed content differs from a fresh render, plus orphaned generated files."""
    stale = [str(p) for p, text in rendered.items() if read_file(root / p) != text]
    generated_dir = root / PACKAGE_DIR
    if generated_dir.exists():
        expected = {root / p for p in rendered}
        orphans = [p for p in generated_dir.rglob("*.py") if p not in expected]
        stale += [str(p.relative_to(root)) for p in orphans]
    return sorted(stale)


def read_file(path: Path) -> str | None:
    """The text of `path`, or None when it does not exist."""
    return path.read_text(encoding="utf-8") if path.exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: write the generated files, or with --check report drift."""
    parser = argparse.ArgumentParser(prog="python -m semconvgen", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="fail if regenerating would change files"
    )
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root: Path = args.root
    try:
        registry = load_registry(root / "semconv")
        rendered = render_all(registry)
    except RegistryError as exc:
        print(exc, file=sys.stderr)
        return 2
    return sync_files(
        rendered,
        stale_files(rendered, root),
        root,
        check=args.check,
        name="semconvgen",
        hint="run `make generate` and commit the result",
    )


def sync_files(
    rendered: dict[Path, str],
    stale: list[str],
    root: Path,
    *,
    check: bool,
    name: str,
    hint: str,
) -> int:
    """Write the `stale` files (deleting orphans), or with `check` print their diff; exit code.

    Shared by every generator in scripts/ so each only renders and lists what is stale.
    """
    if check:
        for path in stale:
            old = (read_file(root / path) or "").splitlines(keepends=True)
            new = rendered.get(Path(path), "").splitlines(keepends=True)
            sys.stderr.writelines(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=1))
        if stale:
            print(f"{name}: generated files are stale: {', '.join(stale)}", file=sys.stderr)
            print(hint, file=sys.stderr)
            return 1
        return 0
    for path in stale:
        target = root / path
        if Path(path) in rendered:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rendered[Path(path)], encoding="utf-8")
        else:
            target.unlink()
    print(f"{name}: {len(rendered)} files, {len(stale)} updated")
    return 0
