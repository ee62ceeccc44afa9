"""Where the PostgreSQL cluster lives: in the state folder for a normal user; as root, in the
postgres user's home with a symlink from the state folder, never a half-made cluster."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from local_stack import pg_home
from local_stack.layout import StackLayout
from local_stack.processes import StackError

pytestmark = pytest.mark.unit


def layout(root: Path) -> StackLayout:
    return StackLayout(root=root, pg_port=1, kafka_port=2, controller_port=3, connect_port=4,
                       sqs_port=5, sandbox_port=6)


def as_root_with_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    me = pwd.getpwuid(os.getuid())
    account = pwd.struct_passwd((me.pw_name, "x", me.pw_uid, me.pw_gid, "", str(home), ""))
    monkeypatch.setattr(pg_home, "running_as_root", lambda: True)
    monkeypatch.setattr(pg_home, "_server_account", lambda: account)


def test_a_normal_user_keeps_the_cluster_in_the_state_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(pg_home, "running_as_root", lambda: False)
    stack = layout(tmp_path / "clone" / ".stack")
    home = pg_home.cluster_home(stack)
    assert home == (tmp_path / "clone" / ".stack" / "postgres").resolve()
    assert home.is_dir() and not (stack.root / "postgres").is_symlink()
    assert pg_home.as_server_user(["pg_ctl"]) == ["pg_ctl"]


def test_as_root_the_cluster_lives_in_the_postgres_home_behind_a_symlink(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    postgres_home = tmp_path / "var-lib-postgresql"
    postgres_home.mkdir()
    as_root_with_home(monkeypatch, postgres_home)
    stack = layout(tmp_path / "private" / "clone" / ".stack")
    half_made = stack.root / "postgres" / "data"
    half_made.mkdir(parents=True)  # an earlier attempt that failed before PG_VERSION
    home = pg_home.cluster_home(stack)
    assert home.parent == postgres_home / "cdcbridge"
    assert (stack.root / "postgres").is_symlink()
    assert (stack.root / "postgres").resolve() == home
    assert not (home / "data").exists()
    (home / "data").mkdir()
    (home / "data" / "PG_VERSION").write_text("15\n")
    assert pg_home.cluster_home(stack) == home  # a working cluster is kept
    assert pg_home.discard(stack)
    assert not home.exists() and not (stack.root / "postgres").exists()


def orphaned_cluster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_file: str
) -> tuple[StackLayout, Path]:
    """As root, a cluster holding ``data/<data_file>`` whose checkout (and state folder link)
    was deleted and re-cloned at the same path."""
    postgres_home = tmp_path / "var-lib-postgresql"
    postgres_home.mkdir()
    as_root_with_home(monkeypatch, postgres_home)
    stack = layout(tmp_path / "private" / "clone" / ".stack")
    home = pg_home.cluster_home(stack)
    (home / "data").mkdir()
    (home / "data" / data_file).write_text("15\n")
    (stack.root / "postgres").unlink()
    return stack, home


def test_as_root_a_cluster_orphaned_by_a_deleted_checkout_is_not_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack, home = orphaned_cluster(monkeypatch, tmp_path, "PG_VERSION")
    assert pg_home.cluster_home(stack) == home
    assert not (home / "data").exists()  # a fresh cluster, not the old rows


def test_as_root_a_running_orphan_is_refused_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack, home = orphaned_cluster(monkeypatch, tmp_path, "postmaster.pid")
    with pytest.raises(StackError, match="pg_ctl -D"):
        pg_home.cluster_home(stack)
    assert (home / "data" / "postmaster.pid").exists()
