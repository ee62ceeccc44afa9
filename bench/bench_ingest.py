"""Ingest benchmark: signed webhooks/s accepted (verified AND durable in SQS) by the receiver.

Three servers, each one uvicorn process (uvloop + httptools, 1 worker) on loopback, loaded in
turn by ``wrk`` with the same pre-signed Standard Webhooks requests (distinct ids, ~300 B),
in interleaved rounds (the median round is reported) so a busy neighbour hits all three alike:

- ``batched``: ``cdcbridge webhooks serve`` (verify -> SendMessageBatch of up to 10 -> 202);
- ``verify_only``: the same receiver with a queue that accepts every batch at once without
  sending it anywhere (the ceiling; built here, production has no such switch);
- ``naive``: verify, then one blocking boto3 SendMessage per request in the threadpool -> 202.

The receiver's dedupe window is off (the requests are cycled), so every 2xx was enqueued; the
queue depth after the batched run is checked against the accepted count. SQS is the local
stack's ElasticMQ (``CDCBRIDGE_SQS_ENDPOINT`` or the default layout). Prints one JSON document.

Run: ``.venv/bin/python bench/bench_ingest.py [--duration 6] [--rounds 3] [--connections 64]``.
Targets: batched >= 5x naive and >= 50% of verify_only. Needs ``wrk`` (apt-get install wrk);
without it the JSON says so.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from webhook_bridge.queue.sqs import SqsQueue

if TYPE_CHECKING:
    from webhook_bridge.envelope import QueueBody
    from webhook_bridge.queue.sqs_receive import SqsJsonClient

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789ab").decode()
SOURCES = {"sources": {"bench": {"scheme": "standard-webhooks", "secrets": [SECRET]}}}
TARGET_VS_NAIVE = 5.0
TARGET_VS_VERIFY_ONLY = 0.5

LUA_DONE = r"""
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def lua_script(count: int) -> str:
    """A wrk script cycling over ``count`` distinct signed requests."""
    from webhook_bridge.signatures import sign

    lines = ["local reqs = {}", "local n = 0", "init = function(args)"]
    for i in range(count):
        body = json.dumps({
            "type": "contact.email_opened", "timestamp": "2026-01-02T03:04:05Z",
            "data": {"email": f"user{i}@example.com", "contact_id": str(i),
                     "campaign_id": "cmp-42", "user_agent": "Mozilla/5.0 (bench)"},
        })  # fmt: skip
        headers = sign("standard-webhooks", secret=SECRET, body=body.encode(), msg_id=f"msg_{i}")
        headers["Content-Type"] = "application/json"
        lua_headers = ", ".join(f'["{k}"]="{v}"' for k, v in headers.items())
        lines.append(f'  reqs[{i + 1}] = wrk.format("POST", "/webhooks/bench", '
                     f"{{{lua_headers}}}, [==[{body}]==])")  # fmt: skip
    lines += ["end", "request = function()", "  n = n + 1", "  return reqs[(n % #reqs) + 1]",
              "end", LUA_DONE]  # fmt: skip
    return "\n".join(lines)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling interval of a deadline-bound wait
    raise RuntimeError(f"{url} did not become healthy")


def server_env(queue_url: str, sqs_endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "CDCBRIDGE_WEBHOOKS_SOURCES_JSON": json.dumps(SOURCES),
        "CDCBRIDGE_WEBHOOKS_QUEUE_URL": queue_url,
        "CDCBRIDGE_WEBHOOKS_SQS_ENDPOINT": sqs_endpoint,
        "CDCBRIDGE_WEBHOOKS_DEDUPE_WINDOW_S": "0",
    }


def start(variant: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    if variant != "batched":
        argv = [sys.executable, str(Path(__file__)), f"--serve-{variant.replace('_', '-')}",
                "--port", str(port)]  # fmt: skip
    else:
        argv = [sys.executable, "-m", "cdcbridge.cli", "--log-level", "INFO",
                "webhooks", "serve", "--port", str(port)]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def run_wrk(
    url: str, script: Path, duration_s: int, connections: int, threads: int
) -> dict[str, Any]:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "-s", str(script),
            f"{url}/webhooks/bench"]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=duration_s + 60)
    doc: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    seconds = doc["duration_us"] / 1e6
    accepted = doc["requests"] - doc["non_2xx"]
    return {
        "accepted_per_s": round(accepted / seconds, 1),
        "requests": doc["requests"],
        "accepted": accepted,
        "non_2xx": doc["non_2xx"],
        "socket_errors": doc["socket_errors"],
        "latency_ms": {k: doc[f"{k}_ms"] for k in ("p50", "p90", "p99", "max")},
    }


VARIANTS = ["batched", "verify_only", "naive"]
ENQUEUEING = ("batched", "naive")


def purge_queue(client: SqsJsonClient, queue_url: str) -> None:
    """Drop every message (the benchmark keeps ElasticMQ's heap small between runs)."""
    client.call("PurgeQueue", {"QueueUrl": queue_url})


