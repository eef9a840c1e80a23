"""Table 4: salvage therapies after CAR T failure, per therapy, with the caveats a reader needs."""

from __future__ import annotations

from postcart.evidence import Cohort, Evidence, Outcome
from postcart.evidence.vocab import MEDIANS, CohortRole, Measure
from postcart.report.cells import Cell, RefBook, ReportTable, fmt_number, fmt_percent
from postcart.report.populations import BASIS_LABEL
from postcart.report.tables._outcomes import DISPUTED, disputed, first_outcome, outcome_cell

#: Cohorts Table 4 shows: treated after CAR T failure (a named therapy, or mixed salvage).
SALVAGE_ROLES = frozenset({CohortRole.salvage_after_cart, CohortRole.relapse_after_cart})

#: Cohorts smaller than this get a "small n" caveat.
SMALL_N = 20
_TOXICITY = (Measure.crs_any, Measure.crs_g3plus, Measure.icans_g3plus, Measure.ae_g3plus)


def _survival(evidence: Evidence, refs: RefBook, cohort: Cohort, rate: Measure,
              median: Measure) -> Cell:  # fmt: skip
    """A landmark rate at its stated time, else the median, linked to its quote."""
    for outcome in evidence.outcomes_for(cohort.key, rate):
        if outcome.value is not None and outcome.timepoint_months is not None:
            text = f"{fmt_percent(outcome.value)} at {fmt_number(outcome.timepoint_months)} mo"
            text += DISPUTED if disputed(evidence, outcome) else ""
            return Cell(text, refs.for_outcome(evidence, outcome))
    for outcome in evidence.outcomes_for(cohort.key, median):
        if outcome.value is not None and outcome.measure in MEDIANS:
            text = f"median {fmt_number(outcome.value)} {outcome.unit.value}"
            text += DISPUTED if disputed(evidence, outcome) else ""
            return Cell(text, refs.for_outcome(evidence, outcome))
    return Cell()


def _toxicity(evidence: Evidence, refs: RefBook, cohort: Cohort) -> Cell:
    found: list[Outcome] = [
        o for m in _TOXICITY for o in evidence.outcomes_for(cohort.key, m) if o.value is not None
    ]
    if not found:
        return Cell()
    text = "; ".join(
        f"{o.measure.value.replace('_', ' ')} {fmt_percent(o.value)}"
        + (DISPUTED if disputed(evidence, o) else "")
        for o in found
    )
    return Cell(text, refs.for_outcome(evidence, found[0]))


def _caveat(evidence: Evidence, cohort: Cohort) -> str:
    notes = []
    if cohort.n is not None and cohort.n < SMALL_N:
        notes.append(f"small n ({cohort.n})")
    if cohort.n is None:
        notes.append("n not stated")
    if cohort.subgroup_of is not None:
        notes.append(f"subgroup of {evidence.cohort(cohort.subgroup_of).label}")
    for outcome in evidence.outcomes_for(cohort.key):
        if outcome.discrepancy_note:
            notes.append(" ".join(outcome.discrepancy_note.split()))
    return "; ".join(dict.fromkeys(notes))


def salvage_table(evidence: Evidence, refs: RefBook) -> ReportTable:
    """One row per cohort given a salvage therapy, grouped by therapy in catalogue order."""
    rows: list[tuple[Cell, ...]] = []
    for therapy in evidence.therapies:
        for cohort in evidence.cohorts_for_therapy(therapy.key):
            if cohort.role not in SALVAGE_ROLES:
                continue
            study = evidence.study(cohort.study_key)
            src = refs.for_source(evidence, study.source_key)
            n_ref = refs.for_cohort_n(evidence, cohort) if cohort.n is not None else None
            rows.append((
                Cell(therapy.name), Cell(study.name, src), Cell(cohort.label),
                Cell(fmt_number(cohort.n, 0), n_ref), Cell(BASIS_LABEL[cohort.denominator_basis]),
                outcome_cell(evidence, refs, first_outcome(evidence, cohort, Measure.orr, None)),
                outcome_cell(evidence, refs, first_outcome(evidence, cohort, Measure.cr, None)),
                _survival(evidence, refs, cohort, Measure.os_rate, Measure.median_os),
                _survival(evidence, refs, cohort, Measure.pfs_rate, Measure.median_pfs),
                _toxicity(evidence, refs, cohort),
                Cell(_caveat(evidence, cohort)),
            ))  # fmt: skip
    return ReportTable(
        "table4", "Table 4. Salvage therapies after CD19 CAR T failure",
        ("Therapy", "Study", "Cohort", "n", "Denominator", "ORR", "CR", "OS", "PFS", "Toxicity",
         "Caveat"),
        tuple(rows),
        method=(
            "Every cohort in the base treated after CD19 CAR T failure: with a named salvage "
            "therapy (including the post-CAR T subgroups of broader trials) or with mixed "
            "salvage. Trial populations not restricted to post-CAR T patients, comparator arms "
            "and other populations are not shown. Values as reported. "
            "OS/PFS: landmark rate at the stated month, else the median. † marks a number "
            "another source contradicts; the Caveat column says how. Caveats come from the "
            "curated notes (discrepancies between sources, small n, mixed populations)."
        ),
    )  # fmt: skip
