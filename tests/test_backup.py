"""Back up and restore: a team can undo a destructive build, and a bad file never replaces data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postcart.backup import BackupError, backup, restore
from postcart.cli import app
from postcart.evidence import build_database, read_database

GOOD = Path(__file__).resolve().parent / "data" / "evidence" / "good"


def test_backup_then_restore_undoes_a_destructive_build(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    build_database(url, GOOD)
    before = read_database(url)
    reader = sqlite3.connect(tmp_path / "live.db")  # another user mid-read: backup still works
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM source").fetchone()
    copied = backup(tmp_path / "saved" / "copy.db", url)
    reader.close()
    assert copied.pages > 0
    build_database(url, [GOOD / "catalogue.yaml"], allow_removal=True)
    assert read_database(url) != before
    restored = restore(tmp_path / "saved" / "copy.db", url)
    assert read_database(url) == before
    assert restored.safety_copy is not None
    kept = read_database(f"sqlite:///{restored.safety_copy}")
    assert [s.key for s in kept.sources] == ["fixture-catalogue"]  # the undone state is kept


def test_refusals_change_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    build_database(url, GOOD)
    before = read_database(url)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all")
    with pytest.raises(BackupError, match="not an SQLite database"):
        restore(junk, url)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(BackupError, match="not a postcart database"):
        restore(foreign, url)
    existing = tmp_path / "exists.db"
    existing.write_bytes(b"")
    with pytest.raises(BackupError, match="already exists"):
        backup(existing, url)
    assert read_database(url) == before


def test_postgresql_gets_the_pg_dump_commands() -> None:
    with pytest.raises(BackupError, match="pg_dump --format=custom") as caught:
        backup(Path("x.dump"), "postgresql://ann:secret@db.example/postcart")
    assert "secret" not in str(caught.value)


def test_cli_restore_asks_first_and_backup_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    build_database(url, GOOD)
    runner = CliRunner()
    done = runner.invoke(app, ["db", "backup", str(tmp_path / "b.db"), "--db", url])
    assert done.exit_code == 0, done.output
    assert "backed up" in done.output
    declined = runner.invoke(
        app, ["db", "restore", str(tmp_path / "b.db"), "--db", url], input="n\n"
    )
    assert declined.exit_code == 1
    agreed = runner.invoke(app, ["db", "restore", str(tmp_path / "b.db"), "--db", url, "--yes"])
    assert agreed.exit_code == 0, agreed.output
    assert "previous database is in" in agreed.output
