"""Maximum-likelihood fit of the binomial-normal random-intercept model for many datasets at once.

The model is ``x_i ~ Bin(n_i, ilogit(beta + theta * u_i))``, ``u_i ~ N(0, 1)``, i.e. what
``metafor::rma.glmm(measure="PLO")`` hands to ``lme4::glmer(cbind(xi, mi) ~ 1 + (1 | study),
nAGQ = 7)``. lme4 optimises the adaptive-quadrature deviance over ``(theta, beta)`` and takes
``vcov`` from the inverse Hessian of that deviance; we do the same, but with a damped Newton
iteration on all datasets at once (rows of an ``(m, k)`` array), so 1,000 meta-analyses cost a
few dozen numpy passes rather than 1,000 optimiser runs. The deviance is even in ``theta``, so
``theta`` is left unconstrained and its absolute value is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from postcart.stats._quadrature import FloatArray, agq_log_marginal, conditional_modes

#: Finite-difference step for gradient and Hessian (lme4's ``deriv12`` uses 1e-4). With each
#: study's kernel taken relative to its saturated value the deviance is O(k), and se is
#: stable to ~1e-7 across steps from 1e-4 to 1e-3, even with studies of n = 10⁵.
_FD_STEP = 3e-4
#: Stop when no parameter moves by more than this, or when the Newton decrement (the
#: deviance reduction Newton still expects) is below rounding level of the deviance.
_STEP_TOL = 1e-9
_DECREMENT_TOL = 1e-14
#: |theta| beyond this when iterations run out means tau2 is running off to infinity.
_DIVERGING_THETA = 10.0
#: |theta| below this counts as "settled on the tau = 0 boundary".
_ZERO_THETA = 1e-4
#: Halvings tried before a Newton step is given up as not improving the deviance.
_MAX_HALVINGS = 40

# The 3x3 finite-difference stencil in (beta, theta), as offsets in units of the step.
_GRID_B, _GRID_T = (g.ravel() for g in np.meshgrid([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]))
_CENTRE = 4


@dataclass(frozen=True, slots=True)
class GlmmFitArrays:
    """Per-dataset ML results (length ``m`` arrays; ``vcov`` is ``(m, 2, 2)`` in beta, theta)."""

    beta: FloatArray
    theta: FloatArray
    vcov: FloatArray
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]
    reason: list[str]


def _deviance(
    x: FloatArray, n: FloatArray, beta: FloatArray, theta: FloatArray, start: FloatArray, nodes: int
) -> tuple[FloatArray, FloatArray]:
    """``-2 * log-likelihood`` (kernel) for parameter arrays of shape ``(m, s)``; modes returned."""
    xs, ns = x[:, None, :], n[:, None, :]
    b, t = beta[..., None], theta[..., None]
    mode, curv = conditional_modes(xs, ns, b, t, start)
    b_full = np.broadcast_to(b, mode.shape)
    t_full = np.broadcast_to(t, mode.shape)
    logl = agq_log_marginal(xs, ns, b_full, t_full, mode, curv, nodes)
    return -2.0 * logl.sum(axis=-1), mode


def _derivatives(dev: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gradient ``(m, 2)`` and Hessian ``(m, 2, 2)`` from deviances on the 3x3 stencil."""
    h = _FD_STEP
    d = dev.reshape(-1, 3, 3)  # [theta offset, beta offset]
    g_b = (d[:, 1, 2] - d[:, 1, 0]) / (2 * h)
    g_t = (d[:, 2, 1] - d[:, 0, 1]) / (2 * h)
    h_bb = (d[:, 1, 2] - 2 * d[:, 1, 1] + d[:, 1, 0]) / h**2
    h_tt = (d[:, 2, 1] - 2 * d[:, 1, 1] + d[:, 0, 1]) / h**2
    h_bt = (d[:, 2, 2] - d[:, 2, 0] - d[:, 0, 2] + d[:, 0, 0]) / (4 * h**2)
    grad = np.stack([g_b, g_t], axis=-1)
    hess = np.stack([np.stack([h_bb, h_bt], -1), np.stack([h_bt, h_tt], -1)], axis=-2)
    return grad, hess


def _newton_step(grad: FloatArray, hess: FloatArray) -> FloatArray:
    """``-H^{-1} g`` with eigenvalues floored, so every step is a descent direction."""
    vals, vecs = np.linalg.eigh(hess)
    floor = 1e-6 * np.maximum(np.abs(vals).max(axis=-1, keepdims=True), 1.0)
    vals = np.maximum(np.abs(vals), floor)
    coef = np.einsum("mji,mj->mi", vecs, grad) / vals
    step: FloatArray = -np.einsum("mij,mj->mi", vecs, coef)
    return step


