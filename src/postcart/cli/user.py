"""``postcart user``: accounts of the web workbench (the first owner is made here)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from postcart.db import make_engine, migrate
from postcart.errors import PostcartError
from postcart.literature import accounts

app = typer.Typer(help="Accounts of the web workbench.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Account name (used to sign in).")],
    role: Annotated[
        str, typer.Option("--role", help="Site role: owner (manages accounts) or member.")
    ] = "member",
    password: Annotated[
        str,
        typer.Option(
            envvar="POSTCART_PASSWORD",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="Password (prompted, or POSTCART_PASSWORD).",
        ),
    ] = "",
    db: Annotated[
        str | None, typer.Option("--db", envvar="DATABASE_URL", help="Database URL.")
    ] = None,
) -> None:
    """Create an account; its password is stored as an scrypt hash.

    Example: postcart user add alice --role owner
    """
    engine = make_engine(db)
    try:
        migrate(engine)
        with Session(engine) as session, session.begin():
            accounts.add_user(session, name, password, site_role=role)
    except PostcartError as error:
        console.print(f"[red]error:[/red] {error}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"account {name!r} created ({role})", highlight=False)
