"""Where a stack's PostgreSQL cluster lives and which user runs its server.

PostgreSQL refuses to run as root and runs as any other user. So:

* as a normal user, the server runs as that user and the cluster lives in the state folder
  (``<state>/postgres``);
* as root, the server runs as the ``postgres`` system user, which may be unable to enter the
  state folder (a clone under root's home, mode 700, or under a ``mktemp -d`` folder). The
  cluster then lives in the ``postgres`` user's own home, ``~postgres/cdcbridge/<key>``, and
  ``<state>/postgres`` is a symlink to it. The main stack and the throwaway test stacks use
  this one rule.

``discard`` removes the cluster wherever it lives (the symlink target included), so deleting a
state folder through ``cdcbridge stack down --purge`` leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
from pathlib import Path

from local_stack.layout import StackLayout
from local_stack.processes import StackError

SERVER_USER_AS_ROOT = "postgres"


def running_as_root() -> bool:
    return os.geteuid() == 0


def as_server_user(argv: list[str]) -> list[str]:
    """``argv`` run as the user that owns the cluster (``postgres`` when we are root)."""
    if not running_as_root():
        return argv
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if not Path(runuser).exists():
        raise StackError("runuser not found; install Debian's util-linux package")
    return [runuser, "-u", SERVER_USER_AS_ROOT, "--", *argv]


def _server_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SERVER_USER_AS_ROOT)
    except KeyError as exc:
        raise StackError("no `postgres` system user; install Debian's `postgresql` package"
                         ) from exc


def _outside_home(layout: StackLayout) -> Path:
    key = hashlib.sha256(str(layout.root.resolve()).encode()).hexdigest()[:16]
    return Path(_server_account().pw_dir) / "cdcbridge" / f"{layout.root.parent.name}-{key}"


def _link(layout: StackLayout) -> Path:
    return layout.root / "postgres"


def cluster_home(layout: StackLayout) -> Path:
    """The folder holding ``data/``, the socket and the server log, created (owned by the
    server user) if missing. Returns a real path the server user can reach.

    Raises StackError when the ``postgres`` user is missing (as root).
    """
    link = _link(layout)
    if not running_as_root():
        link.mkdir(parents=True, exist_ok=True)
        return link.resolve()
    if link.is_dir() and (link / "data" / "PG_VERSION").exists():
        return link.resolve()  # a working cluster (symlinked, or reachable in place)
    account = _server_account()
    home = _outside_home(layout)
    if not link.is_symlink() and home.is_dir():
        _discard_orphan(home)
    for folder in (home.parent, home):
        folder.mkdir(mode=0o755, exist_ok=True)
        os.chown(folder, account.pw_uid, account.pw_gid)
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)  # a half-made cluster from an earlier, failed attempt
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(home, target_is_directory=True)
    return home


def _discard_orphan(home: Path) -> None:
    """A cluster left by an earlier checkout at this path whose state folder is gone: its
    Kafka topics, offsets and replication slot position went with that folder, so reusing it
    would re-snapshot old rows into a fresh stack. Raises StackError if it still runs."""
    if (home / "data" / "postmaster.pid").exists():
        raise StackError(
            f"{home} holds a running PostgreSQL of an earlier checkout at this path; stop it "
            f"(pg_ctl -D {home / 'data'} stop, as postgres) or remove that folder"
        )
    shutil.rmtree(home)


def discard(layout: StackLayout) -> bool:
    """Delete the (stopped) cluster and its symlink. Returns True when something was removed."""
    link = _link(layout)
    removed = False
    if link.is_symlink():
        target = link.resolve()
        link.unlink()
        if target.is_dir():
            shutil.rmtree(target)
        removed = True
    elif link.is_dir():
        shutil.rmtree(link)
        removed = True
    if running_as_root() and _outside_home(layout).is_dir():
        shutil.rmtree(_outside_home(layout))
        removed = True
    return removed
