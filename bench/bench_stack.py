"""Benchmark: `stack up` from cold and from warm, and the memory of each JVM.

Uses a throwaway stack in its own folder and ports (the main stack is not touched):
- cold: empty state folder (jars already resolved) -> every component healthy;
- warm: `down` then `up` again with the state kept (Kafka formatted, cluster initialised);
- noop: `up` while everything runs.
Prints one JSON document; RSS is read from /proc after the connector is running.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from local_stack import stack
from local_stack.connector_setup import ensure_connector_running
from local_stack.demo import CONNECTOR_FILE
from local_stack.isolated import isolated_layout, stack_pids
from local_stack.layout import StackLayout


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def timed_up(layout: StackLayout) -> float:
    start = time.monotonic()
    stack.up(layout)
    return round(time.monotonic() - start, 2)


def main() -> None:
    with isolated_layout(port_offset=300) as layout:
        cold = timed_up(layout)
        ensure_connector_running(
            layout.connect_url, CONNECTOR_FILE, bootstrap_servers=layout.bootstrap_servers
        )
        pids = stack_pids(layout)
        memory = {
            name: rss_mib(pid) for name, pid in pids.items() if name in ("kafka", "connect", "sqs")
        }
        noop = timed_up(layout)
        stack.down(layout)
        warm = timed_up(layout)
    print(
        json.dumps(
            {
                "benchmark": "stack_up",
                "cold_up_s": cold,
                "warm_up_s": warm,
                "noop_up_s": noop,
                "jvm_rss_mib": memory,
                "note": "cold = empty state folder with jars already resolved by Maven",
            }
        )
    )


if __name__ == "__main__":
    main()
