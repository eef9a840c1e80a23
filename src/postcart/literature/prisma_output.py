"""PRISMA 2020 diagram as SVG/PNG and as the CSV the PRISMA2020 R package and Shiny app read.

The CSV keeps that tool's template columns (``data,node,box,description,boxtext,tooltips,url,n``)
so a team can also draw the diagram there. Drawing uses matplotlib's object API with fixed
metadata and SVG hash salt, so the same counts always give byte-identical files.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from postcart.evidence.spreadsheet_safe import neutralise
from postcart.literature.prisma import PrismaCounts

#: (data, node, box, boxtext) rows of the PRISMA2020 template, in its order.
TEMPLATE_ROWS = (
    ("NA", "node4", "prevstud", "Previous studies"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review"),
    ("NA", "node6", "newstud", "Identification of new studies via databases and registers"),
    ("database_results", "node7", "box2", "Databases"),
    ("database_specific_results", "NA", "box2", "Specific Databases"),
    ("register_results", "NA", "box2", "Registers"),
    ("NA", "node16", "othstud", "Identification of new studies via other methods"),
    ("website_results", "node17", "box11", "Websites"),
    ("organisation_results", "NA", "box11", "Organisations"),
    ("citations_results", "NA", "box11", "Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons"),
    ("records_screened", "node9", "box4", "Records screened"),
    ("records_excluded", "node10", "box5", "Records excluded"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility"),
    ("dbr_excluded", "node14", "box9", "Reports excluded"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility"),
    ("other_excluded", "node21", "box15", "Reports excluded"),
    ("new_studies", "node15", "box10", "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies"),
    ("identification", "node1", "identification", "Identification"),
    ("screening", "node2", "screening", "Screening"),
    ("included", "node3", "included", "Included"),
)
CSV_COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")


def _pairs(values: dict[str, int]) -> str:
    """The template's list syntax ``Name, n; Name, n`` (commas inside names would split)."""
    return "; ".join(
        f"{name.replace(',', ' ').replace(';', ' ')}, {n}" for name, n in values.items()
    )


def field_values(c: PrismaCounts) -> dict[str, str]:
    """Value of each template ``data`` field for these counts."""
    values = {
        "previous_studies": c.previous_studies,
        "previous_reports": c.previous_reports,
        "database_results": sum(c.identified.values()),
        "register_results": 0,
        "website_results": 0,
        "organisation_results": 0,
        "citations_results": 0,
        "duplicates": c.duplicates,
        "excluded_automatic": c.excluded_automatic,
        "excluded_other": c.excluded_other,
        "records_screened": c.records_screened,
        "records_excluded": c.records_excluded,
        "dbr_sought_reports": c.reports_sought,
        "dbr_notretrieved_reports": c.reports_not_retrieved,
        "other_sought_reports": 0,
        "other_notretrieved_reports": 0,
        "dbr_assessed": c.reports_assessed,
        "other_assessed": 0,
        "new_studies": c.new_studies,
        "new_reports": c.new_reports,
        "total_studies": c.total_studies,
        "total_reports": c.total_reports,
    }
    text = {key: str(value) for key, value in values.items()}
    text["database_specific_results"] = _pairs(c.identified)
    text["dbr_excluded"] = _pairs(c.reports_excluded)
    text["other_excluded"] = ""
    return text


def to_csv(c: PrismaCounts) -> str:
    """The counts as a PRISMA2020 template CSV."""
    values = field_values(c)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for data, node, box, boxtext in TEMPLATE_ROWS:
        n = values.get(data, "0")
        url = f"{data}.html" if node != "NA" and data != "NA" else "NA"
        row = (data, node, box, boxtext, boxtext, boxtext, url, n)
        writer.writerow([neutralise(cell) for cell in row])  # reasons are reviewers' text
    return out.getvalue()


def _lines(c: PrismaCounts) -> list[tuple[str, str]]:
    """(main column text, side column text) per row of the diagram, top to bottom."""
    sources = "\n".join(f"  {name} (n = {n})" for name, n in c.identified.items())
    reasons = "\n".join(f"  {name} (n = {n})" for name, n in c.reports_excluded.items())
    awaiting = f"\nAwaiting screening (n = {c.records_awaiting})" if c.records_awaiting else ""
    included = f"New studies included (n = {c.new_studies})\nReports (n = {c.new_reports})"
    if c.update_no is not None and (c.previous_studies or c.previous_reports):
        included += (
            f"\nTotal studies (n = {c.total_studies})\nTotal reports (n = {c.total_reports})"
        )
    return [
        (
            f"Records identified from:\n{sources or '  none'}",
            "Records removed before screening:\n"
            f"  Duplicate records (n = {c.duplicates})\n"
            f"  Automation tools (n = {c.excluded_automatic})\n"
            f"  Other reasons (n = {c.excluded_other})",
        ),
        (
            f"Records screened (n = {c.records_screened}){awaiting}",
            f"Records excluded (n = {c.records_excluded})",
        ),
        (
            f"Reports sought for retrieval (n = {c.reports_sought})",
            f"Reports not retrieved (n = {c.reports_not_retrieved})",
        ),
        (
            f"Reports assessed for eligibility (n = {c.reports_assessed})",
            f"Reports excluded:\n{reasons or '  none'}",
        ),
        (included, ""),
    ]


def figure(c: PrismaCounts) -> Figure:
    """A PRISMA 2020-style flow: main column on the left, exclusions to the right."""
    rows = _lines(c)
    heights = [max(t.count("\n"), s.count("\n")) + 1.6 for t, s in rows]
    total = sum(heights) + 0.6 * len(rows)
    fig = Figure(figsize=(8.5, total * 0.32 + 0.6))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, total + 0.8)
    ax.set_axis_off()
    title = "PRISMA 2020 flow" + (f" — update {c.update_no}" if c.update_no else " — cumulative")
    ax.text(5, total + 0.4, title, ha="center", va="center", fontsize=11, weight="bold")
    top = total
    for index, ((main, side), height) in enumerate(zip(rows, heights, strict=True)):
        bottom = top - height
        _box(ax, 0.3, bottom, 5.0, height, main)
        if side:
            _box(ax, 6.0, bottom, 3.7, height, side)
            ax.annotate(
                "",
                (6.0, bottom + height / 2),
                (5.3, bottom + height / 2),
                arrowprops={"arrowstyle": "->"},
            )
        if index + 1 < len(rows):
            ax.annotate("", (2.8, bottom - 0.6), (2.8, bottom), arrowprops={"arrowstyle": "->"})
        top = bottom - 0.6
    return fig


def _box(ax: object, x: float, y: float, width: float, height: float, text: str) -> None:
    patch = FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02", fc="white", ec="black")
    ax.add_patch(patch)  # type: ignore[attr-defined]
    ax.text(x + 0.15, y + height / 2, text, ha="left", va="center", fontsize=8)  # type: ignore[attr-defined]


def save(c: PrismaCounts, directory: Path, stem: str) -> list[Path]:
    """Write ``stem.svg``, ``stem.png`` and ``stem.csv`` into ``directory``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    fig = figure(c)
    svg, png, table = (directory / f"{stem}.{ext}" for ext in ("svg", "png", "csv"))
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "postcart-prisma", "svg.fonttype": "none"}):
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    fig.savefig(png, format="png", dpi=120, metadata={"Software": None})
    table.write_text(to_csv(c), encoding="utf-8")
    return [svg, png, table]
