"""``postcart evidence``: build, validate, export and summarise the curated evidence base."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from postcart.errors import DestructiveBuildError, EvidenceValidationError
from postcart.evidence import (
    BuildSummary,
    Evidence,
    build_database,
    database_has_evidence,
    load,
    read_database,
)
from postcart.evidence.export import ExportFormat, export_file, export_text

app = typer.Typer(help="The curated evidence base: YAML files → database → exports.")

DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="Directory (or file) of evidence YAML; default the packaged data."),
]

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: DATABASE_URL or sqlite:///postcart.db)."),
]


def print_problems(error: EvidenceValidationError, console: Console) -> None:
    """Every problem on its own line, ``file:line: field: message``, for editors to jump to."""
    for problem in error.problems:
        console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    console.print(f"{len(error.problems)} problem(s)", style="bold red")


def print_build(summary: BuildSummary, console: Console) -> None:
    """One line of counts after a build, and any stored source it removed."""
    console.print(
        f"built {summary.database}: {summary.sources} sources, {summary.studies} studies, "
        f"{summary.cohorts} cohorts, {summary.outcomes} outcomes, {summary.products} products, "
        f"{summary.therapies} therapies, {summary.mechanisms} mechanisms, "
        f"{summary.risk_factors} risk factors",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if summary.removed:
        console.print(f"removed sources: {', '.join(summary.removed)}", markup=False)


def print_summary(evidence: Evidence, console: Console) -> None:
    """Counts of the evidence base: records, outcomes per measure, provenance kinds."""
    totals = Table(title="Evidence base")
    totals.add_column("records")
    totals.add_column("count", justify="right")
    for name in ("sources", "studies", "cohorts", "outcomes", "risk_factors", "mechanisms"):
        totals.add_row(name.replace("_", " "), str(len(getattr(evidence, name))))
    console.print(totals)
    measures = Table(title="Outcomes per measure")
    measures.add_column("measure")
    measures.add_column("outcomes", justify="right")
    for measure, count in sorted(Counter(o.measure.value for o in evidence.outcomes).items()):
        measures.add_row(measure, str(count))
    console.print(measures)
    kinds = Table(title="Where outcomes were read")
    kinds.add_column("provenance")
    kinds.add_column("outcomes", justify="right")
    kinds.add_column("events reported / derived / none", justify="right")
    for kind, count in sorted(Counter(o.provenance.kind.value for o in evidence.outcomes).items()):
        basis = Counter(
            o.events_basis.value for o in evidence.outcomes if o.provenance.kind == kind
        )
        split = f"{basis['reported']} / {basis['derived_exact']} / {basis['none']}"
        kinds.add_row(kind, str(count), split)
    console.print(kinds)


AllowRemovalOption = Annotated[
    bool,
    typer.Option(
        "--allow-removal",
        help="Allow the build to delete stored sources that the files no longer hold.",
    ),
]


@app.command()
def build(
    db: DbOption = None, data: DataOption = None, allow_removal: AllowRemovalOption = False
) -> None:
    """Validate the curated files and (re)build the evidence tables in one transaction.

    A build that would delete sources already stored is refused, naming them, unless
    --allow-removal is given; an empty folder is an error. Back up first: postcart db backup.

    Example: postcart evidence build --db sqlite:///postcart.db
    """
    console = Console()
    try:
        summary = build_database(db, data, allow_removal=allow_removal)
    except EvidenceValidationError as error:
        print_problems(error, Console(stderr=True))
        raise typer.Exit(1) from None
    except DestructiveBuildError as error:
        Console(stderr=True).print(f"error: {error}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    print_build(summary, console)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="YAML files or directories (default: the packaged data)."),
    ] = None,
) -> None:
    """Check the curated files; list every problem as file:line: field: message.

    Example: postcart evidence validate src/postcart/evidence/data
    """
    try:
        evidence = load(paths or None)
    except EvidenceValidationError as error:
        print_problems(error, Console())
        raise typer.Exit(1) from None
    Console().print(
        f"valid: {len(evidence.sources)} sources, {len(evidence.studies)} studies, "
        f"{len(evidence.cohorts)} cohorts, {len(evidence.outcomes)} outcomes",
        highlight=False,
    )


@app.command()
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv, json or xlsx.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    db: DbOption = None,
    data: DataOption = None,
) -> None:
    """Export one row per outcome from the database, building it first if it is empty.

    Example: postcart evidence export --format csv -o out/evidence.csv
    """
    err = Console(stderr=True)
    try:
        if not database_has_evidence(db):
            print_build(build_database(db, data), err)
    except EvidenceValidationError as error:
        print_problems(error, err)
        raise typer.Exit(1) from None
    evidence = read_database(db)
    if output is not None:
        export_file(evidence, fmt, output)
        err.print(f"wrote {len(evidence.outcomes)} outcomes to {output}", highlight=False)
    elif fmt == ExportFormat.xlsx:
        err.print("xlsx is binary: give a file with -o", style="red")
        raise typer.Exit(2)
    else:
        typer.echo(export_text(evidence, fmt), nl=False)


@app.command()
def summary(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="YAML files or directories (default: the packaged data)."),
    ] = None,
) -> None:
    """Tables of studies, cohorts, outcomes per measure and provenance kinds.

    Example: postcart evidence summary
    """
    try:
        evidence = load(paths or None)
    except EvidenceValidationError as error:
        print_problems(error, Console(stderr=True))
        raise typer.Exit(1) from None
    print_summary(evidence, Console())
