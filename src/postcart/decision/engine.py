"""From a patient profile to salvage options in tiers, each with its reasons, rules and evidence.

The engine is deterministic and presents options, not a directive: no guideline gives a
pathway after CAR T failure. Within a tier, options are ordered so a physician can follow why:

1. by the kind of evidence behind the option (``decision/ladder.py``: approved agent with a
   prospective post-CAR T cohort, then prospective, retrospective, case reports, mechanism);
2. then by the living review's pooled ORR after CAR T failure, when the caller passes it
   (``decision/efficacy.py``) — options pooled over two or more studies first;
3. then by how closely the option's studies match the patient (post-CAR T, timing, antigen).

Each option prints the reason for its place (``order``). Investigational options are offered
within a clinical trial only, and enrolment in a trial is itself an option that rules raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from postcart.decision.cards import EvidenceCard, cards_for
from postcart.decision.conditions import Undecidable, holds
from postcart.decision.efficacy import EfficacyMap, PooledEfficacy
from postcart.decision.features import derive_facts
from postcart.decision.histology import coverage_note, covered_families
from postcart.decision.ladder import EvidenceRank, Ranker, ladder_rank
from postcart.decision.profile import PatientProfile
from postcart.decision.rulebook import TIERS, OptionSpec, RuleBook, RuleSpec
from postcart.errors import ProfileError
from postcart.evidence.records import Evidence

DISCLAIMER = (
    "postcart is for research, education and tumour-board preparation only. It is not a "
    "medical device and does not replace the judgement of the physician treating the patient. "
    "Options are listed with the evidence behind them; no guideline defines a pathway after "
    "CAR T failure, and the studies are mostly small and observational."
)

#: How options are ordered within a tier, printed with every answer.
ORDERING = (
    "Within a tier, options are ordered by the kind of evidence behind them (approved agent "
    "with a prospective post-CAR T cohort > prospective post-CAR T cohort > retrospective "
    "series > case reports > no post-CAR T cohort), then by the living review's pooled ORR "
    "after CAR T failure where it pools two or more studies (populations differ: not a "
    "head-to-head comparison), then by how closely the studies match this patient."
)

#: The reason printed for every investigational option.
TRIAL_ONLY = "Investigational: offered within a clinical trial."


@dataclass(frozen=True, slots=True)
class OptionAdvice:
    """One option with its tier, the reasons and rules behind it, and its evidence."""

    option: str
    name: str
    tier: str
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    rules: tuple[str, ...]
    cards: tuple[EvidenceCard, ...]
    evidence_rank: EvidenceRank | None = None
    efficacy: PooledEfficacy | None = None
    #: Histology families the option's post-CAR T cohorts enrolled (decision/histology.py).
    histologies: tuple[str, ...] = ()
    within_trial: bool = False
    #: Why the option sits where it does within its tier.
    order: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: option, tier, reasons, evidence, rules (then the rest)."""
        rank = self.evidence_rank
        return {
            "option": self.option,
            "tier": self.tier,
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
            "rules": list(self.rules),
            "name": self.name,
            "order": self.order,
            "evidence_type": None if rank is None else rank.type,
            "evidence_type_label": None if rank is None else rank.label,
            "evidence_rank": None if rank is None else rank.rank,
            "evidence_basis": [] if rank is None else list(rank.basis),
            "pooled_orr": None
            if self.efficacy is None
            else {
                "analysis": self.efficacy.analysis,
                "percent": self.efficacy.percent,
                "ci_low": self.efficacy.ci_low,
                "ci_high": self.efficacy.ci_high,
                "k": self.efficacy.k,
                "population": self.efficacy.population,
                "certainty": self.efficacy.certainty,
            },
            "histologies": list(self.histologies),
            "within_trial": self.within_trial,
            "cards": [card.to_dict() for card in self.cards],
        }


