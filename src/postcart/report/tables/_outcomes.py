"""One outcome as a table cell: value, printed or exactly derived events, link to its quote."""

from __future__ import annotations

from postcart.evidence import Cohort, Evidence, Outcome
from postcart.evidence.vocab import EventsBasis, Measure
from postcart.report.cells import Cell, RefBook, fmt_percent

#: Event counts shown in brackets in the per-cohort tables: printed or exactly derived only.
#: An approximate count (% × n) is for pooling with its rounding sensitivity, not for display.
SHOWN_EVENTS = frozenset({EventsBasis.reported, EventsBasis.derived_exact})
#: Marks a number another source contradicts (its note and the Caveat column say how).
DISPUTED = " †"


def disputed(evidence: Evidence, outcome: Outcome) -> bool:
    """Whether a curated discrepancy links this outcome to a conflicting figure, either way."""
    return evidence.disputed(outcome)


def outcome_cell(evidence: Evidence, refs: RefBook, outcome: Outcome | None) -> Cell:
    """A percent value linked to its quote, with its event count when printed or exact."""
    if outcome is None or outcome.value is None:
        return Cell()
    text = fmt_percent(outcome.value)
    if outcome.events is not None and outcome.events_basis in SHOWN_EVENTS:
        text += f" ({events_text(evidence, outcome)})"
    if disputed(evidence, outcome):
        text += DISPUTED
    return Cell(text, refs.for_outcome(evidence, outcome))


def events_text(evidence: Evidence, outcome: Outcome) -> str:
    """``E``, or ``E/D unit`` when the count is out of another denominator than the cohort's n.

    "59% (48)" beside n = 54 would misread a count of 48 of 81 irradiated lesions as patients.
    """
    cohort = evidence.cohort(outcome.cohort_key)
    per_patient = outcome.analysis_unit == "patients"
    if outcome.denominator is None or (outcome.denominator == cohort.n and per_patient):
        return str(outcome.events)
    unit = "" if per_patient else f" {outcome.analysis_unit}"
    return f"{outcome.events}/{outcome.denominator}{unit}"


def first_outcome(
    evidence: Evidence, cohort: Cohort, measure: Measure, months: float | None
) -> Outcome | None:
    """The cohort's first point value of one measure at one landmark."""
    for outcome in evidence.outcomes_for(cohort.key, measure):
        at_landmark = outcome.timepoint_months == months and outcome.value is not None
        if at_landmark and outcome.statistic.value == "point":
            return outcome
    return None
