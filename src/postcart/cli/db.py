"""``postcart db``: back up and restore the database (SQLite online backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from postcart.backup import backup, restore
from postcart.errors import PostcartError

app = typer.Typer(help="Back up and restore the database.")

DbOption = Annotated[str | None, typer.Option("--db", envvar="DATABASE_URL", help="Database URL.")]


def _fail(error: PostcartError) -> None:
    Console(stderr=True).print(f"error: {error}", style="red", markup=False, highlight=False)
    raise typer.Exit(1)


@app.command("backup")
def backup_(
    target: Annotated[Path, typer.Argument(help="New file to write the copy to.")],
    db: DbOption = None,
) -> None:
    """Write a consistent copy of the SQLite database while it stays in use.

    On PostgreSQL, prints the pg_dump command to use instead and exits 1.

    Example: postcart db backup backups/postcart-2026-12-02.db
    """
    try:
        copied = backup(target, db)
    except PostcartError as error:
        _fail(error)
        return
    Console().print(f"backed up {copied.source} to {copied.target} ({copied.pages} pages)",
                    highlight=False)  # fmt: skip


@app.command("restore")
def restore_(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `postcart db backup`.")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the SQLite database with a backup; the current one is kept aside first.

    The current database is copied to NAME.before-restore-TIME, then the backup is copied in
    and migrated to this version's schema.

    Example: postcart db restore backups/postcart-2026-12-02.db --yes
    """
    if not yes and not typer.confirm(f"Replace the database with {backup_file}?"):
        raise typer.Exit(1)
    try:
        copied = restore(backup_file, db)
    except PostcartError as error:
        _fail(error)
        return
    kept = f"; the previous database is in {copied.safety_copy}" if copied.safety_copy else ""
    Console().print(f"restored {copied.target} from {copied.source}{kept}", highlight=False)
