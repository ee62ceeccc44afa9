"""``cdcbridge map``: debug the mappings from the shell.

Reads Debezium envelopes, one JSON document per line, on stdin (a plain or schema-wrapped
envelope, ``null`` for a tombstone, or a captured record ``{"topic", "key", "value"}``), and
writes one JSON line per input line: ``{"ok": <canonical record>}`` (or, with ``--target
hubspot|marketo``, the vendor record ``cdcbridge sync`` sends: built by the same builder,
deletes under the same delete policy, ``CDCBRIDGE_SYNC_DELETE_POLICY`` or ``--delete-policy``),
``{"skip": <reason>}``, or ``{"error": {"field", "rule", "reason", "value"}}``. ``--mapping
FILE`` tries another table mapping file. Exit code 0 when no line failed, 1 when one did, 2 for
a broken mapping file or a delete policy the target cannot carry out.

Every table with a mapping file is mapped (the package's and ``CDCBRIDGE_MAPPINGS_DIR``'s):
``--topic`` (or a captured record's own topic) picks the table; a table whose file writes its
own vendor properties is shown with them and its ``object_type``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Literal, cast

import msgspec
import orjson

from streams.contracts import COMPANIES, CustomerDelete, InvalidRecord, Skip, preview
from streams.mapping.canonical import canonical_document
from streams.mapping.change_decoder import ChangeDecoder, Decoded, default_decoder
from streams.mapping.mapping_files import MappingFileError
from streams.mapping.table_catalog import load_table_mappings
from streams.mapping.table_mapping import load_table_mapping
from streams.mapping.vendor_mapping import PLATFORMS, Platform
from streams.mapping.vendor_record import RecordTarget, VendorRecordBuilder, record_targets
from streams.platform.deletes import DeletePlan, DeletePolicy, UnsupportedDeletePolicy
from streams.sync.settings import SyncSettings

Target = Literal["canonical", "hubspot", "marketo"]
DEFAULT_TOPIC = "cdc.public.customers"


def register_map(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``map`` subcommand."""
    parser = sub.add_parser(
        "map",
        help="map Debezium envelopes (JSON lines on stdin) to canonical records or vendor payloads",
        description=__doc__,
    )
    parser.add_argument(
        "--target", choices=["canonical", *PLATFORMS], default="canonical", help="output form"
    )
    parser.add_argument("--topic", default=DEFAULT_TOPIC, help="topic the envelopes came from")
    parser.add_argument(
        "--mapping",
        type=Path,
        default=None,
        help="table mapping file to try (default: schemas/mappings/customers.yaml)",
    )
    parser.add_argument(
        "--delete-policy",
        choices=[p.value for p in DeletePolicy],
        default=None,
        help="delete policy of the vendor payload (default: CDCBRIDGE_SYNC_DELETE_POLICY, as sync)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        mappings = (
            load_table_mappings() if args.mapping is None else (load_table_mapping(args.mapping),)
        )
        decoder = ChangeDecoder(mappings)
    except MappingFileError as exc:
        sys.stderr.write(f"cdcbridge map: {exc}\n")
        return 2
    target = cast(Target, args.target)
    deletes = None
    if target != "canonical":
        try:
            deletes = sync_delete_plan(target, args.delete_policy)
        except UnsupportedDeletePolicy as exc:
            sys.stderr.write(f"cdcbridge map: {exc}\n")
            return 2
    targets = record_targets(target, mappings) if target != "canonical" else {}
    return map_lines(
        sys.stdin.buffer, sys.stdout.buffer, target, args.topic, decoder, deletes, targets
    )


def sync_delete_plan(platform: Platform, policy: str | None = None) -> DeletePlan:
    """The delete plan ``cdcbridge sync`` resolves for ``platform`` from its settings
    (``policy`` overrides the configured one). Raises ``UnsupportedDeletePolicy``."""
    settings = SyncSettings()
    chosen = DeletePolicy(policy) if policy is not None else settings.delete_policy
    return DeletePlan.resolve(platform, chosen, settings.unsubscribe_properties)


def _record(line: bytes, topic: str) -> tuple[str, bytes | None, bytes | None]:
    """Topic, key and value of one input line (captured records carry their own)."""
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return topic, None, line  # let the decoder report the bad JSON
    if document is None:
        return topic, None, None
    if isinstance(document, dict) and "value" in document and "topic" in document:
        key, value = document.get("key"), document["value"]
        return (
            str(document["topic"]),
            key.encode() if isinstance(key, str) else None,
            value.encode() if isinstance(value, str) else orjson.dumps(value),
        )
    return topic, None, line


def map_line(
    line: bytes,
    target: Target,
    topic: str = DEFAULT_TOPIC,
    decoder: ChangeDecoder | None = None,
    deletes: DeletePlan | None = None,
    targets: Mapping[str, RecordTarget] | None = None,
) -> dict[str, object]:
    """The output document for one input line. Never raises for bad input. ``deletes`` is the
    delete plan of the target platform (default: sync's with the default settings);
    ``targets`` the tables' own vendor targets (``record_targets``)."""
    try:
        decoded: Decoded = (decoder or default_decoder()).decode(*_record(line, topic))
        if isinstance(decoded, Skip):
            return {"skip": decoded.reason}
        if target == "canonical":
            return {"ok": canonical_document(decoded)}
        platform: Platform = target
        plan = deletes or DeletePlan.resolve(platform, DeletePolicy.ARCHIVE)
        is_delete = isinstance(decoded, CustomerDelete)
        if is_delete and plan.mechanism is None:
            return {"skip": f"delete policy {plan.policy.value}: sync sends nothing"}
        record = VendorRecordBuilder(platform, plan.properties, targets or {})(decoded)
    except InvalidRecord as exc:
        return {
            "error": {
                "field": exc.field,
                "rule": exc.rule,
                "reason": str(exc),
                "value": preview(exc.value),
            }
        }
    document: dict[str, object] = {
        "platform": platform,
        "object_type": record.object_type,
        "action": plan.policy.value if is_delete else "upsert",
        "key": record.key,
        "id_value": record.id_value,
        "previous_id_value": record.previous_id_value,
        "properties": dict(record.properties),
        "trace_id": record.trace_id,
    }
    if is_delete:
        mechanism = (
            plan.company_mechanism(platform) if record.object_type == COMPANIES else plan.mechanism
        )
        if mechanism is None:
            return {"skip": f"delete policy {plan.policy.value}: {platform} keeps the company"}
        document["mechanism"] = mechanism.value
    return {"ok": document}


def map_lines(
    lines: Iterable[bytes],
    out: IO[bytes],
    target: Target,
    topic: str,
    decoder: ChangeDecoder | None = None,
    deletes: DeletePlan | None = None,
    targets: Mapping[str, RecordTarget] | None = None,
) -> int:
    """Map every non-blank line to ``out``. Returns the exit code (0: no line failed)."""
    failed = False
    for line in lines:
        if not line.strip():
            continue
        result = map_line(line.strip(), target, topic, decoder, deletes, targets)
        failed = failed or "error" in result
        out.write(_dumps(result) + b"\n")
    out.flush()
    return 1 if failed else 0


_ENCODER = msgspec.json.Encoder(
    enc_hook=lambda value: _json_default(value), decimal_format="number"
)


def _dumps(document: dict[str, object]) -> bytes:
    """One output line; numbers exact (big ints, ``Decimal`` from JSON columns)."""
    return _ENCODER.encode(document)


def _json_default(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return repr(value)
