"""Sustained platform throughput against the sandbox at a known limit; prints one JSON document.

The sandbox (a subprocess, ``python -m sandbox_platform``) enforces HubSpot's rolling window at
``--limit`` requests per ``--window`` seconds; we drive ``build_adapter``'s HubSpot adapter
(shared limiter configured with the same published limit) from ``--workers`` threads with full
batches of ``--batch`` new contacts for ``--seconds``. Ceiling = limit / window x batch.
Target: records/s >= 95% of the ceiling and zero 429s after the first second.

    .venv/bin/python bench/bench_platform.py [--seconds 30] [--limit 100 --window 10]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from local_stack.sandbox_launcher import private_sandbox
from streams.contracts import RecordOutcome, VendorRecord
from streams.platform import build_adapter
from streams.platform.settings import PlatformSettings


@contextmanager
def sandbox(limit: int, window: float) -> Iterator[str]:
    """A private sandbox at the given HubSpot limit; its log goes to a temporary folder."""
    knobs = {"hubspot_limit": limit, "hubspot_window_s": window}
    with (
        tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp,
        private_sandbox(Path(tmp) / "sandbox.log", platform="hubspot", knobs=knobs) as url,
    ):
        yield url


def run(args: argparse.Namespace) -> dict[str, object]:
    with sandbox(args.limit, args.window) as url:
        settings = PlatformSettings(
            platform="hubspot",
            hubspot_base_url=url,
            hubspot_token=SecretStr("sandbox-token"),
            batch_size=args.batch,
            rate_limit_requests=args.limit,
            rate_limit_window_s=args.window,
        )
        adapter = build_adapter(settings)
        delivered = [0] * args.workers
        started = time.monotonic()
        stop_at = started + args.seconds

        def worker(index: int) -> None:
            sequence = 0
            while time.monotonic() < stop_at:
                batch = []
                for _ in range(args.batch):
                    email = f"w{index}-{sequence}@bench.example.com"
                    batch.append(VendorRecord(email, email, {"firstname": "Bench"}))
                    sequence += 1
                results = adapter.upsert_batch(batch)
                if time.monotonic() <= stop_at:
                    delivered[index] += sum(r.outcome is RecordOutcome.OK for r in results)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = min(time.monotonic(), stop_at) - started
        seen = httpx.get(f"{url}/admin/requests", params={"log": "1"}, timeout=10).json()
    log = seen["log"]
    first = log[0]["t"] if log else 0.0
    rate_limited = [e for e in log if e["status"] == "429"]
    ceiling = args.limit / args.window * args.batch
    records_per_s = sum(delivered) / elapsed
    return {
        "benchmark": "platform_hubspot_upsert",
        "limit": f"{args.limit} requests / {args.window:g} s",
        "batch_size": args.batch,
        "workers": args.workers,
        "seconds": round(elapsed, 2),
        "records_delivered": sum(delivered),
        "records_per_s": round(records_per_s, 1),
        "ceiling_records_per_s": ceiling,
        "fraction_of_ceiling": round(records_per_s / ceiling, 4),
        "http_429_total": len(rate_limited),
        "http_429_after_first_second": sum(1 for e in rate_limited if e["t"] - first > 1.0),
        "requests_by_status": seen["by_status"],
        "target_met": records_per_s / ceiling >= 0.95
        and not any(e["t"] - first > 1.0 for e in rate_limited),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    print(json.dumps(run(parser.parse_args()), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
