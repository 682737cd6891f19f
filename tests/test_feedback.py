"""Tests for otel_llm.feedback: tokens, the feedback span and its link, and the counter."""

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_llm._telemetry import Telemetry, set_telemetry
from otel_llm.config import ContentCapturingMode, Settings
from otel_llm.context import session
from otel_llm.feedback import (
    LINK_SCOPE,
    current_trace_id,
    feedback_token,
    record_feedback,
    response_headers,
)
from otel_llm.processors.pipeline import build_span_pipeline
from otel_llm.semconv.metrics.otel_llm import OTEL_LLM_FEEDBACK_RECEIVED_ATTRIBUTES
from tests.conftest import Captured, make_captured
from tests.test_budget import FINDINGS, leaked_fragment, straddling_texts

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"
TOKEN = f"00-{TRACE_ID}-{SPAN_ID}-01"


def _feedback_span(captured: Captured) -> Any:
    spans = [s for s in captured.finished_spans() if s.name == "user_feedback"]
    assert len(spans) == 1
    return spans[0]


@pytest.fixture
def content_on_spans() -> Iterator[Captured]:
    """Like `captured`, with message content capture on spans enabled."""
    result = make_captured(Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY))
    set_telemetry(result.telemetry)
    try:
        yield result
    finally:
        set_telemetry(None)


def test_no_span_means_no_ids() -> None:
    """Outside any valid span there is no trace id, no token and no headers."""
    assert current_trace_id() is None
    assert feedback_token() is None
    assert response_headers() == {}


def test_token_and_headers_describe_the_current_span() -> None:
    """The token is a traceparent of the current span; the headers carry it and the trace id."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("chat") as span:
        context = span.get_span_context()
        trace_hex = trace.format_trace_id(context.trace_id)
        span_hex = trace.format_span_id(context.span_id)
        flags = f"{int(context.trace_flags):02x}"  # sampled, plus the W3C random-id bit
        assert flags in {"01", "03"}
        assert current_trace_id() == trace_hex
        assert feedback_token() == f"00-{trace_hex}-{span_hex}-{flags}"
        assert response_headers() == {
            "X-Trace-Id": trace_hex,
            "traceparent": f"00-{trace_hex}-{span_hex}-{flags}",
        }


def test_feedback_span_links_to_the_tokens_span(captured: Captured) -> None:
    """A token links the INTERNAL user_feedback span to that exact trace and span."""
    record_feedback(token=TOKEN, score=1.0, response_id="chatcmpl-1")
    span = _feedback_span(captured)
    assert span.kind is SpanKind.INTERNAL
    [link] = span.links
    assert trace.format_trace_id(link.context.trace_id) == TRACE_ID
    assert trace.format_span_id(link.context.span_id) == SPAN_ID
    assert link.attributes == {LINK_SCOPE: "span"}
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-1"
    assert span.attributes["otel_llm.feedback.score"] == 1.0
    assert span.attributes["otel_llm.feedback.sentiment"] == "positive"


def test_token_round_trips_from_a_live_span(captured: Captured) -> None:
    """feedback_token() of a span, fed back to record_feedback(), links to that span."""
    with captured.telemetry.tracer.start_as_current_span("chat") as chat:
        token = feedback_token()
    assert token is not None
    record_feedback(token=token, label="thumbs_up")
    [link] = _feedback_span(captured).links
    assert link.context.trace_id == chat.get_span_context().trace_id
    assert link.context.span_id == chat.get_span_context().span_id


def test_trace_id_only_links_to_the_trace_with_a_marked_synthetic_span(
    captured: Captured,
) -> None:
    """A trace id alone gives a link into that trace, marked `trace`, not a foreign parent."""
    record_feedback(trace_id=TRACE_ID.upper(), score=-1)
    span = _feedback_span(captured)
    [link] = span.links
    assert trace.format_trace_id(link.context.trace_id) == TRACE_ID
    assert link.context.is_valid
    assert link.attributes == {LINK_SCOPE: "trace"}
    assert span.parent is None
    assert span.context.trace_id != link.context.trace_id


def test_feedback_span_is_a_child_of_the_current_span(captured: Captured) -> None:
    """Recorded inside a request's span, the feedback span nests under it."""
    with captured.telemetry.tracer.start_as_current_span("POST /feedback") as request:
        record_feedback(token=TOKEN)
    span = _feedback_span(captured)
    assert span.parent.span_id == request.get_span_context().span_id


