"""Tests for otel_llm.instrumentation.google_genai: facts of google-genai calls, real SDK types."""

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

from otel_llm.instrumentation import google_genai as gg
from otel_llm.instrumentation._model import Usage
from otel_llm.payloads import gemini as g
from otel_llm.semconv.attributes import gen_ai as ga
from otel_llm.semconv.attributes import server
from tests.instrumentation.test_content import OUTPUT, assert_valid
from tests.payloads.test_gemini import gemini_client, generate, serve, stream

BOTH = pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])


def attributes_of(config: Any) -> dict[str, Any]:
    """The request attributes a generate_content call with `config` records (server ones aside)."""
    client = gemini_client(serve(g.text_response()))
    info = gg.generate_content_request(
        client.models, (), {"model": g.MODEL, "contents": "hi", "config": config}
    )
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
    assert gg.server_attributes(models) == expected
    assert gg.server_attributes(models) == expected  # cached, same answer


def test_server_attributes_follow_a_changed_base_url() -> None:
    """The per-client cache is keyed by the base URL, so a changed URL is read again."""
    models = genai.Client(api_key="k").models
    gg.server_attributes(models)
    models._api_client._http_options.base_url = "https://gemini-proxy.example.com:8443/"
    assert gg.server_attributes(models)[server.SERVER_PORT] == 8443
    models._api_client._http_options.base_url = "https://bad:port:x/"
    assert gg.server_attributes(models) == {}


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
    """Model from `model=`; the stream method marks a stream; positionals bind in order."""
    models = gemini_client(serve(g.text_response())).models
    info = gg.generate_content_request(models, (), {"model": "gemini-2.5-pro", "contents": "hi"})
    assert (info.model, info.stream) == ("gemini-2.5-pro", False)
    assert ga.GEN_AI_REQUEST_STREAM not in info.attributes
    streamed = gg.generate_content_stream_request(models, ("gemini-2.5-flash", "hi"), {})
    assert (streamed.model, streamed.stream) == ("gemini-2.5-flash", True)
    assert streamed.attributes[ga.GEN_AI_REQUEST_STREAM] is True
    assert streamed.attributes[server.SERVER_ADDRESS] == "generativelanguage.googleapis.com"
    content = gg.generate_content_content(("gemini-2.5-flash", "Where is A-1042?"), {})
    assert content.input_messages == [
        {"role": "user", "parts": [{"type": "text", "content": "Where is A-1042?"}]}
    ]


def test_request_content_carries_system_instruction_and_tools() -> None:
    """System instruction and tools come from the config; no tools means no definitions."""
    config = types.GenerateContentConfig(
        system_instruction="You are a support agent.",
        tools=[types.Tool(google_search=types.GoogleSearch())],
    )
    content = gg.generate_content_content(
        (), {"model": g.MODEL, "contents": "hi", "config": config}
    )
    assert content.system_instructions == [{"type": "text", "content": "You are a support agent."}]
    assert content.tool_definitions == [{"type": "google_search", "name": "google_search"}]
    assert gg.generate_content_content((), {"contents": "hi"}).tool_definitions is None


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
    models = gemini_client(serve(g.embed_gemini())).models
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
    assert info.usage == Usage(input_tokens=12, output_tokens=17)
    assert info.output is None
    captured = gg.generate_content_response(response, capture=True)
    assert captured.output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": g.ANSWER}],
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
        input_tokens=4126, output_tokens=17 + 88, cache_read_tokens=4096, reasoning_tokens=88
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


def test_image_output_is_a_blob_part() -> None:
    """An image in the answer is recorded as a base64 blob with its MIME type."""
    info = gg.generate_content_response(generate(g.image_response()), capture=True)
    assert info.output[0]["parts"][1] == {
        "type": "blob",
        "modality": "image",
        "content": g.PNG_BASE64,
        "mime_type": "image/png",
    }
    assert info.model == g.IMAGE_MODEL


def test_response_facts_of_a_hostile_object() -> None:
    """A response with wrong-typed fields gives empty facts instead of raising."""
    hostile = types.GenerateContentResponse.model_construct(
        candidates="nope", usage_metadata=3, response_id=7, model_version=b"m"
    )
    info = gg.generate_content_response(hostile, capture=True)
    assert (info.response_id, info.model, info.finish_reasons, info.usage) == (None, None, (), None)


# --- Embeddings ----------------------------------------------------------------------------------
def test_embedding_usage_where_the_service_reports_it() -> None:
    """Vertex reports input tokens (per text or in usage metadata); the Gemini API does not."""
    cases = [
        (False, g.embed_gemini(), ["a", "b"], None),
        (True, g.embed_vertex_predict((6, 9)), ["a", "b"], 15),
        (True, g.embed_vertex(8), "a", 8),
    ]
    for vertex, body, contents, tokens in cases:
        client = gemini_client(serve(body), vertex=vertex)
        model = "text-embedding-005" if "predictions" in body else g.EMBEDDING_MODEL
        result = client.models.embed_content(model=model, contents=contents)
        info = gg.embed_content_response(result, capture=False)
        assert info.usage == (Usage(input_tokens=tokens) if tokens is not None else None)
        assert info.attributes == {ga.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 8}