@dataclass(frozen=True, slots=True)
class Flag:
    """A prognostic or safety flag raised by a rule."""

    rule: str
    text: str
    reason: str
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "rule": self.rule,
            "text": self.text,
            "reason": self.reason,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class Advice:
    """Everything the aid says about one profile, in layers: tiers, reasons, evidence."""

    options: tuple[OptionAdvice, ...]
    flags: tuple[Flag, ...]
    actions: tuple[str, ...]
    missing: dict[str, tuple[str, ...]]
    fired: tuple[str, ...]
    rules_version: str
    disclaimer: str = DISCLAIMER
    ordering: str = ORDERING

    def option(self, option_id: str) -> OptionAdvice:
        """The advice for one option id."""
        for advice in self.options:
            if advice.option == option_id:
                return advice
        raise KeyError(option_id)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``postcart advise --json``."""
        return {
            "options": [option.to_dict() for option in self.options],
            "flags": [flag.to_dict() for flag in self.flags],
            "actions": list(self.actions),
            "disclaimer": self.disclaimer,
            "missing": {name: list(rules) for name, rules in sorted(self.missing.items())},
            "rules_fired": list(self.fired),
            "rules_version": self.rules_version,
            "ordering": self.ordering,
        }


@dataclass
class _OptionState:
    """Mutable tally while rules are applied to one option."""

    spec: OptionSpec
    excluded: bool = False
    trial_only: bool = False
    steps: int = 0  # positive raises, negative lowers
    reasons: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)

    def note(self, rule: RuleSpec) -> None:
        if rule.id not in self.rules:
            self.rules.append(rule.id)
            self.reasons.append(rule.reason)
            self.evidence.extend(rule.evidence)

    def tier(self) -> str:
        if self.excluded:
            return "not_suited"
        if self.trial_only or self.spec.investigational:
            return "clinical_trial"
        base = TIERS.index(self.spec.base_tier)
        # Rules move an option within the three suitable tiers; only a gate can exclude.
        return TIERS[min(max(base - self.steps, 0), TIERS.index("clinical_trial"))]


def _check_references(profile: PatientProfile, book: RuleBook, evidence: Evidence) -> None:
    products = {product.key for product in evidence.products}
    if profile.cart_product is not None and profile.cart_product not in products:
        raise ProfileError(
            "cart_product", f"unknown product {profile.cart_product!r}; known: {sorted(products)}"
        )
    option_ids = {option.id for option in book.options}
    for therapy in profile.prior_therapies:
        if therapy not in option_ids:
            raise ProfileError(
                "prior_therapies", f"unknown option id {therapy!r}; known: {sorted(option_ids)}"
            )


def _apply_coverage(
    rule: RuleSpec,
    states: dict[str, _OptionState],
    family: str,
    covered: dict[str, tuple[str, ...]],
) -> None:
    """Lower each option whose post-CAR T evidence does not cover the patient's histology."""
    for option_id, state in states.items():
        if option_id == "clinical_trial":
            continue
        lower, note = coverage_note(family, covered[option_id])
        if lower:
            state.steps -= 1
            state.note(rule)
            if note:
                state.reasons.append(note)


def _apply(rule: RuleSpec, states: dict[str, _OptionState]) -> None:
    effect = rule.effect
    for option_id in effect.exclude:
        states[option_id].excluded = True
    for option_id in effect.trial_only:
        states[option_id].trial_only = True
    for option_id in effect.raise_:
        states[option_id].steps += 1
    for option_id in effect.lower:
        states[option_id].steps -= 1
    for option_id in effect.options():
        states[option_id].note(rule)