def test_token_wins_over_a_mismatched_trace_id(
    captured: Captured, caplog: pytest.LogCaptureFixture
) -> None:
    """Given both, a disagreeing trace id is logged and the token's span is linked."""
    with caplog.at_level(logging.WARNING, logger="otel_llm.feedback"):
        record_feedback(token=TOKEN, trace_id="1" * 32)
    [link] = _feedback_span(captured).links
    assert trace.format_span_id(link.context.span_id) == SPAN_ID
    assert "differs" in caplog.text


@pytest.mark.parametrize(
    ("token", "trace_id"),
    [
        ("not-a-traceparent", None),
        (f"00-{'0' * 32}-{SPAN_ID}-01", None),
        (f"00-{TRACE_ID}-{'0' * 16}-01", None),
        (None, "0" * 32),
        (None, "xyz"),
        (None, "g" * 32),
        (None, TRACE_ID[:-1]),
    ],
)
def test_invalid_ids_are_logged_and_feedback_recorded_without_link(
    captured: Captured,
    caplog: pytest.LogCaptureFixture,
    token: str | None,
    trace_id: str | None,
) -> None:
    """Bad hex, wrong lengths and all-zero ids are logged; the feedback is still recorded."""
    with caplog.at_level(logging.WARNING, logger="otel_llm.feedback"):
        record_feedback(token=token, trace_id=trace_id, score=-1)
    span = _feedback_span(captured)
    assert span.links == ()
    assert span.attributes["otel_llm.feedback.sentiment"] == "negative"
    assert "ignoring invalid feedback" in caplog.text
    [point] = captured.metric_points("otel_llm.feedback.received")
    assert point.value == 1


@pytest.mark.parametrize(
    ("score", "label", "sentiment", "recorded_score"),
    [
        (0.5, None, "positive", 0.5),
        (-0.2, "thumbs_up", "negative", -0.2),
        (0, None, "neutral", 0.0),
        (None, None, "neutral", None),
        (None, "thumbs_down", "negative", None),
        (None, "BAD", "negative", None),
        (None, "negative", "negative", None),
        (None, "thumbs_up", "positive", None),
        (None, "good", "positive", None),
        (None, "wrong_answer", "neutral", None),
        (1, None, "positive", 1.0),
    ],
)
def test_sentiment_from_score_then_label(
    captured: Captured,
    score: float | None,
    label: str | None,
    sentiment: str,
    recorded_score: float | None,
) -> None:
    """Sentiment follows the score's sign, and the label only when there is no score."""
    record_feedback(trace_id=TRACE_ID, score=score, label=label)
    attributes = _feedback_span(captured).attributes
    assert attributes["otel_llm.feedback.sentiment"] == sentiment
    assert attributes.get("otel_llm.feedback.score") == recorded_score
    assert attributes.get("otel_llm.feedback.label") == label


@pytest.mark.parametrize(("score", "clamped"), [(5.0, 1.0), (-3, -1.0)])
def test_out_of_range_score_is_logged_and_clamped(
    captured: Captured, caplog: pytest.LogCaptureFixture, score: float, clamped: float
) -> None:
    """A score outside [-1, 1] is logged and clamped to the nearest bound."""
    with caplog.at_level(logging.WARNING, logger="otel_llm.feedback"):
        record_feedback(score=score)
    assert _feedback_span(captured).attributes["otel_llm.feedback.score"] == clamped
    assert "outside [-1, 1]" in caplog.text


