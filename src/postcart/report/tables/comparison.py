"""Axi-cel versus tisa-cel, per outcome: per-product pooled values and the test of difference."""

from __future__ import annotations

from postcart.report.analyses import PRODUCT_METHOD, ProductComparison
from postcart.report.cells import Cell, ReportTable, fmt_fixed, fmt_p
from postcart.report.tables.pooled import ci_text


def product_table(comparisons: list[ProductComparison]) -> ReportTable:
    """Axi-cel versus tisa-cel, per outcome."""
    rows = []
    for c in comparisons:
        cells = []
        for i, _level in enumerate(c.levels):
            if c.percent:
                est, lo, hi = c.percent[i]
                cells.append(Cell(f"{fmt_fixed(est)}% ({ci_text(lo, hi)}), k = {c.k[i]}"))
            else:
                cells.append(Cell(f"k = {c.k[i]}"))
        q = "" if c.q_between_p is None else (
            f"Q {fmt_fixed(c.q_between, 2)}, p {fmt_p(c.q_between_p)}")  # fmt: skip
        rows.append((Cell(c.title), *cells, Cell(q), Cell(c.note)))
    return ReportTable(
        "products", "Subgroups: axi-cel versus tisa-cel (real-world LBCL)",
        ("Outcome", "Axi-cel", "Tisa-cel", "Test of difference", "Notes"), tuple(rows),
        method=PRODUCT_METHOD,
    )  # fmt: skip