def _stencil(
    x: FloatArray, n: FloatArray, par: FloatArray, modes: FloatArray, nodes: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Deviance, gradient, Hessian and centre modes at ``par`` (shape ``(m, 2)``)."""
    beta = par[:, :1] + _FD_STEP * _GRID_B
    theta = par[:, 1:] + _FD_STEP * _GRID_T
    start = np.broadcast_to(modes[:, None, :], (*beta.shape, modes.shape[-1]))
    dev, mode = _deviance(x, n, beta, theta, start, nodes)
    grad, hess = _derivatives(dev)
    return dev[:, _CENTRE], grad, hess, mode[:, _CENTRE, :]


def _line_search(
    x: FloatArray,
    n: FloatArray,
    par: FloatArray,
    step: FloatArray,
    dev0: FloatArray,
    modes: FloatArray,
    nodes: int,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """New parameters after halving each row's step until the deviance does not increase."""
    new = par.copy()
    pending = np.ones(par.shape[0], dtype=bool)
    factor = 1.0
    for _ in range(_MAX_HALVINGS):
        idx = np.flatnonzero(pending)
        trial = par[idx] + factor * step[idx]
        dev, _ = _deviance(x[idx], n[idx], trial[:, :1], trial[:, 1:], modes[idx, None, :], nodes)
        ok = np.isfinite(dev[:, 0]) & (dev[:, 0] <= dev0[idx] + 1e-10 * np.abs(dev0[idx]))
        new[idx[ok]] = trial[ok]
        pending[idx[ok]] = False
        if not pending.any():
            break
        factor *= 0.5
    return new, pending


def _starting_values(x: FloatArray, n: FloatArray) -> FloatArray:
    """Pooled logit (the fixed-effects glm estimate) and theta = 1 (lme4's start)."""
    pooled = (x.sum(axis=1) + 0.5) / (n.sum(axis=1) + 1.0)
    return np.stack([special.logit(pooled), np.ones(x.shape[0])], axis=-1)


def _prefer_boundary(
    x: FloatArray, n: FloatArray, par: FloatArray, ok: NDArray[np.bool_], nodes: int
) -> NDArray[np.int64]:
    """Rows whose deviance at tau = 0 (common logit) beats the interior optimum found.

    The likelihood can have a local maximum inside as well as one at tau = 0; lme4 starts
    on the boundary side, so metafor reports the boundary one. Those rows are moved there.
    """
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return rows
    common = special.logit(x[rows].sum(axis=1) / n[rows].sum(axis=1))
    zero = np.zeros((rows.size, 1))
    start = np.zeros((rows.size, 1, x.shape[1]))
    at_zero, _ = _deviance(x[rows], n[rows], common[:, None], zero, start, nodes)
    inside, _ = _deviance(x[rows], n[rows], par[rows, :1], par[rows, 1:], start, nodes)
    better = rows[at_zero[:, 0] < inside[:, 0]]
    par[better, 0] = common[np.isin(rows, better)]
    par[better, 1] = 0.0
    return better


@dataclass
class _NewtonRun:
    """Where one damped-Newton run ended for each row."""

    par: FloatArray
    vcov: FloatArray
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]
    reason: list[str]


def _newton(
    x: FloatArray, n: FloatArray, par: FloatArray, active: NDArray[np.bool_], nodes: int,
    max_iter: int,
) -> _NewtonRun:  # fmt: skip
    """Damped Newton on the deviance for the ``active`` rows, from ``par``."""
    m, k = x.shape
    par = par.copy()
    active = active.copy()
    run = _NewtonRun(par, np.full((m, 2, 2), np.nan), np.zeros(m, dtype=bool),
                     np.zeros(m, dtype=np.int64), [""] * m)  # fmt: skip
    modes = np.zeros((m, k))
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        dev, grad, hess, centre = _stencil(x[idx], n[idx], par[idx], modes[idx], nodes)
        modes[idx] = centre
        run.iterations[idx] += 1
        step = _newton_step(grad, hess)
        decrement = -(grad * step).sum(axis=1)
        done = (np.max(np.abs(step), axis=1) < _STEP_TOL) | (decrement < _DECREMENT_TOL)
        finite = np.isfinite(dev) & np.all(np.isfinite(step), axis=1)
        run.converged[idx[done & finite]] = True
        run.vcov[idx[done & finite]] = 2.0 * np.linalg.inv(hess[done & finite])
        for i in idx[~finite]:
            run.reason[i] = "deviance or its derivatives became non-finite"
        active[idx[done | ~finite]] = False
        go = ~done & finite
        if not go.any():
            continue
        moving = idx[go]
        new, stuck = _line_search(x[moving], n[moving], par[moving], step[go], dev[go],
                                  modes[moving], nodes)  # fmt: skip
        par[moving] = new
        for i in moving[stuck]:
            run.reason[i] = "no Newton step reduced the deviance (flat or irregular likelihood)"
        active[moving[stuck]] = False
    for i in np.flatnonzero(active):
        run.reason[i] = f"Newton iterations did not converge in {max_iter} steps"
        if abs(par[i, 1]) > _DIVERGING_THETA:
            run.reason[i] = (
                f"the likelihood still rises at tau2 = {par[i, 1] ** 2:.0f}: no finite ML estimate"
            )
    return run


