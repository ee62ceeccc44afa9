"""The rows of the benchmark report: each benchmark's JSON document worded as figures, with
the naive baseline and the ratio where one was measured in the same run, and what bounds it.

Pure functions of the documents the benchmark scripts print (``run_all.py`` runs them); a
figure a document lacks is left out, never invented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True)
class Row:
    bench: str
    figure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    bound: str = ""


def _num(value: object, unit: str = "", digits: int = 0) -> str:
    if not isinstance(value, (int, float)):
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def _mapping(doc: Doc) -> list[Row]:
    return [
        Row("mapping", "decode + map + validate, one core",
            _num(doc.get("decode_map_validate_records_per_s"), " rec/s"),
            bound="CPU (one core; load avg " + _num(doc.get("load_average_1m"), "", 1) + ")"),
        Row("mapping", "... + HubSpot vendor record",
            _num(doc.get("decode_map_validate_to_hubspot_records_per_s"), " rec/s"), bound="CPU"),
    ]  # fmt: skip


def _platform(name: str) -> Callable[[Doc], list[Row]]:
    def rows(doc: Doc) -> list[Row]:
        naive = doc.get("naive_one_record_per_call") or {}
        ratio = doc.get("batched_vs_naive")
        return [
            Row(name, f"upsert throughput ({doc.get('limit')}, {doc.get('batch_size')}/call)",
                _num(doc.get("records_per_s"), " rec/s"),
                _num(naive.get("records_per_s"), " rec/s (1 per call)") if naive else "",
                f"{ratio}x" if ratio else "",
                f"vendor limit: ceiling {_num(doc.get('ceiling_records_per_s'), ' rec/s')}"),
            Row(name, "fraction of the vendor ceiling", _num(doc.get("fraction_of_ceiling"), "", 3),
                bound="target >= 0.95; rate-limit answers after 1 s: "
                + _num(doc.get("rate_limited_after_first_second"))),
        ]  # fmt: skip

    return rows


def _end_to_end(doc: Doc) -> list[Row]:
    rows: list[Row] = []
    for profile, phases in (doc.get("profiles") or {}).items():
        for phase, result in phases.items():
            rate, _, mix = phase.removeprefix("rate_").partition("_")
            tables = " over customers + companies + associations" if mix else ""
            rows.append(Row(
                "end_to_end", f"{profile}: {rate} rows/s{tables}, commit -> platform ack",
                " · ".join(f"{p} {_num(result.get(f'{p}_s'), ' s', 3)}"
                           for p in ("p50", "p95", "p99")),
                bound=f"{_num(result.get('records_per_call'), '', 1)} records/call; stages below",
            ))  # fmt: skip
    return rows


def _backlog(doc: Doc) -> list[Row]:
    return [
        Row("backlog", f"{_num(doc.get('changes_queued'))} changes to "
            f"{_num(doc.get('distinct_keys'))} keys: time to drain",
            _num(doc.get("time_to_drain_s"), " s", 1),
            _num(doc.get("naive_one_call_per_change_s"), " s (1 call per change)"),
            f"{doc.get('speedup_vs_naive')}x",
            f"retry backoff until the first ack: {_num(doc.get('wait_for_first_ack_s'), ' s', 1)}"),
        Row("backlog", "API records sent per distinct key", _num(doc.get("api_records_per_key"),
            "", 3), bound="coalescing; target <= 1"),
        Row("backlog", "drain rate vs vendor ceiling", _num(doc.get("drain_records_per_s"),
            " rec/s"), ratio=_num(doc.get("drain_vs_ceiling"), "", 2),
            bound=f"vendor limit: {_num(doc.get('vendor_ceiling_records_per_s'), ' rec/s')}; "
            "target >= 0.95"),
    ]  # fmt: skip


def _cdc(doc: Doc) -> list[Row]:
    lat = doc.get("latency_ms") or {}
    return [Row("cdc_latency", f"commit -> Debezium event on Kafka ({doc.get('rate_per_s')}/s)",
                f"p50 {_num(lat.get('p50'), ' ms')} · p95 {_num(lat.get('p95'), ' ms')}",
                bound="Debezium poll interval + Connect producer linger")]  # fmt: skip


def _ingest(doc: Doc) -> list[Row]:
    results = doc.get("results_median_of_rounds") or {}

    def rate(name: str) -> object:
        return (results.get(name) or {}).get("accepted_per_s")

    return [
        Row("ingest", "webhooks accepted (verify + SQS batch)", _num(rate("batched"), " req/s"),
            _num(rate("naive"), " req/s (1 SQS call each)"), f"{doc.get('batched_vs_naive')}x",
            "SQS server (ElasticMQ) round trips; CPU"),
        Row("ingest", "vs verify-only ceiling", _num(rate("verify_only"), " req/s"),
            ratio=str(doc.get("batched_vs_verify_only")), bound="CPU (one uvicorn worker)"),
    ]  # fmt: skip


def _inbound(doc: Doc) -> list[Row]:
    ingest = doc.get("ingest_alone") or {}
    drain = doc.get("drain_alone") or {}
    return [Row("inbound_rates", "forwarder drain vs receiver ingest",
                _num(drain.get("drained_per_s"), " msg/s"),
                _num(ingest.get("accepted_per_s"), " req/s ingest"),
                str(doc.get("drain_alone_vs_ingest_alone")),
                "SQS receive/delete round trips, Kafka acks")]  # fmt: skip


def _audit(doc: Doc) -> list[Row]:
    return [Row("audit", f"audit {r.get('records')} records at share {r.get('share')}",
                _num(r.get("duration_s"), " s", 1), bound=f"vendor limit ({doc.get('limit')}): "
                f"expected {_num(r.get('expected_s'), ' s', 1)}")
            for r in doc.get("runs") or []]  # fmt: skip


ROWS: dict[str, Callable[[Doc], list[Row]]] = {
    "mapping": _mapping,
    "platform_hubspot": _platform("platform_hubspot"),
    "platform_marketo": _platform("platform_marketo"),
    "end_to_end": _end_to_end,
    "backlog": _backlog,
    "cdc_latency": _cdc,
    "ingest": _ingest,
    "inbound_rates": _inbound,
    "audit": _audit,
}


def rows_for(name: str, doc: Doc | None) -> list[Row]:
    """The report rows of benchmark ``name``'s document (none for an unknown name)."""
    if not doc or name not in ROWS:
        return []
    return ROWS[name](doc)


