"""Facts of google-genai `models` calls (google_genai._models), read from real SDK objects."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest
import requests
from google import genai
from google.genai import errors, types

from otel_llm.instrumentation.endpoint import ErrorClass
from otel_llm.instrumentation.google_genai import _models as gg
from otel_llm.instrumentation.google_genai._stream import GenerateContentStreamState
from otel_llm.instrumentation.types import Usage
from otel_llm.payloads import gemini as g
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import server
from tests.instrumentation._schemas import OUTPUT, assert_valid
from tests.instrumentation.google_genai._fakes import client as gemini_client
from tests.instrumentation.google_genai._fakes import generate, sdk_http, serve

BOTH = pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])


def attributes_of(config: Any) -> dict[str, Any]:
    """The request attributes a generate_content call with `config` records (server ones aside)."""
    client = gemini_client(serve(g.text_response()))
    info = gg.generate_content_request(
        client.models, (), {"model": g.MODEL, "contents": "hi", "config": config}
    )
    assert gg.server(client.models)[server.SERVER_ADDRESS] == "generativelanguage.googleapis.com"
    return {k: v for k, v in info.attributes.items() if not k.startswith("server.")}


# --- Client facts -------------------------------------------------------------------------------
def test_provider_is_vertex_ai_only_for_a_vertex_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """`vertexai=True` (or `enterprise=True`, or the env var) is gcp.vertex_ai, else gcp.gemini."""
    monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
    monkeypatch.delenv("GOOGLE_GENAI_USE_ENTERPRISE", raising=False)
    assert gg.provider_name(genai.Client(api_key="k").models) == "gcp.gemini"
    assert gg.provider_name(genai.Client(api_key="k").aio.models) == "gcp.gemini"
    assert gg.provider_name(genai.Client(vertexai=True, api_key="k").models) == "gcp.vertex_ai"
    assert gg.provider_name(genai.Client(enterprise=True, api_key="k").models) == "gcp.vertex_ai"
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    assert gg.provider_name(genai.Client(api_key="k").aio.models) == "gcp.vertex_ai"
    assert gg.provider_name(object()) == "gcp.gemini"


@pytest.mark.parametrize(
    ("kwargs", "address", "port"),
    [
        ({"api_key": "k"}, "generativelanguage.googleapis.com", 443),
        (
            {"vertexai": True, "project": "p", "location": "europe-west4"},
            "europe-west4-aiplatform.googleapis.com",
            443,
        ),
        ({"vertexai": True, "api_key": "k"}, "aiplatform.googleapis.com", 443),
        (
            {"api_key": "k", "http_options": {"base_url": "http://127.0.0.1:8089/"}},
            "127.0.0.1",
            8089,
        ),
        (
            {"api_key": "k", "http_options": {"base_url": "http://proxy.internal/"}},
            "proxy.internal",
            80,
        ),
    ],
)
def test_server_address_and_port_from_the_client_base_url(
    kwargs: dict[str, Any], address: str, port: int
) -> None:
    """server.address / server.port come from the base URL the client was built with."""
    models = genai.Client(**kwargs).models
    expected = {server.SERVER_ADDRESS: address, server.SERVER_PORT: port}
    assert gg.server(models) == expected
    assert gg.server(models) == expected  # the parsed URL is cached: the same answer again


def test_server_attributes_follow_a_changed_base_url() -> None:
    """A changed base URL is read again; a malformed one, or no client, gives no server."""
    models = genai.Client(api_key="k").models
    gg.server(models)
    models._api_client._http_options.base_url = "https://gemini-proxy.example.com:8443/"
    assert gg.server(models)[server.SERVER_PORT] == 8443
    models._api_client._http_options.base_url = "https://bad:port:x/"
    assert gg.server(models) == {}
    assert gg.server(object()) == {}


# --- Requests ----------------------------------------------------------------------------------
SAMPLING = {
    ga.GEN_AI_REQUEST_TEMPERATURE: 0.2,
    ga.GEN_AI_REQUEST_TOP_P: 0.9,
    ga.GEN_AI_REQUEST_TOP_K: 40,
    ga.GEN_AI_REQUEST_MAX_TOKENS: 256,
    ga.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
    ga.GEN_AI_REQUEST_SEED: 7,
    ga.GEN_AI_REQUEST_CHOICE_COUNT: 2,
    ga.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.5,
    ga.GEN_AI_REQUEST_FREQUENCY_PENALTY: 0.25,
}


@pytest.mark.parametrize(
    "config",
    [
        types.GenerateContentConfig(
            temperature=0.2,
            top_p=0.9,
            top_k=40,
            max_output_tokens=256,
            stop_sequences=["END"],
            seed=7,
            candidate_count=2,
            presence_penalty=0.5,
            frequency_penalty=0.25,
        ),
        {
            "temperature": 0.2,
            "top_p": 0.9,
            "top_k": 40.0,
            "max_output_tokens": 256,
            "stop_sequences": ["END"],
            "seed": 7,
            "candidate_count": 2,
            "presence_penalty": 0.5,
            "frequency_penalty": 0.25,
        },
        {
            "temperature": 0.2,
            "topP": 0.9,
            "topK": 40,
            "maxOutputTokens": 256,
            "stopSequences": ["END"],
            "seed": 7,
            "candidateCount": 2,
            "presencePenalty": 0.5,
            "frequencyPenalty": 0.25,
        },
    ],
    ids=["config-object", "snake-dict", "camel-dict"],
)
def test_sampling_parameters_from_every_config_form(config: Any) -> None:
    """A GenerateContentConfig and a dict in either case give the same request attributes."""
    assert attributes_of(config) == SAMPLING


def test_wrong_typed_parameters_are_not_recorded() -> None:
    """Booleans, strings, a fractional top_k and one candidate are left out."""
    config = {
        "temperature": True,
        "max_output_tokens": "256",
        "top_k": 2.5,
        "candidate_count": 1,
        "stop_sequences": ["END", 3],
        "seed": 1.0,
    }
    assert attributes_of(config) == {}
    assert attributes_of(None) == {}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"response_mime_type": "application/json"}, "json"),
        (types.GenerateContentConfig(response_schema={"type": "OBJECT"}), "json"),
        ({"response_json_schema": {"type": "object"}}, "json"),
        ({"response_mime_type": "text/x.enum"}, "text"),
        ({"responseModalities": ["TEXT", "IMAGE"]}, "image"),
        (types.GenerateContentConfig(response_modalities=[types.Modality.AUDIO]), "speech"),
        ({"response_mime_type": "text/plain"}, "text"),
    ],
)
def test_output_type(config: Any, expected: str) -> None:
    """JSON mime type or a schema is json; image/audio modalities image/speech; plain text text."""
    assert attributes_of(config)[ga.GEN_AI_OUTPUT_TYPE] == expected


def test_thinking_level_is_the_reasoning_level() -> None:
    """thinking_config.thinking_level is recorded lower-cased; a bare budget is not a level."""
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(thinking_level=types.ThinkingLevel.HIGH)
    )
    assert attributes_of(config) == {ga.GEN_AI_REQUEST_REASONING_LEVEL: "high"}
    assert attributes_of({"thinking_config": {"thinking_budget": 1024}}) == {}


def test_request_model_stream_flag_and_positional_arguments() -> None:
    """Model from `model=`; the stream method marks a stream; positionals bind in order.

    Keyword arguments are the content's parameters as they are (params None); positional ones
    are handed over bound to their names.
    """
    models = gemini_client(serve(g.text_response())).models
    info = gg.generate_content_request(models, (), {"model": "gemini-2.5-pro", "contents": "hi"})
    assert (info.model, info.stream, info.params) == ("gemini-2.5-pro", False, None)
    assert ga.GEN_AI_REQUEST_STREAM not in info.attributes
    args = ("gemini-2.5-flash", "Where is A-1042?")
    streamed = gg.generate_content_stream_request(models, args, {"config": None})
    assert (streamed.model, streamed.stream) == ("gemini-2.5-flash", True)
    assert streamed.attributes[ga.GEN_AI_REQUEST_STREAM] is True
    assert streamed.params == {"model": args[0], "contents": args[1], "config": None}
    content = gg.generate_content_content(streamed.params)
    assert content.input_messages == [
        {"role": "user", "parts": [{"type": "text", "content": "Where is A-1042?"}]}
    ]


def test_request_content_carries_system_instruction_and_tools() -> None:
    """System instruction and tools come from the config; no tools means no definitions."""
    config = types.GenerateContentConfig(
        system_instruction="You are a support agent.",
        tools=[types.Tool(google_search=types.GoogleSearch())],
    )
    content = gg.generate_content_content({"model": g.MODEL, "contents": "hi", "config": config})
    assert content.system_instructions == [{"type": "text", "content": "You are a support agent."}]
    assert content.tool_definitions == [{"type": "google_search", "name": "google_search"}]
    assert gg.generate_content_content({"contents": "hi"}).tool_definitions is None


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("google/gemini-2.5-flash", "gemini-2.5-flash"),
        ("publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"),
        (
            "projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro",
            "gemini-2.5-pro",
        ),
        ("tunedModels/1234567890", "tunedModels/1234567890"),
        (
            "projects/p/locations/us-central1/endpoints/42",
            "projects/p/locations/us-central1/endpoints/42",
        ),
        (
            "meta/llama-4-maverick-17b-128e-instruct-maas",
            "meta/llama-4-maverick-17b-128e-instruct-maas",
        ),
        ("models/", "models/"),
        ("", None),
        (3, None),
    ],
)
def test_request_model_is_the_bare_model_name(model: Any, expected: str | None) -> None:
    """Every way the SDK accepts to name a Google model records the bare name (priced by it)."""
    assert gg.model_name(model) == expected


def test_embed_request_records_the_dimension_count() -> None:
    """embed_content's output_dimensionality is gen_ai.embeddings.dimension.count."""
    models = gemini_client(serve(g.batch_embeddings())).models
    params = {
        "model": g.EMBEDDING_MODEL,
        "contents": ["a"],
        "config": {"output_dimensionality": 64},
    }
    info = gg.embed_content_request(models, (), params)
    assert info.model == g.EMBEDDING_MODEL
    assert info.attributes[ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 64


# --- Usage and responses -------------------------------------------------------------------------
@BOTH
def test_text_response_facts(vertex: bool) -> None:
    """Id, model, finish reason and usage of a plain answer; output only when captured."""
    response = generate(g.text_response(vertex=vertex), vertex=vertex)
    info = gg.generate_content_response(response, capture=False)
    assert (info.response_id, info.model, info.finish_reasons) == (
        g.RESPONSE_ID,
        g.MODEL,
        ("stop",),
    )
    assert info.usage == Usage(input_tokens=12, output_tokens=5)
    assert info.output is None
    captured = gg.generate_content_response(response, capture=True)
    assert captured.output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": g.TEXT}],
            "finish_reason": "stop",
        }
    ]