def deviance_at(x: FloatArray, n: FloatArray, par: FloatArray, nodes: int) -> FloatArray:
    """Deviance of each row at its parameters ``(beta, theta)``."""
    start = np.zeros((x.shape[0], 1, x.shape[1]))
    dev, _ = _deviance(x, n, par[:, :1], par[:, 1:], start, nodes)
    result: FloatArray = dev[:, 0]
    return result


def _escape_zero(x: FloatArray, n: FloatArray, run: _NewtonRun, nodes: int, max_iter: int) -> None:
    """Rows that settled at tau = 0 are restarted at theta = 3 and keep the better optimum.

    tau = 0 is always a stationary point (the deviance is even in theta), so Newton can stop
    there although an interior maximum with a higher likelihood exists.
    """
    rows = np.flatnonzero(run.converged & (np.abs(run.par[:, 1]) < _ZERO_THETA))
    if rows.size == 0:
        return
    start = run.par[rows].copy()
    start[:, 1] = 3.0
    again = _newton(x[rows], n[rows], start, np.ones(rows.size, dtype=bool), nodes, max_iter)
    old = deviance_at(x[rows], n[rows], run.par[rows], nodes)
    new = deviance_at(x[rows], n[rows], again.par, nodes)
    better = again.converged & (new < old - 1e-9 * np.abs(old))
    run.par[rows[better]] = again.par[better]
    run.vcov[rows[better]] = again.vcov[better]
    run.iterations[rows] += again.iterations


def fit_binomial_normal(
    x: FloatArray, n: FloatArray, *, nodes: int = 7, max_iter: int = 100
) -> GlmmFitArrays:
    """Fit every row of ``x``/``n`` (padding rows of a ragged batch must have ``n = 0``).

    Rows whose events are all zero or all ``n`` have no finite ML estimate (metafor stops
    with "Cannot fit ML model"); they come back with ``converged=False`` and a reason.
    """
    k = x.shape[1]
    used = n > 0
    all_zero = np.all((x == 0) | ~used, axis=1)
    all_full = np.all((x == n) | ~used, axis=1)
    single = used.sum(axis=1) < 2
    run = _newton(x, n, _starting_values(x, n), ~(all_zero | all_full | single), nodes, max_iter)
    for i in np.flatnonzero(all_zero | all_full | single):
        side = "zero" if all_zero[i] else "all"
        run.reason[i] = f"every study has {side} events: the ML pooled logit is infinite"
        if single[i]:
            run.reason[i] = (
                "fewer than two studies: the random-effects variance is not identifiable"
            )
    _escape_zero(x, n, run, nodes, max_iter)
    moved = _prefer_boundary(x, n, run.par, run.converged, nodes)
    if moved.size:
        _, _, hess, _ = _stencil(
            x[moved], n[moved], run.par[moved], np.zeros((moved.size, k)), nodes
        )
        run.vcov[moved] = 2.0 * np.linalg.inv(hess)
    # Report theta >= 0: flipping theta's sign flips its covariance with beta.
    vcov = run.vcov
    sign = np.where(run.par[:, 1] < 0, -1.0, 1.0)
    vcov[:, 0, 1] *= sign
    vcov[:, 1, 0] *= sign
    failed = ~run.converged
    beta = np.where(failed, np.nan, run.par[:, 0])
    theta = np.where(failed, np.nan, np.abs(run.par[:, 1]))
    return GlmmFitArrays(beta, theta, vcov, run.iterations, run.converged, run.reason)
