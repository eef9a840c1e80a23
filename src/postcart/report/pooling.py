"""What the review lacked: random-effects pooling of every outcome that two or more studies report.

Event proportions: binomial-normal GLMM (t-based CI and prediction interval) with logit
REML-HKSJ as sensitivity. Kaplan–Meier landmark rates: inverse variance on the log(−log)
scale from reported CIs (cohort size only: a labelled approximation), REML-HKSJ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from postcart.evidence import Cohort, Evidence, Outcome
from postcart.report.selection import Chosen, Skipped, choose, denominator, has_events
from postcart.stats import MetaResult, escalc, rma
from postcart.stats.glmm import rma_glmm
from postcart.stats.influence import leave1out
from postcart.stats.landmark import back_interval, back_transform, landmark_effects

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


@dataclass(frozen=True)
class Pooled:
    """One analysis: the studies, the primary and sensitivity fits, and what was left out."""

    name: str
    title: str
    kind: Kind
    method: str
    rows: tuple[StudyRow, ...]
    skipped: tuple[Skipped, ...]
    primary: MetaResult | None = None
    sensitivity: MetaResult | None = None
    sensitivity_label: str = ""
    loo: tuple[tuple[str, float, float, float], ...] = ()
    notes: tuple[str, ...] = ()
    yi: tuple[float, ...] = field(default=(), repr=False)
    vi: tuple[float, ...] = field(default=(), repr=False)

    @property
    def k(self) -> int:
        """Number of studies with usable data."""
        return len(self.rows)

    @property
    def pooled(self) -> bool:
        """Whether a pooled estimate exists (k ≥ 2 and the primary fit converged)."""
        return self.primary is not None and self.primary.status == "ok"

    def headline(self) -> tuple[float, float, float, float, float] | None:
        """Pooled %, CI and PI on the percent scale (primary model)."""
        if self.primary is None or not self.pooled:
            return None
        return _percent_back(self.primary, self.kind)

    def to_dict(self) -> dict[str, Any]:
        """JSON view: every number, every study, every exclusion and the method."""
        head = self.headline()
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "method": self.method,
            "k": self.k,
            "status": "pooled" if self.pooled else "not pooled",
            "pooled_percent": None if head is None else _r(head[0]),
            "ci_percent": None if head is None else [_r(head[1]), _r(head[2])],
            "pi_percent": None if head is None else [_r(head[3]), _r(head[4])],
            "primary": None if self.primary is None else _clean(self.primary.to_dict()),
            "sensitivity_label": self.sensitivity_label,
            "sensitivity": None if self.sensitivity is None else _clean(self.sensitivity.to_dict()),
            "sensitivity_percent": None
            if self.sensitivity is None or self.sensitivity.status != "ok"
            else [_r(v) for v in _percent_back(self.sensitivity, self.kind)[:3]],
            "studies": [_clean(vars(row)) for row in self.rows],
            "leave_one_out": [
                {"omitted": o, "percent": _r(e), "ci_percent": [_r(lo), _r(hi)]}
                for o, e, lo, hi in self.loo
            ],
            "skipped": [{"study": s.study.key, "reason": s.reason} for s in self.skipped],
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


def _percent_back(fit: MetaResult, kind: Kind) -> tuple[float, float, float, float, float]:
    """Estimate, CI and PI back on the percent scale."""
    if kind == "proportion":
        b = fit.back
        if math.isfinite(b.estimate):
            return (100 * b.estimate, 100 * b.ci_low, 100 * b.ci_high,
                    100 * b.pi_low, 100 * b.pi_high)  # fmt: skip
        est = 100 * float(back_transform(fit.estimate, "logit"))
        lo, hi = back_interval(fit.ci_low, fit.ci_high, "logit")
        plo, phi = back_interval(fit.pi_low, fit.pi_high, "logit")
        return est, 100 * lo, 100 * hi, 100 * plo, 100 * phi
    est = 100 * float(back_transform(fit.estimate, "cloglog"))
    lo, hi = back_interval(fit.ci_low, fit.ci_high, "cloglog")
    plo, phi = (
        back_interval(fit.pi_low, fit.pi_high, "cloglog")
        if math.isfinite(fit.pi_low)
        else (math.nan, math.nan)
    )
    return est, 100 * lo, 100 * hi, 100 * plo, 100 * phi


def landmark_usable(outcome: Outcome, cohort: Cohort) -> bool:
    """A KM rate strictly between 0 and 100 with a CI or at least a cohort size."""
    if outcome.value is None or not 0 < outcome.value < 100:
        return False
    has_ci = outcome.ci_low is not None and outcome.ci_high is not None
    return has_ci or cohort.n is not None


def pool_proportion(
    name: str,
    title: str,
    evidence: Evidence,
    eligible: Callable[[Cohort], bool],
    wanted: Callable[[Outcome], bool],
) -> Pooled:
    """Event proportions: GLMM primary, logit REML-HKSJ sensitivity, leave-one-out on the latter."""
    chosen, skipped = choose(evidence, eligible, wanted, has_events)
    xi = np.array([float(c.outcome.events or 0) for c in chosen])
    ni = np.array([float(denominator(c.outcome, c.cohort) or 0) for c in chosen])
    if len(chosen) < 2:
        rows = tuple(_proportion_row(c, None) for c in chosen)
        return Pooled(name, title, "proportion", PROPORTION_METHOD, rows, tuple(skipped),
                      notes=(_thin(len(chosen)),))  # fmt: skip
    primary = rma_glmm(xi, ni, measure="PLO", test="t")
    es = escalc("PLO", xi=xi, ni=ni)
    sens = rma(es.yi, es.vi, method="REML", test="knha", measure="PLO")
    rows = tuple(_proportion_row(c, w) for c, w in zip(chosen, sens.weights, strict=True))
    loo = _loo(chosen, es.yi, es.vi, "proportion")
    return Pooled(
        name, title, "proportion", PROPORTION_METHOD, rows, tuple(skipped), primary, sens,
        "two-step logit, REML, HKSJ", loo, _warnings(primary, sens),
        tuple(float(v) for v in es.yi), tuple(float(v) for v in es.vi),
    )  # fmt: skip


def pool_landmark(
    name: str,
    title: str,
    evidence: Evidence,
    eligible: Callable[[Cohort], bool],
    wanted: Callable[[Outcome], bool],
) -> Pooled:
    """KM landmark rates by inverse variance; approximated precision is labelled per study."""
    chosen, skipped = choose(evidence, eligible, wanted, landmark_usable)
    if len(chosen) < 2:
        rows = tuple(_landmark_row(c, None, "") for c in chosen)
        return Pooled(name, title, "landmark", LANDMARK_METHOD, rows, tuple(skipped),
                      notes=(_thin(len(chosen)),))  # fmt: skip
    effects = landmark_effects(
        [c.outcome.value or 0.0 for c in chosen],
        ci_low=[c.outcome.ci_low for c in chosen],
        ci_high=[c.outcome.ci_high for c in chosen],
        n=[c.cohort.n for c in chosen],
        scale="cloglog",
        level=DEFAULT_CI_LEVEL,
        unit="percent",
    )
    primary = rma(effects.yi, effects.vi, method="REML", test="knha")
    logit = landmark_effects(
        [c.outcome.value or 0.0 for c in chosen],
        ci_low=[c.outcome.ci_low for c in chosen],
        ci_high=[c.outcome.ci_high for c in chosen],
        n=[c.cohort.n for c in chosen],
        scale="logit",
        unit="percent",
    )
    sens = rma(logit.yi, logit.vi, method="REML", test="knha", measure="PLO")
    rows = tuple(
        _landmark_row(c, w, src)
        for c, w, src in zip(chosen, primary.weights, effects.source, strict=True)
    )
    notes = list(_warnings(primary, sens))
    if effects.any_approximated:
        notes.append("Some studies' precision is approximated from n only (see Precision).")
    return Pooled(
        name, title, "landmark", LANDMARK_METHOD, rows, tuple(skipped), primary, sens,
        "logit scale, REML, HKSJ", _loo(chosen, effects.yi, effects.vi, "landmark"),
        tuple(notes), tuple(float(v) for v in effects.yi), tuple(float(v) for v in effects.vi),
    )  # fmt: skip


def _thin(k: int) -> str:
    if k == 0:
        return "No study reports usable data for this outcome: nothing to pool."
    return "Only one study reports usable data (k = 1): shown, not pooled."


def _warnings(*fits: MetaResult) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for fit in fits for w in fit.warnings))


def _loo(
    chosen: list[Chosen], yi: Any, vi: Any, kind: Kind
) -> tuple[tuple[str, float, float, float], ...]:
    """Leave-one-out on the two-step model (k ≥ 3), back on the percent scale."""
    if len(chosen) < 3:
        return ()
    out = leave1out(yi, vi, method="REML", test="knha")
    scale: Literal["logit", "cloglog"] = "logit" if kind == "proportion" else "cloglog"
    rows = []
    for i, c in enumerate(chosen):
        est = 100 * float(back_transform(out.estimate[i], scale))
        lo, hi = back_interval(float(out.ci_low[i]), float(out.ci_high[i]), scale)
        rows.append((c.study.name, est, 100 * lo, 100 * hi))
    return tuple(rows)


def _proportion_row(c: Chosen, weight: float | None) -> StudyRow:
    n = denominator(c.outcome, c.cohort)
    events = c.outcome.events
    value = 100 * events / n if events is not None and n else math.nan
    return StudyRow(
        label=c.study.name, study_key=c.study.key, cohort_key=c.cohort.key,
        outcome_ref=c.outcome.ref, value=value, ci_low=None, ci_high=None, events=events, n=n,
        weight=weight, precision=f"events {c.outcome.events_basis.value}",
    )  # fmt: skip


def _landmark_row(c: Chosen, weight: float | None, source: str) -> StudyRow:
    labels = {"ci": "reported CI", "ci_half": "reported CI (one end)", "se": "reported SE",
              "n_approx": "approximation from n (S(1−S)/n)"}  # fmt: skip
    return StudyRow(
        label=c.study.name, study_key=c.study.key, cohort_key=c.cohort.key,
        outcome_ref=c.outcome.ref, value=float(c.outcome.value or math.nan),
        ci_low=c.outcome.ci_low, ci_high=c.outcome.ci_high, events=None, n=c.cohort.n,
        weight=weight, precision=labels.get(source, source),
    )  # fmt: skip
