"""``postcart run``: the whole pipeline in one command, as ``make run`` calls it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from postcart.cli.evidence import print_build, print_problems, print_summary
from postcart.errors import EvidenceValidationError
from postcart.evidence import build_database, read_database
from postcart.evidence.export import ExportFormat, export_file


def run(
    out: Annotated[Path, typer.Option("--out", help="Directory for the outputs.")] = Path("out"),
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Validate and build the evidence database, then export it to OUT/evidence.{csv,json,xlsx}.

    Example: postcart run --out out
    """
    console = Console()
    try:
        print_build(build_database(db), console)
    except EvidenceValidationError as error:
        print_problems(error, Console(stderr=True))
        raise typer.Exit(1) from None
    evidence = read_database(db)
    for fmt in ExportFormat:
        export_file(evidence, fmt, out / f"evidence.{fmt.value}")
    print_summary(evidence, console)
    console.print(f"outputs in {out.resolve()}", highlight=False, soft_wrap=True)