# --- Streams -------------------------------------------------------------------------------------
def accumulate(chunks: list[Any], capture: bool = True) -> Any:
    """The ResponseInfo a stream state builds from `chunks`."""
    state = gg.GenerateContentStreamState(capture)
    for chunk in chunks:
        state.on_chunk(chunk)
    return state.result()


@BOTH
def test_stream_state_of_a_text_stream(vertex: bool) -> None:
    """The streamed answer, its last usage, id, model and finish reason, text pieces joined."""
    info = accumulate(stream(g.text_stream(vertex=vertex), vertex=vertex))
    assert (info.response_id, info.model, info.finish_reasons) == (
        g.RESPONSE_ID,
        g.MODEL,
        ("stop",),
    )
    assert info.usage == Usage(input_tokens=12, output_tokens=14)
    assert info.output == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "text",
                    "content": "Your order A-1042 shipped this morning and arrives Thursday.",
                }
            ],
            "finish_reason": "stop",
        }
    ]
    assert accumulate(stream(g.text_stream(vertex=vertex), vertex=vertex), False).output is None


def test_stream_cut_short_keeps_the_running_usage() -> None:
    """Abandoned after two Gemini API chunks: the running counts so far, and no finish yet."""
    info = accumulate(stream(g.text_stream())[:2])
    assert info.usage == Usage(input_tokens=12, output_tokens=10)
    assert info.finish_reasons == ("error",)
    vertex = accumulate(stream(g.text_stream(vertex=True), vertex=True)[:2])
    assert vertex.usage is None  # Vertex only counts in the last chunk


def test_stream_thoughts_and_answer_stay_separate_parts() -> None:
    """Streamed thoughts join into one reasoning part, the answer into one text part."""
    chunks = stream(g.text_stream(thoughts=("First I check. ", "Then I answer.")))
    info = accumulate(chunks)
    parts = info.output[0]["parts"]
    assert parts[0] == {"type": "reasoning", "content": "First I check. Then I answer."}
    assert parts[1]["type"] == "text"
    assert info.usage.reasoning_tokens == info.usage.output_tokens - 14
    assert_valid(OUTPUT, info.output)


@BOTH
def test_stream_function_call_and_safety_block(vertex: bool) -> None:
    """A streamed function call finishes as tool_call; a blocked stream as content_filter."""
    calls = accumulate(stream(g.function_call_stream(vertex=vertex), vertex=vertex))
    assert calls.finish_reasons == ("tool_call",)
    assert [p["type"] for p in calls.output[0]["parts"]] == ["text", "tool_call"]
    blocked = accumulate(stream(g.safety_blocked_stream(vertex=vertex), vertex=vertex))
    assert blocked.finish_reasons == ("content_filter",)
    assert blocked.usage == Usage(input_tokens=14, output_tokens=5)
    for info in (calls, blocked):
        assert_valid(OUTPUT, info.output)


def test_stream_state_survives_hostile_chunks() -> None:
    """None, strings and malformed dicts are skipped; a prompt block still shows."""
    chunks: list[Any] = [
        None,
        "data",
        {"candidates": [{"index": "0", "content": {"parts": [{"text": 3}]}}]},
        {"usageMetadata": {"promptTokenCount": -5}, "candidates": "x"},
        {"promptFeedback": {"blockReason": "SAFETY"}},
    ]
    info = accumulate(chunks)
    assert info.usage is None
    assert info.finish_reasons == ("error",)  # the malformed candidate never finished
    assert accumulate(chunks[-1:]).finish_reasons == ("content_filter",)
    assert accumulate([]).finish_reasons == ()


def test_stream_candidates_are_kept_apart_by_index() -> None:
    """With candidate_count=2, each candidate's pieces, finish and calls stay its own."""
    chunks = [
        g.response(
            [g.candidate([{"text": "A"}], None), g.candidate([{"text": "B"}], None, index=1)], None
        ),
        g.response(
            [
                g.candidate([{"text": "a"}], "STOP"),
                g.candidate([{"text": "b"}], "MAX_TOKENS", index=1),
            ],
            None,
        ),
    ]
    info = accumulate([types.GenerateContentResponse.model_validate(c) for c in chunks])
    assert info.finish_reasons == ("stop", "length")
    assert [m["parts"][0]["content"] for m in info.output] == ["Aa", "Bb"]


# --- Errors --------------------------------------------------------------------------------------
def raised(body: Any, status: int, *, vertex: bool = False) -> BaseException:
    """The exception the real SDK raises for an error response."""
    client = gemini_client(serve(body, status), vertex=vertex)
    with pytest.raises(errors.APIError) as info:
        client.models.generate_content(model=g.MODEL, contents="hi")
    return info.value


