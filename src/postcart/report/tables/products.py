"""Table 1: approved CD19 CAR T products, one row per approval, every cell traceable."""

from __future__ import annotations

from postcart.evidence import Evidence
from postcart.report.cells import Cell, RefBook, ReportTable


def product_table(evidence: Evidence, refs: RefBook) -> ReportTable:
    """Table 1: approved CD19 CAR T products, one row per approval."""
    rows: list[tuple[Cell, ...]] = []
    for product in evidence.products:
        if not product.approved or product.target != "CD19":
            continue
        base = None
        if product.provenance is not None:
            base = refs.for_provenance(
                evidence, f"p-{product.key}", product.provenance, product.source_key,
                f"{product.generic_name} (catalogue)",
            )  # fmt: skip
        head = (
            Cell(product.generic_name, base),
            Cell(product.brand_name or "", base if product.brand_name else None),
            Cell(
                product.costimulatory_domain or "", base if product.costimulatory_domain else None
            ),
        )
        for i, ind in enumerate(product.indications or ()):
            ref = refs.for_provenance(
                evidence, f"p-{product.key}-{i}", ind.provenance, product.source_key,
                f"{product.generic_name}: {ind.agency} approval",
            )  # fmt: skip
            year = "" if ind.year is None else str(ind.year)
            rows.append(
                (
                    *head,
                    Cell(ind.indication, ref),
                    Cell(ind.agency, ref),
                    Cell(year, ref if year else None),
                    Cell(ind.pivotal_trial or "", ref if ind.pivotal_trial else None),
                )
            )
        if not product.indications:
            rows.append((*head, Cell(), Cell(), Cell(), Cell()))
    return ReportTable(
        "table1", "Table 1. FDA-approved CD19-directed CAR T-cell products",
        ("Generic name", "Brand", "Co-stimulatory domain", "Approved indication", "Agency",
         "Year", "Pivotal trial"),
        tuple(rows),
        method="As curated in the product catalogue; blank = not stated in any source read.",
    )  # fmt: skip
