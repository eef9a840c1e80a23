"""What the review lacked: random-effects pooling of every outcome that two or more studies report.

Event proportions: binomial-normal GLMM (t-based CI and prediction interval) with logit
REML-HKSJ as sensitivity. Kaplan–Meier landmark rates: inverse variance on the log(−log)
scale from reported CIs (cohort size only: a labelled approximation), REML-HKSJ.

Every fit carries its own back-transform (``MetaResult.back``); this module never inverts a
link by hand. Each analysis names its population and lists every study it left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from postcart.evidence import Evidence, Outcome
from postcart.evidence.events import event_bounds
from postcart.evidence.vocab import EventsBasis
from postcart.report.populations import BASIS_LABEL, Population
from postcart.report.selection import (
    Chosen,
    Selection,
    Skipped,
    choose,
    denominator,
    has_events,
)
from postcart.stats import MetaResult, escalc, rma
from postcart.stats.glmm import rma_glmm
from postcart.stats.influence import leave1out
from postcart.stats.landmark import (
    back_interval,
    back_transform,
    landmark_effects,
    pool_rates,
)

Kind = Literal["proportion", "landmark"]

PROPORTION_METHOD = (
    "Binomial-normal GLMM (random-intercept logistic model, ML, adaptive quadrature; metafor "
    "rma.glmm measure='PLO'), t-based 95% CI and prediction interval with k−1 df. Sensitivity: "
    "two-step logit model, REML τ², Knapp–Hartung (HKSJ) CI. Pooled value = inverse logit of "
    "the pooled logit (the median study proportion)."
)
LANDMARK_METHOD = (
    "Inverse-variance random effects on the log(−log S) scale, REML τ², Knapp–Hartung (HKSJ) "
    "CI and prediction interval; each study's SE from its reported 95% CI, or, where only the "
    "cohort size is known, the binomial approximation S(1−S)/n (labelled: ignores censoring)."
)
#: Landmark precision from a CI needs the CI's level; the curated CIs are 95% unless stated.
DEFAULT_CI_LEVEL = 95.0
#: τ² below this counts as "at the boundary" (estimated as zero) for the plain-words warning.
TAU2_BOUNDARY = 1e-8
_EVENTS_LABEL = {
    EventsBasis.reported: "events printed",
    EventsBasis.derived_exact: "events derived exactly from the %",
    EventsBasis.approximate: "events ≈ % × n (approximate)",
}


@dataclass(frozen=True)
class StudyRow:
    """One study's contribution, in percent, with the keys needed to trace it."""

    label: str
    study_key: str
    cohort_key: str
    outcome_ref: str
    value: float
    ci_low: float | None
    ci_high: float | None
    events: int | None
    n: int | None
    weight: float | None
    precision: str
    basis: str = ""
    events_basis: str = ""
    #: The value as the source printed it (a proportion's ``value`` is events/n, which for
    #: approximate events carries more precision than the source gave).
    reported: float | None = None


