"""How long the audit takes for N records at the free-tier HubSpot limit; prints JSON.

A private sandbox enforces HubSpot's free tier (100 requests / 10 s). N contacts are loaded
through the adapter, then the audit core (``Auditor``: sync mapping, batch read through the
shared limiter at ``--share`` of the budget, comparison) checks all of them, once per share.
The expected time is ``ceil(N / 100)`` batch reads at the limiter's rate
(``share x 100 / 10 s``, less one token of burst).

    .venv/bin/python bench/bench_audit.py [--records 10000] [--share 0.2 --share 1.0]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pydantic import SecretStr

from cdcbridge.clock import SYSTEM_CLOCK
from local_stack.sandbox_launcher import private_sandbox
from streams.audit.compare import Comparator
from streams.audit.runner import Auditor
from streams.audit.sampling import plan_sample
from streams.audit.settle import FixedWait
from streams.audit.source_rows import expected_record
from streams.mapping.change_decoder import ChangeDecoder
from streams.mapping.table_mapping import load_table_mapping
from streams.mapping.vendor_mapping import load_vendor_mapping
from streams.platform import build_adapter, effective_limits
from streams.platform.ratelimit import RateLimiter
from streams.platform.settings import PlatformSettings

MAPPING = load_table_mapping()
DECODER = ChangeDecoder([MAPPING])
VENDOR = load_vendor_mapping("hubspot")


class MemorySource:
    def __init__(self, n: int) -> None:
        self.table = {
            str(i): {
                "id": i,
                "email": f"bench{i}@example.com",
                "first_name": f"N{i}",
                "plan": "pro",
                "marketing_opt_in": i % 2 == 0,
                "country": "US",
            }
            for i in range(1, n + 1)
        }

    def ids(self) -> list[str]:
        return list(self.table)

    def rows(self, ids: Sequence[str]) -> Iterable[Mapping[str, object]]:
        return [self.table[i] for i in ids]

    def existing(self, ids: Sequence[str]) -> set[str]:
        return set(ids) & set(self.table)

    def emails_present(self, emails: Sequence[str]) -> set[str]:
        return set()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--share", type=float, action="append")
    args = parser.parse_args()
    shares = args.share or [0.2, 1.0]
    source = MemorySource(args.records)
    expected = [expected_record(DECODER, MAPPING, "hubspot", r) for r in source.table.values()]
    read = [VENDOR.id_property] + [r.property for r in VENDOR.properties]
    knobs = {"hubspot_limit": 100, "hubspot_window_s": 10}
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp,
        private_sandbox(Path(tmp) / "sandbox.log", platform="hubspot", knobs=knobs) as url,
    ):
        settings = PlatformSettings(
            platform="hubspot", hubspot_base_url=url, hubspot_token=SecretStr("sandbox-token")
        )
        limits = effective_limits(settings)
        loader = build_adapter(settings, limiter=RateLimiter.for_limits(limits))
        for start in range(0, len(expected), 100):
            loader.upsert_batch(expected[start : start + 100])
        for share in shares:
            limiter = RateLimiter.for_limits(limits)
            limiter.set_share(share)
            adapter = build_adapter(settings, limiter=limiter, read_properties=read)
            auditor = Auditor(
                source=source,
                expected=lambda row: expected_record(DECODER, MAPPING, "hubspot", row),
                read=adapter.read_batch,
                comparator=Comparator(
                    {r.property: r.field for r in VENDOR.properties},
                    frozenset({"email", "lifecyclestage"}),
                ),
                settler=FixedWait(SYSTEM_CLOCK, 0),
                clock=SYSTEM_CLOCK,
            )
            result = auditor.run(plan_sample(args.records, everything=True), random.Random(1))
            calls = math.ceil(args.records / 100)
            results.append(
                {
                    "share": share,
                    "records": result.checked,
                    "mismatched": result.mismatched_records,
                    "duration_s": round(result.duration_s, 1),
                    "read_calls": calls,
                    "expected_s": round((calls - limiter.capacity) / limiter.rate, 1),
                }
            )
    sample = plan_sample(args.records)
    print(
        json.dumps(
            {
                "benchmark": "audit_free_tier_hubspot",
                "limit": "100 requests / 10 s",
                "sample_at_99_1": sample.size,
                "runs": results,
            }
        )
    )
    return 0 if all(r["mismatched"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
