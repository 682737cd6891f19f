"""OTel's botocore instrumentation, told to leave Bedrock Runtime calls to otel-llm.

opentelemetry-instrumentation-botocore traces every AWS service; for `bedrock-runtime` it has
a GenAI extension (gen_ai span attributes, metrics, content events) that would record each
Bedrock call a second time. While otel-llm's Bedrock instrumentation is on, that extension is
taken out of the instrumentation's table of service extensions, so a Bedrock call gets its
plain AWS SDK span there (as an S3 or SQS call without an extension does) and its GenAI
telemetry from otel-llm only. Taken out of the module's table, which the instrumentation's
registry holds (either order of instrumenting), and out of a live registry's own table; put
back when otel-llm's is removed.

Those are the instrumentation's internals (0.66b2): if they are not as expected, nothing is
changed, `unexpected()` says why (logged once), and the caller falls back: otel-llm's distro
keeps the botocore instrumentation out, and elsewhere the duplicate is named in a warning.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from collections.abc import MutableMapping
from types import ModuleType
from typing import Any

_logger = logging.getLogger("otel_llm")

PACKAGE = "opentelemetry.instrumentation.botocore"
"""OTel's botocore instrumentation (opentelemetry-instrumentation-botocore)."""
_EXTENSIONS = f"{PACKAGE}.extensions"
_TABLE = "_BOTOCORE_EXTENSIONS"
SERVICE = "bedrock-runtime"
"""The service whose extension records GenAI telemetry."""

_taken: list[tuple[MutableMapping[str, Any], Any]] = []
"""The tables the extension was taken out of, each with what it held, to put back."""
_explained = False


def installed() -> bool:
    """Whether OTel's botocore instrumentation is installed (imports no more than its parents)."""
    try:
        return importlib.util.find_spec(PACKAGE) is not None
    except (ImportError, ValueError):
        return False


def _module_table() -> MutableMapping[str, Any] | str:
    """The instrumentation's table of service extensions, or why it cannot be used."""
    try:
        module = importlib.import_module(_EXTENSIONS)
    except Exception as exc:  # whatever its import raises, we only fall back
        return f"importing {_EXTENSIONS} failed: {type(exc).__name__}"
    table = getattr(module, _TABLE, None)
    if type(table) is not dict:
        return f"{_EXTENSIONS}.{_TABLE} is not the dict of service extensions it was"
    if SERVICE not in table and not any(SERVICE in taken for taken, _ in _taken):
        return f"{_EXTENSIONS}.{_TABLE} has no {SERVICE!r} extension"
    registry = sys.modules.get(f"{_EXTENSIONS}.registry") or _import(f"{_EXTENSIONS}.registry")
    if not hasattr(getattr(registry, "ExtensionRegistry", None), "get_extension"):
        return "its ExtensionRegistry.get_extension, which reads that table, is gone"
    return table


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except Exception:  # reported as the registry being gone
        return None


def unexpected() -> str | None:
    """Why the extension cannot be taken out (internals not as expected), or None if it can."""
    if not installed():
        return None
    found = _module_table()
    return found if isinstance(found, str) else None


def _live_table(instrumentor: object) -> MutableMapping[str, Any] | None:
    """The table a BotocoreInstrumentor's registry reads, if it is instrumenting."""
    registry = getattr(instrumentor, "extension_registry", None)
    table = getattr(registry, "_extensions", None)
    return table if type(table) is dict else None


def _instrumentor() -> object | None:
    """The BotocoreInstrumentor (a singleton), if its module is loaded; never creates it."""
    module = sys.modules.get(PACKAGE)
    return getattr(getattr(module, "BotocoreInstrumentor", None), "_instance", None)


def take_out() -> bool:
    """Take the Bedrock Runtime extension out; False (and why, logged once) if it cannot be.

    True when the instrumentation is not installed: there is nothing to double.
    """
    if not installed():
        return True
    found = _module_table()
    if isinstance(found, str):
        explain(found)
        return False
    tables = [found]
    live = _live_table(_instrumentor())
    if live is not None and live is not found:
        tables.append(live)  # a release that copies the table when it instruments
    for table in tables:
        if SERVICE in table:
            _taken.append((table, table.pop(SERVICE)))
    return True


def put_back() -> None:
    """Give the extension back (otel-llm's Bedrock instrumentation was removed)."""
    while _taken:
        table, extension = _taken.pop()
        table.setdefault(SERVICE, extension)


def records_bedrock(wrapper: object) -> bool:
    """Whether a wrapper around `BaseClient._make_api_call` records Bedrock Runtime calls as GenAI.

    For OTel's botocore instrumentation (its bound `_patched_api_call`): whether its registry
    still has the extension. Any other wrapper, or one whose internals are unknown: True.
    """
    instrumentor = getattr(wrapper, "__self__", None)
    if type(instrumentor).__module__ != PACKAGE:
        return True
    table = _live_table(instrumentor)
    return table is None or SERVICE in table


def explain(reason: str) -> None:
    """Say once why the botocore instrumentation could not be told to leave Bedrock alone."""
    global _explained  # noqa: PLW0603 - once per process
    if _explained:
        return
    _explained = True
    _logger.warning(
        "otel-llm: OTel's botocore instrumentation is not as otel-llm expects (%s), so it "
        "cannot be told to leave Bedrock Runtime calls to otel-llm",
        reason,
    )
