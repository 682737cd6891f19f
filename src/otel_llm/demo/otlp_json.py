"""OTLP/JSON file exporters: one export request per line, as the Collector's file receiver reads."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = [
    "OtlpJsonFile",
    "OtlpJsonLogExporter",
    "OtlpJsonSpanExporter",
    "to_otlp_json",
    "write_metrics",
]

# OTLP/JSON differs from protobuf's JSON mapping in one way that matters: trace and span ids
# are hex strings, not base64 (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
_HEX_IDS = frozenset({"traceId", "spanId", "parentSpanId"})


def _hex_ids(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: base64.b64decode(item).hex()
            if key in _HEX_IDS and isinstance(item, str)
            else _hex_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids(item) for item in value]
    return value


def to_otlp_json(request: Message) -> str:
    """One OTLP/JSON line for an encoded export request (integer enums, hex ids, camelCase)."""
    as_dict = MessageToDict(request, use_integers_for_enums=True)
    return json.dumps(_hex_ids(as_dict), separators=(",", ":"))


class OtlpJsonFile:
    """A file that export requests are appended to, one line each, from any thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._file: IO[str] | None = path.open("w", encoding="utf-8")

    def write(self, request: Message) -> None:
        """Append one request; a closed file ignores it."""
        line = to_otlp_json(request)
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")

    def flush(self) -> None:
        """Flush buffered lines to disk."""
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        """Flush and close; later writes are dropped."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class OtlpJsonSpanExporter(SpanExporter):
    """Appends each batch of spans to an OTLP/JSON file."""

    def __init__(self, file: OtlpJsonFile) -> None:
        self._file = file

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write the batch as one ExportTraceServiceRequest line."""
        self._file.write(encode_spans(spans))
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the file."""
        self._file.flush()
        return True

    def shutdown(self) -> None:
        """Close the file."""
        self._file.close()


class OtlpJsonLogExporter(LogRecordExporter):
    """Appends each batch of log records (GenAI events) to an OTLP/JSON file."""

    def __init__(self, file: OtlpJsonFile) -> None:
        self._file = file

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Write the batch as one ExportLogsServiceRequest line."""
        self._file.write(encode_logs(batch))
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the file."""
        self._file.flush()
        return True

    def shutdown(self) -> None:
        """Close the file."""
        self._file.close()


def write_metrics(file: OtlpJsonFile, data: MetricsData) -> None:
    """Append one ExportMetricsServiceRequest line for `data` (e.g. a final collection)."""
    file.write(encode_metrics(data))
