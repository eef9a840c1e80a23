"""The living review online: the report's tables with linked provenance, and one page per analysis.

Both pages read the same :class:`~postcart.report.model.Report` the static report is rendered
from (built once per app, see :mod:`postcart.web.review_cache`), and reuse its cells and
formatting helpers, so a number cannot read one way in ``index.html`` and another way here.
The small view builders below turn the report into plain rows for the templates, which then only
loop and test; they hold no formatting of their own beyond choosing which link a cell carries.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from postcart.config import output_dir
from postcart.errors import PostcartError
from postcart.report.cells import Cell, Ref, ReportTable, fmt_fixed, fmt_number
from postcart.report.model import Report
from postcart.report.pooling import Pooled
from postcart.report.tables.pooled import ci_text
from postcart.report.versions import read_index
from postcart.web.app import Who, render
from postcart.web.evidence_search import safe_url
from postcart.web.review_cache import report_of

router = APIRouter()

#: Report tables with one row per pooled analysis (title first, then the pooled columns).
POOLED_TABLES = ("pooled_cart", "pooled_salvage")
STUDIES_TABLE = "analysis_studies"
LOO_TABLE = "leave_one_out"
#: Columns of the studies table shown for a study used (the analysis and status are implied).
USED_COLUMNS = ("Study", "n", "Denominator", "Events", "Value", "Reported 95% CI", "Weight",
                "Precision / reason")  # fmt: skip


@dataclass(frozen=True, slots=True)
class CellView:
    """One displayed cell: its text and, when it links anywhere, where and with what tooltip."""

    text: str
    href: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RefView:
    """A provenance note as shown; ``url`` only when it is a web address safe to link."""

    anchor: str
    label: str
    quote: str | None
    locator: str | None
    citation: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class TableView:
    """A report table as the page shows it."""

    name: str
    title: str
    method: str
    columns: tuple[str, ...]
    rows: tuple[tuple[CellView, ...], ...]


@dataclass(frozen=True, slots=True)
class AnalysisView:
    """Everything the analysis page shows about one pooled analysis."""

    pooled: Pooled
    status: str
    value: str
    ci: str
    pi: str
    value_href: str | None
    heterogeneity: str
    sensitivity: str
    guard: str
    notes: tuple[str, ...]
    figure: str | None
    used_columns: tuple[str, ...]
    used: tuple[tuple[CellView, ...], ...]
    left_out: tuple[tuple[str, str], ...]
    loo: tuple[tuple[str, str, str], ...]
    refs: tuple[RefView, ...]


def analysis_href(name: str) -> str:
    """Where one analysis's page lives."""
    return f"/review/analyses/{name}"


def _ref_view(ref: Ref) -> RefView:
    return RefView(ref.anchor, ref.label, ref.quote, ref.locator, ref.citation, safe_url(ref.url))


def _cell(report: Report, cell: Cell, links: dict[str, str]) -> CellView:
    """A cell's link: its provenance note when it has one (as the static report), else the
    analysis page when the text is an analysis title."""
    if cell.ref and cell.text:
        return CellView(cell.text, f"#{cell.ref}", report.refs.refs[cell.ref].as_text())
    return CellView(cell.text, links.get(cell.text))


def _table(report: Report, table: ReportTable, links: dict[str, str]) -> TableView:
    rows = tuple(tuple(_cell(report, c, links) for c in row) for row in table.rows)
    return TableView(table.name, table.title, table.method, table.columns, rows)


def review_view(report: Report) -> tuple[TableView, ...]:
    """Every report table, each analysis title linked to its own page."""
    links = {a.title: analysis_href(a.name) for a in report.analyses}
    return tuple(_table(report, t, links) for t in report.tables)


def _rows_of(report: Report, table_name: str, title: str) -> list[tuple[Cell, ...]]:
    """The rows of a per-analysis report table that belong to the analysis titled ``title``."""
    return [row for row in report.table(table_name).rows if row[0].text == title]


def _pooled_row(report: Report, pooled: Pooled) -> dict[str, Cell]:
    """The analysis's row of its pooled table, by column (empty when it has no data)."""
    for name in POOLED_TABLES:
        rows = _rows_of(report, name, pooled.title)
        if rows:
            return dict(zip(report.table(name).columns, rows[0], strict=True))
    return {}


def _figure_uri(report: Report, name: str) -> str | None:
    figure = report.figures.get(name)
    if figure is None or "svg" not in figure:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(figure["svg"]).decode("ascii")


