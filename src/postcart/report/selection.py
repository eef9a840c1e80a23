"""Which cohorts stand for the studies in one analysis, and why every other one was left out.

Three rules keep a patient from being counted twice:

1. *Within a study*, one cohort: the whole cohort on the preferred denominator (infused before
   ITT), or the study's disjoint product arms when no whole-cohort figure exists. A subgroup is
   never pooled next to the cohort it belongs to.
2. *Within a source*, one study (two data cuts of one trial are one study).
3. *Across studies*, the overlap register: of cohorts that share patients (same registry, same
   trial, overlapping centres), one stands for the group by the group's stated rule; the rest
   are listed as skipped and a sensitivity analysis swaps them in.

Each left-out study is returned with its reason, so the report can list it under the analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from postcart.evidence import Cohort, Evidence, Outcome, OverlapGroup, Study
from postcart.evidence.vocab import (
    CohortRole,
    EventsBasis,
    KeepRule,
    Measure,
    OverlapCertainty,
    Statistic,
)
from postcart.report.populations import BASIS_LABEL, Population

#: ``usable(outcome, cohort)`` → ``None`` when the outcome can enter, else the reason it cannot.
Usable = Callable[[Outcome, Cohort], str | None]

#: Overlap certainties that make the register take one member (``possible`` is only stated).
ENFORCED = frozenset({OverlapCertainty.certain, OverlapCertainty.likely})
_BASIS_ORDER = {
    EventsBasis.reported: 0,
    EventsBasis.derived_exact: 1,
    EventsBasis.approximate: 2,
    EventsBasis.none: 3,
}


@dataclass(frozen=True, slots=True)
class Chosen:
    """The cohort and outcome one study contributes, with the study for labels."""

    study: Study
    cohort: Cohort
    outcome: Outcome

    @property
    def label(self) -> str:
        """The study name, with the arm when a study contributes disjoint product arms."""
        if self.cohort.role == CohortRole.cart_product_arm:
            return f"{self.study.name} — {', '.join(self.cohort.products)} arm"
        return self.study.name


@dataclass(frozen=True, slots=True)
class Skipped:
    """A study with data for the analysis that was left out, and why."""

    study: Study
    reason: str
    cohort: Cohort | None = None


@dataclass(frozen=True, slots=True)
class OverlapChoice:
    """One overlap group that had several members in an analysis: who stood for it."""

    group: OverlapGroup
    kept: Chosen
    others: tuple[Chosen, ...]


@dataclass(frozen=True)
class Selection:
    """The cohorts an analysis uses, those it left out, and the overlap choices it made."""

    chosen: list[Chosen]
    skipped: list[Skipped]
    overlaps: list[OverlapChoice] = field(default_factory=list)
    possible_overlaps: list[str] = field(default_factory=list)


def has_events(outcome: Outcome, cohort: Cohort) -> str | None:
    """Binomial data: a printed, exactly derived or (labelled) approximate event count."""
    if outcome.statistic != Statistic.point:
        return "an aggregate across studies, not one cohort's figure"
    if outcome.timepoint_months is not None:
        return "a Kaplan–Meier landmark rate, not a proportion of patients"
    if outcome.denominator_uncertain:
        return f"denominator uncertain ({' '.join(outcome.denominator_uncertain.split())})"
    if denominator(outcome, cohort) is None:
        return "no denominator (cohort size not reported)"
    if outcome.events is None:
        return "no event count printed and none derivable from the percentage"
    return None


def has_value(outcome: Outcome, cohort: Cohort) -> str | None:
    """A single-cohort value (for descriptive medians and ranges)."""
    if outcome.statistic != Statistic.point or outcome.value is None:
        return "no single-cohort value"
    return None


def denominator(outcome: Outcome, cohort: Cohort) -> int | None:
    """The number the events are out of: the outcome's own denominator, else the cohort's n."""
    return outcome.denominator if outcome.denominator is not None else cohort.n


def matches(measure: Measure, timepoint: float | None) -> Callable[[Outcome], bool]:
    """Outcome filter: one measure, one landmark (``None`` = best response, no landmark)."""
    return lambda o: o.measure == measure and o.timepoint_months == timepoint


def ancestors(evidence: Evidence, cohort: Cohort) -> list[Cohort]:
    """The cohorts ``cohort`` is a subgroup of, nearest first."""
    chain: list[Cohort] = []
    current = cohort
    while current.subgroup_of is not None:
        current = evidence.cohort(current.subgroup_of)
        chain.append(current)
    return chain


def _first(
    outcomes: Iterable[Outcome], wanted: Callable[[Outcome], bool], cohort: Cohort, usable: Usable
) -> tuple[Outcome | None, str | None]:
    """The first usable match in a cohort, else the reason the first match is unusable."""
    reason: str | None = None
    for outcome in outcomes:
        if not wanted(outcome):
            continue
        why = usable(outcome, cohort)
        if why is None:
            return outcome, None
        reason = reason or why
    return None, reason


def _size(c: Chosen) -> int:
    return denominator(c.outcome, c.cohort) or 0


def _pick_in_study(
    evidence: Evidence,
    population: Population,
    found: list[tuple[Cohort, Outcome]],
    allow_arms: bool,
) -> tuple[list[tuple[Cohort, Outcome]], str]:
    """The study's whole cohort on the preferred basis, or its disjoint product arms."""
    ranked = [(population.basis_rank(c), c, o) for c, o in found]
    on_basis = [(r, c, o) for r, c, o in ranked if r is not None]
    if not on_basis:
        bases = sorted({BASIS_LABEL[c.denominator_basis] for c, _ in found})
        wanted = ", ".join(BASIS_LABEL[b] for b in population.bases)
        return [], f"denominator {', '.join(bases)} only (this analysis takes {wanted})"
    best = min(r for r, _, _ in on_basis)
    pool = [(c, o) for r, c, o in on_basis if r == best]
    keys = {c.key for c, _ in pool}
    tops = [(c, o) for c, o in pool if not {a.key for a in ancestors(evidence, c)} & keys]
    if len(tops) == 1:
        return tops, ""
    arms = [(c, o) for c, o in tops if c.role == CohortRole.cart_product_arm]
    products = [c.products for c, _ in arms]
    if allow_arms and len(arms) == len(tops) and len(set(products)) == len(products):
        return arms, ""
    if len(arms) == len(tops):
        return [], "only separate product arms report it (no whole-study figure)"
    names = ", ".join(c.label for c, _ in tops)
    return [], f"several cohorts of equal standing ({names}); none is the whole study"