def test_thoughts_are_output_and_reasoning_tokens() -> None:
    """Thoughts bill as output: output = candidates + thoughts, reasoning = thoughts."""
    response = generate(g.thinking_response())
    info = gg.generate_content_response(response, capture=True)
    assert info.usage == Usage(input_tokens=34, output_tokens=17 + 759, reasoning_tokens=759)
    assert [p["type"] for p in info.output[0]["parts"]] == ["reasoning", "text"]


def test_cached_and_tool_use_prompt_tokens_are_input() -> None:
    """Cached tokens are inside the prompt count; tool-use prompt tokens add to the input."""
    info = gg.generate_content_response(generate(g.cached_response()), capture=False)
    assert info.usage == Usage(
        input_tokens=4126, output_tokens=5 + 88, cache_read_tokens=4096, reasoning_tokens=88
    )
    assert gg.usage(g.usage(100, 20, tool_use_prompt=30)) == Usage(
        input_tokens=130, output_tokens=20
    )


def test_usage_keeps_only_plausible_counts() -> None:
    """Strings, negatives and booleans are dropped; nothing usable is no usage at all."""
    metadata = {"promptTokenCount": "12", "candidatesTokenCount": -1, "thoughtsTokenCount": True}
    assert gg.usage(metadata) is None
    assert gg.usage({"trafficType": "ON_DEMAND"}) is None
    assert gg.usage(None) is None