def webhooks_in(queue: SqsQueue, accepted: int, timeout_s: float = 60) -> int:
    """The webhooks in the queue's messages (a message holds one or more: the batched receiver
    packs them), counted by receiving each message once, until ``accepted`` are found or the
    queue stays empty for a long poll (sends in flight when wrk stopped land meanwhile)."""
    from webhook_bridge.envelope import decode_message

    found = 0
    deadline = time.monotonic() + timeout_s
    while found < accepted and time.monotonic() < deadline:
        messages = queue.receive(10, 1)
        if not messages:
            break
        found += sum(len(decode_message(message.body)) for message in messages)
    return found


def measure(client: SqsJsonClient, queue: SqsQueue, variant: str, url: str, script: Path,
            duration_s: int, args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    """One wrk run; for enqueueing variants also the messages and webhooks that reached the
    queue, which is then purged (ElasticMQ keeps messages on its small heap)."""
    run = run_wrk(url, script, duration_s, args.connections, args.threads)
    if variant in ENQUEUEING:
        run["messages_in_queue"] = sum(queue.depth())
        run["webhooks_in_queue"] = webhooks_in(queue, run["accepted"])
        purge_queue(client, queue.queue_url)
        deadline = time.monotonic() + 10
        while sum(queue.depth()) > 0 and time.monotonic() < deadline:
            time.sleep(0.1)  # polling interval of a deadline-bound wait
    return run


def lone_latency_ms(url: str, count: int = 200) -> dict[str, float]:
    """Latency of sequential single requests (nothing else in flight), p50/p99 in ms."""
    from webhook_bridge.signatures import sign

    timings = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(count):
            body = json.dumps({"type": "contact.email_opened", "timestamp": "2026-01-02T03:04:05Z",
                               "data": {"email": f"lone{i}@example.com"}}).encode()  # fmt: skip
            headers = sign("standard-webhooks", secret=SECRET, body=body, msg_id=f"lone_{i}")
            started = time.perf_counter()
            answer = client.post("/webhooks/bench", content=body, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 202:
                raise RuntimeError(f"lone request answered {answer.status_code}")
    timings.sort()
    return {
        "p50": round(timings[len(timings) // 2], 3),
        "p99": round(timings[-len(timings) // 100], 3),
    }


def mean_batch_size(log: Path) -> float | None:
    """From the receiver's shutdown log line."""
    for line in log.read_text(errors="replace").splitlines():
        if '"receiver stopped"' in line:
            value = json.loads(line).get("mean_batch_size")
            return float(value) if value is not None else None
    return None


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median accepted rate."""
    ordered = sorted(runs, key=lambda r: r["accepted_per_s"])
    return ordered[len(ordered) // 2]


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from local_stack.endpoints import from_env, from_layout
    from local_stack.layout import StackLayout
    from local_stack.sqs_admin import delete_queue, ensure_queue
    from webhook_bridge.queue.sqs import sqs_client

    endpoints = from_env() or from_layout(StackLayout.default())
    sqs_endpoint = os.environ.get("CDCBRIDGE_SQS_ENDPOINT", endpoints.sqs_endpoint)
    client = sqs_client(sqs_endpoint)
    name = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    queue = SqsQueue(client, ensure_queue(client, name))
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    script = work / "signed.lua"
    script.write_text(lua_script(args.distinct))
    servers: list[subprocess.Popen[bytes]] = []
    try:
        urls = {}
        for variant in VARIANTS:
            port = free_port()
            env = server_env(queue.queue_url, sqs_endpoint)
            servers.append(start(variant, port, env, work / f"{variant}.log"))
            urls[variant] = f"http://127.0.0.1:{port}"
        lone: dict[str, dict[str, float]] = {}
        for variant, url in urls.items():
            wait_healthy(url)
            measure(client, queue, variant, url, script, 2, args)  # warm-up
            lone[variant] = lone_latency_ms(url)
        purge_queue(client, queue.queue_url)
        for round_index in range(args.rounds):  # interleaved: a noisy neighbour hits all three
            order = VARIANTS[round_index % 3 :] + VARIANTS[: round_index % 3]
            for variant in order:
                runs[variant].append(
                    measure(client, queue, variant, urls[variant], script, args.duration, args)
                )
    finally:
        for server in servers:
            server.terminate()
            server.wait(15)
        delete_queue(client, queue.queue_url)
        delete_queue(client, SqsQueue.by_name(client, f"{name}-dlq").queue_url)
    results = {variant: median_run(variant_runs) for variant, variant_runs in runs.items()}
    results["batched"]["mean_sqs_batch_size"] = mean_batch_size(work / "batched.log")
    batched = results["batched"]["accepted_per_s"]
    vs_naive = batched / max(results["naive"]["accepted_per_s"], 1e-9)
    vs_ceiling = batched / max(results["verify_only"]["accepted_per_s"], 1e-9)
    return {
        "benchmark": "webhook ingest (verify + enqueue to SQS)",
        "load_tool": "wrk",
        "connections": args.connections,
        "wrk_threads": args.threads,
        "duration_s_per_round": args.duration,
        "rounds": args.rounds,
        "distinct_requests": args.distinct,
        "sqs": "ElasticMQ (local stack)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results_median_of_rounds": results,
        "accepted_per_s_each_round": {
            v: [r["accepted_per_s"] for r in rs] for v, rs in runs.items()
        },
        "lone_request_latency_ms": lone,
        "enqueue_check": {
            "accepted_2xx": sum(r["accepted"] for v in ENQUEUEING for r in runs[v]),
            "messages_in_queue": sum(r["messages_in_queue"] for v in ENQUEUEING for r in runs[v]),
            "webhooks_in_queue": sum(r["webhooks_in_queue"] for v in ENQUEUEING for r in runs[v]),
            "consistent": all(
                r["webhooks_in_queue"] >= r["accepted"] for v in ENQUEUEING for r in runs[v]
            ),
        },
        "batched_vs_naive": round(vs_naive, 2),
        "batched_vs_verify_only": round(vs_ceiling, 3),
        "targets": {"vs_naive": TARGET_VS_NAIVE, "vs_verify_only": TARGET_VS_VERIFY_ONLY},
        "targets_met": vs_naive >= TARGET_VS_NAIVE and vs_ceiling >= TARGET_VS_VERIFY_ONLY,
    }


class AcceptingQueue:
    """A ``QueueSender`` that accepts every batch at once and keeps nothing (the verify-only
    ceiling: what the receiver answers when enqueueing costs nothing)."""

    async def send_batch(self, envelopes: Sequence[QueueBody]) -> list[str | None]:
        return [None] * len(envelopes)

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def serve_verify_only(port: int) -> None:
    """The production receiver on an ``AcceptingQueue``, served like ``webhooks serve``."""
    import uvicorn

    from cdcbridge.clock import SYSTEM_CLOCK
    from webhook_bridge.config import BridgeSettings
    from webhook_bridge.dedupe import DedupeWindow
    from webhook_bridge.ingest import IngestCore
    from webhook_bridge.receiver import Receiver

    settings = BridgeSettings()
    dedupe = DedupeWindow(SYSTEM_CLOCK, settings.dedupe_window_s, settings.dedupe_max_entries)
    core = IngestCore(settings.load_sources(), SYSTEM_CLOCK, dedupe)
    receiver = Receiver(core, AcceptingQueue(), SYSTEM_CLOCK,
                        linger_s=settings.batch_linger_ms / 1000,
                        max_in_flight=settings.max_in_flight_batches,
                        send_timeout_s=settings.send_timeout_s)  # fmt: skip
    uvicorn.run(receiver.app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")  # fmt: skip


def serve_naive(port: int) -> None:
    """The naive handler: verify, then one boto3 SendMessage per request, then 202."""
    import boto3
    import uvicorn
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from cdcbridge.clock import SYSTEM_CLOCK
    from webhook_bridge.config import BridgeSettings
    from webhook_bridge.dedupe import DedupeWindow
    from webhook_bridge.ingest import Accepted, IngestCore, WebhookRequest

    settings = BridgeSettings()
    core = IngestCore(settings.load_sources(), SYSTEM_CLOCK, DedupeWindow(SYSTEM_CLOCK, 0, 0))
    client = boto3.client(
        "sqs", endpoint_url=settings.sqs_endpoint, region_name=settings.region,
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=32),
    )  # fmt: skip
    queue_url = settings.queue_url or ""

    def send_one(body: str) -> None:
        client.send_message(QueueUrl=queue_url, MessageBody=body)

    async def webhook(request: Request) -> Response:
        body = await request.body()
        decision = core.admit(WebhookRequest(request.path_params["source"], request.method,
                                             str(request.url), request.headers, body))  # fmt: skip
        if not isinstance(decision, Accepted):
            return JSONResponse({"error": decision.reason}, decision.status)
        try:
            await run_in_threadpool(send_one, decision.envelope.encode())
        except (BotoCoreError, ClientError):
            return JSONResponse({"error": "queue_unavailable"}, 503)
        return JSONResponse({"status": "accepted"}, 202)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/webhooks/{source}", webhook, methods=["POST"]),
                            Route("/healthz", healthz)])  # fmt: skip
    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--distinct", type=int, default=1000)
    parser.add_argument("--serve-naive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-verify-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_naive:
        serve_naive(args.port)
        return 0
    if args.serve_verify_only:
        serve_verify_only(args.port)
        return 0
    if shutil.which("wrk") is None:
        print(json.dumps({"benchmark": "webhook ingest", "error": "wrk not installed",
                          "install": "apt-get install -y wrk", "targets_met": None}))  # fmt: skip
        return 2
    print(json.dumps(bench(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
