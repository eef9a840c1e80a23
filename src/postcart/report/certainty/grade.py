"""GRADE certainty per pooled outcome, from versioned rules tied to the printed numbers.

Each domain is a small function of numbers (weights, I², interval ends, k) and one rule block
of ``grade_rules.yaml``; it returns a rating, the downgrade it costs, and the reason in words
with the numbers that decided it. A downgrade nobody can trace to a number and a rule version is
what this module exists to prevent. Analysts may override a domain (``overrides.yaml``); the
rule's own rating is kept next to the override and both are printed.

"Not assessed" is not "not serious": when the risk of bias of some studies is unrated, the
domain costs nothing but the certainty is printed as an upper bound ("at most moderate"),
because rating those studies can only lower it. Publication bias below ``min_k`` studies is
"not assessable" (funnel tests have no power there, GRADE's usual convention): no downgrade and
no upper bound, and the reason says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from postcart.evidence import Evidence
from postcart.evidence.risk_of_bias import Concern, RiskOfBias
from postcart.report.certainty.rules import (
    DomainName,
    GradeRules,
    ImprecisionRule,
    InconsistencyRule,
    IndirectnessRule,
    Level,
    Override,
    PublicationBiasRule,
    RiskOfBiasRule,
)
from postcart.report.pooling import Pooled
from postcart.stats.small_study import regtest

Rating = Literal["not_serious", "serious", "very_serious", "not_assessed", "not_assessable"]
EvidenceKind = Literal["prognostic", "comparative_single_arm"]

LEVELS: tuple[Level, ...] = ("very_low", "low", "moderate", "high")
LEVEL_WORDS = {"high": "High", "moderate": "Moderate", "low": "Low", "very_low": "Very low"}
DOMAINS: tuple[DomainName, ...] = (
    "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias",
)  # fmt: skip
DOMAIN_WORDS = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency",
                "indirectness": "Indirectness", "imprecision": "Imprecision",
                "publication_bias": "Publication bias"}  # fmt: skip
_COST = {"not_serious": 0, "serious": 1, "very_serious": 2, "not_assessed": 0,
         "not_assessable": 0}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DomainRating:
    """One domain's rating, what it costs, why, and the rule (with version) that gave it."""

    domain: DomainName
    rating: Rating
    reason: str
    rule: str
    overridden_from: Rating | None = None
    override: str = ""

    @property
    def downgrade(self) -> int:
        """Levels this domain takes off the starting certainty."""
        return _COST[self.rating]

    def words(self) -> str:
        """``Imprecision: serious (−1) — reason [imp-1]``, with the override log if any."""
        cost = f" (−{self.downgrade})" if self.downgrade else ""
        text = f"{DOMAIN_WORDS[self.domain]}: {self.rating.replace('_', ' ')}{cost} — {self.reason}"
        if self.overridden_from is not None:
            text += (
                f" Rule {self.rule} said {self.overridden_from.replace('_', ' ')}; {self.override}"
            )
        else:
            text += f" [{self.rule}]"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {"rating": self.rating, "downgrade": self.downgrade, "reason": self.reason,
                "rule": self.rule, "overridden_from": self.overridden_from,
                "override": self.override}  # fmt: skip


# ------------------------------------------------------------------------- the domain rules


def rate_risk_of_bias(
    weights: Sequence[float],
    concerns: Sequence[Concern | None],
    studies: Sequence[str],
    rule: RiskOfBiasRule,
) -> DomainRating:
    """Share of the weight from high-concern studies; unrated studies make it "not assessed".

    ``concerns[i]`` is study i's worst item concern, ``None`` when not every item is rated.
    High-concern weight at or above the cut-off rates down whatever the unrated studies are.
    """
    total = sum(weights)
    high = sum(w for w, c in zip(weights, concerns, strict=True) if c == Concern.high)
    unrated = sum(w for w, c in zip(weights, concerns, strict=True) if c is None)
    high_pct, unrated_pct = 100 * high / total, 100 * unrated / total
    n_studies = len(set(studies))
    n_unrated = len({s for s, c in zip(studies, concerns, strict=True) if c is None})
    tag = rule.version
    if high_pct >= rule.serious_high_weight_percent:
        cut = rule.serious_high_weight_percent
        return DomainRating("risk_of_bias", "serious",
                            f"{high_pct:.0f}% of the weight comes from studies at high risk of "
                            f"bias (cut-off {cut:g}%).", tag)  # fmt: skip
    if n_unrated:
        return DomainRating("risk_of_bias", "not_assessed",
                            f"{n_unrated} of {n_studies} studies "
                            f"({unrated_pct:.0f}% of the weight) are not fully rated; the "
                            "certainty is an upper bound.", tag)  # fmt: skip
    return DomainRating("risk_of_bias", "not_serious",
                        f"{high_pct:.0f}% of the weight from studies at high risk of bias "
                        f"(below {rule.serious_high_weight_percent:g}%).", tag)  # fmt: skip


