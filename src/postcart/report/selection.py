"""Which cohort stands for a study in one analysis: one per study, the whole cohort preferred.

Pooling a study's subgroups next to its total counts patients twice, so every analysis takes
at most one cohort per study (and per source, since two data cuts of one trial are one study).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from postcart.evidence import Cohort, Evidence, Outcome, Study
from postcart.evidence.vocab import Disease, EventsBasis, Measure, Statistic, StudyDesign

#: Histologies the review's real-world tables cover (large B-cell lymphoma and its subtypes).
LBCL_DISEASES = frozenset(
    {Disease.LBCL, Disease.DLBCL, Disease.PMBCL, Disease.HGBCL, Disease.aggressive_BCL}
)
#: Designs of the review's Tables 2–3 (clinical trials and case reports were excluded).
REAL_WORLD_DESIGNS = frozenset({StudyDesign.real_world, StudyDesign.registry})
#: Aggregates of other studies: pooling them with their own inputs would double count.
AGGREGATE_DESIGNS = frozenset({StudyDesign.meta_analysis, StudyDesign.systematic_review})
#: A subgroup may stand for its study only if it holds at least this share of the whole.
MIN_SHARE_OF_WHOLE = 0.5

_POST_CART_LABEL = re.compile(r"\b(prior|post|after)[- ]CAR", re.IGNORECASE)
_NOT_CART = ("salvage", "supportive", "alternate", "allogeneic", "reduced-intensity", "therapies")

Usable = Callable[[Outcome, Cohort], bool]


@dataclass(frozen=True, slots=True)
class Chosen:
    """The cohort and outcome one study contributes, with the study for labels."""

    study: Study
    cohort: Cohort
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Skipped:
    """A study with data for the analysis that was left out, and why."""

    study: Study
    reason: str


def is_first_cart_cohort(evidence: Evidence, cohort: Cohort) -> bool:
    """A real-world LBCL cohort given CD19 CAR T (not a salvage, comparator or relapse cohort)."""
    study = evidence.study(cohort.study_key)
    if study.design not in REAL_WORLD_DESIGNS or study.post_cart_specific:
        return False
    if any(other.therapy for other in evidence.cohorts_for_study(study.key)):
        return False  # a salvage or maintenance study: its CAR T arm is a comparator
    if cohort.therapy is not None or (cohort.disease or study.disease) not in LBCL_DISEASES:
        return False
    intervention = cohort.intervention.lower()
    if intervention.startswith(_NOT_CART):
        return False
    return bool(cohort.products) or "car t" in intervention


def is_post_cart_cohort(evidence: Evidence, cohort: Cohort, therapy: str) -> bool:
    """A cohort given ``therapy`` after CAR T failure (a whole post-CAR T study or its subgroup)."""
    if cohort.therapy != therapy:
        return False
    study = evidence.study(cohort.study_key)
    if study.design in AGGREGATE_DESIGNS:
        return False
    return study.post_cart_specific or bool(_POST_CART_LABEL.search(cohort.label))


def has_events(outcome: Outcome, cohort: Cohort) -> bool:
    """Binomial data: an event count that was printed or is the only one fitting the percent."""
    return (
        outcome.statistic == Statistic.point
        and outcome.events is not None
        and outcome.events_basis in (EventsBasis.reported, EventsBasis.derived_exact)
        and denominator(outcome, cohort) is not None
        and outcome.timepoint_months is None
    )


def has_value(outcome: Outcome, cohort: Cohort) -> bool:
    """A single-cohort value (for descriptive medians and ranges)."""
    return outcome.statistic == Statistic.point and outcome.value is not None


def denominator(outcome: Outcome, cohort: Cohort) -> int | None:
    """The number the events are out of: the outcome's own denominator, else the cohort's n."""
    return outcome.denominator if outcome.denominator is not None else cohort.n


def matches(measure: Measure, timepoint: float | None) -> Callable[[Outcome], bool]:
    """Outcome filter: one measure, one landmark (``None`` = best response, no landmark)."""
    return lambda o: o.measure == measure and o.timepoint_months == timepoint


def _ancestors(evidence: Evidence, cohort: Cohort) -> list[Cohort]:
    chain: list[Cohort] = []
    current = cohort
    while current.subgroup_of is not None:
        current = evidence.cohort(current.subgroup_of)
        chain.append(current)
    return chain


def _pick(
    evidence: Evidence, found: list[tuple[Cohort, Outcome]]
) -> tuple[tuple[Cohort, Outcome] | None, str]:
    """The whole cohort among a study's candidates, or ``None`` and the reason."""
    keys = {c.key for c, _ in found}
    tops = [(c, o) for c, o in found if not {a.key for a in _ancestors(evidence, c)} & keys]
    if len(tops) > 1:
        sized = sorted((c.n for c, _ in tops if c.n is not None), reverse=True)
        if not sized or (len(sized) > 1 and sized[0] == sized[1]):
            names = ", ".join(c.label for c, _ in tops)
            return None, f"several cohorts of equal standing ({names}); none is the whole study"
        tops = [(c, o) for c, o in tops if c.n == sized[0]]
        covered = set(tops[0][0].products)
        if not covered.issuperset(p for c, _ in found for p in c.products):
            return None, "only separate product arms report it (no whole-study figure)"
    cohort, outcome = tops[0]
    chain = _ancestors(evidence, cohort)
    if chain:
        siblings = [c for c, _ in found if c.subgroup_of == cohort.subgroup_of and c is not cohort]
        whole = chain[-1].n
        if siblings:
            return None, "only disjoint subgroups report it (no whole-study figure)"
        if cohort.n is None or whole is None or cohort.n < MIN_SHARE_OF_WHOLE * whole:
            return None, f"only a selected subgroup reports it ({cohort.label})"
    return (cohort, outcome), ""


def choose(
    evidence: Evidence,
    eligible: Callable[[Cohort], bool],
    wanted: Callable[[Outcome], bool],
    usable: Usable,
) -> tuple[list[Chosen], list[Skipped]]:
    """One cohort per study (and per source) among eligible cohorts with a usable outcome."""
    chosen: list[Chosen] = []
    skipped: list[Skipped] = []
    seen_sources: dict[str, str] = {}
    for study in evidence.studies:
        found = [
            (cohort, outcome)
            for cohort in evidence.cohorts_for_study(study.key)
            if eligible(cohort)
            for outcome in _first(evidence.outcomes_for(cohort.key), wanted, cohort, usable)
        ]
        if not found:
            continue
        pick, reason = _pick(evidence, found)
        if pick is None:
            skipped.append(Skipped(study, reason))
            continue
        if study.source_key in seen_sources:
            reason = f"same source as {seen_sources[study.source_key]} (another report of it)"
            skipped.append(Skipped(study, reason))
            continue
        seen_sources[study.source_key] = study.name
        chosen.append(Chosen(study, pick[0], pick[1]))
    return chosen, skipped


def _first(
    outcomes: Iterable[Outcome], wanted: Callable[[Outcome], bool], cohort: Cohort, usable: Usable
) -> list[Outcome]:
    """The first usable match in a cohort (later ones are other data cuts or restatements)."""
    for outcome in outcomes:
        if wanted(outcome) and usable(outcome, cohort):
            return [outcome]
    return []
