"""Inbound rates side by side, in one run on one machine: what one receiver accepts vs what one
forwarder drains (SQS -> Kafka), on the local stack (ElasticMQ with persistence, Kafka).

Phases, on a fresh queue and topic; rates are in webhooks (each one record on Kafka; the
receiver packs concurrent webhooks into one queue message, ``webhook_bridge/batcher.py``):

- ``ingest``: one receiver (``cdcbridge webhooks serve``, 1 uvicorn worker) loaded by ``wrk``
  for ``--duration`` s while no forwarder runs: accepted (202) per second; the backlog grows.
- ``drain``: one forwarder (``cdcbridge forward``) drains that backlog while nothing is sent:
  records arriving on Kafka per second, measured between 10% and 90% of the backlog (start-up
  excluded).
- ``concurrent``: receiver under ``wrk`` and forwarder together for ``--duration`` s: accepted
  per second, drained per second (records that reached Kafka meanwhile) and the difference.

CPU seconds per webhook of each process (from ``/proc``): the receiver's per accepted webhook
in ``ingest``, the forwarders' and the SQS server's per drained webhook in ``drain``. The
forwarder keeping up on its own CPU is what carries over to real SQS, whose server costs us
nothing; on the local stack the SQS server's journal (H2, one write per message sent, two per
message drained: receive and delete) is on the same two cores.

``wrk`` cycles over ``--distinct`` signed requests, each accepted as a new webhook (the
receiver does not dedupe; the forwarder's dedupe window is off, so every webhook is produced).
Requests in flight when ``wrk`` stops are enqueued but not counted as accepted (up to
``--connections`` per phase): the records on Kafka exceed the accepted count by about that
much. Prints one JSON document; target: drain >= ingest in both phases.

Run: ``.venv/bin/python bench/bench_inbound_rates.py [--duration 10] [--distinct 4000]
[--forwarders 1] [--receivers N]`` (``--receivers``: each forwarder's concurrent receives).
Needs ``wrk`` (apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench_ingest import SOURCES, free_port, lua_script, run_wrk, server_env, wait_healthy

ROOT = Path(__file__).resolve().parents[1]


class TopicCount:
    """Records on a topic (the sum of its partitions' high watermarks), one consumer reused."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import Consumer

        self.__consumer = Consumer({"bootstrap.servers": bootstrap,
                                    "group.id": f"bench-{uuid.uuid4()}"})  # fmt: skip
        self.__topic = topic

    def __call__(self) -> int:
        from confluent_kafka import TopicPartition

        meta = self.__consumer.list_topics(self.__topic, timeout=10)
        total = 0
        for partition in meta.topics[self.__topic].partitions:
            _, high = self.__consumer.get_watermark_offsets(
                TopicPartition(self.__topic, partition), timeout=10
            )
            total += high
        return total

    def close(self) -> None:
        self.__consumer.close()


def forwarder(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "cdcbridge.cli", "--log-level", "WARNING", "forward"]
    with log.open("ab") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def per_message_ms(cpu_s: float, messages: int) -> float | None:
    return round(1000 * cpu_s / messages, 3) if messages else None


def depth(queue: Any) -> int:
    return int(sum(queue.depth()))


def drain_rate(on_kafka: TopicCount, queue: Any, backlog: int, timeout_s: float) -> dict[str, Any]:
    """Poll the records on Kafka until ``backlog`` more arrived and the queue is empty; the rate
    between 10% and 90% of ``backlog`` (webhooks per second: one record each)."""
    marks: dict[str, float] = {}
    started = time.monotonic()
    deadline = started + timeout_s
    first = on_kafka()
    while time.monotonic() < deadline:
        now, done = time.monotonic(), on_kafka() - first
        if "p10" not in marks and done >= 0.1 * backlog:
            marks["p10"] = now
        if "p90" not in marks and done >= 0.9 * backlog:
            marks["p90"] = now
        if done >= backlog and depth(queue) == 0:
            marks["empty"] = now
            break
        time.sleep(0.05)  # polling interval of a deadline-bound wait
    if "p90" not in marks or "p10" not in marks:
        return {"drained_per_s": None, "error": "did not drain in time", "left": depth(queue)}
    return {
        "drained_per_s": round(0.8 * backlog / max(marks["p90"] - marks["p10"], 1e-6), 1),
        "seconds_to_empty": round(marks.get("empty", deadline) - started, 2),
    }


def bench(args: argparse.Namespace) -> dict[str, Any]:
    from local_stack.endpoints import from_env, from_layout
    from local_stack.jvm import ELASTICMQ
    from local_stack.layout import StackLayout
    from local_stack.processes import read_pid
    from local_stack.sqs_admin import delete_queue, ensure_queue
    from webhook_bridge.kafka_producer import ensure_topic
    from webhook_bridge.queue.sqs import SqsQueue, sqs_client

    layout = StackLayout.default()
    stack = from_env() or from_layout(layout)
    sqs_pid = read_pid(ELASTICMQ.pid_file(layout))  # None: not the local stack's ElasticMQ
    sqs_pids = [] if sqs_pid is None else [sqs_pid]
    client = sqs_client(stack.sqs_endpoint)
    name = f"bench-rates-{uuid.uuid4().hex[:8]}"
    queue = SqsQueue(client, ensure_queue(client, name))
    topic = f"bench.engagement.{name}"
    ensure_topic(stack.bootstrap_servers, topic)
    work = Path(tempfile.mkdtemp(prefix="bench-rates-"))
    script = work / "signed.lua"
    receiver_port = free_port()
    env = server_env(queue.queue_url, stack.sqs_endpoint) | {
        "CDCBRIDGE_WEBHOOKS_SOURCES_JSON": json.dumps(SOURCES),
        "CDCBRIDGE_FORWARD_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "CDCBRIDGE_FORWARD_TOPIC": topic,
        "CDCBRIDGE_FORWARD_WAIT_S": "1",
        "CDCBRIDGE_FORWARD_DEDUPE_WINDOW_S": "0",
    }
    if args.receivers:
        env["CDCBRIDGE_FORWARD_RECEIVERS"] = str(args.receivers)
    url = f"http://127.0.0.1:{receiver_port}"
    argv = [sys.executable, "-m", "cdcbridge.cli", "--log-level", "WARNING", "webhooks", "serve",
            "--port", str(receiver_port)]  # fmt: skip
    children: list[subprocess.Popen[bytes]] = []
    result: dict[str, Any] = {}
    on_kafka = TopicCount(stack.bootstrap_servers, topic)
    try:
        with (work / "receiver.log").open("ab") as out:
            children.append(subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                             cwd=ROOT))  # fmt: skip
        wait_healthy(url)
        script.write_text(lua_script(args.distinct))
        warm = run_wrk(url, script, 1, args.connections, 1)  # warm-up: joins the backlog
        receiver_cpu = cpu_seconds(children[0].pid)
        ingest = run_wrk(url, script, args.duration, args.connections, 1)
        receiver_cpu = cpu_seconds(children[0].pid) - receiver_cpu
        backlog = warm["accepted"] + ingest["accepted"]  # webhooks (requests in flight aside)
        backlog_messages = depth(queue)
        forwarders = [forwarder(env, work / f"forwarder-{i}.log") for i in range(args.forwarders)]
        children += forwarders
        pids = [fwd.pid for fwd in forwarders]
        cpu_before = (cpu_of(pids), cpu_of(sqs_pids))
        drain = drain_rate(on_kafka, queue, backlog, 300)
        cpu_drain = (cpu_of(pids) - cpu_before[0], cpu_of(sqs_pids) - cpu_before[1])
        before = on_kafka()
        concurrent = run_wrk(url, script, args.duration, args.connections, 1)
        drained = on_kafka() - before  # webhooks that reached Kafka while both ran
        seconds = args.duration
        left = depth(queue)
        final = drain_rate(on_kafka, queue, max(concurrent["accepted"] - drained, 1), 300)
        accepted_total = sum(run["accepted"] for run in (warm, ingest, concurrent))
        wait_deadline = time.monotonic() + 30
        while on_kafka() < accepted_total and time.monotonic() < wait_deadline:
            time.sleep(0.2)  # polling interval of a deadline-bound wait
        result = {
            "benchmark": "inbound rates: one receiver's ingest vs the forwarders' drain",
            "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)},
            "sqs": "ElasticMQ (local stack, messages journalled to H2)",
            "connections": args.connections,
            "duration_s": args.duration,
            "ingest_alone": {
                "accepted_per_s": ingest["accepted_per_s"],
                "non_2xx": ingest["non_2xx"],
                "backlog_webhooks": backlog,
                "backlog_messages": backlog_messages,
                "webhooks_per_message": round(backlog / max(backlog_messages, 1), 2),
            },
            "drain_alone": drain,
            "forwarders": args.forwarders,
            "cpu_ms_per_webhook": {
                "receiver_per_accepted": per_message_ms(receiver_cpu, ingest["accepted"]),
                "forwarder_per_drained": per_message_ms(cpu_drain[0], backlog),
                "sqs_server_per_drained": per_message_ms(cpu_drain[1], backlog)
                if sqs_pids
                else None,
            },
            "concurrent": {
                "accepted_per_s": concurrent["accepted_per_s"],
                "drained_per_s": round(drained / seconds, 1),
                "backlog_growth_webhooks": concurrent["accepted"] - drained,
                "non_2xx": concurrent["non_2xx"],
            },
            "left_after_concurrent": {
                "messages": left,
                "seconds_to_empty": final.get("seconds_to_empty"),
            },
            "records_on_kafka": on_kafka(),
            "accepted_total": accepted_total,
        }
        result["drain_alone_vs_ingest_alone"] = round(
            (drain["drained_per_s"] or 0) / max(ingest["accepted_per_s"], 1e-9), 2
        )
        result["target_met"] = (drain["drained_per_s"] or 0) >= ingest["accepted_per_s"] and (
            drained >= concurrent["accepted"] * 0.98
        )
    finally:
        for child in children:
            child.terminate()
            child.wait(30)
        on_kafka.close()
        delete_queue(client, queue.queue_url)
        delete_queue(client, SqsQueue.by_name(client, f"{name}-dlq").queue_url)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--distinct", type=int, default=4000)
    parser.add_argument("--forwarders", type=int, default=1, help="forwarder processes")
    parser.add_argument(
        "--receivers", type=int, default=0, help="receives per forwarder (0: its default)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print(json.dumps({"benchmark": "inbound rates", "error": "wrk not installed",
                          "install": "apt-get install -y wrk", "target_met": None}))  # fmt: skip
        return 2
    print(json.dumps(bench(args), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