def crossed(low: float, high: float, thresholds: Sequence[float]) -> list[float]:
    """The thresholds that lie strictly inside the interval (low, high)."""
    return [t for t in thresholds if low < t < high]


def _marks(values: Sequence[float]) -> str:
    return " and ".join(f"{t:g}%" for t in values)


def rate_inconsistency(
    i2: float,
    ci: tuple[float, float],
    pi: tuple[float, float],
    thresholds: Sequence[float],
    rule: InconsistencyRule,
) -> DomainRating:
    """I² first; then whether the prediction interval would change the conclusion.

    With thresholds: heterogeneity matters when the PI spans a threshold (twice when it spans
    two or more at a very high I²). Without: when the PI is much wider than the CI.
    """
    tag = rule.version
    if i2 < rule.i2_percent:
        return DomainRating("inconsistency", "not_serious",
                            f"I² {i2:.0f}% (below {rule.i2_percent:g}%).", tag)  # fmt: skip
    span = f"95% PI {pi[0]:.1f}–{pi[1]:.1f}%"
    if thresholds:
        hit = crossed(pi[0], pi[1], thresholds)
        n, marks = len(hit), _marks(hit)
        if n == 0:
            return DomainRating("inconsistency", "not_serious",
                                f"I² {i2:.0f}%, but the {span} crosses no threshold "
                                f"({_marks(thresholds)}): study differences do not change the "
                                "conclusion.",
                                tag)  # fmt: skip
        if n >= 2 and i2 >= rule.very_serious_i2_percent:
            return DomainRating("inconsistency", "very_serious",
                                f"I² {i2:.0f}% and the {span} crosses {marks}.",
                                tag)  # fmt: skip
        return DomainRating("inconsistency", "serious",
                            f"I² {i2:.0f}% and the {span} crosses {marks}.",
                            tag)  # fmt: skip
    ratio = (pi[1] - pi[0]) / (ci[1] - ci[0]) if ci[1] > ci[0] else math.inf
    if ratio > rule.pi_to_ci_width_ratio:
        return DomainRating("inconsistency", "serious",
                            f"I² {i2:.0f}% and the {span} is {ratio:.1f} times as wide as the "
                            f"95% CI (cut-off {rule.pi_to_ci_width_ratio:g}).", tag)  # fmt: skip
    return DomainRating("inconsistency", "not_serious",
                        f"I² {i2:.0f}%, but the {span} is only {ratio:.1f} times as wide as the "
                        f"95% CI (cut-off {rule.pi_to_ci_width_ratio:g}).", tag)  # fmt: skip


def optimal_information_size(p: float, half_width_pp: float, z: float = 1.959963984540054) -> int:
    """Participants needed to estimate a proportion ``p`` (0–1) within ± ``half_width_pp``."""
    d = half_width_pp / 100
    return math.ceil(z * z * p * (1 - p) / (d * d))