def _headline(pooled: Pooled) -> tuple[str, str, str]:
    """Pooled value, CI and PI, formatted as the report's pooled table formats them."""
    head = pooled.headline()
    if head is not None:
        return f"{fmt_fixed(head[0])}%", ci_text(head[1], head[2]), ci_text(head[3], head[4])
    if pooled.k == 1:
        row = pooled.rows[0]
        return f"{fmt_number(row.value)}% ({row.label}; k = 1, not pooled)", "", ""
    return "", "", ""


def analysis_view(report: Report, name: str) -> AnalysisView | None:
    """One analysis with its studies used and left out, leave-one-out rows and figure.

    The study rows are the report's own ``analysis_studies`` rows (same text, same provenance
    links); every provenance note they cite is listed on the page, so each link resolves there.
    """
    pooled = next((a for a in report.analyses if a.name == name), None)
    if pooled is None:
        return None
    studies = report.table(STUDIES_TABLE)
    index = {column: i for i, column in enumerate(studies.columns)}
    used: list[tuple[CellView, ...]] = []
    left_out: list[tuple[str, str]] = []
    anchors: set[str] = set()
    for row in _rows_of(report, STUDIES_TABLE, pooled.title):
        if row[index["Status"]].text != "used":
            left_out.append((row[index["Study"]].text, row[index["Precision / reason"]].text))
            continue
        cells = tuple(row[index[c]] for c in USED_COLUMNS)
        anchors.update(c.ref for c in cells if c.ref and c.text)
        used.append(tuple(_cell(report, c, {}) for c in cells))
    pooled_row = _pooled_row(report, pooled)
    value_cell = pooled_row.get("Pooled", Cell())
    if value_cell.ref:
        anchors.add(value_cell.ref)
    value, ci, pi = _headline(pooled)
    loo = tuple(
        (r[1].text, r[2].text, r[3].text) for r in _rows_of(report, LOO_TABLE, pooled.title)
    )
    return AnalysisView(
        pooled=pooled,
        status="pooled" if pooled.pooled else "not pooled",
        value=value, ci=ci, pi=pi,
        value_href=f"#{value_cell.ref}" if value_cell.ref else None,
        heterogeneity=pooled_row.get("Heterogeneity", Cell()).text,
        sensitivity=pooled_row.get("Sensitivity", Cell()).text,
        guard=pooled.guard(),
        notes=pooled.notes + pooled.possible_overlaps,
        figure=_figure_uri(report, pooled.name),
        used_columns=USED_COLUMNS, used=tuple(used), left_out=tuple(left_out), loo=loo,
        refs=tuple(_ref_view(r) for r in report.refs.ordered() if r.anchor in anchors),
    )  # fmt: skip


@router.get("/review")
def review(request: Request, who: Who) -> Response:
    """The living review: snapshot, every table with linked numbers, the provenance notes."""
    report = report_of(request.app)
    return render(
        request, who, "review.html", snapshot=report.snapshot, tables=review_view(report),
        refs=[_ref_view(r) for r in report.refs.ordered()], changes=report.changes,
    )  # fmt: skip


@router.get("/review/analyses/{name}")
def analysis(request: Request, who: Who, name: str) -> Response:
    """One pooled analysis: estimate, guard, forest plot, studies used and left out."""
    view = analysis_view(report_of(request.app), name)
    if view is None:
        raise HTTPException(404, "no such analysis")
    return render(request, who, "review_analysis.html", view=view)


def report_dir() -> Path:
    """Where ``postcart run`` / ``postcart report`` keep the living versions (``out/report``)."""
    return output_dir() / "report"


@router.get("/review/versions")
def versions(request: Request, who: Who) -> Response:
    """The living versions built into the report folder: number, trigger, predecessor."""
    try:
        history = read_index(report_dir())
    except PostcartError as error:
        history, problem = [], str(error)
    else:
        problem = ""
    kept = [
        v for v in reversed(history) if (report_dir() / "versions" / f"v{v['number']}").is_dir()
    ]
    return render(request, who, "review_versions.html", versions=kept, problem=problem,
                  folder=str(report_dir()))  # fmt: skip


@router.get("/review/versions/{number}")
def version_page(number: int, who: Who) -> Response:
    """One kept version's report page, as it was built (read-only)."""
    del who  # signed in or not, as /review
    page = report_dir() / "versions" / f"v{number}" / "index.html"
    if number < 1 or not page.is_file():
        raise HTTPException(404, "no such version")
    return HTMLResponse(page.read_text(encoding="utf-8"))