def test_nan_score_is_dropped(captured: Captured, caplog: pytest.LogCaptureFixture) -> None:
    """A NaN score is logged and left off; the feedback counts as neutral."""
    with caplog.at_level(logging.WARNING, logger="otel_llm.feedback"):
        record_feedback(score=float("nan"))
    attributes = _feedback_span(captured).attributes
    assert "otel_llm.feedback.score" not in attributes
    assert attributes["otel_llm.feedback.sentiment"] == "neutral"
    assert "NaN" in caplog.text


def test_comment_is_left_off_without_content_capture(captured: Captured) -> None:
    """By default the comment, being content, does not go on the span."""
    record_feedback(score=-1, comment="it made up a citation")
    assert "otel_llm.feedback.comment" not in _feedback_span(captured).attributes


def test_comment_is_recorded_with_content_capture_on_spans(
    content_on_spans: Captured,
) -> None:
    """With content capture on spans, the comment goes on the feedback span."""
    record_feedback(score=-1, comment="it made up a citation")
    attributes = _feedback_span(content_on_spans).attributes
    assert attributes["otel_llm.feedback.comment"] == "it made up a citation"


def test_metric_dimensions_are_low_cardinality_only(captured: Captured) -> None:
    """The counter has sentiment and prompt name/version: never ids, nor the free-text label."""
    with session(session_id="s-1", tenant_id="acme"):
        record_feedback(
            token=TOKEN,
            response_id="chatcmpl-1",
            score=-1,
            label="thumbs_down",
            comment="bad",
            prompt_name="support",
            prompt_version="3",
        )
    [point] = captured.metric_points("otel_llm.feedback.received")
    assert point.value == 1
    assert dict(point.attributes) == {
        "otel_llm.feedback.sentiment": "negative",
        "gen_ai.prompt.name": "support",
        "gen_ai.prompt.version": "3",
    }
    assert set(point.attributes) <= OTEL_LLM_FEEDBACK_RECEIVED_ATTRIBUTES
    attributes = _feedback_span(captured).attributes
    assert attributes["gen_ai.prompt.name"] == "support"
    assert attributes["otel_llm.feedback.label"] == "thumbs_down"
    assert attributes["otel_llm.session.id"] == "s-1"
    assert attributes["otel_llm.tenant.id"] == "acme"


def test_counter_counts_each_feedback_by_sentiment(captured: Captured) -> None:
    """Each call adds one to the counter under its own sentiment."""
    record_feedback(score=1)
    record_feedback(score=1)
    record_feedback(score=-1)
    points = captured.metric_points("otel_llm.feedback.received")
    counts = {p.attributes["otel_llm.feedback.sentiment"]: p.value for p in points}
    assert counts == {"positive": 2, "negative": 1}


_CHILD = textwrap.dedent(
    """
    import sys
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
    from otel_llm._telemetry import Telemetry, set_telemetry
    from otel_llm.feedback import record_feedback

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stdout)))
    set_telemetry(Telemetry.create(tracer_provider=provider))
    record_feedback(token=sys.argv[1], score=-1, label="thumbs_down")
    provider.shutdown()
    """
)


def test_feedback_from_another_process_links_to_the_right_span(
    captured: Captured, repo_root: Path
) -> None:
    """A token carried to a separate process yields a feedback span linked to the original."""
    with captured.telemetry.tracer.start_as_current_span("chat") as chat:
        token = feedback_token()
    assert token is not None
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(repo_root / "src"), str(repo_root)])
    env.pop("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", None)
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, token],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    exported = json.loads(result.stdout)
    assert exported["name"] == "user_feedback"
    [link] = exported["links"]
    context = chat.get_span_context()
    assert link["context"]["trace_id"] == f"0x{trace.format_trace_id(context.trace_id)}"
    assert link["context"]["span_id"] == f"0x{trace.format_span_id(context.span_id)}"
    assert exported["attributes"]["otel_llm.feedback.sentiment"] == "negative"