def test_function_call_response_finishes_with_tool_call() -> None:
    """A turn that calls a function reports tool_call although Gemini said STOP."""
    response = generate(g.function_call_response(call_id="fc_1"))
    info = gg.generate_content_response(response, capture=True)
    assert info.finish_reasons == ("tool_call",)
    assert info.output[0]["parts"][0]["id"] == "fc_1"
    assert_valid(OUTPUT, info.output)


@BOTH
def test_blocked_and_cut_responses(vertex: bool) -> None:
    """A blocked answer or prompt is content_filter with 0 output tokens; MAX_TOKENS is length."""
    answer = gg.generate_content_response(generate(g.safety_blocked_response(vertex=vertex)), True)
    assert answer.finish_reasons == ("content_filter",)
    assert answer.usage == Usage(input_tokens=14, output_tokens=0)
    assert answer.output[0]["parts"] == []
    prompt = gg.generate_content_response(generate(g.prompt_blocked_response(vertex=vertex)), True)
    assert prompt.finish_reasons == ("content_filter",)
    assert prompt.output == []
    thinking = gg.generate_content_response(generate(g.max_tokens_response(None)), False)
    assert thinking.finish_reasons == ("length",)
    assert thinking.usage == Usage(input_tokens=15, output_tokens=2, reasoning_tokens=2)


