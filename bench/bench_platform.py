"""Sustained platform throughput against the sandbox at a known limit; prints one JSON document.

The sandbox (a subprocess, ``python -m sandbox_platform``) enforces the vendor's rolling window
at ``--limit`` requests per ``--window`` seconds (HubSpot's free tier: 100 / 10 s; Marketo:
100 calls / 20 s, 10 concurrent); we drive ``build_adapter``'s adapter (shared limiter
configured with the same published limit) from ``--workers`` threads with full batches of
``--batch`` new contacts (HubSpot 100, Marketo 300) for ``--seconds``. Ceiling = limit / window
x batch. Target: records/s >= 95% of the ceiling and zero rate-limit answers after the first
second. With ``--naive``, the same run with one record per call follows (the baseline: one
HTTP call per change), and the result holds both and their ratio.

    .venv/bin/python bench/bench_platform.py [--platform marketo] [--seconds 30] [--naive]
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

DEFAULTS = {"hubspot": (100, 10.0, 100), "marketo": (100, 20.0, 300)}  # limit, window, batch


@contextmanager
def sandbox(platform: str, limit: int, window: float) -> Iterator[str]:
    """A private sandbox at the given vendor limit; its log goes to a temporary folder."""
    knobs = {f"{platform}_limit": limit, f"{platform}_window_s": window}
    with (
        tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp,
        private_sandbox(Path(tmp) / "sandbox.log", platform=platform, knobs=knobs) as url,
    ):
        yield url


def platform_settings(args: argparse.Namespace, url: str) -> PlatformSettings:
    limits = {"batch_size": args.batch, "rate_limit_requests": args.limit,
              "rate_limit_window_s": args.window}  # fmt: skip
    if args.platform == "marketo":
        return PlatformSettings(
            platform="marketo", marketo_base_url=url, marketo_client_id="sandbox-client",
            marketo_client_secret=SecretStr("sandbox-secret"), **limits,
        )  # fmt: skip
    return PlatformSettings(
        platform="hubspot", hubspot_base_url=url, hubspot_token=SecretStr("sandbox-token"),
        **limits,
    )  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, object]:
    name = "firstName" if args.platform == "marketo" else "firstname"
    with sandbox(args.platform, args.limit, args.window) as url:
        settings = platform_settings(args, url)
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
                    batch.append(VendorRecord(email, email, {name: "Bench"}))
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
    rate_limited = [e for e in log if e["status"] in ("429", "606", "615")]
    ceiling = args.limit / args.window * args.batch
    records_per_s = sum(delivered) / elapsed
    return {
        "benchmark": f"platform_{args.platform}_upsert",
        "limit": f"{args.limit} requests / {args.window:g} s",
        "batch_size": args.batch,
        "workers": args.workers,
        "seconds": round(elapsed, 2),
        "records_delivered": sum(delivered),
        "records_per_s": round(records_per_s, 1),
        "ceiling_records_per_s": ceiling,
        "fraction_of_ceiling": round(records_per_s / ceiling, 4),
        "rate_limited_total": len(rate_limited),
        "rate_limited_after_first_second": sum(1 for e in rate_limited if e["t"] - first > 1.0),
        "requests_by_status": seen["by_status"],
        "target_met": records_per_s / ceiling >= 0.95
        and not any(e["t"] - first > 1.0 for e in rate_limited),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--platform", choices=sorted(DEFAULTS), default="hubspot")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--window", type=float)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--naive", action="store_true", help="also one record per call")
    args = parser.parse_args()
    limit, window, batch = DEFAULTS[args.platform]
    args.limit, args.window = args.limit or limit, args.window or window
    args.batch = args.batch or batch
    result = run(args)
    if args.naive:
        args.batch = 1
        naive = run(args)
        result["naive_one_record_per_call"] = naive
        result["batched_vs_naive"] = round(
            float(str(result["records_per_s"])) / max(float(str(naive["records_per_s"])), 1e-9), 1
        )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
