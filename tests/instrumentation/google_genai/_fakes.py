"""Real google-genai clients whose requests are answered with otel_llm.payloads.gemini bodies."""

from __future__ import annotations

import functools
import importlib
import ssl
from collections.abc import Callable
from typing import Any

import httpx2
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from otel_llm.payloads import gemini as g

Handler = Callable[[httpx2.Request], Any]
TOKEN = "ya29.test-token"
"""The OAuth access token fake Vertex clients send (no credential lookup runs)."""
CONTENTS = "Where is my order A-1042?"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def sdk_http() -> Any:
    """The HTTP library the installed SDK talks through: httpx2 (3.x) or httpx (2.x).

    google-genai 2.x is the line Google ADK pins (make pytest-frameworks runs these tests on it).
    """
    return httpx2 if int(genai.__version__.split(".")[0]) >= 3 else importlib.import_module("httpx")


def _transport(handler: Handler) -> Any:
    """A mock transport of the SDK's HTTP library; httpx's requests and responses translated."""
    http = sdk_http()
    if http is httpx2:
        return httpx2.MockTransport(handler)

    def translated(request: Any) -> Any:
        headers = list(request.headers.multi_items())
        found = handler(
            httpx2.Request(
                request.method, str(request.url), headers=headers, content=request.read()
            )
        )
        body = found.read()
        return http.Response(
            found.status_code, headers=list(found.headers.multi_items()), content=body
        )

    return http.MockTransport(translated)


def client(handler: Handler, *, vertex: bool = False, **options: Any) -> genai.Client:
    """A real google-genai client whose sync and async requests go to `handler` (httpx2's).

    A transport in `client_args` / `async_client_args` makes the SDK use httpx2 for both (never
    aiohttp, even when installed); Vertex gets a ready OAuth token so no credential lookup runs.
    One shared TLS context spares the SDK loading the CA bundle twice per client (~0.1 s).
    `options` are more `HttpOptions` (a timeout, a base URL).
    """
    transport = _transport(handler)
    tls = _tls_context()
    http_options = types.HttpOptions(
        client_args={"transport": transport, "verify": tls},
        async_client_args={"transport": transport, "verify": tls, "ssl": tls},
        **options,
    )
    if vertex:
        return genai.Client(
            vertexai=True,
            project="my-project",
            location="us-central1",
            credentials=Credentials(token=TOKEN),  # type: ignore[no-untyped-call]
            http_options=http_options,
        )
    return genai.Client(api_key="AIza-test-key", http_options=http_options)


def serve(body: Any, status: int = 200, *, seen: list[httpx2.Request] | None = None) -> Handler:
    """A handler answering every request with `body`: a JSON body, or a list of stream chunks."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        if seen is not None:
            seen.append(request)
        if isinstance(body, list):
            headers = {"content-type": g.CONTENT_TYPE}
            return httpx2.Response(status, content=g.encode(body), headers=headers)
        return httpx2.Response(status, json=body)

    return handler


def generate(body: Any, *, vertex: bool = False) -> types.GenerateContentResponse:
    """`body` as the SDK returns it from generate_content."""
    # The client stays referenced: a collected genai.Client closes its HTTP client.
    sdk = client(serve(body), vertex=vertex)
    return sdk.models.generate_content(model=g.MODEL, contents=CONTENTS)


def stream(chunks: list[Any], *, vertex: bool = False) -> list[types.GenerateContentResponse]:
    """`chunks` as the SDK yields them from generate_content_stream."""
    sdk = client(serve(chunks), vertex=vertex)
    return list(sdk.models.generate_content_stream(model=g.MODEL, contents=CONTENTS))
