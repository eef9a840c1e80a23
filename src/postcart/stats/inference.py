"""Pooled estimate, its test, confidence and prediction intervals, as ``rma.uni``/``predict``.

metafor's four tests, which differ in two choices:

* ``"z"``: Wald, normal critical value, variance 1/Σw.
* ``"t"``: the same variance with t on k − 1 df.
* ``"knha"``: Knapp–Hartung: t on k − 1 df, the variance rescaled by the weighted residual
  mean square s² = Σwᵢ(yᵢ − μ̂)²/(k − 1). metafor lets s² fall below 1, which can make the
  interval *narrower* than Wald's when the studies agree more than their variances imply.
* ``"adhoc"``: Knapp–Hartung with s² floored at 1 (Knapp & Hartung's ad hoc variance
  correction; PyMARE's "conservative"), so the interval is never narrower than with ``"t"``.

The prediction interval is metafor's ``predict()`` interval: the same critical value as the
CI, with sqrt(se² + τ²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from postcart.stats._checks import FloatArray

#: Tests, spelled as metafor's ``rma.uni(test=)``.
TESTS: tuple[str, ...] = ("z", "t", "knha", "adhoc")
#: Tests that use t with k − p df (the others are Wald z).
T_TESTS: frozenset[str] = frozenset({"t", "knha", "adhoc"})
#: Tests that rescale the variance by the weighted residual mean square.
RESCALED_TESTS: frozenset[str] = frozenset({"knha", "adhoc"})

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
    yi: FloatArray, vi: FloatArray, tau2: float, *, test: str, alpha: float
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
    half_pi = crit * math.sqrt(se**2 + tau2)
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