@BOTH
@pytest.mark.parametrize(
    ("status", "outcome", "error_type"),
    [
        (400, "error", "INVALID_ARGUMENT"),
        (403, "error", "PERMISSION_DENIED"),
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
    exc = raised(g.errors(vertex=vertex)[status], status, vertex=vertex)
    assert gg.classify_error(exc) == (outcome, error_type)


def test_api_error_without_a_json_body_is_typed_by_its_code() -> None:
    """A proxy's HTML 429 is still rate-limited; error.type falls back to the HTTP code."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(429, text="<html>Too Many Requests</html>")

    client = gemini_client(handler)
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model=g.MODEL, contents="hi")
    assert gg.classify_error(info.value) == ("rate_limited", "429")


def test_client_timeouts_of_every_http_stack_are_timeouts() -> None:
    """httpx2 (the SDK's), requests (google-auth's) and asyncio timeouts are timeouts."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("The read operation timed out", request=request)

    client = gemini_client(handler)
    with pytest.raises(httpx2.ReadTimeout) as info:
        client.models.generate_content(model=g.MODEL, contents="hi")
    assert gg.classify_error(info.value) == ("timeout", "httpx2.ReadTimeout")
    assert gg.classify_error(requests.exceptions.ReadTimeout())[0] == "timeout"
    assert gg.classify_error(asyncio.TimeoutError()) == ("timeout", "TimeoutError")
    assert gg.classify_error(httpx2.ConnectError("refused")) == ("error", "httpx2.ConnectError")


def test_cancellation_and_other_exceptions() -> None:
    """A cancelled task is cancelled; anything else an error typed by its class."""
    assert gg.classify_error(asyncio.CancelledError()) == ("cancelled", "asyncio.CancelledError")
    assert gg.classify_error(ValueError("contents are required.")) == ("error", "ValueError")
    unsupported = errors.UnsupportedFunctionError("MCP sessions are not supported")
    assert gg.classify_error(unsupported) == (
        "error",
        "google.genai.errors.UnsupportedFunctionError",
    )


# --- The wrap table ------------------------------------------------------------------------------
def test_every_wrapped_method_exists_and_is_keyword_only() -> None:
    """Each method in the table exists in the installed SDK and takes model/contents/config."""
    import importlib  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    for (module, qualname), method in gg.WRAPPED.items():
        owner, name = qualname.split(".")
        function = getattr(getattr(importlib.import_module(module), owner), name)
        parameters = list(inspect.signature(function).parameters.values())[1:]
        assert [p.name for p in parameters] == list(gg._PARAMETERS)
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
        assert (method.stream_state is not None) == name.endswith("_stream")


# --- End to end: the real SDK over its own HTTP layer ---------------------------------------------
def test_smoke_real_client_through_the_fake_http_layer() -> None:
    """Sync and async, plain and streamed, Gemini and Vertex: real calls reach the payloads."""
    seen: list[httpx2.Request] = []
    gemini = gemini_client(serve(g.text_response(), seen=seen))
    response = gemini.models.generate_content(model=g.MODEL, contents="Where is my order?")
    assert gg.generate_content_response(response, False).usage == Usage(12, 17)

    async def vertex_stream() -> Any:
        client = gemini_client(serve(g.text_stream(vertex=True), seen=seen), vertex=True)
        state = gg.GenerateContentStreamState(capture=False)
        chunks = await client.aio.models.generate_content_stream(model=g.MODEL, contents="hi")
        async for chunk in chunks:
            state.on_chunk(chunk)
        return state.result(), gg.provider_name(client.aio.models)

    info, provider = asyncio.run(vertex_stream())
    assert (info.finish_reasons, info.usage, provider) == (
        ("stop",),
        Usage(12, 14),
        "gcp.vertex_ai",
    )
    assert [r.url.host for r in seen] == [
        "generativelanguage.googleapis.com",
        "us-central1-aiplatform.googleapis.com",
    ]
    assert seen[1].headers["authorization"] == "Bearer ya29.test-token"


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
        for chunk in g.text_stream():
            self.wfile.write(g.sse_event(chunk))
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
    """`http_options.base_url` sends the SDK to a local server; a timeout raises httpx2's."""
    client = genai.Client(api_key="k", http_options={"base_url": local_server})
    chunks = list(client.models.generate_content_stream(model=g.MODEL, contents="hi"))
    info = accumulate(chunks)
    assert (info.finish_reasons, info.usage) == (("stop",), Usage(12, 14))
    assert client.models.generate_content(model=g.MODEL, contents="hi").text == g.ANSWER
    port = int(local_server.rsplit(":", 1)[1].rstrip("/"))
    expected = {server.SERVER_ADDRESS: "127.0.0.1", server.SERVER_PORT: port}
    assert gg.server_attributes(client.models) == expected
    slow = genai.Client(api_key="k", http_options={"base_url": local_server, "timeout": 200})
    with pytest.raises(httpx2.TimeoutException) as timeout:
        slow.models.generate_content(model="stall", contents="hi")
    assert gg.classify_error(timeout.value)[0] == "timeout"
