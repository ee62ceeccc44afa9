"""``cdcbridge sync`` as child processes of the integration tests, and the consumer group they
share: it starts at the current end of the CDC topic, so a test sees only its own changes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from local_stack.endpoints import StackEndpoints
from streams.sync import kafka_boundary
from tests.fakes.private_sandbox import Sandbox

TOPIC = "cdc.public.customers"


class SyncProcess:
    """``cdcbridge sync`` as a child process (so it can be SIGTERMed or ``kill -9``ed)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> SyncProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cdcbridge", "sync"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def stop(self, timeout_s: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no drain, no commit
        self.process.wait(10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def batches(self) -> list[dict[str, Any]]:
        """The "batch delivered" log lines so far (JSON)."""
        found = []
        for line in self.log().splitlines():
            if '"batch delivered"' in line:
                found.append(json.loads(line))
        return found


COMPANY_TOPICS = ("cdc.public.companies",)


class SyncGroup:
    """One consumer group starting at the current end of the customers' and the companies'
    topics (the sync consumes both), and its processes."""

    def __init__(self, stack: StackEndpoints, sandbox: Sandbox, tmp_path: Path) -> None:
        self.stack = stack
        self.group = f"it-sync-{uuid.uuid4().hex[:8]}"
        self.dlq_topic = f"it-dlq-{self.group}"
        self.tmp_path = tmp_path
        self.processes: list[SyncProcess] = []
        self.start_offsets = kafka_boundary.commit_group_to_end(
            stack.bootstrap_servers, self.group, TOPIC
        )
        for topic in COMPANY_TOPICS:  # the sync consumes every mapped table's topic
            kafka_boundary.commit_group_to_end(stack.bootstrap_servers, self.group, topic)
        self.env = {
            **os.environ,
            "CDCBRIDGE_SYNC_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "CDCBRIDGE_SYNC_GROUP_ID": self.group,
            "CDCBRIDGE_SYNC_DLQ_TOPIC": self.dlq_topic,
            "CDCBRIDGE_SYNC_DRAIN_TIMEOUT_S": "10",
            "CDCBRIDGE_PLATFORM": "hubspot",
            "CDCBRIDGE_HUBSPOT_BASE_URL": sandbox.url,
            "CDCBRIDGE_HUBSPOT_TOKEN": "sandbox-token",
            "CDCBRIDGE_CONFIG_FILE": "/nonexistent",
        }

    def spawn(self, sandbox: Sandbox | None = None, **env: str) -> SyncProcess:
        """Start one more instance (optionally talking to another sandbox)."""
        log_path = self.tmp_path / f"sync-{len(self.processes)}.log"
        if sandbox is not None:
            env["CDCBRIDGE_HUBSPOT_BASE_URL"] = sandbox.url
        process = SyncProcess({**self.env, **env}, log_path).start()
        self.processes.append(process)
        return process

    def platform_setup(self) -> str:
        """``cdcbridge platform setup`` with this group's settings; its output. Asserts it
        succeeded (the sandbox learns the custom properties the mappings write)."""
        setup = subprocess.run(
            [sys.executable, "-m", "cdcbridge", "platform", "setup"],
            env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert setup.returncode == 0, setup.stdout + setup.stderr
        return setup.stdout

    def start_at_end(self, topic: str) -> None:
        """Start this group at the current end of one more topic (a mapped table's)."""
        kafka_boundary.commit_group_to_end(self.stack.bootstrap_servers, self.group, topic)

    def lag(self, topic: str = TOPIC) -> int:
        return sum(row.lag for row in self.lag_rows(topic))

    def lag_rows(self, topic: str = TOPIC) -> list[kafka_boundary.PartitionLag]:
        return kafka_boundary.group_lag(self.stack.bootstrap_servers, self.group, topic)

    def cleanup(self) -> None:
        for process in self.processes:
            if process.alive():
                process.kill()


def unique_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"
