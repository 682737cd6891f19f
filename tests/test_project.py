"""Project-level checks: the README's commands, CI and the tests-mirror-src layout agree."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path


def _quick_start_commands(repo_root: Path) -> list[str]:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_readme_has_exactly_two_quick_start_commands(repo_root: Path) -> None:
    """The quick start is two commands, demo then tests, each a Makefile target."""
    commands = _quick_start_commands(repo_root)
    assert commands == ["make demo", "make test"]
    makefile = (repo_root / "Makefile").read_text(encoding="utf-8")
    for command in commands:
        target = command.removeprefix("make ")
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_ci_runs_the_readme_test_command_and_nothing_else(repo_root: Path) -> None:
    """`.ci/run` has one command, the README's test command."""
    script = (repo_root / ".ci/run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == [_quick_start_commands(repo_root)[1]]


def test_every_hand_written_module_has_a_test_module(repo_root: Path) -> None:
    """tests/ mirrors src/: each hand-written pkg/_x.py or pkg/x.py has tests/pkg/test_x.py."""
    src = repo_root / "src/otel_llm"
    missing = []
    for path in src.rglob("*.py"):
        relative = path.relative_to(src)
        if path.name == "__init__.py" or relative.parts[0] == "semconv":
            continue  # generated code is tested in tests/semconv/
        test = repo_root / "tests" / relative.parent / f"test_{path.name.lstrip('_')}"
        if not test.exists():
            missing.append(str(relative))
    assert missing == []


def _module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """Every otel_llm module `tree` imports, at any depth (functions, TYPE_CHECKING) included.

    `from package import name` counts as importing the submodule when there is one; importing
    a submodule does not count as importing its parent packages (their __init__ runs first
    whatever the order, so it orders nothing).
    """
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                if child in modules:
                    found.add(child)
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def import_graph(src: Path) -> dict[str, set[str]]:
    """The import graph of the package under `src` (module -> the modules it imports)."""
    paths = {_module_name(src, path): path for path in src.rglob("*.py")}
    modules = set(paths)
    return {
        name: _imports(
            ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py", modules
        )
        for name, path in paths.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in `graph` (its modules in order, the first repeated last), or None."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        path.append(start)
        on_path.add(start)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                return [*path[path.index(child) :], child]
            elif child not in done:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)
    return None


def test_src_has_no_import_cycle(repo_root: Path) -> None:
    """No module of src/otel_llm imports itself back, by any path and from any depth."""
    cycle = find_cycle(import_graph(repo_root / "src/otel_llm"))
    assert cycle is None, " -> ".join(cycle or ())


def test_the_cycle_finder_finds_a_cycle_inside_a_function(tmp_path: Path) -> None:
    """The check itself: an import inside a function or TYPE_CHECKING block closes a cycle."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.c\n"
    )
    (package / "c.py").write_text("def f():\n    from . import a\n")
    assert find_cycle(import_graph(package)) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]
    (package / "c.py").write_text("def f():\n    pass\n")
    assert find_cycle(import_graph(package)) is None