@dataclass(frozen=True)
class Pooled:
    """One analysis: population, studies, primary and sensitivity fits, and what was left out."""

    name: str
    title: str
    kind: Kind
    method: str
    population: str
    rows: tuple[StudyRow, ...]
    skipped: tuple[Skipped, ...]
    primary: MetaResult | None = None
    sensitivity: MetaResult | None = None
    sensitivity_label: str = ""
    loo: tuple[tuple[str, float, float, float], ...] = ()
    notes: tuple[str, ...] = ()
    yi: tuple[float, ...] = field(default=(), repr=False)
    vi: tuple[float, ...] = field(default=(), repr=False)
    #: Pooled % with every approximate event count at its lowest, then highest, admissible value.
    rounding: tuple[float, float] | None = None
    #: (what was swapped in, pooled %) for each alternative member of an overlap group.
    overlap_swaps: tuple[tuple[str, float], ...] = ()
    possible_overlaps: tuple[str, ...] = ()
    #: What the population leaves out, in words (printed once per table, not per row).
    population_detail: str = ""

    @property
    def k(self) -> int:
        """Number of cohorts with usable data (studies, or disjoint arms of one)."""
        return len(self.rows)

    @property
    def pooled(self) -> bool:
        """Whether a pooled estimate exists (k ≥ 2 and the primary fit converged)."""
        return self.primary is not None and self.primary.status == "ok"

    def headline(self) -> tuple[float, float, float, float, float] | None:
        """Pooled %, CI and PI on the percent scale (primary model's own back-transform)."""
        if self.primary is None or not self.pooled:
            return None
        return percent(self.primary)

    def sensitivity_percent(self) -> tuple[float, float, float] | None:
        """The sensitivity model's pooled % and CI (its own back-transform)."""
        if self.sensitivity is None or self.sensitivity.status != "ok":
            return None
        return percent(self.sensitivity)[:3]

    def guard(self) -> str:
        """What the interval means, in plain words, when the data are thin or τ² is zero."""
        if not self.pooled or self.primary is None:
            return ""
        words = []
        if self.k == 2:
            words.append(
                "Only two studies: the 95% CI uses a t distribution with 1 degree of freedom, so "
                "it is very wide and mostly says how little two studies can tell; read the two "
                "study values rather than the pooled number."
            )
        if self.primary.tau2 < TAU2_BOUNDARY:
            words.append(
                "Between-study variance was estimated as zero (τ² at its boundary): this does "
                "not show the studies agree, only that too few or too imprecise studies cannot "
                "detect their differences; the prediction interval then understates them."
            )
        return " ".join(words)

    def to_dict(self) -> dict[str, Any]:
        """JSON view: every number, every study, every exclusion and the method."""
        head = self.headline()
        sens = self.sensitivity_percent()
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "method": self.method,
            "population": self.population,
            "population_detail": self.population_detail,
            "k": self.k,
            "status": "pooled" if self.pooled else "not pooled",
            "pooled_percent": None if head is None else _r(head[0]),
            "ci_percent": None if head is None else [_r(head[1]), _r(head[2])],
            "pi_percent": None if head is None else [_r(head[3]), _r(head[4])],
            "primary": None if self.primary is None else _clean(self.primary.to_dict()),
            "sensitivity_label": self.sensitivity_label,
            "sensitivity": None if self.sensitivity is None else _clean(self.sensitivity.to_dict()),
            "sensitivity_percent": None if sens is None else [_r(v) for v in sens],
            "rounding_percent": None if self.rounding is None else [_r(v) for v in self.rounding],
            "overlap_swaps": [{"swapped_in": s, "percent": _r(v)} for s, v in self.overlap_swaps],
            "possible_overlaps": list(self.possible_overlaps),
            "guard": self.guard(),
            "studies": [_clean(vars(row)) for row in self.rows],
            "leave_one_out": [
                {"omitted": o, "percent": _r(e), "ci_percent": [_r(lo), _r(hi)]}
                for o, e, lo, hi in self.loo
            ],
            "skipped": [
                {"study": s.study.key, "name": s.study.name, "reason": s.reason}
                for s in self.skipped
            ],
            "notes": list(self.notes),
        }


def _r(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 6)


def _clean(obj: Any) -> Any:
    """Round floats to 10 significant digits so JSON is stable across platforms."""
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else float(f"{obj:.10g}")
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def percent(fit: MetaResult) -> tuple[float, float, float, float, float]:
    """Estimate, CI and PI in percent, from the fit's own back-transform."""
    b = fit.back
    return (100 * b.estimate, 100 * b.ci_low, 100 * b.ci_high, 100 * b.pi_low, 100 * b.pi_high)


def landmark_usable(outcome: Outcome, cohort: Any) -> str | None:
    """A KM rate strictly between 0 and 100 with a CI or at least a cohort size."""
    if outcome.value is None or not 0 < outcome.value < 100:
        return "a rate of 0 or 100 % has no usable variance on the log(−log) scale"
    if outcome.ci_low is not None and outcome.ci_high is not None:
        return None
    if cohort.n is None:
        return "no CI and no cohort size to approximate its precision"
    return None


def _counts(chosen: list[Chosen]) -> tuple[np.ndarray, np.ndarray]:
    xi = np.array([float(c.outcome.events or 0) for c in chosen])
    ni = np.array([float(denominator(c.outcome, c.cohort) or 0) for c in chosen])
    return xi, ni


