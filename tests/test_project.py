"""Project-level checks: the README's commands, CI and the tests-mirror-src layout agree."""

import re
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
