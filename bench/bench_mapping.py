"""Mapping benchmark: decode + map + validate Debezium envelopes on one core.

Builds N distinct, realistic ``cdc.public.customers`` envelopes (plain JSON converter, the
lead's settings: decimal.handling.mode=string, adaptive_time_microseconds; a mix of creates,
updates with a before image, TOAST placeholders, email changes, national and international
phone numbers in several countries), then times ``decode_change`` over all of them (parse,
decode, map, normalise, validate against the canonical schema) in CPU time of one pinned core:
once with international phone numbers only, once with a share of national numbers (which go
through ``phonenumbers``), and ``decode_change`` + ``upsert_record("hubspot")`` (the vendor
record sync sends). Prints one JSON document.

Run: ``.venv/bin/python bench/bench_mapping.py [--records 50000] [--rounds 5]``.
Target: >= 50,000 records/s for decode + map + validate.

On a shared virtual machine the core's speed drifts by a quarter or more over minutes; the
result moves roughly with ``reference_loop_cpu_s`` (records/s x reference seconds varies less
than either), so compare runs by both numbers. For code changes the steady yardstick is the
instruction count per record under ``valgrind --tool=callgrind`` (run with N and 0 records,
divide the difference):
about 185,000 with orjson and a generic field loop, 135,000 with the typed msgspec envelope and
the generated row program, 119,000 with rows decoded into column Structs (``ColumnRow``).
The reference loop measures the interpreter build as much as the core (Debian's 3.11 runs it in
half the time of a plain source build, yet runs this benchmark no faster): compare it only
between runs of the same interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable

from streams.contracts import CustomerUpsert
from streams.mapping.change_decoder import decode_change
from streams.mapping.normalisers import parse_national
from streams.mapping.vendor_record import upsert_record

TOPIC = "cdc.public.customers"
TARGET_RECORDS_PER_S = 50_000
FIRST = ["Ana", "Zoë", "Jürgen", "Mei", "Olu", "Siobhán", "Rafael", "Priya", "Ülkü", "Kenji"]
LAST = ["García", "Ñúñez", "Østergård", "Li", "Okafor", "O'Brien", "Silva", "Patel", "Kaya"]
STAGES = ["lead", "mql", "sql", "opportunity", "customer", "subscriber", "churned"]
INTERNATIONAL_PHONES = [
    ("US", "+1 (415) 555-{n:04d}"),
    ("GB", "+44 20 7946 {n:04d}"),
    ("DE", "+49 30 9018{n:04d}"),
    ("FR", "+33 1 42 68 {a:02d} {b:02d}"),
]
NATIONAL_PHONES = [("US", "(212) 555-{n:04d}"), ("DE", "030 9018{n:04d}")]


def _row(rng: random.Random, i: int, national_share: float) -> dict[str, object]:
    phones = NATIONAL_PHONES if rng.random() < national_share else INTERNATIONAL_PHONES
    country, pattern = rng.choice(phones)
    n = rng.randrange(10_000)
    return {
        "id": i + 1,
        "email": f"{rng.choice(FIRST)}.{rng.choice(LAST)}.{i}@Example.com",
        "first_name": rng.choice(FIRST),
        "last_name": rng.choice(LAST),
        "phone": pattern.format(n=n, a=n // 100, b=n % 100),
        "company_id": rng.randrange(1, 500),
        "company_name": f"Company {rng.randrange(500)} GmbH",
        "lifecycle_stage": rng.choice(STAGES),
        "plan": rng.choice(["free", "pro", "business", None]),
        "mrr": f"{rng.randrange(0, 500_000) / 100:.2f}",
        "marketing_opt_in": rng.random() < 0.6,
        "opt_in_at": f"2026-0{rng.randrange(1, 10)}-1{rng.randrange(10)}T08:15:02.{n:06d}Z",
        "country": country.lower() if i % 7 == 0 else country,
        "birth_date": rng.randrange(-5000, 12000),
        "attributes": json.dumps({"tier": rng.choice(["gold", "silver"]), "seats": n % 50}),
        "notes": "Long note " * rng.randrange(1, 5),
        "created_at": f"2025-1{rng.randrange(3)}-0{rng.randrange(1, 10)}T10:00:00.{n:06d}Z",
        "updated_at": f"2026-11-30T04:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{n:06d}Z",
    }


def build_envelopes(count: int, national_share: float = 0.0, seed: int = 7) -> list[bytes]:
    """``count`` distinct envelopes; ``national_share`` of the phones are national numbers
    (parsed by ``phonenumbers``, ~25-40 us each here), the rest international."""
    rng = random.Random(seed)
    envelopes = []
    for i in range(count):
        after = _row(rng, i, national_share)
        kind = i % 10
        before = None
        op = "c"
        if kind >= 5:  # updates with REPLICA IDENTITY FULL before images
            op = "u"
            before = dict(after, plan="free", updated_at="2026-11-29T00:00:00Z")
            if kind == 8:
                before["email"] = f"old.{i}@example.com"
            if kind == 9:
                after["notes"] = before["notes"] = "__debezium_unavailable_value"
                after["attributes"] = before["attributes"] = "__debezium_unavailable_value"
        source = {
            "version": "3.6.1.Final",
            "connector": "postgresql",
            "name": "cdc",
            "ts_ms": 1796011331004 + i,
            "snapshot": "false",
            "db": "cdcbridge",
            "schema": "public",
            "table": "customers",
            "txId": 700 + i,
            "lsn": 24023928 + 512 * i,
            "xmin": None,
        }
        doc = {"before": before, "after": after, "source": source, "op": op, "ts_ms": 0}
        envelopes.append(json.dumps(doc, ensure_ascii=False).encode())
    return envelopes


def _rate(work: Callable[[bytes], object], envelopes: list[bytes], rounds: int) -> float:
    """Records per CPU-second of this process (best round): on a shared machine the wall clock
    also counts time spent waiting for a core. The phone-number parse cache starts cold in
    every round, so each distinct national number costs a real parse."""
    best = float("inf")
    for _ in range(rounds):
        parse_national.cache_clear()
        started = time.process_time()
        for value in envelopes:
            work(value)
        best = min(best, time.process_time() - started)
    return len(envelopes) / best


def _reference_loop_s() -> float:
    """CPU seconds for a fixed pure-Python loop: a yardstick to compare machines (an idle
    recent x86 core takes about 0.1 s)."""
    started = time.process_time()
    sum(range(10_000_000))
    return round(time.process_time() - started, 3)


def _decode(value: bytes) -> object:
    return decode_change(TOPIC, None, value)


def _decode_to_vendor(value: bytes) -> object:
    change = decode_change(TOPIC, None, value)
    assert isinstance(change, CustomerUpsert)
    return upsert_record("hubspot", change)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--national-share", type=float, default=0.3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    international = build_envelopes(args.records, national_share=0.0)
    mixed = build_envelopes(args.records, national_share=args.national_share)
    sample = [decode_change(TOPIC, None, v) for v in mixed[:1000]]  # warm-up + sanity
    assert all(isinstance(c, CustomerUpsert) for c in sample)
    wall = time.perf_counter()
    decode_rate = _rate(_decode, international, args.rounds)
    mixed_rate = _rate(_decode, mixed, args.rounds)
    vendor_rate = _rate(_decode_to_vendor, international, args.rounds)
    result = {
        "benchmark": "mapping",
        "records": args.records,
        "rounds": args.rounds,
        "decode_map_validate_records_per_s": round(decode_rate),
        "decode_map_validate_records_per_s_with_national_phones": round(mixed_rate),
        "national_phone_share": args.national_share,
        "decode_map_validate_to_hubspot_records_per_s": round(vendor_rate),
        "target_records_per_s": TARGET_RECORDS_PER_S,
        "meets_target": decode_rate >= TARGET_RECORDS_PER_S,
        "clock": "process CPU time, best round",
        "wall_s": round(time.perf_counter() - wall, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "reference_loop_cpu_s": _reference_loop_s(),
        "cpu_count": os.cpu_count(),
        "validator": "jsonschema-rs",
        "parser": "msgspec (typed envelope; orjson for JSON columns)",
        "python": platform.python_version(),
        "cpu_cores_used": 1,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
