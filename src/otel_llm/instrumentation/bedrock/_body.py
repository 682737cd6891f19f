"""InvokeModel's bodies: the request's read without consuming it, the reply's read and replayed.

InvokeModel passes a model's JSON through as raw HTTP bodies. The request body is the caller's
`body` parameter (bytes, a string or a file); the reply body is a botocore `StreamingBody` the
caller reads. Both are read here without the caller noticing: a file is read and put back
where it was, and the reply is read once and handed back as an equivalent `StreamingBody`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_BODY_BYTES", "headers", "request_json", "take_body"]

MAX_BODY_BYTES = 8 * 1024 * 1024
"""Bodies larger than this are not read (images in, images out)."""


def request_json(body: object) -> Any:
    """InvokeModel's `body` parameter as JSON, without consuming a file the caller passed."""
    data: object = body
    if hasattr(body, "read"):
        data = _peek(body)
    if not isinstance(data, bytes | bytearray | str) or len(data) > MAX_BODY_BYTES:
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def _peek(file: Any) -> object:
    """A seekable file's content from where the caller left it, which is where it stays."""
    try:
        if not file.seekable():
            return None  # cannot be read twice: botocore must have it whole
        position = file.tell()
    except (AttributeError, OSError, ValueError):  # no seekable(), or a closed file
        return None
    try:
        return file.read(MAX_BODY_BYTES + 1)
    except (OSError, ValueError):
        return None
    finally:
        file.seek(position)


def headers(result: Mapping[str, Any]) -> Mapping[str, Any]:
    """The HTTP headers botocore keeps in a result's `ResponseMetadata` (names lower-cased)."""
    metadata = result.get("ResponseMetadata")
    found = metadata.get("HTTPHeaders") if isinstance(metadata, Mapping) else None
    return found if isinstance(found, Mapping) else {}


class _Unreadable(io.RawIOBase):
    """A raw stream whose reads raise what reading the real body raised."""

    def __init__(self, exc: BaseException) -> None:
        self._exc = exc

    def readable(self) -> bool:
        """Readable, in that reading is how the caller learns of the failure."""
        return True

    def read(self, size: int = -1) -> bytes:
        """Raise the original failure."""
        raise self._exc


def take_body(result: object) -> bytes | None:
    """InvokeModel's reply body, read once; the caller gets an equivalent StreamingBody.

    None (body untouched) when there is no readable body or it is larger than MAX_BODY_BYTES.
    A failed read raises its exception, after the caller's body was replaced with one whose
    reads raise the same exception, as the original's would have.
    """
    if type(result) is not dict:
        return None
    body = result.get("body")
    from botocore.response import StreamingBody  # noqa: PLC0415 - loaded: botocore built `result`

    # Exactly botocore's class: another one (a hook replaced the body) would not survive
    # being swapped for a StreamingBody, so it is left alone.
    if not isinstance(body, StreamingBody) or type(body) is not StreamingBody:
        return None
    length = headers(result).get("content-length")
    declared = int(length) if isinstance(length, str) and length.isdigit() else None
    if declared is not None and declared > MAX_BODY_BYTES:
        return None
    try:
        data = body.read()
    except BaseException as exc:
        result["body"] = StreamingBody(_Unreadable(exc), declared or 0)
        raise
    result["body"] = StreamingBody(_replay(body, data), len(data))
    return data if isinstance(data, bytes) else None


def _replay(body: object, data: bytes) -> Any:
    """A urllib3 response replaying `data`, as the original body's raw stream was one."""
    from urllib3.response import HTTPResponse  # noqa: PLC0415 - botocore's own dependency

    raw = getattr(body, "_raw_stream", None)
    return HTTPResponse(
        body=io.BytesIO(data),
        headers=getattr(raw, "headers", None),
        status=getattr(raw, "status", 200),
        reason=getattr(raw, "reason", None),
        preload_content=False,
        decode_content=False,  # `data` is decoded already
        enforce_content_length=False,
    )
