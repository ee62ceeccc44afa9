"""Outbound rule for both-owned fields: never overwrite a newer platform change with an older
database value that was still in the sync lag. Pure apart from the query it is handed.

Writeback records in ``versions_table`` the platform value it wrote into a both-owned field
(``db_value``) and what the platform reported (``vendor_value``). A record about to go out is
stale for that field when its value differs from ``vendor_value`` while the database still
holds ``db_value``: the database's own newer change would hold something else. Such a
property is dropped from the record (the rest goes) and the decision logged with both trace
ids; the platform keeps its newer value and the database already agrees with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from psycopg import sql

from cdcbridge.logs import trace_context
from streams.contracts import VendorRecord
from streams.writeback.spec import WritebackMapping

log = logging.getLogger(__name__)
Fetch = Callable[[sql.Composed, tuple[Any, ...]], list[tuple[Any, ...]]]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StaleFieldFilter:
    def __init__(self, mapping: WritebackMapping) -> None:
        spec, c = mapping.field_updates, mapping.customers
        self.enabled = spec is not None and bool(spec.fields)
        cases = sql.SQL(" ").join(
            sql.SQL("WHEN {field} THEN c.{column}::text").format(
                field=sql.Literal(field), column=sql.Identifier(column)
            )
            for field, column in (spec.fields.items() if spec is not None else [])
        )
        self.query = sql.SQL(
            "SELECT v.customer_key, v.field, v.vendor_property, v.vendor_value, v.db_value, "
            "v.trace_id, CASE v.field {cases} END FROM {versions} v "
            "JOIN {customers} c ON c.{key}::text = v.customer_key WHERE v.customer_key = ANY(%s)"
        ).format(cases=cases, versions=sql.Identifier(mapping.versions_table),
                 customers=sql.Identifier(c.table), key=sql.Identifier(c.key_column))  # fmt: skip

    def filter(
        self, records: Sequence[VendorRecord], fetch: Fetch
    ) -> tuple[list[VendorRecord], int]:
        """The records without their stale both-owned properties, and how many were dropped."""
        if not self.enabled or not records:
            return list(records), 0
        stale: dict[str, dict[str, tuple[Any, ...]]] = {}
        by_key = {r.key: r for r in records}
        for key, field, prop, vendor_value, db_value, trace_id, current in fetch(
            self.query, ([r.key for r in records],)
        ):
            record = by_key.get(key)
            if record is None or prop not in record.properties:
                continue
            if _text(record.properties[prop]) != vendor_value and current == db_value:
                stale.setdefault(key, {})[prop] = (field, vendor_value, trace_id)
        out, dropped = [], 0
        for record in records:
            props = stale.get(record.key)
            if not props:
                out.append(record)
                continue
            for prop, (field, vendor_value, trace_id) in props.items():
                with trace_context(record.trace_id or "-"):
                    log.warning(
                        "field conflict: the platform's newer change wins",
                        extra={"customer_key": record.key, "field": field,
                               "rule": "newest_wins",
                               "database_value": {"value": record.properties[prop],
                                                  "trace_id": record.trace_id},
                               "platform_value": {"value": vendor_value,
                                                  "trace_id": trace_id}},
                    )  # fmt: skip
            dropped += len(props)
            kept = {k: v for k, v in record.properties.items() if k not in props}
            out.append(replace(record, properties=kept))
        return out, dropped