def _glmm_percent(xi: np.ndarray, ni: np.ndarray) -> float:
    fit = rma_glmm(xi, ni, measure="PLO", test="t")
    return 100 * fit.back.estimate if fit.status == "ok" else math.nan


def _rounding(chosen: list[Chosen], xi: np.ndarray, ni: np.ndarray) -> tuple[float, float] | None:
    """Pooled % with every approximate count at its lowest, then its highest admissible value."""
    low, high = xi.copy(), xi.copy()
    any_approx = False
    for i, c in enumerate(chosen):
        if c.outcome.events_basis != EventsBasis.approximate or c.outcome.value is None:
            continue
        bounds = event_bounds(_printed(c.outcome.value), int(ni[i]))
        if bounds is None:
            continue
        any_approx = True
        low[i], high[i] = bounds
    if not any_approx:
        return None
    return _glmm_percent(low, ni), _glmm_percent(high, ni)


def _printed(value: float) -> str:
    """The percentage without trailing zeros: a file's "73.0" is read as "73", whose
    rounding interval (72.5–73.5) contains the narrower one, so the bounds stay conservative."""
    return f"{value:.10g}"


def pool_proportion(
    name: str,
    title: str,
    evidence: Evidence,
    population: Population,
    wanted: Any,
) -> Pooled:
    """Event proportions: GLMM primary, logit REML-HKSJ sensitivity, leave-one-out on the latter."""
    sel = choose(evidence, population, wanted, has_events)
    chosen = sel.chosen
    xi, ni = _counts(chosen)
    if len(chosen) < 2:
        rows = tuple(_proportion_row(c, None) for c in chosen)
        return Pooled(name, title, "proportion", PROPORTION_METHOD, population.describe(), rows,
                      tuple(sel.skipped), notes=(_thin(len(chosen)),),
                      possible_overlaps=tuple(sel.possible_overlaps),
                      population_detail=population.detail)  # fmt: skip
    primary = rma_glmm(xi, ni, measure="PLO", test="t")
    es = escalc("PLO", xi=xi, ni=ni)
    sens = rma(es.yi, es.vi, method="REML", test="knha", measure="PLO")
    rows = tuple(_proportion_row(c, w) for c, w in zip(chosen, sens.weights, strict=True))
    loo = _loo(chosen, es.yi, es.vi, "logit")
    notes = list(_warnings(primary, sens))
    if any(c.outcome.events_basis == EventsBasis.approximate for c in chosen):
        notes.append("Some event counts are approximate (% × n); see the rounding sensitivity.")
    return Pooled(
        name, title, "proportion", PROPORTION_METHOD, population.describe(), rows,
        tuple(sel.skipped), primary, sens, "two-step logit, REML, HKSJ", loo, tuple(notes),
        tuple(float(v) for v in es.yi), tuple(float(v) for v in es.vi),
        rounding=_rounding(chosen, xi, ni),
        overlap_swaps=_swaps(sel, lambda cs: _glmm_percent(*_counts(cs))),
        possible_overlaps=tuple(sel.possible_overlaps),
        population_detail=population.detail,
    )  # fmt: skip


def _landmark_effects(chosen: list[Chosen], scale: Literal["logit", "cloglog"]) -> Any:
    return landmark_effects(
        [c.outcome.value or 0.0 for c in chosen],
        ci_low=[c.outcome.ci_low for c in chosen],
        ci_high=[c.outcome.ci_high for c in chosen],
        n=[c.cohort.n for c in chosen],
        scale=scale,
        level=DEFAULT_CI_LEVEL,
        unit="percent",
    )


def _landmark_percent(chosen: list[Chosen]) -> float:
    if len(chosen) < 2:
        return math.nan
    fit = pool_rates(_landmark_effects(chosen, "cloglog"))
    return 100 * fit.back.estimate if fit.status == "ok" else math.nan