def test_several_candidates_each_finish_on_their_own() -> None:
    """With candidate_count=2 every candidate has its finish reason and output message."""
    two = g.response([g.candidate(), g.candidate([g.text_part("Hi")], "MAX_TOKENS", index=1)])
    info = gg.generate_content_response(generate(two), capture=True)
    assert info.finish_reasons == ("stop", "length")
    assert [m["parts"][0]["content"] for m in info.output] == [g.TEXT, "Hi"]


def test_response_facts_of_a_hostile_object() -> None:
    """A response with wrong-typed fields gives empty facts instead of raising."""
    hostile = types.GenerateContentResponse.model_construct(
        candidates="nope", usage_metadata=3, response_id=7, model_version=b"m"
    )
    info = gg.generate_content_response(hostile, capture=True)
    assert (info.response_id, info.model, info.finish_reasons, info.usage) == (None, None, (), None)


# --- Embeddings ----------------------------------------------------------------------------------
def test_embedding_usage_where_the_service_reports_it() -> None:
    """Vertex reports input tokens (per text or in usage metadata); the Gemini API does not.

    google-genai 2.x calls Vertex's :predict for every embedding model (3.x calls :embedContent
    for the gemini-embedding ones, and reads its usage metadata).
    """
    cases: list[tuple[bool, Any, str | list[str], int | None]] = [
        (False, g.batch_embeddings(), ["a", "b"], None),
        (True, g.predictions(token_counts=(6, 9)), ["a", "b"], 15),
    ]
    if "usage_metadata" in types.EmbedContentResponse.model_fields:
        cases.append((True, g.embedding(prompt_tokens=8), "a", 8))
    for vertex, body, contents, tokens in cases:
        sdk = gemini_client(serve(body), vertex=vertex)
        model = "text-embedding-005" if "predictions" in body else g.EMBEDDING_MODEL
        result = sdk.models.embed_content(model=model, contents=contents)
        info = gg.embed_content_response(result, capture=False)
        assert info.usage == (Usage(input_tokens=tokens) if tokens is not None else None)
        assert info.attributes == {ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 8}
    assert gg.embed_content_response(types.EmbedContentResponse(), False).usage is None


# --- Errors --------------------------------------------------------------------------------------
def raised(body: Any, status: int, *, vertex: bool = False) -> BaseException:
    """The exception the real SDK raises for an error response."""
    sdk = gemini_client(serve(body, status), vertex=vertex)
    with pytest.raises(errors.APIError) as info:
        sdk.models.generate_content(model=g.MODEL, contents="hi")
    return info.value


