"""OTel's botocore instrumentation, told to leave Bedrock Runtime calls to otel-llm.

opentelemetry-instrumentation-botocore traces every AWS service; for `bedrock-runtime` it has
a GenAI extension (gen_ai span attributes, metrics, content events) that would record each
Bedrock call a second time. While otel-llm's Bedrock instrumentation is on, that extension is
taken out of the instrumentation's table of service extensions, so a Bedrock call gets its
plain AWS SDK span there (as an S3 or SQS call without an extension does) and its GenAI
telemetry from otel-llm only. Taken out of the module's table, which the instrumentation's
registry holds (either order of instrumenting), and out of a live registry's own table, as
soon as the instrumentation is imported (never importing it); put back when otel-llm's is
removed.

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

from wrapt import register_post_import_hook

from otel_llm._errors import log_internal_error

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
_wanted = False
"""otel-llm's Bedrock instrumentation is on."""
_hooked = False


def installed() -> bool:
    """Whether OTel's botocore instrumentation is installed (imports no more than its parents)."""
    try:
        return importlib.util.find_spec(PACKAGE) is not None
    except (ImportError, ValueError):
        return False


def _table_of(module: ModuleType) -> MutableMapping[str, Any] | str:
    """The extensions module's table of service extensions, or why it cannot be used."""
    table = getattr(module, _TABLE, None)
    if type(table) is not dict:
        return f"{_EXTENSIONS}.{_TABLE} is not the dict of service extensions it was"
    if SERVICE not in table and not any(SERVICE in taken for taken, _ in _taken):
        return f"{_EXTENSIONS}.{_TABLE} has no {SERVICE!r} extension"
    registry = sys.modules.get(f"{_EXTENSIONS}.registry")  # checked once loaded, not loaded
    if registry is not None and not hasattr(
        getattr(registry, "ExtensionRegistry", None), "get_extension"
    ):
        return "its ExtensionRegistry.get_extension, which reads that table, is gone"
    return table


def _module_table() -> MutableMapping[str, Any] | str:
    """The instrumentation's table of service extensions (imported), or why it cannot be used."""
    try:
        module = importlib.import_module(_EXTENSIONS)
    except Exception as exc:  # whatever its import raises, we only fall back
        return f"importing {_EXTENSIONS} failed: {type(exc).__name__}"
    return _table_of(module)


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


def leave_bedrock_to_otel_llm() -> None:
    """Take the extension out while otel-llm's Bedrock instrumentation is on.

    Now if the botocore instrumentation is imported, else as soon as it is (importing nothing
    here: configure() loads no SDK the application does not use).
    """
    global _wanted, _hooked  # noqa: PLW0603 - once per process
    _wanted = True
    if not _hooked:
        _hooked = True
        register_post_import_hook(_imported, _EXTENSIONS)  # runs at once if imported already
    elif _EXTENSIONS in sys.modules:
        _imported(sys.modules[_EXTENSIONS])


def _imported(module: ModuleType) -> None:
    # Runs inside the application's import: a bug here is logged, never raised into it.
    if not _wanted:
        return  # otel-llm's Bedrock instrumentation was removed (hooks stay registered)
    try:
        take_out(module)
    except Exception:
        log_internal_error("leaving Bedrock Runtime calls to otel-llm")


def take_out(module: ModuleType) -> bool:
    """Take the Bedrock Runtime extension out of the extensions `module`'s tables.

    False (and why, logged once) if its internals are not as expected.
    """
    found = _table_of(module)
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
    global _wanted  # noqa: PLW0603
    _wanted = False
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