def pool_landmark(
    name: str,
    title: str,
    evidence: Evidence,
    population: Population,
    wanted: Any,
) -> Pooled:
    """KM landmark rates by inverse variance; approximated precision is labelled per study."""
    sel = choose(evidence, population, wanted, landmark_usable)
    chosen = sel.chosen
    if len(chosen) < 2:
        rows = tuple(_landmark_row(c, None, "") for c in chosen)
        return Pooled(name, title, "landmark", LANDMARK_METHOD, population.describe(), rows,
                      tuple(sel.skipped), notes=(_thin(len(chosen)),),
                      possible_overlaps=tuple(sel.possible_overlaps),
                      population_detail=population.detail)  # fmt: skip
    effects = _landmark_effects(chosen, "cloglog")
    primary = pool_rates(effects)
    sens = pool_rates(_landmark_effects(chosen, "logit"))
    rows = tuple(
        _landmark_row(c, w, src)
        for c, w, src in zip(chosen, primary.weights, effects.source, strict=True)
    )
    notes = list(_warnings(primary, sens))
    if effects.any_approximated:
        notes.append("Some studies' precision is approximated from n only (see Precision).")
    return Pooled(
        name, title, "landmark", LANDMARK_METHOD, population.describe(), rows,
        tuple(sel.skipped), primary, sens, "logit scale, REML, HKSJ",
        _loo(chosen, effects.yi, effects.vi, "cloglog"), tuple(notes),
        tuple(float(v) for v in effects.yi), tuple(float(v) for v in effects.vi),
        overlap_swaps=_swaps(sel, _landmark_percent),
        possible_overlaps=tuple(sel.possible_overlaps),
        population_detail=population.detail,
    )  # fmt: skip


def _swaps(sel: Selection, refit: Any) -> tuple[tuple[str, float], ...]:
    """The pooled % with each overlap group's other members standing in for the kept one."""
    out = []
    for choice in sel.overlaps:
        for other in choice.others:
            swapped = [other if c is choice.kept else c for c in sel.chosen]
            out.append((f"{other.label} instead of {choice.kept.label}", float(refit(swapped))))
    return tuple(out)


def _thin(k: int) -> str:
    if k == 0:
        return "No study reports usable data for this outcome: nothing to pool."
    return "Only one study reports usable data (k = 1): shown, not pooled."


def _warnings(*fits: MetaResult) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for fit in fits for w in fit.warnings))


def _loo(
    chosen: list[Chosen], yi: Any, vi: Any, scale: Literal["logit", "cloglog"]
) -> tuple[tuple[str, float, float, float], ...]:
    """Leave-one-out on the two-step model (k ≥ 3), back on the percent scale."""
    if len(chosen) < 3:
        return ()
    out = leave1out(yi, vi, method="REML", test="knha")
    rows = []
    for i, c in enumerate(chosen):
        est = 100 * float(back_transform(out.estimate[i], scale))
        lo, hi = back_interval(float(out.ci_low[i]), float(out.ci_high[i]), scale)
        rows.append((c.label, est, 100 * lo, 100 * hi))
    return tuple(rows)


def _basis(c: Chosen) -> str:
    return BASIS_LABEL[c.outcome.denominator_basis or c.cohort.denominator_basis]


def _proportion_row(c: Chosen, weight: float | None) -> StudyRow:
    n = denominator(c.outcome, c.cohort)
    events = c.outcome.events
    value = 100 * events / n if events is not None and n else math.nan
    return StudyRow(
        label=c.label, study_key=c.study.key, cohort_key=c.cohort.key,
        outcome_ref=c.outcome.ref, value=value, ci_low=None, ci_high=None, events=events, n=n,
        weight=weight, precision=_EVENTS_LABEL.get(c.outcome.events_basis, ""),
        basis=_basis(c), events_basis=c.outcome.events_basis.value, reported=c.outcome.value,
    )  # fmt: skip


def _landmark_row(c: Chosen, weight: float | None, source: str) -> StudyRow:
    labels = {"ci": "reported CI", "ci_half": "reported CI (one end)", "se": "reported SE",
              "n_approx": "approximation from n (S(1−S)/n)"}  # fmt: skip
    return StudyRow(
        label=c.label, study_key=c.study.key, cohort_key=c.cohort.key,
        outcome_ref=c.outcome.ref, value=float(c.outcome.value or math.nan),
        ci_low=c.outcome.ci_low, ci_high=c.outcome.ci_high, events=None, n=c.cohort.n,
        weight=weight, precision=labels.get(source, source), basis=_basis(c),
    )  # fmt: skip
