"""Pooled estimate, its test, confidence and prediction intervals, as ``rma.uni``/``predict``.

metafor's four tests, which differ in two choices:

* ``"z"``: Wald, normal critical value, variance 1/Σw.
* ``"t"``: the same variance with t on k − 1 df.
* ``"knha"``: Knapp–Hartung: t on k − 1 df, the variance rescaled by the weighted residual
  mean square s² = Σwᵢ(yᵢ − μ̂)²/(k − 1). metafor lets s² fall below 1, which can make the
  interval *narrower* than Wald's when the studies agree more than their variances imply.
* ``"adhoc"``: Knapp–Hartung with s² floored at 1 (Knapp & Hartung's ad hoc variance
  correction; PyMARE's "conservative"), so the interval is never narrower than with ``"t"``.

The prediction interval is metafor's ``predict()`` interval, est ± crit·sqrt(se² + τ²), with
the critical value chosen by ``pi_type`` (metafor's ``predict(..., pi.type=)``):

* ``"default"``: the CI's critical value (z, or t on k − 1 df under t/knha/adhoc).
* ``"riley"``: t on k − 2 df whatever the test (Riley, Higgins & Deeks 2011, BMJ 342:d549):
  one df is spent on the mean and one on τ², which matters most when k is small, where a
  z-based interval is far too narrow. metafor floors the df at 1 (k ≤ 3 all give t₁).
* ``"t"``: t on k − 1 df whatever the test (df floored at 1).
* ``"simple"``: z with se² left out, est ± z·τ (the interval of the effects themselves, as
  if μ were known).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy import stats

from postcart.stats._checks import FloatArray

#: Tests, spelled as metafor's ``rma.uni(test=)``.
TESTS: tuple[str, ...] = ("z", "t", "knha", "adhoc")
#: Tests that use t with k − p df (the others are Wald z).
T_TESTS: frozenset[str] = frozenset({"t", "knha", "adhoc"})
#: Tests that rescale the variance by the weighted residual mean square.
RESCALED_TESTS: frozenset[str] = frozenset({"knha", "adhoc"})

#: Prediction-interval types, spelled as metafor's ``predict(pi.type=)``.
PiType = Literal["default", "riley", "t", "simple"]
PI_TYPES: tuple[str, ...] = get_args(PiType)

#: R's ``.Machine$double.eps``: metafor treats a Knapp–Hartung RSS at or below it as zero.
DOUBLE_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, slots=True)
class Inference:
    """Everything about the pooled estimate on the analysis scale."""

    estimate: float
    se: float
    stat: float
    pval: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    df: float
    weights: FloatArray
    knha_factor: float


def pooled_inference(
    yi: FloatArray,
    vi: FloatArray,
    tau2: float,
    *,
    test: str,
    alpha: float,
    pi_type: PiType = "default",
) -> Inference:
    """Inverse-variance pooled estimate with ``z``, ``t``, ``knha`` or ``adhoc`` inference."""
    k = len(yi)
    wi = 1.0 / (vi + tau2)
    total = float(np.sum(wi))
    estimate = float(np.sum(wi * yi) / total)
    variance = 1.0 / total
    factor = 1.0
    if test in RESCALED_TESTS:
        rss = float(np.sum(wi * (yi - estimate) ** 2))
        factor = 0.0 if rss <= DOUBLE_EPS else rss / (k - 1)
        if test == "adhoc":
            factor = max(1.0, factor)
        variance *= factor
    se = math.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.float64(estimate) / np.float64(se))
    if test in T_TESTS:
        df = float(k - 1)
        pval = float(2 * stats.t.sf(abs(stat), df))
        crit = float(stats.t.isf(alpha / 2, df))
    else:
        df = math.inf
        pval = float(2 * stats.norm.sf(abs(stat)))
        crit = float(stats.norm.isf(alpha / 2))
    pi_crit, pi_se = prediction_critical_value(pi_type, k, crit, se, alpha)
    half_pi = pi_crit * math.sqrt(pi_se**2 + tau2)
    return Inference(
        estimate=estimate,
        se=se,
        stat=stat,
        pval=pval,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        pi_low=estimate - half_pi,
        pi_high=estimate + half_pi,
        df=df,
        weights=100 * wi / total,
        knha_factor=factor,
    )


def prediction_critical_value(
    pi_type: PiType, k: int, ci_crit: float, se: float, alpha: float
) -> tuple[float, float]:
    """Critical value and standard error of μ̂ that enter the prediction interval.

    Mirrors ``predict.rma`` (metafor 3.8-1) for an intercept-only random-effects model: Riley
    uses ``k − p − 1`` df, ``"t"`` uses ``k − p``, both floored at 1; the se is the fit's (so
    Knapp–Hartung-scaled under knha), except for ``"simple"``, which drops it.
    """
    if pi_type == "default":
        return ci_crit, se
    if pi_type == "simple":
        return float(stats.norm.isf(alpha / 2)), 0.0
    df = max(1.0, float(k - 2 if pi_type == "riley" else k - 1))
    return float(stats.t.isf(alpha / 2, df)), se
