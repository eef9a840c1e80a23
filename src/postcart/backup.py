"""Back up and restore the database, so that a team can undo a mistake.

SQLite (the default): :func:`backup` uses SQLite's online backup, which copies a consistent
snapshot while other connections keep working (a plain file copy during a write can capture
half a transaction). :func:`restore` first checks that the file is an SQLite database that
postcart wrote, saves the current database beside itself, copies the backup in with the same
online API, and migrates it forward if it came from an older version.

PostgreSQL: the server's own tools are the right ones (consistent, parallel, incremental with
WAL archiving); we refuse with the exact ``pg_dump``/``pg_restore`` commands instead of
pretending to do it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from postcart.config import database_url
from postcart.db import make_engine, migrate
from postcart.errors import PostcartError

__all__ = ["BackupError", "Copied", "backup", "restore"]


class BackupError(PostcartError):
    """A backup or restore that cannot be done as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Copied:
    """What a backup or restore wrote."""

    source: str
    target: str
    pages: int
    safety_copy: str | None = None


def _sqlite_file(url: str | None) -> Path:
    resolved = database_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "postgresql":
        shown = parsed.render_as_string(hide_password=True)
        raise BackupError(
            "PostgreSQL is backed up with its own tools: "
            f"`pg_dump --format=custom --file=postcart.dump '{shown}'`; restore with "
            f"`pg_restore --clean --if-exists --dbname='{shown}' postcart.dump` "
            "(see docs/security.md)"
        )
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        raise BackupError(f"{resolved}: only an SQLite file or PostgreSQL can be backed up")
    return Path(parsed.database)


def _copy(source: Path, target: Path) -> int:
    """Online copy of ``source`` into ``target`` (whole database, one consistent snapshot)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
    src.close()
    dst.close()
    return pages


def _check_postcart_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path}: not an SQLite database")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            ok = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}  # fmt: skip
        connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path}: unreadable database ({error})") from None
    if ok != "ok":
        raise BackupError(f"{path}: damaged database ({ok})")
    if "alembic_version" not in tables:
        raise BackupError(f"{path}: not a postcart database (no schema version)")


def backup(target: Path, url: str | None = None) -> Copied:
    """Write a consistent copy of the SQLite database at ``url`` to ``target`` (new file)."""
    source = _sqlite_file(url)
    _check_postcart_file(source)
    if target.exists():
        raise BackupError(f"{target}: already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        pages = _copy(source, target)
    except sqlite3.Error as error:
        target.unlink(missing_ok=True)
        raise BackupError(f"{source} → {target}: {error}") from None
    return Copied(str(source), str(target), pages)


def restore(backup_file: Path, url: str | None = None) -> Copied:
    """Replace the SQLite database at ``url`` with ``backup_file``; the old one is kept aside.

    The current database is first copied to ``<name>.before-restore-<UTC time>``, so a restore
    can itself be undone. The restored database is then migrated to this version's schema.
    """
    target = _sqlite_file(url)
    _check_postcart_file(backup_file)
    safety: Path | None = None
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        safety = target.with_name(f"{target.name}.before-restore-{stamp}")
        _copy(target, safety)
    try:
        pages = _copy(backup_file, target)
    except sqlite3.Error as error:
        raise BackupError(
            f"{backup_file} → {target}: {error}; the old database is in {safety}"
        ) from None
    engine = make_engine(f"sqlite:///{target}")
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return Copied(str(backup_file), str(target), pages, None if safety is None else str(safety))
