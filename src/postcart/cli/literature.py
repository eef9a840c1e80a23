"""``postcart lit``: import, deduplicate, screen, simulate, PRISMA and export the literature.

Every command opens one transaction (``session_scope``) and acts as one reviewer, who only sees
the projects they belong to. The reviewer's password comes from ``POSTCART_PASSWORD`` or a prompt.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from postcart.db import make_engine, migrate, session_scope
from postcart.errors import PostcartError
from postcart.literature import (
    accounts,
    dedup_review,
    prisma,
    prisma_output,
    screening,
    store,
    workflow,
)
from postcart.literature import export as lit_export
from postcart.literature import models as m
from postcart.literature.eutils import DEFAULT_BASE_URL, EutilsClient
from postcart.literature.prioritise import ModelKind
from postcart.literature.readers import read_records
from postcart.literature.saved_searches import SavedSearchError, saved_search
from postcart.literature.simulate import read_labelled_csv, simulate

app = typer.Typer(help="Literature pipeline: import, dedup, screen, simulate, PRISMA, export.")
console = Console()

DbOption = Annotated[str | None, typer.Option("--db", envvar="DATABASE_URL", help="Database URL.")]
ProjectOption = Annotated[str, typer.Option("--project", help="Project name.")]
ReviewerOption = Annotated[
    str, typer.Option("--reviewer", envvar="POSTCART_REVIEWER", help="Reviewer acting.")
]
PasswordOption = Annotated[
    str,
    typer.Option(
        envvar="POSTCART_PASSWORD",
        help="Password (or POSTCART_PASSWORD); not needed on a local SQLite file with one account.",
    ),
]


def _engine(db: str | None) -> Engine:
    engine = make_engine(db)
    migrate(engine)
    return engine


def _reviewer(session: Session, name: str, password: str) -> m.Reviewer:
    """Who is acting (core rule: ``accounts.local_reviewer``; no prompt on a local file)."""
    local = session.get_bind().dialect.name == "sqlite"
    return accounts.local_reviewer(session, name, password, local=local)


def _fail(error: PostcartError) -> None:
    console.print(f"[red]error:[/red] {error}", markup=True, highlight=False)
    raise typer.Exit(1)


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    db: DbOption = None,
    project: ProjectOption = "default",
    reviewer: ReviewerOption = "owner",
    password: PasswordOption = "",
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip broken records.")] = False,
    reviewers: Annotated[int, typer.Option(help="Reviewers per stage for a new project.")] = 1,
) -> None:
    """Import search results into a project as one living-review update (one transaction).

    Example: postcart lit import pubmed.nbib embase.ris --project cart19
    """
    try:
        with session_scope(_engine(db)) as session:
            who = _reviewer(session, reviewer, password)
            target = store.project_or_new(session, who, project, reviewers=reviewers)
            update = store.next_update_no(session, target)
            now = datetime.now(UTC).replace(tzinfo=None)
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("importing", total=len(files))
                for path in files:
                    stream = read_records(path, skip_bad=skip_bad)
                    batch = store.import_records(
                        session,
                        target,
                        stream,
                        file=str(path),
                        format=str(stream.format),
                        imported_at=now,
                        update_no=update,
                        source=path.name,
                    )
                    console.print(f"{path}: {batch.count} records, {len(stream.errors)} skipped")
                    progress.advance(task)
    except PostcartError as error:
        _fail(error)


@app.command()
def dedup(
    db: DbOption = None,
    project: ProjectOption = "default",
    reviewer: ReviewerOption = "owner",
    password: PasswordOption = "",
    link: Annotated[
        tuple[int, int] | None,
        typer.Option(help="Confirm two queued records are one work: LEFT RIGHT record ids."),
    ] = None,
) -> None:
    """Link duplicate records (never deleted), then list uncertain pairs for manual review.

    Example: postcart lit dedup --project cart19  (then: --link 12 57 to confirm a pair)
    """
    try:
        with session_scope(_engine(db)) as session:
            who = _reviewer(session, reviewer, password)
            chosen = store.project_for(session, who, project)
            if link is not None:
                group = dedup_review.link_manually(session, who, chosen, *link)
                console.print(f"records {link[0]} and {link[1]} linked in group {group}")
            linked = store.link_duplicates(session, who, chosen)
            console.print(f"{linked} records placed in duplicate groups")
            for pair in dedup_review.review_queue(session, who, chosen):
                console.print(
                    f"review {pair.left_id} ~ {pair.right_id} ({pair.reason}, "
                    f"similarity {pair.similarity}): {pair.left_title[:70]}",
                    markup=False,
                )
    except PostcartError as error:
        _fail(error)


def _ask(record: m.LitRecord, position: int, stage: str, reasons: list[str]) -> tuple[str, str]:
    console.print(f"\n[bold]#{position} record {record.id}[/bold] ({record.year or 'n.d.'})")
    console.print(record.title, markup=False)
    console.print(record.abstract[:1500] or "(no abstract)", markup=False, style="dim")
    keys = "y/m/n/q" if stage == screening.TITLE_ABSTRACT else "y/n/q"
    console.print(f"[{keys}]? ", end="", markup=False)
    key = sys.stdin.readline().strip().lower()[:1] or "q"
    if key == "n" and stage == screening.FULL_TEXT:
        for number, reason in enumerate(reasons, start=1):
            console.print(f"  {number}. {reason}", markup=False)
        choice = sys.stdin.readline().strip()
        index = int(choice) - 1 if choice.isdigit() else -1
        return "no", reasons[index] if 0 <= index < len(reasons) else choice
    return {"y": "yes", "m": "maybe", "n": "no"}.get(key, "quit"), ""


@app.command()
def screen(
    db: DbOption = None,
    project: ProjectOption = "default",
    reviewer: ReviewerOption = "owner",
    password: PasswordOption = "",
    stage: Annotated[str, typer.Option(help="title_abstract or full_text")] = "title_abstract",
) -> None:
    """Screen records one by one, most likely inclusions first; keys y/m/n, q to stop.

    The same queue as the web workbench (assigned records first, then the prioritised order,
    blinded), and each answer is saved and audited in its own transaction, so quitting loses
    nothing.
    Example: postcart lit screen --project cart19 --stage title_abstract
    """
    try:
        engine = _engine(db)
        position = 0
        while True:
            with session_scope(engine) as session:
                who = _reviewer(session, reviewer, password)
                target = store.project_for(session, who, project)
                upcoming = workflow.next_record(session, who, target, stage)
                if upcoming.record is None:
                    console.print("nothing left to screen")
                    return
                record = upcoming.record
                position += 1
                decision, reason = _ask(record, position, stage, list(target.exclusion_reasons))
                if decision == "quit":
                    return
                when = datetime.now(UTC).replace(tzinfo=None)
                result = workflow.vote(
                    session, who, target, record.id, stage, decision, when=when, reason=reason
                )
                console.print(f"saved: {decision} -> {result}")
    except PostcartError as error:
        _fail(error)


@app.command("simulate")
def simulate_(
    labelled: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    label_column: Annotated[str, typer.Option(help="Label column.")] = "label_included",
    model: Annotated[ModelKind, typer.Option(help="Classifier.")] = ModelKind.LOGISTIC,
    seed: Annotated[int, typer.Option(help="Seed of the prior picks.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay a labelled screening in model order and report the work saved (WSS).

    Example: postcart lit simulate ../shared/data/screening/Nagtegaal_2019.csv --json
    """
    try:
        run = simulate(read_labelled_csv(labelled, label_column), model, seed=seed)
    except PostcartError as error:
        _fail(error)
        return
    figures = {
        "n_records": run.metrics.n_records,
        "n_included": run.metrics.n_included,
        "wss95": round(run.metrics.wss95, 4),
        "wss100": round(run.metrics.wss100, 4),
        "records_to_95": run.metrics.records_to_95,
        "random_records_to_95": round(run.random_records_to_95, 1),
    }
    if as_json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")


