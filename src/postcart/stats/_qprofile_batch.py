"""Q-profile confidence intervals for τ², for many meta-analyses at once.

metafor's ``confint()`` finds each bound with ``uniroot`` at tolerance ~1.2e-4, so agreeing
with it to 1e-6 means taking R's Brent steps, not finding a better root. ``_rootfind.uniroot``
replays those steps for one function; here the same rules run elementwise over rows (each row
its own bracket, iterate and stopping point), so m intervals cost ~20 vectorised Q evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from postcart.stats._quadrature import FloatArray
from postcart.stats._rootfind import EPS, R_UNIROOT_TOL
from postcart.stats._tau2_batch import weighted_rss, weights_at

#: ``confint.rma.uni`` allows up to 1000 uniroot iterations.
MAXITER = 1000

RowFunction = Callable[[NDArray[np.int64], FloatArray], FloatArray]


@dataclass(frozen=True, slots=True)
class Tau2IntervalBatch:
    """Bounds per row and the note ``heterogeneity.q_profile_ci`` would attach ('' if none)."""

    low: FloatArray
    high: FloatArray
    notes: list[str]


def _interpolate(
    a: FloatArray, b: FloatArray, c: FloatArray,
    fa: FloatArray, fb: FloatArray, fc: FloatArray,
    bisection: FloatArray, previous: FloatArray, tol_act: FloatArray,
) -> FloatArray:  # fmt: skip
    """Secant or inverse-quadratic step where it beats bisection (R ``R_zeroin2``)."""
    cb = c - b
    with np.errstate(divide="ignore", invalid="ignore"):
        t1_sec = fb / fa
        qa, t1, t2 = fa / fc, fb / fc, fb / fa
        p = np.where(a == c, cb * t1_sec, t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1.0)))
        q = np.where(a == c, 1.0 - t1_sec, (qa - 1.0) * (t1 - 1.0) * (t2 - 1.0))
        q = np.where(p > 0, -q, q)
        p = np.abs(p)
        accept = (p < 0.75 * cb * q - np.abs(tol_act * q) / 2) & (p < np.abs(previous * q / 2))
        step: FloatArray = np.where(accept, p / q, bisection)
    return step


def uniroot_rows(
    f: RowFunction, lower: FloatArray, upper: FloatArray, f_lower: FloatArray, f_upper: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """R ``uniroot`` on every row; ``f(rows, x)`` evaluates the rows' functions at ``x``."""
    a, b = lower.copy(), upper.copy()
    fa, fb = f_lower.copy(), f_upper.copy()
    root = np.where(fa == 0, a, b)
    converged = (fa == 0) | (fb == 0)
    active = ~converged
    c, fc = a.copy(), fa.copy()
    for _ in range(MAXITER + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ai, bi, ci, fai, fbi, fci = a[idx], b[idx], c[idx], fa[idx], fb[idx], fc[idx]
        previous = bi - ai
        swap = np.abs(fci) < np.abs(fbi)
        ai, bi, ci = np.where(swap, bi, ai), np.where(swap, ci, bi), np.where(swap, bi, ci)
        fai, fbi, fci = np.where(swap, fbi, fai), np.where(swap, fci, fbi), np.where(swap, fbi, fci)
        tol_act = 2 * EPS * np.abs(bi) + R_UNIROOT_TOL / 2
        step = (ci - bi) / 2
        done = (np.abs(step) <= tol_act) | (fbi == 0)
        root[idx[done]] = bi[done]
        converged[idx[done]] = True
        use = (np.abs(previous) >= tol_act) & (np.abs(fai) > np.abs(fbi))
        step = np.where(use, _interpolate(ai, bi, ci, fai, fbi, fci, step, previous, tol_act), step)
        step = np.where(np.abs(step) < tol_act, np.where(step > 0, tol_act, -tol_act), step)
        go = ~done
        ai, fai = bi, fbi
        bi = bi + step
        fbi = fbi.copy()
        fbi[go] = f(idx[go], bi[go])
        same_sign = ((fbi > 0) & (fci > 0)) | ((fbi < 0) & (fci < 0))
        ci, fci = np.where(same_sign, ai, ci), np.where(same_sign, fai, fci)
        a[idx], b[idx], c[idx], fa[idx], fb[idx], fc[idx] = ai, bi, ci, fai, fbi, fci
        active[idx[done]] = False
    root[active] = b[active]
    return root, converged


def q_profile_batch(
    y: FloatArray, v: FloatArray, mask: FloatArray, tau2: FloatArray, alpha: float
) -> Tau2IntervalBatch:
    """Q-profile CI for τ² per row, as ``heterogeneity.q_profile_ci`` (metafor ``confint``)."""
    m = y.shape[0]
    k = mask.sum(axis=1)

    def q_at(rows: NDArray[np.int64], t: FloatArray) -> FloatArray:
        if rows.size == m:
            return weighted_rss(y, weights_at(v, mask, t))
        return weighted_rss(y[rows], weights_at(v[rows], mask[rows], t))

    all_rows = np.arange(m)
    low_limit = np.minimum(0.0, tau2)
    high_limit = np.maximum(100.0, 10 * tau2)
    df = np.maximum(k - 1, 1)
    crit_upper = stats.chi2.isf(alpha / 2, df)
    crit_lower = stats.chi2.ppf(alpha / 2, df)
    q_min = q_at(all_rows, low_limit)
    q_max = q_at(all_rows, high_limit)
    empty = q_min < crit_lower
    upper = np.where(empty, low_limit, high_limit)
    lower = np.where(empty, low_limit, np.nan)
    beyond = ~empty & (q_max > crit_lower)
    need_upper = np.flatnonzero(~empty & ~beyond)
    if need_upper.size:
        upper[need_upper] = _bound(
            q_at, need_upper, crit_lower, low_limit, high_limit, q_min, q_max
        )
    top = ~empty & (q_max > crit_upper)
    lower[top] = high_limit[top]
    upper[top] = high_limit[top]
    at_zero = ~empty & ~top & (q_min < crit_upper)
    lower[at_zero] = low_limit[at_zero]
    need_lower = np.flatnonzero(~empty & ~top & ~at_zero)
    if need_lower.size:
        lower[need_lower] = _bound(
            q_at, need_lower, crit_upper, low_limit, high_limit, q_min, q_max
        )
    notes = [""] * m
    for i in np.flatnonzero(empty):
        notes[i] = "Q-profile CI for tau2 is empty (set to 0)"
    for i in np.flatnonzero(beyond):
        notes[i] = f"upper tau2 bound is beyond the search limit {high_limit[i]:g}"
    return Tau2IntervalBatch(lower, upper, notes)


def _bound(
    q_at: RowFunction,
    rows: NDArray[np.int64],
    target: FloatArray,
    low: FloatArray,
    high: FloatArray,
    q_low: FloatArray,
    q_high: FloatArray,
) -> FloatArray:
    """Root of Q(τ²) = target on [low, high] for the given rows (NaN where uniroot fails)."""
    goal = target[rows]

    def shifted(sub: NDArray[np.int64], t: FloatArray) -> FloatArray:
        return q_at(rows[sub], t) - goal[sub]

    root, ok = uniroot_rows(shifted, low[rows], high[rows], q_low[rows] - goal, q_high[rows] - goal)
    result: FloatArray = np.where(ok, root, np.nan)
    return result
