"""How a failed operation is recorded: type, HTTP status and provider code; text only if captured.

An exception's message, its stack trace and its chained causes are free text that routinely
holds content: pydantic echoes the reply that failed validation, a 400 echoes the prompt, a
transport error holds the request body, a tool's error quotes its argument. With content
capture on spans off (the default) a failure is therefore recorded by identifiers only:
`error.type` and the exception event's `exception.type`, `http.response.status_code` and
`otel_llm.error.code`, and a stack trace of frames with every exception named by type. With
capture on, the message and the full trace are recorded too, redacted and cut to the content
byte budget (the redaction processor still runs after).

Only a provider SDK's own API errors (openai's and anthropic's `APIError`, which their SDKs
also raise for an error event inside a stream) give `otel_llm.error.code`: the fields a tool's
or the application's exception calls `code` or `type` are whatever its author put there.
`trace_without_messages` applies the same rule to a trace another library already formatted.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Mapping
from types import TracebackType

from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_llm._budget import ContentPolicy, capture_mode, fit_text
from otel_llm._errors import error_type
from otel_llm.semconv.attributes.error import ERROR_TYPE
from otel_llm.semconv.attributes.http import HTTP_RESPONSE_STATUS_CODE
from otel_llm.semconv.attributes.otel_llm import OTEL_LLM_ERROR_CODE

__all__ = ["failure_attributes", "frames_only", "record_failure", "trace_without_messages"]

EXCEPTION_EVENT = "exception"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"

_CODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
"""What a provider error code must look like to be recorded: an identifier, not a sentence."""
_CODE_FIELDS = ("error_code", "code", "type")
"""Most specific first: Anthropic's details code, OpenAI's code, then either SDK's error type."""
_PROVIDER_ERRORS = (("openai", "APIError"), ("anthropic", "APIError"))
"""The provider SDK error classes (module, class) whose code fields the provider filled in."""

_MAX_CHAIN = 32
_MAX_GROUP = 16
_MAX_REPEATS = 3
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def failure_attributes(exc: BaseException) -> dict[str, AttributeValue]:
    """The span attributes of a failure: identifiers only, safe whatever the capture mode."""
    attributes: dict[str, AttributeValue] = {ERROR_TYPE: error_type(exc)}
    status = _http_status(exc)
    if status is not None:
        attributes[HTTP_RESPONSE_STATUS_CODE] = status
    code = _provider_code(exc)
    if code is not None:
        attributes[OTEL_LLM_ERROR_CODE] = code
    return attributes


def record_failure(span: Span, exc: BaseException, telemetry: ContentPolicy) -> None:
    """Mark `span` failed by `exc`: ERROR status and an `exception` event, text only if captured.

    Not `span.record_exception`: that formats the message and the full chained trace whatever
    the capture mode, and the status description would carry the message as well.
    """
    if not span.is_recording():
        return  # sampled out: formatting a trace nobody keeps is wasted work
    exc_type = error_type(exc)
    max_bytes = telemetry.settings.max_content_bytes
    attributes: dict[str, AttributeValue] = {EXCEPTION_TYPE: exc_type}
    description = None
    if capture_mode(telemetry).on_spans:
        message = fit_text(_text(exc), max_bytes, telemetry.redact_part)
        if message:
            attributes[EXCEPTION_MESSAGE] = description = message
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    else:
        trace = frames_only(exc)
    # The end of a trace names the exception and where it was raised: that is what is kept.
    attributes[EXCEPTION_STACKTRACE] = fit_text(
        trace, max_bytes, telemetry.redact_part, keep_end=True
    )
    span.set_status(Status(StatusCode.ERROR, description))
    span.add_event(EXCEPTION_EVENT, attributes)


def frames_only(exc: BaseException) -> str:
    """`exc`'s traceback as Python prints it, minus every message: frames and type names only.

    Chained causes and contexts come first, as in Python's own output, each named by type;
    an exception group lists its members' types. No source lines (they are read from disk),
    no notes, no messages.
    """
    chain: list[tuple[BaseException, str]] = []  # (exception, how the next one relates to it)
    seen: set[int] = set()
    current: BaseException | None = exc
    relation = ""
    while current is not None and id(current) not in seen and len(chain) < _MAX_CHAIN:
        seen.add(id(current))
        chain.append((current, relation))
        if current.__cause__ is not None:
            current, relation = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, relation = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    for link, relation in reversed(chain):
        lines.extend(_frames(link.__traceback__))
        lines.append(error_type(link))
        lines.extend(_members(link))
        if relation:
            lines.extend(("", relation, ""))
    return "\n".join(lines) + "\n"


def _members(group: BaseException) -> list[str]:
    """The types of an exception group's members (Python 3.11+), one level deep."""
    members = getattr(group, "exceptions", None)
    if not isinstance(members, tuple):
        return []
    lines = [f"  | {error_type(m)}" for m in members[:_MAX_GROUP] if isinstance(m, BaseException)]
    if len(members) > _MAX_GROUP:
        lines.append(f"  | ... and {len(members) - _MAX_GROUP} more")
    return lines