@app.command("prisma")
def prisma_(
    db: DbOption = None,
    project: ProjectOption = "default",
    reviewer: ReviewerOption = "owner",
    password: PasswordOption = "",
    output: Annotated[Path, typer.Option("-o", "--output", help="Directory.")] = Path("prisma"),
) -> None:
    """Write PRISMA 2020 diagrams (SVG, PNG, PRISMA2020 CSV) per update and cumulative.

    Example: postcart lit prisma --project cart19 -o out/prisma
    """
    try:
        with session_scope(_engine(db)) as session:
            who = _reviewer(session, reviewer, password)
            updates, cumulative = prisma.flow(session, store.project_for(session, who, project))
    except PostcartError as error:
        _fail(error)
        return
    for counts in updates:
        prisma_output.save(counts, output, f"prisma_update{counts.update_no}")
    for path in prisma_output.save(cumulative, output, "prisma_cumulative"):
        console.print(str(path))
    (output / "prisma_counts.json").write_text(
        json.dumps([asdict(c) for c in [*updates, cumulative]], indent=1), encoding="utf-8"
    )


@app.command()
def export(
    db: DbOption = None,
    project: ProjectOption = "default",
    reviewer: ReviewerOption = "owner",
    password: PasswordOption = "",
    format: Annotated[str, typer.Option("--format", help="csv, xlsx or ris.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (needed for xlsx).")
    ] = None,
) -> None:
    """Export every imported record of the project, one row each, with where it came from.

    Spreadsheet cells that would start a formula (=, +, -, @) are written as inert text.

    Example: postcart lit export --format csv -o records.csv
    """
    try:
        lit_export.check_format(format)
        if format == "xlsx" and output is None:
            raise lit_export.ExportFormatError("xlsx is binary: give a file with -o")
        with session_scope(_engine(db)) as session:
            who = _reviewer(session, reviewer, password)
            rows = store.records_of(session, who, store.project_for(session, who, project))
            data = lit_export.export_records(rows, format)
    except PostcartError as error:
        _fail(error)
        return
    if output is None:
        sys.stdout.write(str(data))
        return
    try:
        if isinstance(data, bytes):
            output.write_bytes(data)
        else:
            output.write_text(data, encoding="utf-8", newline="")
    except OSError as error:
        _fail(PostcartError(f"{output}: cannot write ({error.strerror})"))


