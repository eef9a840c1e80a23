"""One outcome as a table cell: value, printed or exactly derived events, link to its quote."""

from __future__ import annotations

from postcart.evidence import Cohort, Evidence, Outcome
from postcart.evidence.vocab import EventsBasis, Measure
from postcart.report.cells import Cell, RefBook, fmt_percent

#: Event counts shown in brackets in the per-cohort tables: printed or exactly derived only.
#: An approximate count (% × n) is for pooling with its rounding sensitivity, not for display.
SHOWN_EVENTS = frozenset({EventsBasis.reported, EventsBasis.derived_exact})


def outcome_cell(evidence: Evidence, refs: RefBook, outcome: Outcome | None) -> Cell:
    """A percent value linked to its quote, with its event count when printed or exact."""
    if outcome is None or outcome.value is None:
        return Cell()
    text = fmt_percent(outcome.value)
    if outcome.events is not None and outcome.events_basis in SHOWN_EVENTS:
        text += f" ({outcome.events})"
    return Cell(text, refs.for_outcome(evidence, outcome))


def first_outcome(
    evidence: Evidence, cohort: Cohort, measure: Measure, months: float | None
) -> Outcome | None:
    """The cohort's first point value of one measure at one landmark."""
    for outcome in evidence.outcomes_for(cohort.key, measure):
        at_landmark = outcome.timepoint_months == months and outcome.value is not None
        if at_landmark and outcome.statistic.value == "point":
            return outcome
    return None
