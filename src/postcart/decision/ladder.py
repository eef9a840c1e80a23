"""How much weight an option's evidence can carry: the ladder that orders options within a tier.

Until the certainty work (GRADE ratings per option, issue #14) exists, the ladder is an explicit
evidence *type*, read from the evidence base rather than typed by hand, so it cannot drift from
the studies it summarises:

1. ``approved_prospective_post_cart`` — a regulator-approved agent with a prospective cohort of
   patients treated after CAR T failure (a dedicated trial or a trial's post-CAR T subgroup);
2. ``prospective_cohort`` — a prospective post-CAR T cohort, agent not approved for the use;
3. ``retrospective_series`` — retrospective post-CAR T series, registries, real-world cohorts;
4. ``case_reports`` — case reports or case series only;
5. ``mechanism_only`` — no cohort treated after CAR T failure: the rationale is mechanistic or
   borrowed from other populations.

Only cohorts whose role is ``salvage_after_cart`` count: a trial's whole population, a
comparator or a meta-analysis says nothing on its own about patients after CAR T failure.
:func:`ladder_rank` is the single place the engine asks; a GRADE-based function with the same
signature can replace it without touching the engine's ordering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from postcart.decision.cards import EvidenceCard
from postcart.decision.rulebook import OptionSpec

EvidenceType = Literal[
    "approved_prospective_post_cart",
    "prospective_cohort",
    "retrospective_series",
    "case_reports",
    "mechanism_only",
]

#: The rungs, best first; an option's rank is its rung's index.
LADDER: tuple[EvidenceType, ...] = (
    "approved_prospective_post_cart",
    "prospective_cohort",
    "retrospective_series",
    "case_reports",
    "mechanism_only",
)

#: How each rung is printed.
LADDER_LABELS: dict[EvidenceType, str] = {
    "approved_prospective_post_cart": "approved agent with a prospective post-CAR T cohort",
    "prospective_cohort": "prospective post-CAR T cohort",
    "retrospective_series": "retrospective post-CAR T series",
    "case_reports": "case reports only",
    "mechanism_only": "no post-CAR T cohort (mechanism or other populations)",
}

PROSPECTIVE_DESIGNS = frozenset({"pivotal_trial", "early_phase_trial"})
RETROSPECTIVE_DESIGNS = frozenset({"salvage_cohort", "real_world", "registry"})
CASE_DESIGNS = frozenset({"case_series"})


@dataclass(frozen=True, slots=True)
class EvidenceRank:
    """An option's place on the ladder and the cohorts that put it there."""

    rank: int
    type: EvidenceType
    label: str
    basis: tuple[str, ...]


#: The function the engine calls: (option, its cards) → rank. GRADE can slot in here.
Ranker = Callable[[OptionSpec, Sequence[EvidenceCard]], EvidenceRank]


def _rank(kind: EvidenceType, basis: Sequence[EvidenceCard]) -> EvidenceRank:
    keys = tuple(dict.fromkeys(card.cohort_key for card in basis))
    return EvidenceRank(LADDER.index(kind), kind, LADDER_LABELS[kind], keys)


def ladder_rank(option: OptionSpec, cards: Sequence[EvidenceCard]) -> EvidenceRank:
    """The option's rung, from the designs of its post-CAR T cohorts and its approval status."""
    post_cart = [card for card in cards if card.role == "salvage_after_cart"]
    prospective = [card for card in post_cart if card.design in PROSPECTIVE_DESIGNS]
    if prospective:
        approved = option.status == "approved"
        kind: EvidenceType = "approved_prospective_post_cart" if approved else "prospective_cohort"
        return _rank(kind, prospective)
    retrospective = [card for card in post_cart if card.design in RETROSPECTIVE_DESIGNS]
    if retrospective:
        return _rank("retrospective_series", retrospective)
    cases = [card for card in post_cart if card.design in CASE_DESIGNS]
    if cases:
        return _rank("case_reports", cases)
    return _rank("mechanism_only", ())