def _frames(tb: TracebackType | None) -> list[str]:
    if tb is None:
        return []
    lines = ["Traceback (most recent call last):"]
    last = None
    repeats = 0
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        line = f'  File "{code.co_filename}", line {lineno}, in {code.co_name}'
        if line == last:
            repeats += 1
            if repeats >= _MAX_REPEATS:
                continue  # deep recursion: counted below, as Python does
        else:
            lines.extend(_repeated(repeats))
            last, repeats = line, 0
        lines.append(line)
    lines.extend(_repeated(repeats))
    return lines


def _repeated(repeats: int) -> list[str]:
    extra = repeats - _MAX_REPEATS + 1
    return [f"  [Previous line repeated {extra} more times]"] if extra > 0 else []


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a __str__ that raises must not cost the span its failure
        return f"<unprintable {type(exc).__name__}>"


def _http_status(exc: BaseException) -> int | None:
    """The HTTP error status the exception carries (SDK errors, httpx, requests, botocore).

    botocore's ClientError keeps the parsed reply as a dict whose ResponseMetadata holds the
    status; an exception event inside a stream has no ResponseMetadata, so no status.
    """
    try:
        status = getattr(exc, "status_code", None)
        if status is None:
            response = getattr(exc, "response", None)
            if isinstance(response, Mapping):
                metadata = response.get("ResponseMetadata")
                status = metadata.get("HTTPStatusCode") if isinstance(metadata, Mapping) else None
            else:
                status = getattr(response, "status_code", None)
    except Exception:  # a property that raises is no status
        return None
    # An error event inside a stream that began with 200 is not an HTTP error.
    return status if type(status) is int and 400 <= status <= 599 else None


def _provider_error(exc: BaseException) -> bool:
    """Whether `exc` is a provider SDK's API error (an SDK not imported raised nothing)."""
    for module_name, class_name in _PROVIDER_ERRORS:
        error_class = getattr(sys.modules.get(module_name), class_name, None)
        if isinstance(error_class, type) and isinstance(exc, error_class):
            return True
    return False


def _provider_code(exc: BaseException) -> str | None:
    """The provider's error code from its SDK's API error, if it is an identifier; else None."""
    if not _provider_error(exc):
        return None  # a tool's or the application's `code`/`type` may be anything
    for field in _CODE_FIELDS:
        try:
            value = getattr(exc, field, None)
        except Exception:  # a property that raises is no code
            value = None
        if type(value) is int:
            value = str(value)
        if type(value) is str and _CODE.fullmatch(value):
            return value
    return None


_TRACE_HEADERS = frozenset(
    {"Traceback (most recent call last):", "Exception Group Traceback (most recent call last):"}
)
_GROUP_BORDER = re.compile(r"(?: *[|+](?: |$))?")
"""The border an exception group draws to the left of its members' lines."""
_GROUP_SEPARATOR = re.compile(r" *\+[-+]*(?: (?:\d+|\.\.\.) -+)?|\s*and \d+ more exceptions?")
_FRAME = re.compile(r'  File "[^"\n]*", line \d+, in [\w.<>]+')
_REPEATED = re.compile(r"  \[Previous line repeated \d+ more times?\]")
_EXCEPTION_TYPE = re.compile(r"[A-Za-z_][\w.]*(?=:|$)")


def trace_without_messages(trace: str) -> str:
    """A Python traceback text as `frames_only` would have written it: no message, no source.

    For traces another library formatted (an `exception.stacktrace` attribute): frame lines,
    the headers and chain sentences, exception group borders, and of each exception line its
    type only. Source lines, messages (every line of them) and notes are dropped.
    """
    kept: list[str] = []
    in_message = False  # after an exception line, until the next structural line
    for line in trace.splitlines():
        if _GROUP_SEPARATOR.fullmatch(line):
            kept.append(line)
            in_message = False
            continue
        border = _GROUP_BORDER.match(line)
        prefix, rest = (border.group(), line[border.end() :]) if border else ("", line)
        if rest in _TRACE_HEADERS or _FRAME.fullmatch(rest) or _REPEATED.fullmatch(rest):
            kept.append(line)
            in_message = False
        elif rest in (_CAUSE, _CONTEXT):
            kept.extend((prefix.rstrip(), line, prefix.rstrip()))
            in_message = False
        elif rest and not rest[0].isspace() and not in_message:
            # The line after the frames names the exception: its type is kept, the rest is text.
            exception_type = _EXCEPTION_TYPE.match(rest)
            if exception_type is not None:
                kept.append(prefix + exception_type.group())
            in_message = True
    return "\n".join(kept) + "\n" if kept else ""
