"""``make bench``: every benchmark of this folder, one JSON report and one markdown table.

Runs each benchmark script (a subprocess printing one JSON document) with its full or quick
(``--quick``, ``make bench BENCH_QUICK=1``) arguments, one after the other so they do not
compete for the CPU, and writes ``bench/results/report.json`` (every document, the machine,
the load average before and after each benchmark) and ``bench/results/report.md`` (the table
of ``report_rows``). ``--only NAME ...`` runs a subset. A benchmark that fails or prints no JSON
is reported as such; the exit code is 1 when any did. ``bench_stack.py`` is not run (it starts
stacks on fixed ports shared by every checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from report_rows import Row, render_markdown, rows_for

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


BENCHES = (
    Bench("mapping", "bench_mapping.py", (), ("--records", "10000", "--rounds", "2")),
    Bench("platform_hubspot", "bench_platform.py", ("--platform", "hubspot", "--naive"),
          ("--platform", "hubspot", "--naive", "--seconds", "10")),
    Bench("platform_marketo", "bench_platform.py", ("--platform", "marketo", "--naive",
                                                    "--seconds", "40"),
          ("--platform", "marketo", "--naive", "--seconds", "20")),
    Bench("end_to_end", "bench_end_to_end.py",
          ("--rates", "100", "500", "1000", "--seconds", "15", "--profiles", "before", "shipped",
           "--backlog", "0"),
          ("--rates", "100", "500", "1000", "--seconds", "6", "--profiles", "before", "shipped",
           "--backlog", "0")),
    Bench("backlog", "bench_backlog.py", ("--keys", "10000", "--changes", "100000"),
          ("--keys", "2000", "--changes", "20000")),
    Bench("cdc_latency", "bench_cdc_latency.py", (), ("--inserts", "100")),
    Bench("ingest", "bench_ingest.py", (), ("--duration", "3", "--rounds", "1")),
    Bench("inbound_rates", "bench_inbound_rates.py", (), ("--duration", "5")),
    Bench("audit", "bench_audit.py", (), ("--records", "1000", "--share", "1.0")),
)  # fmt: skip


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "python": platform.python_version(),
            "kernel": platform.release()}  # fmt: skip


def run_one(bench: Bench, quick: bool, timeout_s: float) -> dict[str, Any]:
    argv = [sys.executable, str(HERE / bench.script), *(bench.quick if quick else bench.full)]
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                              check=False, cwd=HERE.parent)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s", "argv": argv[1:]}
    entry: dict[str, Any] = {
        "argv": argv[1:], "exit_code": done.returncode,
        "wall_s": round(time.monotonic() - started, 1),
        "load_average_1m": {"before": round(load_before, 2),
                            "after": round(os.getloadavg()[0], 2)},
    }  # fmt: skip
    text = done.stdout.strip()
    start = text.find("{")
    try:
        entry["result"] = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        entry["result"] = None
    if entry["result"] is None:
        entry["error"] = f"no JSON document (exit {done.returncode}): {done.stderr[-1500:]}"
    return entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="minutes, not an hour")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES])
    parser.add_argument("--timeout-s", type=float, default=1800)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    report: dict[str, Any] = {"mode": "quick" if args.quick else "full",
                              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "machine": machine(), "benchmarks": {}}  # fmt: skip
    rows: list[Row] = []
    for bench in chosen:
        print(f"== {bench.name} ({bench.script})", flush=True)
        entry = run_one(bench, args.quick, args.timeout_s)
        report["benchmarks"][bench.name] = entry
        found = rows_for(bench.name, entry.get("result")) if entry.get("result") else []
        rows += found or [Row(bench.name, "error", entry.get("error", "no figures"))]
        for row in found:
            print(f"   {row.figure}: {row.value}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "report.md").write_text(render_markdown(report, rows))
    print(f"wrote {args.out / 'report.json'} and {args.out / 'report.md'}")
    failed = [name for name, e in report["benchmarks"].items() if "error" in e]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
