"""τ² estimators for m intercept-only meta-analyses at once (rows of a masked ``(m, k)`` array).

Row for row these take the same steps as ``tau2.py`` (and so as metafor 3.8's ``rma.uni``):
the same starting value, Fisher-scoring update, step halving at zero, stopping rule
(change <= 1e-5) and the REML/ML check of the likelihood at τ² = 0. Only the loops run over
iterations instead of over datasets, so every row costs a few numpy passes.

The sums are those of ``_projection.InterceptProjection`` (mean-centred ``y``; tr P and
tr PP from "sum of the others" rather than Σw − Σw²/Σw), so that near τ² = 0 with very
unequal variances, where those differences cancel, each row still equals ``rma``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from postcart.stats._projection import sum_of_others
from postcart.stats._quadrature import FloatArray

#: Estimators computed here; others are delegated to ``rma`` row by row.
VECTOR_METHODS: tuple[str, ...] = ("FE", "DL", "HE", "HS", "REML", "ML", "EB")
#: metafor ``rma.uni`` control defaults used by the iterative estimators.
THRESHOLD = 1e-5
MAXITER = 100
LL0_TOL = float(np.finfo(np.float64).eps ** 0.25)
#: Halvings after which a step that still crosses zero is treated as zero (it underflows in R).
_MAX_HALVINGS = 1100


@dataclass(frozen=True, slots=True)
class Tau2Batch:
    """τ², its standard error and the iteration record, one entry per row."""

    tau2: FloatArray
    se_tau2: FloatArray
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]
    stuck_at_local_max: NDArray[np.bool_]


def row_sum(values: FloatArray, mask: FloatArray) -> FloatArray:
    """Sum over the studies of each row, ignoring masked-out cells (``mask`` is 1.0/0.0)."""
    total: FloatArray = (values * mask).sum(axis=1)
    return total


def weights_at(v: FloatArray, mask: FloatArray, tau2: FloatArray | float) -> FloatArray:
    """``1 / (v + tau2)`` with zeros in masked-out cells, so plain row sums skip them."""
    t = np.asarray(tau2, dtype=np.float64)
    w: FloatArray = mask / (v + t[:, None]) if t.ndim else mask / (v + t)
    return w


def weighted_rss(y: FloatArray, w: FloatArray) -> FloatArray:
    """Σ w (y − ȳ_w)² per row (Cochran's Q when w = 1/v); ``w`` is zero where masked."""
    mean = (w * y).sum(axis=1) / w.sum(axis=1)
    rss: FloatArray = (w * (y - mean[:, None]) ** 2).sum(axis=1)
    return rss


def diagonal_p(w: FloatArray) -> FloatArray:
    """Pᵢᵢ = wᵢ Σ_{j≠i} wⱼ / Σw per cell (``w`` zero where masked)."""
    diagonal: FloatArray = w * sum_of_others(w) / w.sum(axis=1)[:, None]
    return diagonal


def trace_p(w: FloatArray) -> FloatArray:
    """tr(P) = Σᵢ wᵢ Σ_{j≠i} wⱼ / Σw per row (``w`` zero where masked)."""
    trace: FloatArray = diagonal_p(w).sum(axis=1)
    return trace


def sum_p2(
    w: FloatArray,
    a: FloatArray | float = 1.0,
    b: FloatArray | float = 1.0,
    diagonal: FloatArray | None = None,
) -> FloatArray:
    """Σᵢⱼ P²ᵢⱼ aᵢ bⱼ per row (tr PP with a = b = 1; ``w`` zero where masked).

    Pᵢⱼ = −wᵢwⱼ/Σw off the diagonal, summed without forming the k × k matrices. Pass
    ``diagonal_p(w)`` as ``diagonal`` when it is already at hand (Fisher scoring needs both).
    """
    diagonal = diagonal_p(w) if diagonal is None else diagonal
    w2 = w**2
    off_diagonal = (w2 * a * sum_of_others(w2 * b)).sum(axis=1) / w.sum(axis=1) ** 2
    result: FloatArray = (diagonal**2 * a * b).sum(axis=1) + off_diagonal
    return result


def centred(y: FloatArray, mask: FloatArray) -> FloatArray:
    """``y`` minus its row mean over the studies, as ``tau2.estimate_tau2`` (and metafor)."""
    mean = row_sum(y, mask) / mask.sum(axis=1)
    result: FloatArray = (y - mean[:, None]) * mask
    return result


def he_raw(y: FloatArray, v: FloatArray, mask: FloatArray) -> FloatArray:
    """Untruncated Hedges estimate (also the start of ML/REML/EB); ``y`` centred."""
    k = mask.sum(axis=1)
    ols_diagonal = diagonal_p(mask)
    raw: FloatArray = (weighted_rss(y, mask) - (ols_diagonal * v).sum(axis=1)) / (k - 1)
    return raw


def _moment(method: str, y: FloatArray, v: FloatArray, mask: FloatArray) -> Tau2Batch:
    """DL, HE and HS in closed form, with metafor's ``se.tau2`` formulas."""
    k = mask.sum(axis=1).astype(np.float64)
    if method == "HE":
        tau2 = np.maximum(0.0, he_raw(y, v, mask))
        tr_pv = (diagonal_p(mask) * v).sum(axis=1)
        pvpv = sum_p2(mask, v, v)
        se = np.sqrt((2 * pvpv + 4 * tau2 * tr_pv + 2 * tau2**2 * (k - 1)) / (k - 1) ** 2)
    else:
        w = weights_at(v, mask, 0.0)
        tr = trace_p(w)
        q = weighted_rss(y, w)
        if method == "DL":
            tau2 = np.maximum(0.0, (q - (k - 1)) / tr)
            denom = tr**2
        else:
            total = w.sum(axis=1)
            tau2 = np.maximum(0.0, (q - k) / total)
            denom = total**2
        se = np.sqrt((2 * (k - 1) + 4 * tau2 * tr + 2 * tau2**2 * sum_p2(w)) / denom)
    m = len(k)
    ones = np.ones(m, dtype=bool)
    return Tau2Batch(tau2, se, np.zeros(m, dtype=np.int64), ones, ~ones)


def _scoring_step(
    method: str, y: FloatArray, v: FloatArray, mask: FloatArray, tau2: FloatArray
) -> FloatArray:
    """One Fisher-scoring (ML, REML) or fixed-point (EB) update for each row."""
    k = mask.sum(axis=1)
    w = weights_at(v, mask, tau2)
    if method == "EB":
        step: FloatArray = (weighted_rss(y, w) * k / (k - 1) - k) / w.sum(axis=1)
        return step
    mean = (w * y).sum(axis=1) / w.sum(axis=1)
    residual_sq = ((w * (y - mean[:, None])) ** 2).sum(axis=1)
    if method == "ML":
        step = (residual_sq - w.sum(axis=1)) / (w**2).sum(axis=1)
    else:
        diagonal = diagonal_p(w)
        step = (residual_sq - diagonal.sum(axis=1)) / sum_p2(w, diagonal=diagonal)
    return step


def _log_likelihood(
    method: str, y: FloatArray, v: FloatArray, mask: FloatArray, tau2: FloatArray
) -> FloatArray:
    """ML or REML log-likelihood per row at the given τ²."""
    k = mask.sum(axis=1)
    w = weights_at(v, mask, tau2)
    rss = weighted_rss(y, w)
    log_det = row_sum(np.log(v + tau2[:, None]), mask)
    if method == "ML":
        ll: FloatArray = -0.5 * k * np.log(2 * np.pi) - 0.5 * log_det - 0.5 * rss
        return ll
    ll = -0.5 * (k - 1) * np.log(2 * np.pi) - 0.5 * log_det - 0.5 * np.log(w.sum(axis=1))
    return ll - 0.5 * rss


def _halve_until_nonnegative(tau2: FloatArray, step: FloatArray) -> FloatArray:
    """metafor's ``while (tau2 + adj < tau2.min) adj <- adj/2`` for every row."""
    step = step.copy()
    at_zero = (tau2 == 0) & (step < 0)
    step[at_zero] = 0.0  # halving a negative step at tau2 = 0 underflows to -0 in R
    bad = np.flatnonzero(tau2 + step < 0)
    for _ in range(_MAX_HALVINGS):
        if bad.size == 0:
            break
        step[bad] /= 2
        bad = bad[tau2[bad] + step[bad] < 0]
    return step


def _iterative(method: str, y: FloatArray, v: FloatArray, mask: FloatArray) -> Tau2Batch:
    """ML/REML Fisher scoring and EB fixed-point iteration with metafor's start and checks."""
    m = y.shape[0]
    tau2 = np.maximum(0.0, he_raw(y, v, mask))
    iterations = np.zeros(m, dtype=np.int64)
    converged = np.ones(m, dtype=bool)
    active = np.ones(m, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        iterations[idx] += 1
        rows = slice(None) if idx.size == m else idx
        step = _scoring_step(method, y[rows], v[rows], mask[rows], tau2[idx])
        step = np.where(np.isnan(step), 0.0, step)
        step = _halve_until_nonnegative(tau2[idx], step)
        new = tau2[idx] + step
        change = np.abs(tau2[idx] - new)
        tau2[idx] = new
        over = iterations[idx] > MAXITER
        converged[idx[over]] = False
        active[idx[(change <= THRESHOLD) | over]] = False
    stuck = np.zeros(m, dtype=bool)
    if method in ("ML", "REML"):
        gain = _log_likelihood(method, y, v, mask, np.zeros(m)) - _log_likelihood(
            method, y, v, mask, tau2
        )
        stuck = converged & (gain > LL0_TOL) & (tau2 > THRESHOLD)
        tau2 = np.where(stuck, 0.0, tau2)
    tau2 = np.maximum(0.0, tau2)
    w = weights_at(v, mask, tau2)
    k = mask.sum(axis=1)
    if method == "ML":
        se = np.sqrt(2 / (w**2).sum(axis=1))
    elif method == "REML":
        se = np.sqrt(2 / sum_p2(w))
    else:
        se = np.sqrt(2 * k**2 / (k - 1) / w.sum(axis=1) ** 2)
    # As the single fit does: no SE for a tau2 that Fisher scoring never converged to.
    se = np.where(converged, se, np.nan)
    return Tau2Batch(tau2, se, iterations, converged, stuck)


def estimate_tau2_batch(method: str, y: FloatArray, v: FloatArray, mask: FloatArray) -> Tau2Batch:
    """τ² for every row by ``method`` (one of ``VECTOR_METHODS``); k = 1 rows get τ² = 0."""
    m = y.shape[0]
    single = mask.sum(axis=1) < 2
    if method == "FE" or single.all():
        zeros = np.zeros(m)
        return Tau2Batch(zeros, np.full(m, np.nan), np.zeros(m, np.int64),
                         np.ones(m, bool), np.zeros(m, bool))  # fmt: skip
    # Rows with one study are fitted on a harmless duplicate and then reset, keeping shapes.
    mask_fit = mask.copy()
    if single.any():
        mask_fit[single, :2] = 1.0
    y = centred(y, mask_fit)
    fit = _moment(method, y, v, mask_fit) if method in ("DL", "HE", "HS") else None
    if fit is None:
        fit = _iterative(method, y, v, mask_fit)
    return Tau2Batch(
        np.where(single, 0.0, fit.tau2),
        np.where(single, np.nan, fit.se_tau2),
        np.where(single, 0, fit.iterations),
        fit.converged | single,
        fit.stuck_at_local_max & ~single,
    )
