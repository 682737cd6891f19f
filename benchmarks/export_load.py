"""Export under load: spans/s through the pipeline, BatchSpanProcessor and OTLP/gRPC to a receiver.

A minimal OTLP TraceService (grpcio) on 127.0.0.1 runs in its own process and counts spans. A
load process then either makes instrumented openai calls over a mock transport as fast as one
application thread can (`app`), or starts GenAI-shaped spans directly (`spans`, the pipeline's
ceiling), for a fixed time, with the default batch settings; it reports per-call latency on the
application thread, spans offered, and memory. Spans the receiver did not get were dropped
(the batch queue holds 2048).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent import futures
from typing import IO, Any

from benchmarks import _venvs
from benchmarks.overhead import worker_env

WARM_UP_CALLS = 20


def serve() -> None:
    """Receiver process: print the port, then answer `count` and `quit` lines on stdin."""
    # Untyped (no stubs), hence imported by name; only the receiver process needs them.
    grpc = importlib.import_module("grpc")
    services = importlib.import_module(
        "opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc"
    )
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2  # noqa: PLC0415

    lock = threading.Lock()
    totals = {"spans": 0, "requests": 0}

    class Receiver:
        def Export(
            self, request: trace_service_pb2.ExportTraceServiceRequest, context: object
        ) -> trace_service_pb2.ExportTraceServiceResponse:
            spans = sum(
                len(scope.spans)
                for resource in request.resource_spans
                for scope in resource.scope_spans
            )
            with lock:
                totals["spans"] += spans
                totals["requests"] += 1
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    services.add_TraceServiceServicer_to_server(Receiver(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    for line in sys.stdin:
        if line.strip() == "count":
            with lock:
                print(json.dumps(totals), flush=True)
                totals.update(spans=0, requests=0)
        else:
            break
    server.stop(grace=1)


def _memory() -> dict[str, int]:
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status)
    return {key: int(fields[key].split()[0]) * 1024 for key in ("VmRSS", "VmHWM")}


def load(port: int, mode: str, seconds: float) -> dict[str, Any]:
    """Load process: the distro's pipeline around BatchSpanProcessor(OTLP/gRPC), then traffic."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )
    from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

    import otel_llm  # noqa: PLC0415
    from benchmarks import overhead, overhead_worker  # noqa: PLC0415
    from otel_llm.processors.pipeline import build_span_pipeline  # noqa: PLC0415

    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(build_span_pipeline(BatchSpanProcessor(exporter)))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    otel_llm.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    client = overhead_worker.make_client(overhead.bodies()["call"], "application/json")
    tracer = tracer_provider.get_tracer("export-benchmark")
    attributes: dict[str, str | int] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 58,
        "gen_ai.usage.output_tokens": 39,
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    for _ in range(WARM_UP_CALLS):
        overhead_worker._call(client)
    tracer_provider.force_flush()
    before = _memory()
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        begin = time.perf_counter()
        if mode == "app":
            overhead_worker._call(client)
        else:
            tracer.start_span("chat gpt-4o-mini", attributes=attributes).end()
        latencies.append(time.perf_counter() - begin)
    loaded = time.perf_counter() - started
    during = _memory()
    flushed = tracer_provider.force_flush(timeout_millis=60_000)
    total = time.perf_counter() - started
    after = _memory()
    latencies.sort()
    return {
        "mode": mode,
        "seconds": loaded,
        "seconds_with_flush": total,
        "flushed": flushed,
        "offered": len(latencies),
        "offered_per_s": len(latencies) / loaded,
        "latency_us": {
            "p50": statistics.median(latencies) * 1e6,
            "p99": latencies[int(len(latencies) * 0.99)] * 1e6,
            "max": latencies[-1] * 1e6,
        },
        "rss_mb": {
            "before": before["VmRSS"] / 2**20,
            "end_of_load": during["VmRSS"] / 2**20,
            "after_flush": after["VmRSS"] / 2**20,
            "peak": after["VmHWM"] / 2**20,
        },
    }


def _ask(stdin: IO[str], stdout: IO[str]) -> dict[str, int]:
    stdin.write("count\n")
    stdin.flush()
    result: dict[str, int] = json.loads(stdout.readline())
    return result


def run(seconds: float = 8.0, modes: Sequence[str] = ("app", "spans")) -> dict[str, Any]:
    """Start the receiver, run each load mode for `seconds`, and join the counts."""
    env = worker_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_venvs.REPO), env.get("PYTHONPATH")]))
    with subprocess.Popen(
        [sys.executable, "-m", "benchmarks.export_load", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as receiver:
        if receiver.stdin is None or receiver.stdout is None:
            raise RuntimeError("the receiver's pipes did not open")
        try:
            return _measure(receiver.stdin, receiver.stdout, env, seconds, modes)
        finally:
            receiver.stdin.write("quit\n")
            receiver.stdin.flush()
            receiver.wait(timeout=30)


def _measure(
    stdin: IO[str], stdout: IO[str], env: dict[str, str], seconds: float, modes: Sequence[str]
) -> dict[str, Any]:
    port = int(stdout.readline())
    results = {}
    for mode in modes:
        command = [sys.executable, "-m", "benchmarks.export_load", f"--load={port}"]
        command += [f"--mode={mode}", f"--seconds={seconds}"]
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=seconds + 120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"export load {mode} failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        received = _ask(stdin, stdout)
        # The load's warm-up calls were exported too.
        result["received"] = received["spans"] - WARM_UP_CALLS
        result["export_requests"] = received["requests"]
        result["dropped"] = result["offered"] - result["received"]
        result["exported_per_s"] = result["received"] / result["seconds_with_flush"]
        results[mode] = result
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """`--serve` (receiver), `--load PORT` (load process), or neither: the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--load", type=int)
    parser.add_argument("--mode", choices=("app", "spans"), default="app")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
    elif args.load:
        print(json.dumps(load(args.load, args.mode, args.seconds)))
    else:
        print(json.dumps(run(args.seconds), indent=2))


if __name__ == "__main__":
    main()
