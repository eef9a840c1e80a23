"""``postcart run``: the whole pipeline in one command, as ``make run`` calls it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from postcart.cli.evidence import print_build, print_problems, print_summary
from postcart.errors import EvidenceValidationError
from postcart.evidence import build_database, read_database
from postcart.evidence.export import ExportFormat, export_file
from postcart.report.build import build_report


def run(
    out: Annotated[Path, typer.Option("--out", help="Directory for the outputs.")] = Path("out"),
    db: Annotated[str | None, typer.Option("--db", help="Database URL.")] = None,
) -> None:
    """Build and validate the evidence database, export it, and build the living review report.

    Writes OUT/evidence.{csv,json,xlsx} and the report in OUT/report (index.html, Markdown,
    CSV/XLSX tables, forest plots, R scripts, results.json), then prints where they are.

    Example: postcart run --out out
    """
    console = Console()
    started = time.perf_counter()
    try:
        # The packaged base is the source of truth here: a curation that merged or dropped a
        # source removes it, and the build line says which.
        print_build(build_database(db, allow_removal=True), console)
    except EvidenceValidationError as error:
        print_problems(error, Console(stderr=True))
        raise typer.Exit(1) from None
    evidence = read_database(db)
    for fmt in ExportFormat:
        export_file(evidence, fmt, out / f"evidence.{fmt.value}")
    print_summary(evidence, console)
    report = build_report(out / "report", evidence=evidence)  # the same records, read once
    pooled = sum(1 for analysis in report.analyses if analysis.pooled)
    seconds = time.perf_counter() - started
    console.print(
        f"evidence exports in {out.resolve()}\n"
        f"report ({pooled} pooled analyses, {report.snapshot.label}): "
        f"{(out / 'report' / 'index.html').resolve()}\n"
        f"built in {seconds:.1f} s\n"
        "web workbench: first create an owner with `postcart user add NAME --role owner`, "
        "then start it with `postcart serve` (http://127.0.0.1:8000/)",
        highlight=False,
        soft_wrap=True,
    )
