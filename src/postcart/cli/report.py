"""``postcart report``: build the living review (HTML, Markdown, CSV/XLSX, figures, R scripts)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from postcart.errors import PostcartError
from postcart.report.build import STEPS, build_report


def print_overview(console: Console, rows: list[dict[str, Any]]) -> None:
    """Each analysis: title, population, k, pooled %, then studies used and left out."""
    for row in rows:
        value = row["pooled_percent"]
        pooled = "not pooled" if value is None else f"pooled {value:.1f}%"
        console.print(f"[bold]{escape(row['title'])}[/bold] — k = {row['k']}, {pooled}")
        console.print(f"  population: {escape(row['population'])}")
        for name in row["used"]:
            console.print(f"  [green]used[/green] {escape(name)}")
        for text in row["skipped"]:
            console.print(f"  [yellow]left out[/yellow] {escape(text)}")


def report(
    out: Path = typer.Option(Path("out/report"), "--out", "-o", help="Output folder."),
    compare: Path | None = typer.Option(
        None, "--compare", help="An older results.json: adds a 'what changed' section."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar or summary."),
    brief: bool = typer.Option(
        False, "--brief", help="Only the closing line, not the per-analysis summary."
    ),
    trigger: str | None = typer.Option(
        None, "--trigger", help="Why this update was made (recorded with the living version)."
    ),
) -> None:
    """Regenerate the review's tables and figures from the evidence base, plus what it lacked.

    After writing, prints for each analysis with data its population, k, the pooled value,
    the studies used and every study left out with the reason (omit with --brief), then what
    changed: against --compare, or else against the folder's previous living version (new and
    removed studies, moved estimates, estimates outside the old CI, certainty changes).

    Each build into a folder is a living version (versions/index.json there); old versions
    stay readable under versions/v<N>/.

    Example: postcart report --out out/report --compare old/results.json
    """
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        if quiet:
            result = build_report(out, compare_to=compare, trigger=trigger)
        else:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("building report", total=len(STEPS))

                def advance(step: str) -> None:
                    bar.update(task, description=step, completed=STEPS.index(step))

                result = build_report(out, compare_to=compare, progress=advance, trigger=trigger)
    except (PostcartError, OSError, ValueError) as error:
        console.print(f"[red]report not written:[/red] {escape(str(error))}")
        raise typer.Exit(1) from error
    if not quiet and not brief:
        print_overview(console, result.overview())
    if not quiet and result.changes is not None:
        console.print(f"[bold]{escape(result.changes.heading)}[/bold]")
        for line in result.changes.lines():
            console.print(f"  {escape(line)}")
    if not quiet:
        pooled = sum(1 for a in result.analyses if a.pooled)
        seconds = time.perf_counter() - started
        console.print(
            f"[green]report written[/green] to {out}/index.html — {pooled} pooled analyses, "
            f"{result.snapshot.label}, {seconds:.1f} s"
        )