@BOTH
@pytest.mark.parametrize(
    ("status", "outcome", "error_type"),
    [
        (400, "error", "INVALID_ARGUMENT"),
        (401, "error", "UNAUTHENTICATED"),
        (403, "error", "PERMISSION_DENIED"),
        (404, "error", "NOT_FOUND"),
        (429, "rate_limited", "RESOURCE_EXHAUSTED"),
        (500, "error", "INTERNAL"),
        (503, "error", "UNAVAILABLE"),
        (504, "timeout", "DEADLINE_EXCEEDED"),
    ],
)
def test_api_errors_are_classified_by_status(
    vertex: bool, status: int, outcome: str, error_type: str
) -> None:
    """429 is rate-limited, 504 a timeout, the rest errors; error.type is the google.rpc status."""
    exc = raised(g.error(status, vertex=vertex), status, vertex=vertex)
    assert gg.classify(exc) == ErrorClass(outcome, error_type, code=error_type)


def test_api_error_without_a_json_body_is_typed_by_its_code() -> None:
    """A proxy's HTML 429 is still rate-limited; error.type falls back to the HTTP code."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(429, text="<html>Too Many Requests</html>")

    sdk = gemini_client(handler)
    with pytest.raises(errors.ClientError) as info:
        sdk.models.generate_content(model=g.MODEL, contents="hi")
    assert gg.classify(info.value) == ErrorClass("rate_limited", "429")


def test_client_timeouts_of_every_http_stack_are_timeouts() -> None:
    """httpx2 (the SDK's) and requests (google-auth's) timeouts are timeouts; the rest is left."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("The read operation timed out", request=request)

    sdk = gemini_client(handler)
    with pytest.raises(httpx2.ReadTimeout) as info:
        sdk.models.generate_content(model=g.MODEL, contents="hi")
    assert gg.classify(info.value) == ErrorClass("timeout")
    assert gg.classify(requests.exceptions.ReadTimeout()) == ErrorClass("timeout")
    # Python's own timeouts and cancellations, and every other failure, follow the engine's rule.
    assert gg.classify(asyncio.TimeoutError()) is None
    assert gg.classify(asyncio.CancelledError()) is None
    assert gg.classify(httpx2.ConnectError("refused")) is None
    assert gg.classify(errors.UnsupportedFunctionError("MCP sessions are not supported")) is None


# --- A real socket -------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    """Serves the payloads over a real socket: SSE flushed event by event, or a stall."""

    release = threading.Event()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        if g.model_of(self.path) == "stall":
            self.release.wait(5)  # let the client's timeout fire first
            return
        streamed = g.method_of(self.path) == "streamGenerateContent"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream" if streamed else "application/json")
        self.end_headers()
        if not streamed:
            self.wfile.write(json.dumps(g.text_response()).encode())
            return
        for chunk in g.chunks():
            self.wfile.write(g.frame(chunk))
            self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    """A Gemini-speaking HTTP server on 127.0.0.1, its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        _Handler.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        _Handler.release.clear()


def test_real_socket_server_via_base_url(local_server: str) -> None:
    """`http_options.base_url` sends the SDK to a local server; a timeout raises its HTTP error."""
    sdk = genai.Client(api_key="k", http_options={"base_url": local_server})
    state = GenerateContentStreamState(capture=False)
    for chunk in sdk.models.generate_content_stream(model=g.MODEL, contents="hi"):
        state.on_chunk(chunk)
    info = state.result()
    assert (info.finish_reasons, info.usage) == (("stop",), Usage(12, 5))
    assert sdk.models.generate_content(model=g.MODEL, contents="hi").text == g.TEXT
    port = int(local_server.rsplit(":", 1)[1].rstrip("/"))
    expected = {server.SERVER_ADDRESS: "127.0.0.1", server.SERVER_PORT: port}
    assert gg.server(sdk.models) == expected
    slow = genai.Client(api_key="k", http_options={"base_url": local_server, "timeout": 200})
    with pytest.raises(sdk_http().TimeoutException) as timeout:
        slow.models.generate_content(model="stall", contents="hi")
    assert gg.classify(timeout.value) == ErrorClass("timeout")
