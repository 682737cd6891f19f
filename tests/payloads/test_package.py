"""The conventions every payload module keeps (see otel_llm.payloads), checked for all of them."""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import otel_llm.payloads

PACKAGE = Path(otel_llm.payloads.__file__).parent
MODULES = [
    importlib.import_module(f"otel_llm.payloads.{info.name}")
    for info in pkgutil.iter_modules([str(PACKAGE)])
]
BUILDERS = [
    pytest.param(function, id=f"{module.__name__.rsplit('.', 1)[1]}.{name}")
    for module in MODULES
    for name, function in vars(module).items()
    if inspect.isfunction(function)
    and not name.startswith("_")
    and function.__module__ == module.__name__
    and all(p.default is not p.empty for p in inspect.signature(function).parameters.values())
]


def _imports(path: Path) -> set[str]:
    """The top-level names of every module `path` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_modules_import_only_the_standard_library_and_each_other(path: Path) -> None:
    """No SDK, hypothesis or other otel_llm module: the demo ships these, `import` stays cheap."""
    outside = {
        name
        for name in _imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("otel_llm.payloads")
    }
    assert outside == set()


def test_importing_every_module_loads_no_provider_sdk() -> None:
    """In a fresh interpreter the payload modules pull in no SDK and no test library."""
    names = " ".join(module.__name__ for module in MODULES)
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}.split(): importlib.import_module(name)\n"
        "heavy = ('openai', 'anthropic', 'google', 'boto3', 'botocore', 'hypothesis', 'httpx')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_modules_say_what_they_are_and_export_what_exists(module: ModuleType) -> None:
    """Each module opens with a one-line docstring and has a sorted `__all__` of real names."""
    summary = (module.__doc__ or "").splitlines()[:1]
    assert summary
    assert summary[0].endswith(".")
    exported = list(getattr(module, "__all__", []))
    assert exported == sorted(exported)
    assert all(hasattr(module, name) for name in exported)


@pytest.mark.parametrize("builder", BUILDERS)
def test_default_payloads_are_fresh_deterministic_json(builder: Callable[[], Any]) -> None:
    """With its defaults a builder gives the same JSON every call, in new objects each time."""
    first, second = builder(), builder()
    assert first == second
    if isinstance(first, bytes):
        return
    assert json.loads(json.dumps(first)) == first
    untouched = copy.deepcopy(second)
    _scribble(first)
    assert second == untouched


def _scribble(value: Any) -> None:
    """Change every container inside `value` in place."""
    if isinstance(value, dict):
        for item in list(value.values()):
            _scribble(item)
        value["scribbled"] = True
    elif isinstance(value, list):
        for item in value:
            _scribble(item)
        value.append("scribbled")
