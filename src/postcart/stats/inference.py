"""Pooled estimate, its test, confidence and prediction intervals, as ``rma.uni``/``predict``.

Knapp–Hartung (``test="knha"``) rescales the variance of the pooled estimate by the
weighted residual mean square and uses t with k − 1 df; metafor lets that factor fall
below 1 (its ``"adhoc"`` variant would not). The prediction interval is metafor's default
``predict()`` interval: the same critical value as the CI, with sqrt(se² + τ²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from postcart.stats._checks import FloatArray

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
    """Inverse-variance pooled estimate with Wald-z or Knapp–Hartung inference."""
    k = len(yi)
    wi = 1.0 / (vi + tau2)
    total = float(np.sum(wi))
    estimate = float(np.sum(wi * yi) / total)
    variance = 1.0 / total
    factor = 1.0
    if test == "knha":
        rss = float(np.sum(wi * (yi - estimate) ** 2))
        factor = 0.0 if rss <= DOUBLE_EPS else rss / (k - 1)
        variance *= factor
    se = math.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.float64(estimate) / np.float64(se))
    if test == "knha":
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
