"""``postcart serve``: the web workbench on the default database (or ``DATABASE_URL``)."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(stderr=True)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    db: str | None = typer.Option(
        None, "--db", envvar="DATABASE_URL", help="Database URL (default: postcart.db)."
    ),
    https: bool = typer.Option(
        False, "--https", help="Mark cookies Secure (serve behind a TLS proxy; docs/web.md)."
    ),
) -> None:
    """Start the web workbench: the living review, screening, extraction and the decision aid.

    First run: create the first owner with `postcart user add NAME --role owner`.
    Example: postcart serve --host 127.0.0.1 --port 8000
    """
    import uvicorn

    from postcart.web import create_app

    console.print(f"postcart workbench on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(create_app(db, https=https), host=host, port=port, log_level="warning")
