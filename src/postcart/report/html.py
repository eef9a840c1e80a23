"""The report as one self-contained HTML page: inline CSS, figures as data URIs, linked numbers."""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, select_autoescape

from postcart.report.certainty.section import caption
from postcart.report.model import Report


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("postcart.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(report: Report) -> str:
    """Render ``index.html``; every number links to its provenance note."""
    figures = [
        {
            "name": name,
            "title": next(a.title for a in report.analyses if a.name == name),
            "uri": "data:image/svg+xml;base64," + base64.b64encode(f["svg"]).decode("ascii"),
        }
        for name, f in report.figures.items()
    ]
    rob_figures = [
        {"name": name, "title": caption(name),
         "uri": "data:image/svg+xml;base64," + base64.b64encode(f["svg"]).decode("ascii")}
        for name, f in report.rob_figures.items()
    ]  # fmt: skip
    template = _environment().get_template("report.html.j2")
    return template.render(
        snapshot=report.snapshot,
        tables=report.tables,
        refs=report.refs.ordered(),
        ref_text={r.anchor: r.as_text() for r in report.refs.ordered()},
        figures=figures,
        changes=report.changes,
        rob_figures=rob_figures,
        version=report.version,
    )