def _term(name_or_query: str) -> tuple[str, str]:
    """(label, PubMed term): a saved search by name, else the text itself as the query."""
    try:
        found = saved_search(name_or_query)
    except SavedSearchError:
        return "query", name_or_query
    return found.name, found.term


@app.command()
def search(
    name_or_query: Annotated[str, typer.Argument(help="Saved search name or a PubMed query.")],
    db: DbOption = None,
    project: ProjectOption = "default",
    reviewer: ReviewerOption = "owner",
    password: PasswordOption = "",
    email: Annotated[str, typer.Option(envvar="NCBI_EMAIL", help="Contact e-mail for NCBI.")] = "",
    api_key: Annotated[str, typer.Option(envvar="NCBI_API_KEY", help="NCBI API key.")] = "",
    mindate: Annotated[str, typer.Option(help="Earliest entry date, YYYY-MM-DD.")] = "",
    base_url: Annotated[
        str, typer.Option(envvar="POSTCART_EUTILS_URL", hidden=True)
    ] = DEFAULT_BASE_URL,
) -> None:
    """Run a saved search (or a query) on PubMed and import the hits as a new update.

    The search run (query, window, count, PMIDs) is stored with the records, in one transaction.
    Example: postcart lit search car_t_b_cell_lymphoma --mindate 2025-01-01
    """
    label, term = _term(name_or_query)
    today = datetime.now(UTC).date()
    start = date.fromisoformat(mindate) if mindate else None
    try:
        with (
            session_scope(_engine(db)) as session,
            EutilsClient(email=email, api_key=api_key or None, base_url=base_url) as client,
            tempfile.TemporaryDirectory() as folder,
        ):
            who = _reviewer(session, reviewer, password)
            target = store.project_for(session, who, project)
            run = client.search_all(term, run_date=today, mindate=start, datetype="edat")
            saved = store.save_search_run(
                session,
                target,
                database="pubmed",
                query=term,
                run_at=datetime.now(UTC).replace(tzinfo=None),
                pmids=run.pmids,
                count=run.count,
                mindate=run.mindate.isoformat() if run.mindate else "",
                maxdate=run.maxdate.isoformat() if run.maxdate else "",
            )
            update = store.next_update_no(session, target)
            for number, body in enumerate(client.efetch(run.pmids), start=1):
                path = Path(folder) / f"pubmed_{label}_{today.isoformat()}_{number}.xml"
                path.write_bytes(body)
                stream = read_records(path, "pubmed_xml")
                store.import_records(
                    session,
                    target,
                    stream,
                    file=path.name,
                    format="pubmed_xml",
                    imported_at=saved.run_at,
                    update_no=update,
                    source="PubMed",
                    search_run=saved,
                )
            console.print(f"{label}: {run.count} hits, {len(run.pmids)} PMIDs imported")
    except (PostcartError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}", markup=True, highlight=False)
        raise typer.Exit(1) from error
