"""Misbehaving OTLP collectors on 127.0.0.1: refusing, unresponsive, slow and failing ones."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc  # type: ignore[import-untyped]
from opentelemetry.proto.collector.trace.v1 import (
    trace_service_pb2,
    trace_service_pb2_grpc,
)

FAULTS = ("refused", "unresponsive", "slow", "failing")
"""refused: nothing listens. unresponsive: accepts, never answers. slow: answers after
`SLOW_SECONDS`. failing: answers at once with a retryable error (HTTP 503, gRPC UNAVAILABLE)."""

SLOW_SECONDS = 0.3


def free_port() -> int:
    """A port nothing listens on (bound once by us, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class BlackHole:
    """A TCP server that accepts connections and never reads or writes a byte."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so the accept loop notices close() promptly
        self.port: int = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._held.append(connection)

    def close(self) -> None:
        """Stop listening and drop every held connection (pending exports then fail at once)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._held:
            connection.close()


def _http_handler(fault: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if fault == "slow":
                time.sleep(SLOW_SECONDS)
            status = 503 if fault == "failing" else 200
            body = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, fault: str) -> None:
        self._fault = fault

    def Export(self, request: Any, context: Any) -> Any:
        if self._fault == "failing":
            context.abort(grpc.StatusCode.UNAVAILABLE, "collector overloaded")
        if self._fault == "slow":
            time.sleep(SLOW_SECONDS)
        return trace_service_pb2.ExportTraceServiceResponse()


@contextmanager
def collector(protocol: str, fault: str) -> Iterator[str]:
    """Run a collector with `fault` and yield the exporter endpoint for `protocol` (grpc/http)."""
    if fault == "refused":
        yield _endpoint(protocol, free_port())
    elif fault == "unresponsive":
        hole = BlackHole()
        try:
            yield _endpoint(protocol, hole.port)
        finally:
            hole.close()
    elif protocol == "http":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(fault))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield _endpoint(protocol, server.server_address[1])
        finally:
            server.shutdown()
            server.server_close()
    else:
        grpc_server = grpc.server(ThreadPoolExecutor(max_workers=4))
        add_service = trace_service_pb2_grpc.add_TraceServiceServicer_to_server
        add_service(_TraceService(fault), grpc_server)  # type: ignore[no-untyped-call]
        port = grpc_server.add_insecure_port("127.0.0.1:0")
        grpc_server.start()
        try:
            yield _endpoint(protocol, port)
        finally:
            grpc_server.stop(grace=None)


def _endpoint(protocol: str, port: int) -> str:
    if protocol == "grpc":
        return f"127.0.0.1:{port}"
    return f"http://127.0.0.1:{port}/v1/traces"
