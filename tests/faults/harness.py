"""One fault run: the whole bridge on the real local stack under steady load in both
directions, one fault, and the invariants checked after recovery.

Running (children of the test, each with its log under the test's tmp folder): ``cdcbridge
sync`` (its own consumer group from the CDC topic's end, a private sandbox platform), the
webhook receiver and the forwarder (a queue and an engagement topic of the test's own).
``FaultRun`` drives it: ``start`` the load, ``fault`` marks when a fault is injected and
ended, ``until_recovered`` keeps the load going until both directions are fresh again,
``finish`` stops the load, waits for the drain, checks and writes the measurements.

The invariants (``Verdict``): (a) ``cdcbridge audit --all`` of the test's rows passes; (b)
every webhook answered 202 is on Kafka, and after dedupe by ``event_id`` exactly once (nothing
on Kafka that was never sent); (c) records given up after retries (dead-lettered) stay under
0.5% of those consumed; (d) the service recovered by itself: every process the fault did not
hit is the same process as before, alive, the Debezium connector RUNNING, and both directions
fresh again (staleness under ``RECOVERED_S``) within ``RECOVERY_TIMEOUT_S`` of the fault's end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from local_stack.endpoints import StackEndpoints
from local_stack.layout import StackLayout
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox
from tests.fakes.processes import Child, wait_for
from tests.fakes.sync_process import SyncGroup, SyncProcess
from tests.faults import components
from tests.faults.load import OutboundLoad, WebhookLoad
from tests.faults.observe import EngagementTail, StalenessProbe
from tests.faults.report import append_row

RECOVERED_S = 5.0
RECOVERY_TIMEOUT_S = 300.0
MIN_SUCCESS_RATE = 0.995
OUTBOUND_RATE = 50  # row changes per second
INBOUND_RATE = 40  # webhooks per second


@dataclass
class Bridge:
    """The running children and their per-test resources."""

    stack: StackEndpoints
    layout: StackLayout
    sandbox: Sandbox
    group: SyncGroup
    receiver: Child
    receiver_url: str
    forwarder: Child
    topic: str
    dlq_depth: Any  # () -> int: messages in the per-test SQS dead-letter queue
    restart_forwarder: Any  # () -> Child
    secret: str

    @property
    def sync(self) -> SyncProcess:
        return self.group.processes[-1]


@dataclass
class FaultRun:
    name: str
    bridge: Bridge
    tag: str
    hit: str  # the component the fault hits: sync, forwarder, connect, kafka, ...
    outbound: OutboundLoad = field(init=False)
    inbound: WebhookLoad = field(init=False)
    tail: EngagementTail = field(init=False)
    probe: StalenessProbe = field(init=False)
    fault_started: float = 0.0
    fault_ended: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.created_at = time.monotonic()
        b = self.bridge
        self.before = components.identities(b.layout)
        self.children_before = {"receiver": b.receiver.process.pid,
                                "forwarder": b.forwarder.process.pid}  # fmt: skip
        self.outbound = OutboundLoad(b.stack.pg_dsn, self.tag, OUTBOUND_RATE)
        self.inbound = WebhookLoad(b.receiver_url, b.secret, self.tag, INBOUND_RATE)
        partitions = kafka_boundary.partition_count(b.stack.bootstrap_servers, b.topic)
        self.tail = EngagementTail(b.stack.bootstrap_servers, b.topic, partitions)
        self.probe = StalenessProbe(b.sandbox.url, b.sandbox.name, self.outbound, self.inbound,
                                    self.tail)  # fmt: skip

    def start(self, warmup_s: float = 8.0) -> FaultRun:
        """Start the load and wait ``warmup_s`` into it, with both directions flowing."""
        self.tail.start()
        self.outbound.start()
        self.inbound.start()
        self.probe.start()
        started = time.monotonic()
        wait_for(lambda: self.__fresh() and time.monotonic() - started >= warmup_s, 120,
                 f"both directions flowing: {self.bridge.sync.log()[-1500:]}", 0.5)  # fmt: skip
        return self

    def __fresh(self) -> bool:
        samples = self.probe.samples
        return bool(samples) and max(samples[-1].outbound_s, samples[-1].inbound_s) <= RECOVERED_S

    def hold(self, seconds: float) -> None:
        """Let the load run on for ``seconds`` (a fault's duration: wall-clock time is the
        point here, not a condition)."""
        self.outbound.stop_event.wait(seconds)

    @contextmanager
    def fault(self) -> Iterator[None]:
        """Marks the fault's window: the block injects it and returns once it has ended."""
        self.fault_started = time.time()
        yield
        self.fault_ended = time.time()

    def until_recovered(self, at_least_s: float = 8.0) -> None:
        """Keep the load going until both directions are fresh after the fault (or the
        recovery timeout), and at least ``at_least_s`` after the fault's end."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while time.monotonic() < deadline:
            recovered = self.probe.recovered_at(self.fault_ended, RECOVERED_S)
            if recovered is not None and time.time() >= self.fault_ended + at_least_s:
                return
            self.hold(0.5)

    def finish(self) -> dict[str, object]:
        """Stop the load, wait for the drain, check the invariants, write and print the
        measurements (one JSON line), then assert. Returns the row."""
        b = self.bridge
        self.outbound.stop()
        self.inbound.stop(give_up_s=180)
        final_heartbeat = f"hb{self.outbound.last_heartbeat_ms}"
        drained = _poll(  # a dead sync drains nothing: stop waiting at once
            lambda: not b.sync.alive()
            or (self.__platform_heartbeat() == final_heartbeat and b.group.lag() == 0),
            300,
        )
        drained = drained and b.sync.alive()
        self.inbound.join()
        accepted = set(self.inbound.accepted)
        all_on_kafka = _poll(lambda: accepted <= set(self.tail.seen()), 180)
        self.probe.stop()
        self.tail.stop()
        audit_code, audit = self.__audit()
        seen = self.tail.seen()
        verdict = self.__verdict(drained, all_on_kafka, audit_code, audit, accepted, seen)
        row = self.__row(verdict, audit, accepted, seen)
        append_row(row)
        print(json.dumps(row))
        assert not verdict.failures, "; ".join(verdict.failures) + f"\n{json.dumps(row)}"
        return row

    def __platform_heartbeat(self) -> str:
        contact = self.bridge.sandbox.contact(self.outbound.heartbeat_email)
        props = {k.lower(): v for k, v in (contact or {}).items()}
        return str(props.get("firstname") or "")

    def __audit(self) -> tuple[int, dict[str, Any]]:
        b = self.bridge
        env = {**b.group.env, **b.sandbox.env(), "CDCBRIDGE_PG_DSN": b.stack.pg_dsn,
               "CDCBRIDGE_AUDIT_SETTLE_TIMEOUT_S": "120" if b.sync.alive() else "0"}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "cdcbridge", "audit", "--json", "--all", "--no-deletes",
             "--where", f"email LIKE '{self.tag}-%'"],
            env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        lines = done.stdout.strip().splitlines()
        if not lines:
            return done.returncode, {"error": done.stderr[-2000:]}
        return done.returncode, json.loads(lines[-1])

    def __verdict(
        self, drained: bool, all_on_kafka: bool, audit_code: int, audit: dict[str, Any],
        accepted: set[str], seen: dict[str, int],
    ) -> Verdict:  # fmt: skip
        b = self.bridge
        failures: list[str] = []
        if not drained:
            failures.append(f"outbound never drained: lag {b.group.lag()}")
        if audit_code != 0 or not audit.get("passed"):
            failures.append(f"(a) audit failed (exit {audit_code}): "
                            f"{json.dumps(audit)[:1500]}")  # fmt: skip
        missing = accepted - set(seen)
        if not all_on_kafka or missing:
            failures.append(f"(b) {len(missing)} webhooks answered 202 missing from Kafka: "
                            f"{sorted(missing)[:10]}")  # fmt: skip
        unknown = set(seen) - set(self.inbound.created)
        if unknown:
            failures.append(f"(b) events on Kafka never sent: {sorted(unknown)[:10]}")
        if self.inbound.pending() or self.inbound.refused:
            failures.append(f"(b) {self.inbound.pending()} webhooks never accepted, refused: "
                            f"{dict(list(self.inbound.refused.items())[:5])}")  # fmt: skip
        consumed, dead = self.__consumed(), self.__dead_lettered()
        rate = 1 - dead / consumed if consumed else 0.0
        if rate < MIN_SUCCESS_RATE:
            failures.append(f"(c) success after retries {rate:.4f}: {dead} of {consumed} "
                            "records dead-lettered")  # fmt: skip
        failures += self.__self_healed()
        return Verdict(failures, consumed, dead, rate)

    def __self_healed(self) -> list[str]:
        b = self.bridge
        failures = []
        after = components.identities(b.layout)
        for name, who in self.before.items():
            if name != self.hit and after[name] != who:
                failures.append(f"(d) {name} was restarted ({who} -> {after[name]})")
        if not components.connector_running(b.layout):
            failures.append("(d) the Debezium connector or its task is not RUNNING")
        for name, child in (("receiver", b.receiver), ("forwarder", b.forwarder)):
            if not child.alive():
                failures.append(f"(d) the {name} died: {child.log()[-1500:]}")
            elif name != self.hit and child.process.pid != self.children_before[name]:
                failures.append(f"(d) the {name} was restarted")
        if not b.sync.alive():
            failures.append(f"(d) sync died: {b.sync.log()[-1500:]}")
        restarts = len(b.group.processes) - 1
        if self.hit != "sync" and restarts:
            failures.append(f"(d) sync was restarted {restarts} times")
        if b.dlq_depth():
            failures.append(f"(b) {b.dlq_depth()} webhooks reached the SQS dead-letter queue")
        if self.probe.recovered_at(self.fault_ended, RECOVERED_S) is None:
            failures.append(f"(d) not fresh again within {RECOVERY_TIMEOUT_S:.0f}s of the "
                            "fault's end")  # fmt: skip
        return failures

    def __consumed(self) -> int:
        g = self.bridge.group
        return sum((r.committed or 0) - g.start_offsets.get(r.partition, 0) for r in g.lag_rows())

    def __dead_lettered(self) -> int:
        topic = self.bridge.group.dlq_topic
        return sum(1 for _ in kafka_boundary.read_topic(self.bridge.stack.bootstrap_servers,
                                                        topic))  # fmt: skip

    def __row(self, verdict: Verdict, audit: dict[str, Any], accepted: set[str],
              seen: dict[str, int]) -> dict[str, object]:  # fmt: skip
        b = self.bridge
        recovered = self.probe.recovered_at(self.fault_ended, RECOVERED_S)
        delivered = sum(
            batch["source_records"] for process in b.group.processes
            for batch in process.batches()
        )  # fmt: skip
        peak_out, peak_in = self.probe.peak()
        requests = b.sandbox.requests()
        statuses: dict[str, int] = requests["by_status"]
        ok = sum(n for s, n in statuses.items() if s.startswith("2"))
        return {
            "fault": self.name,
            "passed": not verdict.failures,
            "recovery_s": None if recovered is None else round(recovered - self.fault_ended, 1),
            "fault_s": round(self.fault_ended - self.fault_started, 1),
            "resent": max(delivered + verdict.dead - verdict.consumed, 0),
            "duplicates_dropped": sum(n - 1 for n in seen.values()),
            "peak_lag_s": round(max(peak_out, peak_in), 1),
            "peak_outbound_lag_s": round(peak_out, 1),
            "peak_inbound_lag_s": round(peak_in, 1),
            "rows_inserted": self.outbound.inserted,
            "rows_updated": self.outbound.updates,
            "records_consumed": verdict.consumed,
            "dead_lettered": verdict.dead,
            "api_success_after_retries": round(verdict.success_rate, 5),
            "api_requests": sum(statuses.values()),
            "api_answers_2xx_share": round(ok / max(sum(statuses.values()), 1), 4),
            "api_answers": statuses,
            "marketo_errors": requests.get("marketo_errors") or {},
            "audit_checked": audit.get("checked"),
            "audit_match_rate": audit.get("match_rate"),
            "webhooks_accepted": len(accepted),
            "webhook_503s": self.inbound.answers_503,
            "sync_restarts": len(b.group.processes) - 1,
            **self.extra,
            "test_s": round(time.monotonic() - self.created_at, 1),
            "failures": verdict.failures,
        }


@dataclass
class Verdict:
    failures: list[str]
    consumed: int
    dead: int
    success_rate: float


def _poll(condition: Any, timeout_s: float) -> bool:
    try:
        wait_for(condition, timeout_s, "the drain", 0.5)
    except AssertionError:
        return False
    return True
