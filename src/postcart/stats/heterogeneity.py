"""Heterogeneity statistics: Cochran's Q, I², H² and the Q-profile CI for τ².

I² and H² follow metafor's default (``i2def = "1"``): they are computed from τ² and the
"typical" within-study variance (k − 1)/tr(P), not from Q, except for the common-effect
model where only Q is available. Cochrane adopted τ²-based I² in 2024.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from postcart.stats._checks import FloatArray
from postcart.stats._rootfind import R_UNIROOT_TOL, uniroot
from postcart.stats.tau2 import q_at, trace_p, weighted_rss

#: ``confint.rma.uni`` searches up to 1000 uniroot iterations.
QP_MAXITER = 1000


@dataclass(frozen=True, slots=True)
class Heterogeneity:
    """Q test and the τ²-based I², H², with metafor's typical within-study variance."""

    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    typical_vi: float


def heterogeneity(yi: FloatArray, vi: FloatArray, tau2: float, *, common: bool) -> Heterogeneity:
    """Q, I² (percent) and H² as printed by ``rma.uni`` (``common`` for the FE model)."""
    k = len(yi)
    if k == 1:
        return Heterogeneity(0.0, 0, 1.0, 0.0, 1.0, 0.0)
    wi = 1.0 / vi
    q = max(0.0, weighted_rss(yi, wi))
    q_df = k - 1
    q_p = float(stats.chi2.sf(q, q_df))
    typical = q_df / trace_p(wi)
    if common:
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
    else:
        i2 = 100 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1
    return Heterogeneity(q, q_df, q_p, i2, h2, typical)


@dataclass(frozen=True, slots=True)
class Tau2Interval:
    """Q-profile CI for τ² (metafor ``confint(type="QP")``) and the matching I² bounds."""

    low: float
    high: float
    i2_low: float
    i2_high: float
    note: str = ""


def q_profile_ci(
    yi: FloatArray, vi: FloatArray, tau2: float, alpha: float, typical_vi: float
) -> Tau2Interval:
    """Invert the generalised Q statistic against χ²(k − 1) quantiles, as metafor's ``confint``.

    The search range is [0, max(100, 10 τ²)] and each bound is found with R's ``uniroot``
    steps, so bounds agree with metafor to its own precision (about 1e-4, relative far
    better in practice). A bound at 0 means the data are compatible with no heterogeneity.
    """
    k = len(yi)
    low_limit, high_limit = min(0.0, tau2), max(100.0, 10 * tau2)
    crit_upper = float(stats.chi2.isf(alpha / 2, k - 1))
    crit_lower = float(stats.chi2.ppf(alpha / 2, k - 1))
    q_min = q_at(low_limit, yi, vi)
    q_max = q_at(high_limit, yi, vi)
    note = ""
    if q_min < crit_lower:
        upper = lower = low_limit
        note = "Q-profile CI for tau2 is empty (set to 0)"
    else:
        if q_max > crit_lower:
            upper = high_limit
            note = f"upper tau2 bound is beyond the search limit {high_limit:g}"
        else:
            upper = _bound(yi, vi, crit_lower, low_limit, high_limit, q_min, q_max)
        if q_max > crit_upper:
            lower = upper = high_limit
        elif q_min < crit_upper:
            lower = low_limit
        else:
            lower = _bound(yi, vi, crit_upper, low_limit, high_limit, q_min, q_max)
    return Tau2Interval(
        lower,
        upper,
        100 * lower / (typical_vi + lower),
        100 * upper / (typical_vi + upper),
        note,
    )


def _bound(
    yi: FloatArray,
    vi: FloatArray,
    target: float,
    low: float,
    high: float,
    q_low: float,
    q_high: float,
) -> float:
    root = uniroot(
        lambda t: q_at(t, yi, vi) - target,
        low,
        high,
        f_lower=q_low - target,
        f_upper=q_high - target,
        tol=R_UNIROOT_TOL,
        maxiter=QP_MAXITER,
    )
    return root.root if root.converged else math.nan


def typical_within_variance(vi: FloatArray) -> float:
    """metafor's ``vt`` = (k − 1) / tr(P) with inverse-variance weights."""
    return (len(vi) - 1) / trace_p(1.0 / np.asarray(vi))
