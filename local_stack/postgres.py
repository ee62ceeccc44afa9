"""PostgreSQL from Debian's package: our own cluster, logical WAL, loopback.

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` system
user and every server command runs as that user; as anyone else it runs as that user. Where
the cluster lives is decided in ``local_stack.pg_home``. ``initdb`` writes into a scratch
folder renamed to ``data`` only once it succeeded, so a failed attempt leaves nothing half-made.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

import psycopg

from cdcbridge import package_data
from local_stack import pg_home
from local_stack.layout import HOST, PG_DATABASE, PG_PASSWORD, PG_USER, StackLayout
from local_stack.processes import StackError, wait_until

MIGRATIONS = package_data.stack_sql_dir()
SERVER_OPTIONS = (
    "-c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10 "
    "-c listen_addresses={host} -c port={port} -c unix_socket_directories={sockets} "
    "-c fsync=on -c max_connections=100 -c shared_buffers=128MB"
)


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1])
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise StackError("PostgreSQL server binaries not found; install Debian's `postgresql` package")


def _data_dir(layout: StackLayout) -> Path:
    return layout.root / "postgres" / "data"


def _run(argv: list[str], log: Path, also: Path | None = None) -> None:
    with log.open("ab") as out:
        result = subprocess.run(pg_home.as_server_user(argv), stdout=out,
                                stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        more = f" and {also}" if also else ""
        raise StackError(f"{Path(argv[0]).name} failed; see {log}{more}")


def is_up(layout: StackLayout) -> bool:
    try:
        with psycopg.connect(layout.pg_dsn, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def _server_is_running(layout: StackLayout) -> bool:
    data = _data_dir(layout).resolve()
    argv = pg_home.as_server_user([str(_bin_dir() / "pg_ctl"), "-D", str(data), "status"])
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def start(layout: StackLayout) -> None:
    """Create the cluster once, start it, create role and database, apply migrations.

    Raises StackError (naming the log to read) when initdb or the server fails.
    """
    base = pg_home.cluster_home(layout)
    data = base / "data"
    layout.logs.mkdir(parents=True, exist_ok=True)
    log = layout.logs / "postgres.log"
    server_log = base / "server.log"
    if not (data / "PG_VERSION").exists():
        _initdb(base, log)
    if not _server_is_running(layout):
        options = SERVER_OPTIONS.format(host=HOST, port=layout.pg_port, sockets=base)
        _run([str(_bin_dir() / "pg_ctl"), "-D", str(data), "-l", str(server_log), "-o", options,
              "-w", "-t", "60", "start"], log, also=server_log)
    _bootstrap(layout)
    wait_until(lambda: is_up(layout), 60, "PostgreSQL to accept connections")
    apply_migrations(layout.pg_dsn)


def _initdb(base: Path, log: Path) -> None:
    scratch = base / "data.initdb"
    pwfile = base / "superuser.pw"
    shutil.rmtree(scratch, ignore_errors=True)
    pwfile.write_text(PG_PASSWORD + "\n")
    if pg_home.running_as_root():
        shutil.chown(pwfile, pg_home.SERVER_USER_AS_ROOT, pg_home.SERVER_USER_AS_ROOT)
    try:
        _run([str(_bin_dir() / "initdb"), "-D", str(scratch), "-U", "postgres", "-E", "UTF8",
              "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"], log)
        with (scratch / "pg_hba.conf").open("a") as hba:
            hba.write(f"host replication all {HOST}/32 scram-sha-256\n")
        scratch.rename(base / "data")
    finally:
        pwfile.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _bootstrap(layout: StackLayout) -> None:
    admin = f"postgresql://postgres:{PG_PASSWORD}@{HOST}:{layout.pg_port}/postgres"
    wait_until(lambda: _can_connect(admin), 60, "PostgreSQL to start")
    with psycopg.connect(admin, autocommit=True) as conn:
        role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (PG_USER,)).fetchone()
        if role is None:
            conn.execute(
                f"CREATE ROLE {PG_USER} LOGIN REPLICATION PASSWORD '{PG_PASSWORD}'"
            )
        db = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
        if db is None:
            conn.execute(f"CREATE DATABASE {PG_DATABASE} OWNER {PG_USER}")


def _can_connect(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def apply_migrations(dsn: str) -> list[str]:
    """Apply ``local_stack/sql/*.sql`` in name order, each once. Returns the ones applied now."""
    applied: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS cdcbridge_migrations "
            "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT name FROM cdcbridge_migrations")}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.name in done:
                continue
            with conn.transaction():
                conn.execute(path.read_text().encode())
                conn.execute("INSERT INTO cdcbridge_migrations (name) VALUES (%s)", (path.name,))
            applied.append(path.name)
    return applied


def stop(layout: StackLayout) -> bool:
    """Fast shutdown of our cluster (pg_ctl signals the pid in its own postmaster.pid).

    Returns once the postmaster process is gone, not only its pid file (pg_ctl waits for the
    file, which the postmaster removes just before it exits). Raises StackError otherwise.
    """
    data = _data_dir(layout).resolve()
    if not (data / "PG_VERSION").exists() or not _server_is_running(layout):
        return False
    postmaster = _postmaster_pid(data)
    _run([str(_bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
         layout.logs / "postgres.log")
    if postmaster is not None:
        wait_until(lambda: not _process_running(postmaster), 30, "the postmaster to exit")
    return True


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _process_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
