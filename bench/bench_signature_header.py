"""Worst-case handling time of a hostile ``webhook-signature`` header, before and after the
fix of issue 19 (item 3), in one run.

"Before" is ``webhook_bridge/signatures.py`` as of commit ``80224ba`` (loaded with ``git show``),
whose parser joined continuation tokens by repeated string concatenation (quadratic). "After"
is the current module: ``verify`` refuses a header over ``MAX_HEADER_CHARS`` before parsing,
and the parser itself (timed directly, without that limit) is one regex pass.

Shapes: the issue's request (``v1,AAAA`` then ``" a"`` repeated), spaces only, and
``v1,a`` entries repeated. Each is timed ``--rounds`` times (before: once at 1 MiB, it takes
seconds); the worst shape's best round is reported. Also times the JSON nesting check on
256 KiB bodies. Prints one JSON document (about 1.5 minutes, nearly all of it "before").

Run: ``.venv/bin/python bench/bench_signature_header.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
import types
from collections.abc import Callable
from pathlib import Path

from webhook_bridge import signatures
from webhook_bridge.limits import MAX_HEADER_CHARS, json_too_deep
from webhook_bridge.signatures import InvalidSignature

BEFORE_COMMIT = "80224ba"
ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SIZES = (64 * 1024, 256 * 1024, 1024 * 1024)


def shapes(size: int) -> dict[str, str]:
    return {
        "issue_v1_then_space_a": "v1,AAAA" + " a" * ((size - 7) // 2),
        "spaces": "v1,AAAA" + " " * (size - 8) + "A",
        "v1_entries": ("v1,a " * (size // 5)).strip(),
    }


def before_module() -> types.ModuleType | None:
    try:
        source = subprocess.run(
            ["git", "show", f"{BEFORE_COMMIT}:webhook_bridge/signatures.py"],
            cwd=ROOT, capture_output=True, check=True, text=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("signatures_before")
    exec(compile(source, "signatures_before.py", "exec"), module.__dict__)  # noqa: S102
    return module


def verify_with(module: types.ModuleType | None) -> Callable[[str], None]:
    target: types.ModuleType = module or signatures

    def run(header: str) -> None:
        headers = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000",
                   "webhook-signature": header}  # fmt: skip
        try:
            target.verify("standard-webhooks", secrets=[SECRET], headers=headers, body=b"{}",
                          now=1_700_000_000)  # fmt: skip
        except target.InvalidSignature:
            return

    return run


def parse_only(header: str) -> None:
    try:
        signatures._standard_webhooks_signatures(header)
    except InvalidSignature:
        return


def best_of(run: Callable[[str], None], header: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run(header)
        times.append(time.perf_counter() - started)
    return min(times)


def worst_shape(run: Callable[[str], None], size: int, rounds: int) -> dict[str, object]:
    timings = {name: best_of(run, header, rounds) for name, header in shapes(size).items()}
    worst = max(timings, key=lambda name: timings[name])
    return {"worst_shape": worst, "seconds": round(timings[worst], 6),
            "by_shape_s": {k: round(v, 6) for k, v in timings.items()}}  # fmt: skip


def depth_scan(rounds: int) -> dict[str, object]:
    """The nesting check on 256 KiB bodies (it runs only after a valid signature)."""
    size = 256 * 1024
    bodies = {
        "unclosed_arrays": b"[" * size,
        "hovering_at_the_limit": b"[" * 63 + b"[]," * ((size - 130) // 3) + b"[]" + b"]" * 63,
        "brackets_in_strings": b'["' + b"[" * (size - 4) + b'"]',
    }
    timings = {name: min(timed_scan(body) for _ in range(rounds)) for name, body in bodies.items()}
    return {k: round(v, 6) for k, v in timings.items()}


def timed_scan(body: bytes) -> float:
    started = time.perf_counter()
    json_too_deep(body)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    before = before_module()
    results = []
    for size in SIZES:
        row: dict[str, object] = {"header_bytes": size}
        if before is not None:
            row["before_verify"] = worst_shape(verify_with(before), size, 1)
        row["after_verify"] = worst_shape(verify_with(None), size, args.rounds)
        row["after_parser_without_length_limit"] = worst_shape(parse_only, size, args.rounds)
        results.append(row)
    print(json.dumps({"benchmark": "signature_header", "before_commit": BEFORE_COMMIT,
                      "max_header_chars": MAX_HEADER_CHARS, "results": results,
                      "json_depth_scan_256KiB_s": depth_scan(args.rounds)},
                     indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