def rate_imprecision(
    estimate: float,
    ci: tuple[float, float],
    participants: int,
    thresholds: Sequence[float],
    rule: ImprecisionRule,
) -> DomainRating:
    """The CI against the declared thresholds (else a precision target); then the OIS.

    ``estimate`` and ``ci`` in percent. Crossing one threshold rates down once, two or more
    twice; a CI that crosses none still rates down once when the participants fall short of
    the optimal information size.
    """
    tag = rule.version
    ois = optimal_information_size(estimate / 100, rule.ois_half_width_pp)
    ci_text = f"95% CI {ci[0]:.1f}–{ci[1]:.1f}%"
    if thresholds:
        hit = crossed(ci[0], ci[1], thresholds)
        n, marks = len(hit), _marks(hit)
        if n >= 2:
            return DomainRating("imprecision", "very_serious",
                                f"the {ci_text} crosses {marks}.", tag)  # fmt: skip
        if n == 1:
            return DomainRating("imprecision", "serious",
                                f"the {ci_text} crosses {marks}.", tag)  # fmt: skip
        basis = f"the {ci_text} crosses no threshold ({_marks(thresholds)})"
    else:
        width = ci[1] - ci[0]
        if width > rule.very_serious_ci_width_pp:
            return DomainRating("imprecision", "very_serious",
                                f"no thresholds declared; the {ci_text} is {width:.1f} points "
                                f"wide (over {rule.very_serious_ci_width_pp:g}).", tag)  # fmt: skip
        if width > rule.serious_ci_width_pp:
            return DomainRating("imprecision", "serious",
                                f"no thresholds declared; the {ci_text} is {width:.1f} points "
                                f"wide (over {rule.serious_ci_width_pp:g}).", tag)  # fmt: skip
        basis = (f"no thresholds declared; the {ci_text} is {width:.1f} points wide "
                 f"(at most {rule.serious_ci_width_pp:g})")  # fmt: skip
    if participants < ois:
        return DomainRating("imprecision", "serious",
                            f"{basis}, but {participants} participants are fewer than the "
                            f"optimal information size of {ois}.", tag)  # fmt: skip
    return DomainRating("imprecision", "not_serious",
                        f"{basis}; {participants} participants reach the optimal information "
                        f"size of {ois}.", tag)  # fmt: skip


def rate_indirectness(
    weights: Sequence[float],
    on_target: Sequence[bool],
    off_target_labels: Sequence[str],
    rule: IndirectnessRule,
) -> DomainRating:
    """Share of the weight from cohorts outside the question's histologies."""
    total = sum(weights)
    off = sum(w for w, ok in zip(weights, on_target, strict=True) if not ok)
    pct = 100 * off / total
    tag = rule.version
    who = f" ({'; '.join(off_target_labels)})" if off_target_labels else ""
    if pct >= rule.serious_indirect_weight_percent:
        return DomainRating("indirectness", "serious",
                            f"{pct:.0f}% of the weight comes from cohorts outside large B-cell "
                            f"lymphoma{who}.", tag)  # fmt: skip
    if off:
        return DomainRating("indirectness", "not_serious",
                            f"{pct:.0f}% of the weight from cohorts outside large B-cell "
                            f"lymphoma{who}, below {rule.serious_indirect_weight_percent:g}%.",
                            tag)  # fmt: skip
    return DomainRating("indirectness", "not_serious",
                        "every cohort is large B-cell lymphoma in the analysis's population.",
                        tag)  # fmt: skip


def rate_publication_bias(
    yi: Sequence[float], vi: Sequence[float], rule: PublicationBiasRule
) -> DomainRating:
    """Egger-type regression test (metafor ``regtest``) from ``min_k`` studies; else untested."""
    k = len(yi)
    tag = rule.version
    if k < rule.min_k:
        return DomainRating("publication_bias", "not_assessable",
                            f"k = {k} < {rule.min_k}, too few studies for a "
                            "funnel asymmetry test; not rated down.", tag)  # fmt: skip
    test = regtest(list(yi), list(vi))
    if test.pval < rule.alpha:
        return DomainRating("publication_bias", "serious",
                            f"funnel asymmetry: Egger-type test p = {test.pval:.3f} "
                            f"(< {rule.alpha:g}).", tag)  # fmt: skip
    return DomainRating("publication_bias", "not_serious",
                        f"no funnel asymmetry detected: Egger-type test p = {test.pval:.3f} "
                        f"(≥ {rule.alpha:g}).", tag)  # fmt: skip


def apply_override(rating: DomainRating, override: Override | None) -> DomainRating:
    """The analyst's rating replaces the rule's; the rule's stays on record."""
    if override is None:
        return rating
    log = (f"overridden by {override.analyst} on {override.date} ({override.file}:"
           f"{override.line}): {override.reason}")  # fmt: skip
    return replace(rating, rating=override.rating, overridden_from=rating.rating, override=log)


