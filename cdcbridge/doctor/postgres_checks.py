"""PostgreSQL: the replication slot is active and does not hold too much WAL; every mapped table
exists; the publication covers every table the connector captures (its include list plus every
mapped table, as ``cdcbridge connectors apply`` sends it)."""

from __future__ import annotations

import psycopg

from cdcbridge.connect_api import ConnectorFile
from cdcbridge.doctor.model import CheckResult, DoctorContext, fail, ok, warn

SLOT_SQL = """SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint
FROM pg_replication_slots WHERE slot_name = %s"""
PUBLICATION_SQL = """SELECT schemaname || '.' || tablename FROM pg_publication_tables
WHERE pubname = %s"""
EXISTS_SQL = "SELECT to_regclass(%s) IS NOT NULL"


def _mapped_tables() -> list[str]:
    from streams.mapping.mapping_files import MappingFileError
    from streams.mapping.table_catalog import load_table_mappings

    try:
        return [mapping.table for mapping in load_table_mappings()]
    except MappingFileError:
        return []  # reported by kafka's config.mappings


def check_postgres(ctx: DoctorContext) -> list[CheckResult]:
    try:
        config = ConnectorFile.load(ctx.connector_file).config
    except (OSError, ValueError, KeyError):
        return []  # reported by config.connector
    slot = config.get("slot.name", "debezium")
    publication = config.get("publication.name", "dbz_publication")
    tables = [t.strip() for t in config.get("table.include.list", "").split(",") if t.strip()]
    mapped = _mapped_tables()
    tables += [t for t in mapped if t not in tables]
    try:
        with psycopg.connect(ctx.pg_dsn, connect_timeout=int(ctx.timeout_s)) as conn:
            slot_row = conn.execute(SLOT_SQL, (slot,)).fetchone()
            published = {row[0] for row in conn.execute(PUBLICATION_SQL, (publication,))}
            absent = [t for t in mapped if not _exists(conn, t)]
    except psycopg.Error as exc:
        return [
            fail(
                "postgres.reachable",
                str(exc).strip().splitlines()[0],
                "start PostgreSQL or set CDCBRIDGE_PG_DSN",
            )
        ]
    results = [ok("postgres.reachable", "connected")]
    results.append(_slot(ctx, slot, slot_row))
    if absent:
        results.append(
            fail(
                "postgres.mapped_tables",
                f"mapped but not in the database: {', '.join(absent)}",
                "create the table, or remove its mapping file (CDCBRIDGE_MAPPINGS_DIR)",
            )
        )
    else:
        results.append(ok("postgres.mapped_tables", f"{len(mapped)} mapped tables exist"))
    missing = [t for t in tables if t not in published]
    if missing:
        results.append(
            fail(
                "postgres.publication",
                f"{publication} lacks {', '.join(missing)}",
                f"ALTER PUBLICATION {publication} ADD TABLE {', '.join(missing)}; "
                "(or let the connector create it: publication.autocreate.mode)",
            )
        )
    else:
        results.append(ok("postgres.publication", f"{publication} covers {len(tables)} tables"))
    return results


def _exists(conn: psycopg.Connection[tuple[object, ...]], table: str) -> bool:
    row = conn.execute(EXISTS_SQL, (table,)).fetchone()
    return bool(row and row[0])


def _slot(ctx: DoctorContext, slot: str, row: tuple[bool, int | None] | None) -> CheckResult:
    if row is None:
        return fail(
            "postgres.slot",
            f"replication slot {slot} does not exist",
            "apply the connector (`cdcbridge connectors apply`); it creates the slot",
        )
    active, retained = row[0], int(row[1] or 0)
    detail = f"{slot} {'active' if active else 'INACTIVE'}, retains {retained} bytes of WAL"
    if retained > ctx.max_retained_wal_bytes:
        return warn(
            "postgres.slot",
            detail + f" (> {ctx.max_retained_wal_bytes})",
            "a slot nobody reads fills the disk: bring the connector back "
            f"(`cdcbridge connectors status`), or drop an abandoned slot with "
            f"SELECT pg_drop_replication_slot('{slot}')",
        )
    if not active:
        return warn(
            "postgres.slot",
            detail,
            "Debezium is not connected: `cdcbridge connectors status`, then restart",
        )
    return ok("postgres.slot", detail)