STAGES = ("commit_to_kafka", "kafka_to_poll", "coalesce_linger", "limiter_wait", "api_round_trip")


def stage_table(doc: Doc) -> list[str]:
    """Markdown lines: p50/p95 (ms) of each latency stage per profile and rate."""
    lines = ["| profile | rate | " + " | ".join(STAGES) + " | end to end |",
             "|---|---|" + "---|" * (len(STAGES) + 1)]
    for profile, phases in (doc.get("profiles") or {}).items():
        for phase, result in phases.items():
            stages = result.get("stages") or {}
            cells = [f"{_num(stages.get(s, {}).get('p50_ms'), '', 0)} / "
                     f"{_num(stages.get(s, {}).get('p95_ms'), '', 0)}" for s in STAGES]
            total = (f"{_num(1000 * result.get('p50_s', 0), '', 0)} / "
                     f"{_num(1000 * result.get('p95_s', 0), '', 0)}")
            lines.append(f"| {profile} | {phase.removeprefix('rate_')} rows/s | "
                         + " | ".join(cells) + f" | {total} |")  # fmt: skip
    return lines


def render_markdown(report: Doc, rows: list[Row]) -> str:
    """The whole ``report.md``: machine, the figures table, the latency stages table."""
    m = report.get("machine") or {}
    out = [f"# Benchmark report ({report.get('mode')}, {report.get('started_utc')})", "",
           f"Machine: {m.get('cpus')} CPUs ({m.get('cpu_model')}), Python {m.get('python')}, "
           f"kernel {m.get('kernel')}. Load average (1 min) before each benchmark: "
           + ", ".join(f"{name} {e.get('load_average_1m', {}).get('before')}"
                       for name, e in (report.get("benchmarks") or {}).items()) + ".", "",
           "| benchmark | figure | value | naive baseline | ratio | bounded by |",
           "|---|---|---|---|---|---|"]  # fmt: skip
    out += [f"| {r.bench} | {r.figure} | {r.value} | {r.baseline} | {r.ratio} | {r.bound} |"
            for r in rows]
    e2e = ((report.get("benchmarks") or {}).get("end_to_end") or {}).get("result")
    if e2e:
        out += ["", "Latency stages, p50 / p95 in ms (`bench/stage_probe.py`):", ""]
        out += stage_table(e2e)
    return "\n".join(out) + "\n"