def _why_not_admitted(
    evidence: Evidence, population: Population, study: Study, wanted: Callable[[Outcome], bool]
) -> str | None:
    """Why a study with the outcome in cohorts outside the population was left out."""
    roles = sorted(
        {
            c.role.value + (f": {' '.join(c.selection.split())}" if c.selection else "")
            for c in evidence.cohorts_for_study(study.key)
            if any(wanted(o) and o.value is not None for o in evidence.outcomes_for(c.key))
            and (population.therapy is None or c.therapy == population.therapy)
            and c.role in population.named_when_left_out
        }
    )
    if not roles:
        return None
    return "only cohorts outside this population report it (" + "; ".join(roles) + ")"


def choose(
    evidence: Evidence,
    population: Population,
    wanted: Callable[[Outcome], bool],
    usable: Usable,
    *,
    allow_arms: bool = True,
) -> Selection:
    """The cohorts of ``population`` with a usable ``wanted`` outcome, one set per study."""
    chosen: list[Chosen] = []
    skipped: list[Skipped] = []
    seen_sources: dict[str, str] = {}
    for study in evidence.studies:
        if study.design not in population.designs:
            continue
        found: list[tuple[Cohort, Outcome]] = []
        unusable: str | None = None
        for cohort in evidence.cohorts_for_study(study.key):
            if not population.admits(evidence, cohort):
                continue
            outcome, why = _first(evidence.outcomes_for(cohort.key), wanted, cohort, usable)
            if outcome is not None:
                found.append((cohort, outcome))
            unusable = unusable or why
        if not found:
            reason = unusable or _why_not_admitted(evidence, population, study, wanted)
            if reason:
                skipped.append(Skipped(study, reason))
            continue
        picks, reason = _pick_in_study(evidence, population, found, allow_arms)
        if not picks:
            skipped.append(Skipped(study, reason))
            continue
        if study.source_key in seen_sources:
            reason = f"same source as {seen_sources[study.source_key]} (another report of it)"
            skipped.append(Skipped(study, reason))
            continue
        seen_sources[study.source_key] = study.name
        chosen.extend(Chosen(study, c, o) for c, o in picks)
    return _apply_overlaps(evidence, Selection(chosen, skipped))


def _member_of(evidence: Evidence, group: OverlapGroup, cohort: Cohort) -> bool:
    """A cohort is in a group when it or a cohort it belongs to is listed."""
    keys = {cohort.key, *(a.key for a in ancestors(evidence, cohort))}
    return bool(keys & set(group.cohorts))


def keep_order(evidence: Evidence, rule: KeepRule) -> Callable[[Chosen], tuple[int, ...]]:
    """Sort key putting the member that stands for an overlap group first."""

    def key(c: Chosen) -> tuple[int, ...]:
        size = -_size(c)
        if rule == KeepRule.most_recent:
            year = evidence.source(c.study.source_key).year or 0
            return (-year, size)
        if rule == KeepRule.most_complete:
            return (_BASIS_ORDER[c.outcome.events_basis], size)
        return (size,)

    return key


def _apply_overlaps(evidence: Evidence, selection: Selection) -> Selection:
    chosen = list(selection.chosen)
    skipped = list(selection.skipped)
    choices: list[OverlapChoice] = []
    possible: list[str] = []
    for group in evidence.overlaps:
        members = [c for c in chosen if _member_of(evidence, group, c.cohort)]
        if len({c.study.key for c in members}) < 2:
            continue
        members.sort(key=keep_order(evidence, group.keep))
        kept = members[0]
        others = tuple(m for m in members[1:] if m.study.key != kept.study.key)
        if group.certainty not in ENFORCED:
            names = ", ".join(m.label for m in members)
            possible.append(f"possible overlap ({group.key}): {names} — {_words(group.reason)}")
            continue
        for other in others:
            chosen.remove(other)
            reason = (
                f"shares patients with {kept.label} (overlap register {group.key}: "
                f"{group.relation.value.replace('_', ' ')}, {group.certainty.value}; "
                f"keeps the {group.keep.value.replace('_', ' ')})"
            )
            skipped.append(Skipped(other.study, reason, other.cohort))
        choices.append(OverlapChoice(group, kept, others))
    return Selection(chosen, skipped, choices, possible)


def _words(text: str) -> str:
    return " ".join(text.split())
