"""Tests for otel_llm.instrumentation.bedrock._body: InvokeModel bodies read, left as found."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import IncompleteReadError
from botocore.response import StreamingBody

from otel_llm.instrumentation.bedrock import _body
from otel_llm.payloads import bedrock_invoke as invoke_payloads
from otel_llm.payloads.bedrock import MODEL_IDS
from tests.instrumentation.bedrock._server import FakeBedrock


@pytest.fixture
def client() -> Iterator[Any]:
    """A boto3 bedrock-runtime client talking to a running fake Bedrock."""
    with FakeBedrock() as server:
        yield server.client()


def _invoke(client: Any, family: str = "llama") -> Any:
    body = json.dumps(invoke_payloads.request(family))
    return client.invoke_model(modelId=MODEL_IDS[family], body=body)


@pytest.mark.parametrize("kind", ["bytes", "str", "bytearray", "file"])
def test_request_bodies_are_read_without_consuming_them(kind: str) -> None:
    """Bytes, text and seekable files are parsed; a file is left where the caller had it."""
    raw = json.dumps(invoke_payloads.request("titan_text")).encode()
    file = io.BytesIO(b"xx" + raw)
    file.seek(2)
    bodies: dict[str, object] = {
        "bytes": raw,
        "str": raw.decode(),
        "bytearray": bytearray(raw),
        "file": file,
    }
    assert _body.request_json(bodies[kind]) == invoke_payloads.request("titan_text")
    assert file.tell() == 2


def test_unreadable_request_bodies_are_skipped() -> None:
    """Unseekable or closed files, oversized bodies and invalid JSON give nothing."""

    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            raise AssertionError("an unseekable body must not be read")

    closed = io.BytesIO(b"{}")
    closed.close()
    too_big = b'{"prompt": "' + b"x" * _body.MAX_BODY_BYTES + b'"}'
    for body in (Pipe(), closed, too_big, b"{not json", b"\xff", None, 42):
        assert _body.request_json(body) is None


def test_the_reply_body_is_read_and_handed_back_equal(client: Any) -> None:
    """take_body returns the bytes; the caller's body then reads the same bytes, once."""
    result = _invoke(client)
    data = _body.take_body(result)
    assert data is not None
    assert json.loads(data) == invoke_payloads.response("llama")
    assert isinstance(result["body"], StreamingBody)
    assert result["body"].read() == data
    assert result["body"].read() == b""


def test_the_callers_body_reads_in_every_way_botocores_does(client: Any) -> None:
    """The handed-back body reads in pieces, by lines or chunks, and as a context manager."""
    expected = json.dumps(invoke_payloads.response("llama"), separators=(",", ":")).encode()
    for read in (
        lambda b: b.read(10) + b.read(),
        lambda b: b"".join(b.iter_chunks(7)),
        lambda b: b"\n".join(b.iter_lines()),
        lambda b: b.readlines()[0],
        lambda b: b"".join(b.__enter__().stream(8)),
    ):
        result = _invoke(client)
        _body.take_body(result)
        assert read(result["body"]) == expected
        result["body"].close()


def test_the_callers_body_wraps_the_same_kind_of_raw_stream(client: Any) -> None:
    """`with body as raw` gives a urllib3 response, as botocore's own body does."""
    bare = _invoke(client)["body"]
    result = _invoke(client)
    _body.take_body(result)
    with bare as original, result["body"] as replay:
        assert type(replay) is type(original)
        assert replay.status == original.status == 200
        assert replay.read() == original.read()


def test_a_failed_read_raises_now_and_again_for_the_caller() -> None:
    """When reading the reply body fails, the caller's body raises that same exception."""
    result: dict[str, Any] = {
        "body": StreamingBody(io.BytesIO(b'{"generation": "cut'), 100),
        "ResponseMetadata": {"HTTPHeaders": {"content-length": "100"}},
    }
    with pytest.raises(IncompleteReadError) as first:
        _body.take_body(result)
    with pytest.raises(IncompleteReadError) as second:
        result["body"].read()
    assert second.value is first.value


def test_oversized_missing_and_foreign_bodies_are_left_alone() -> None:
    """A body declared larger than the limit, none, or not botocore's, is not read or replaced."""
    original = StreamingBody(io.BytesIO(b"{}"), 2)
    result: dict[str, Any] = {
        "body": original,
        "ResponseMetadata": {"HTTPHeaders": {"content-length": str(_body.MAX_BODY_BYTES + 1)}},
    }
    assert _body.take_body(result) is None
    assert result["body"] is original
    assert _body.take_body({"body": None}) is None
    assert _body.take_body("result") is None
    replaced = io.BytesIO(b"{}")  # not botocore's body: another hook swapped it
    assert _body.take_body({"body": replaced}) is None
    assert replaced.tell() == 0

    class Subclass(StreamingBody):  # type: ignore[misc]  # botocore is untyped
        """Another library's body type, which a plain StreamingBody must not replace."""

    own = Subclass(io.BytesIO(b"{}"), 2)
    assert _body.take_body({"body": own}) is None


def test_headers_are_read_from_the_response_metadata() -> None:
    """The lower-cased HTTP headers botocore keeps; anything malformed gives none."""
    headers = {"x-amzn-bedrock-input-token-count": "25"}
    assert _body.headers({"ResponseMetadata": {"HTTPHeaders": headers}}) == headers
    assert _body.headers({"ResponseMetadata": "x"}) == {}
    assert _body.headers({}) == {}
