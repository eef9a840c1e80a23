"""Evidence cards: what each study of an option reported, drawn live from the evidence base.

Cards are ordered by how well the study's population matches the patient (post-CAR T specific,
timing subgroup, antigen status) — never by comparing response rates across unlike studies.

A card carries the base's caveats with its figures, so a reader never sees a number the base
flags without the flag: a curated discrepancy (either side of the link), a figure counted per
lesion rather than per patient, the cohort's role and denominator, and the overlap register's
note when the cohort shares patients with another report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from postcart.evidence.records import Cohort, Evidence, Outcome
from postcart.evidence.vocab import Measure

#: Cohorts smaller than this get a certainty note: one response more or less moves a rate a lot.
#: Cut-off: the "small numbers (n<20)" evidence tier of ../shared/research/anchors_decision.md.
SMALL_COHORT = 20

#: Measures shown on a card, in this order (the review's Table 4 columns).
CARD_MEASURES = (
    Measure.orr,
    Measure.cr,
    Measure.os_rate,
    Measure.pfs_rate,
    Measure.median_os,
    Measure.median_pfs,
    Measure.median_dor,
    Measure.nrm_rate,
    Measure.crs_g3plus,
    Measure.icans_g3plus,
)


@dataclass(frozen=True, slots=True)
class CardOutcome:
    """One figure on a card, as reported."""

    measure: str
    value: float | None
    unit: str
    timepoint_months: float | None
    range_low: float | None
    range_high: float | None
    provenance: str
    ref: str
    #: Whom the figure counts: "patients", or e.g. "lesions" (then it is not a patient rate).
    analysis_unit: str = "patients"
    #: The curated discrepancy note when the base links this figure to a conflicting one.
    discrepancy: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class EvidenceCard:
    """One cohort's evidence for an option, with why it is (or is not) close to the patient."""

    source_key: str
    study_key: str
    study_name: str
    design: str
    cohort_key: str
    cohort_label: str
    n: int | None
    post_cart_specific: bool
    timing_match: bool
    antigen_match: bool
    outcomes: tuple[CardOutcome, ...]
    certainty_note: str | None
    #: What the cohort is (evidence vocabulary ``CohortRole``) and whom its figures count.
    role: str = ""
    denominator_basis: str = ""
    #: Histology of the cohort (or its study) as the base records it.
    disease: str = ""
    #: One line per overlap group the cohort belongs to (patients shared with other reports).
    overlaps: tuple[str, ...] = ()

    @property
    def caveats(self) -> tuple[str, ...]:
        """Every warning a reader must see next to this card's figures, in reading order."""
        notes = [f"{o.measure} ({o.ref}): {o.discrepancy}" for o in self.outcomes if o.discrepancy]
        units = sorted({o.analysis_unit for o in self.outcomes if o.analysis_unit != "patients"})
        if units:
            notes.append(
                f"some figures count {', '.join(units)}, not patients: not a per-patient rate"
            )
        if self.role not in ("salvage_after_cart", ""):
            notes.append(f"population: {self.role.replace('_', ' ')}, not a post-CAR T cohort")
        notes.extend(self.overlaps)
        return tuple(notes)

    @property
    def match_score(self) -> int:
        """Population closeness: post-CAR T specific outweighs timing, timing outweighs antigen."""
        return 4 * self.post_cart_specific + 2 * self.timing_match + self.antigen_match

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        card = asdict(self)
        card["outcomes"] = list(card["outcomes"])
        card["overlaps"] = list(card["overlaps"])
        card["caveats"] = list(self.caveats)
        return card


def _timing_match(cohort: Cohort, days: int | None) -> bool:
    if days is None or (cohort.failure_days_min is None and cohort.failure_days_max is None):
        return False
    low = cohort.failure_days_min if cohort.failure_days_min is not None else 0
    high = cohort.failure_days_max if cohort.failure_days_max is not None else days
    return low <= days <= high


def _discrepancy(evidence: Evidence, outcome: Outcome) -> str | None:
    """The curated note on either side of a discrepancy link, naming the other figure."""
    if not evidence.disputed(outcome):
        return None
    if outcome.discrepancy_with is not None:
        note = " ".join((outcome.discrepancy_note or "").split())
        return f"disputed, see {outcome.discrepancy_with}" + (f": {note}" if note else "")
    others = evidence.contradicting(outcome)
    notes = "; ".join(" ".join((o.discrepancy_note or "").split()) for o in others)
    refs = ", ".join(o.ref for o in others)
    return f"disputed, see {refs}" + (f": {notes}" if notes else "")


def _overlap_lines(evidence: Evidence, cohort: Cohort) -> tuple[str, ...]:
    lines = []
    for group in evidence.overlaps_of(cohort.key):
        others = ", ".join(key for key in group.cohorts if key != cohort.key)
        reason = " ".join(group.reason.split())
        lines.append(
            f"shares patients ({group.certainty.value}, {group.relation.value.replace('_', ' ')})"
            f" with {others}: {reason}"
        )
    return tuple(lines)


def _card_outcome(evidence: Evidence, outcome: Outcome) -> CardOutcome:
    return CardOutcome(
        measure=str(outcome.measure),
        value=outcome.value,
        unit=str(outcome.unit),
        timepoint_months=outcome.timepoint_months,
        range_low=outcome.range_low,
        range_high=outcome.range_high,
        provenance=str(outcome.provenance.kind),
        ref=outcome.ref,
        analysis_unit=outcome.analysis_unit,
        discrepancy=_discrepancy(evidence, outcome),
    )


def _certainty(cohort: Cohort, design: str) -> str | None:
    notes = []
    if cohort.n is None:
        notes.append("cohort size not reported")
    elif cohort.n < SMALL_COHORT:
        notes.append(f"small cohort (n = {cohort.n}): rates are imprecise")
    if design in ("case_series", "salvage_cohort", "real_world", "registry"):
        notes.append("observational: no comparison group, selection likely")
    return "; ".join(notes) or None


def cards_for(
    evidence: Evidence,
    therapies: tuple[str, ...],
    *,
    days_to_progression: int | None,
    cd19_status: str | None,
) -> tuple[EvidenceCard, ...]:
    """Cards for every cohort that received one of ``therapies``, best population match first."""
    cards = []
    for therapy in therapies:
        for cohort in evidence.cohorts_for_therapy(therapy):
            study = evidence.study(cohort.study_key)
            shown = tuple(
                _card_outcome(evidence, o)
                for measure in CARD_MEASURES
                for o in evidence.outcomes_for(cohort.key, measure)
            )
            antigen_match = bool(
                study.antigen_status_required
                and cd19_status is not None
                and cohort.cd19_status == cd19_status
            )
            cards.append(
                EvidenceCard(
                    source_key=study.source_key,
                    study_key=study.key,
                    study_name=study.name,
                    design=str(study.design),
                    cohort_key=cohort.key,
                    cohort_label=cohort.label,
                    n=cohort.n,
                    post_cart_specific=study.post_cart_specific,
                    timing_match=_timing_match(cohort, days_to_progression),
                    antigen_match=antigen_match,
                    outcomes=shown,
                    certainty_note=_certainty(cohort, str(study.design)),
                    role=str(cohort.role),
                    denominator_basis=str(cohort.denominator_basis),
                    disease=str(cohort.disease or study.disease),
                    overlaps=_overlap_lines(evidence, cohort),
                )
            )
    cards.sort(key=lambda card: (-card.match_score, -(card.n or 0), card.cohort_key))
    return tuple(cards)