def advise(
    profile: PatientProfile,
    *,
    evidence: Evidence,
    book: RuleBook,
    efficacy: EfficacyMap | None = None,
    ranker: Ranker = ladder_rank,
) -> Advice:
    """Apply the rulebook to a profile and attach live evidence cards to every option.

    ``efficacy`` (option id → pooled ORR from the living review) is the second ordering key
    when given; ``ranker`` places each option on the evidence ladder (GRADE can replace it).
    """
    _check_references(profile, book, evidence)
    facts = derive_facts(profile)
    cd19 = facts.get("cd19_status")
    all_cards = {
        option.id: cards_for(
            evidence,
            option.therapies,
            days_to_progression=profile.days_to_progression,
            cd19_status=cd19,
        )
        for option in book.options
    }
    covered = {key: covered_families(cards) for key, cards in all_cards.items()}
    states = {option.id: _OptionState(spec=option) for option in book.options}
    flags: list[Flag] = []
    actions: list[str] = []
    missing: dict[str, list[str]] = {}
    fired: list[str] = []
    for rule in book.rules:
        try:
            if not holds(rule.when, facts):
                continue
        except Undecidable as unknown:
            for name in sorted(unknown.facts):
                missing.setdefault(name, []).append(rule.id)
            continue
        fired.append(rule.id)
        _apply(rule, states)
        if rule.effect.coverage and facts.get("histology_family") is not None:
            _apply_coverage(rule, states, facts["histology_family"], covered)
        if rule.effect.flag:
            # Flag texts may quote facts, e.g. "{pcpi_factors_present} of 5 factors".
            text = rule.effect.flag.format_map(facts)
            flags.append(Flag(rule.id, text, rule.reason, rule.evidence))
        if rule.effect.action and rule.effect.action not in actions:
            actions.append(rule.effect.action)
    pooled = efficacy or {}
    options = [
        _finish(
            state,
            profile,
            all_cards[key],
            ranker(state.spec, all_cards[key]),
            pooled.get(key),
            covered[key],
        )
        for key, state in states.items()
    ]
    options.sort(key=_order)
    return Advice(
        options=tuple(options),
        flags=tuple(flags),
        actions=tuple(actions),
        missing={name: tuple(rules) for name, rules in missing.items()},
        fired=tuple(fired),
        rules_version=book.version,
    )


def _order_text(rank: EvidenceRank, pooled: PooledEfficacy | None, best_match: int) -> str:
    parts = [f"evidence: {rank.label}"]
    if rank.basis:
        parts[0] += f" ({', '.join(rank.basis)})"
    if pooled is not None:
        parts.append(pooled.describe() + "; populations differ, not a head-to-head comparison")
    else:
        parts.append("no pooled ORR after CAR T failure (fewer than two studies pool)")
    parts.append(f"population match score {best_match} of 7")
    return "; ".join(parts)


def _finish(
    state: _OptionState,
    profile: PatientProfile,
    cards: tuple[EvidenceCard, ...],
    rank: EvidenceRank,
    pooled: PooledEfficacy | None,
    covered: tuple[str, ...],
) -> OptionAdvice:
    spec = state.spec
    # One entry per source: cards, the option's own citations and the rules' may repeat a key.
    cited = list(
        dict.fromkeys([card.source_key for card in cards] + list(spec.evidence) + state.evidence)
    )
    reasons = [spec.summary, *state.reasons]
    tier = state.tier()
    if not cited and tier != "not_suited":
        tier = "clinical_trial"
        reasons.append("No post-CAR T evidence for this option in the evidence base.")
    if spec.id in profile.prior_therapies:
        reasons.append("Already received after CAR T: evidence for re-treatment is limited.")
    if spec.investigational and tier != "not_suited":
        reasons.insert(1, TRIAL_ONLY)
    best_match = max((card.match_score for card in cards), default=0)
    return OptionAdvice(
        option=spec.id,
        name=spec.name,
        tier=tier,
        reasons=tuple(reasons),
        evidence=tuple(cited),
        rules=tuple(state.rules),
        cards=cards,
        evidence_rank=rank,
        efficacy=pooled,
        histologies=covered,
        within_trial=tier == "clinical_trial",
        order=_order_text(rank, pooled, best_match),
    )


def _order(advice: OptionAdvice) -> tuple[int, int, int, float, int, str]:
    """Tier, then evidence rung, then pooled ORR (pooled first), then population match."""
    best_match = max((card.match_score for card in advice.cards), default=0)
    rank = advice.evidence_rank.rank if advice.evidence_rank is not None else len(TIERS)
    pooled = advice.efficacy
    return (
        TIERS.index(advice.tier),
        rank,
        0 if pooled is not None else 1,
        -(pooled.percent if pooled is not None else 0.0),
        -best_match,
        advice.option,
    )