def test_long_comment_is_cut_to_the_content_budget(content_on_spans: Captured) -> None:
    """A comment over the content byte budget is cut without splitting a character, and marked."""
    comment = "é" * 20_000
    record_feedback(score=-1, comment=comment)
    recorded = _feedback_span(content_on_spans).attributes["otel_llm.feedback.comment"]
    budget = content_on_spans.telemetry.settings.max_content_bytes
    assert len(recorded.encode("utf-8")) <= budget
    kept, marker = recorded.split("…[truncated ")
    assert marker == "40000 bytes]"
    assert comment.startswith(kept)
    assert len(kept.encode()) > budget - 64


@pytest.mark.parametrize(("prefix", "secret"), FINDINGS, ids=["aws_secret", "email", "card"])
def test_a_cut_comment_never_exports_part_of_a_finding(prefix: str, secret: str) -> None:
    """Through the redaction pipeline, no cut position leaves a piece of a finding exported.

    Before, the comment was cut first and the processor saw `john.doe@exampl`, 39 of the 40
    characters of an AWS secret, or `4111 1111 1111 11`, and matched none of them.
    """
    budget, total = 512, 1500
    settings = Settings(
        capture_message_content=ContentCapturingMode.SPAN_ONLY, max_content_bytes=budget
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(build_span_pipeline(SimpleSpanProcessor(exporter), settings))
    set_telemetry(Telemetry.create(tracer_provider=provider, settings=settings))
    room = budget - len(f"…[truncated {total} bytes]".encode())
    try:
        for start, text in straddling_texts(prefix, secret, room, total):
            exporter.clear()
            record_feedback(score=-1, comment=text)
            (span,) = exporter.get_finished_spans()
            comment = dict(span.attributes or {})["otel_llm.feedback.comment"]
            assert isinstance(comment, str)
            assert len(comment.encode()) <= budget
            assert leaked_fragment(comment, secret) is None, (start, comment[-80:])
    finally:
        set_telemetry(None)


def test_a_label_is_scanned_and_budgeted(captured: Captured) -> None:
    """Any string a widget sends is a label: an e-mail is redacted, 5 MB is cut to 256 bytes."""
    record_feedback(trace_id=TRACE_ID, score=-1, label="jane.doe@example.com " + "x" * 5_000_000)
    record_feedback(trace_id=TRACE_ID, score=-1, label="mail jane.doe@example.com")
    long, short = captured.finished_spans()
    label = long.attributes["otel_llm.feedback.label"]
    assert len(label.encode()) <= 256
    assert label.startswith("[REDACTED:email] xxx")
    assert short.attributes["otel_llm.feedback.label"] == "mail [REDACTED:email]"


class _StartAttributes(SimpleSpanProcessor):
    """Keeps the attributes each span has when processors' on_start run."""

    def __init__(self) -> None:
        super().__init__(InMemorySpanExporter())
        self.seen: list[dict[str, Any]] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.seen.append(dict(span.attributes or {}))


def test_comment_and_label_are_not_visible_to_span_processors_on_start() -> None:
    """Free text (comment, label) is set after the span started: on_start sees none of it."""
    settings = Settings(capture_message_content=ContentCapturingMode.SPAN_ONLY)
    starts = _StartAttributes()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(starts)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    set_telemetry(Telemetry.create(tracer_provider=provider, settings=settings))
    try:
        record_feedback(score=-1, label="thumbs_down", comment="mail jane.doe@example.com")
    finally:
        set_telemetry(None)
    (at_start,) = starts.seen
    assert "otel_llm.feedback.comment" not in at_start
    assert "otel_llm.feedback.label" not in at_start
    (span,) = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["otel_llm.feedback.label"] == "thumbs_down"
    assert "otel_llm.feedback.comment" in span.attributes
