"""The overlap register as a table: which reports share patients, why, and who stands for whom."""

from __future__ import annotations

from postcart.evidence import Evidence
from postcart.report.cells import Cell, Ref, RefBook, ReportTable, anchor_for


def overlap_table(evidence: Evidence, refs: RefBook) -> ReportTable:
    """One row per overlap group of the register, members named by study and cohort."""
    rows: list[tuple[Cell, ...]] = []
    for group in evidence.overlaps:
        members = []
        for key in group.cohorts:
            cohort = evidence.cohort(key)
            members.append(f"{evidence.study(cohort.study_key).name} ({cohort.label})")
        ref = None
        if group.provenance is not None:
            ref = refs.for_provenance(evidence, f"g-{group.key}", group.provenance,
                                      group.source_key, f"overlap {group.key}")  # fmt: skip
        else:
            ref = refs.add(Ref(anchor=anchor_for(f"g-{group.key}"), label=f"overlap {group.key}",
                               locator=f"curated in {group.file}"))  # fmt: skip
        rows.append((
            Cell(group.key), Cell("; ".join(members)),
            Cell(group.relation.value.replace("_", " ")), Cell(group.certainty.value),
            Cell(group.keep.value.replace("_", " ")), Cell(" ".join(group.reason.split()), ref),
        ))  # fmt: skip
    return ReportTable(
        "overlap_register", "Overlap register: reports that share patients",
        ("Group", "Cohorts", "Relation", "Certainty", "Stands for the group", "Why"),
        tuple(rows),
        method=(
            "Cohorts from different reports that hold some of the same patients (one registry, "
            "one trial at different cuts, overlapping centres). In every pooled analysis and in "
            "Table 2, a certain or likely group contributes one member, chosen by the rule "
            "shown; the others are listed as left out and swapped in as a sensitivity analysis. "
            "Possible overlaps are pooled as separate studies and named in the analysis notes."
        ),
    )  # fmt: skip