def combine(start: Level, ratings: Sequence[DomainRating]) -> tuple[Level, bool]:
    """Start level minus the downgrades (never below very low); upper bound if any not assessed."""
    index = LEVELS.index(start) - sum(r.downgrade for r in ratings)
    return LEVELS[max(index, 0)], any(r.rating == "not_assessed" for r in ratings)


# --------------------------------------------------------------------- one pooled analysis


@dataclass(frozen=True)
class Certainty:
    """GRADE for one pooled outcome: start, each domain, the result and the reasons."""

    analysis: str
    title: str
    population: str
    kind: EvidenceKind
    start: Level
    level: Level
    upper_bound: bool
    domains: tuple[DomainRating, ...]
    k: int
    participants: int
    estimate: tuple[float, float, float]
    rules_version: str

    @property
    def label(self) -> str:
        """``Moderate``, or ``≤ Moderate`` when a domain is not assessed."""
        return ("≤ " if self.upper_bound else "") + LEVEL_WORDS[self.level]

    def reasons(self) -> str:
        """Every domain that lowered or bounded the certainty, in words (else "no concerns")."""
        parts = [f"Starts {LEVEL_WORDS[self.start].lower()} ({self.kind.replace('_', ' ')} "
                 "evidence)."]  # fmt: skip
        flagged = [d for d in self.domains if d.downgrade or d.rating == "not_assessed"]
        parts += [d.words() for d in flagged] or ["No domain rated down."]
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON view (``results.json`` → ``certainty``; ``--compare`` reads ``level``)."""
        return {
            "title": self.title, "kind": self.kind, "start": self.start, "level": self.level,
            "upper_bound": self.upper_bound, "label": self.label, "k": self.k,
            "participants": self.participants,
            "estimate_percent": [round(v, 6) for v in self.estimate],
            "rules_version": self.rules_version,
            "domains": {d.domain: d.to_dict() for d in self.domains},
        }  # fmt: skip


def measure_of(name: str, declared: Sequence[str]) -> str | None:
    """The declared outcome key an analysis name ends with (longest match)."""
    hits = [key for key in declared if name == key or name.endswith("_" + key)]
    return max(hits, key=len) if hits else None


def rate(
    pooled: Pooled,
    evidence: Evidence,
    rob: RiskOfBias,
    rules: GradeRules,
    overrides: Sequence[Override] = (),
    kind: EvidenceKind = "prognostic",
) -> Certainty | None:
    """GRADE for one pooled analysis (``None`` when nothing was pooled)."""
    head = pooled.headline()
    if head is None or pooled.primary is None:
        return None
    weights = [r.weight or 0.0 for r in pooled.rows]
    studies = [r.study_key for r in pooled.rows]
    participants = sum(r.n or 0 for r in pooled.rows)
    key = measure_of(pooled.name, list(rules.outcomes))
    thresholds = rules.outcomes[key].thresholds if key is not None else []
    targets = set(rules.indirectness.target_diseases)
    on_target, off_labels = [], []
    for r in pooled.rows:
        cohort = evidence.cohort(r.cohort_key)
        disease = cohort.disease or evidence.study(r.study_key).disease
        on_target.append(disease in targets)
        if disease not in targets:
            off_labels.append(f"{r.label}: {disease.value}")
    ratings = [
        rate_risk_of_bias(weights, [rob.study_concern(s) for s in studies], studies,
                          rules.risk_of_bias),
        rate_inconsistency(pooled.primary.i2, (head[1], head[2]), (head[3], head[4]),
                           thresholds, rules.inconsistency),
        rate_indirectness(weights, on_target, off_labels, rules.indirectness),
        rate_imprecision(head[0], (head[1], head[2]), participants, thresholds,
                         rules.imprecision),
        rate_publication_bias(pooled.yi, pooled.vi, rules.publication_bias),
    ]  # fmt: skip
    by_domain = {(o.analysis, o.domain): o for o in overrides}
    ratings = [apply_override(r, by_domain.get((pooled.name, r.domain))) for r in ratings]
    start: Level = getattr(rules.start, kind)
    level, bound = combine(start, ratings)
    return Certainty(pooled.name, pooled.title, pooled.population, kind, start, level, bound,
                     tuple(ratings), pooled.k, participants, (head[0], head[1], head[2]),
                     rules.version)  # fmt: skip
