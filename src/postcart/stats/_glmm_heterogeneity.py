"""Heterogeneity tests of ``metafor::rma.glmm`` for single proportions, for many datasets at once.

metafor compares the fixed-effects logistic model (one common logit) with the saturated model
(one logit per study), both fitted by ``glm()``: the likelihood-ratio statistic ``QE.LRT`` and
the Wald statistic ``QE.Wld`` of the study contrasts. A study with 0 or n events has an infinite
saturated logit, so ``glm()`` stops wherever its IRLS convergence rule fires and the Wald value
depends on that stopping point; we therefore replay glm's IRLS (start, update and stopping rule)
rather than use a closed form, which would disagree with metafor on exactly those studies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from postcart.stats._quadrature import FloatArray
from postcart.stats.inference import DOUBLE_EPS as _DBL_EPS

#: ``glm.control()`` defaults: relative deviance change and iteration cap.
_GLM_EPSILON = 1e-8
_GLM_MAXIT = 25
#: R's C code for ``binomial()`` clamps the logit at ±30 (``THRESH``) and uses DBL_EPSILON
#: (``inference.DOUBLE_EPS``).
_ETA_CLAMP = 30.0


@dataclass(frozen=True, slots=True)
class GlmmHeterogeneity:
    """Wald and likelihood-ratio tests (length ``m`` arrays; NaN where k < 2)."""

    q_wald: FloatArray
    q_lrt: FloatArray
    q_df: FloatArray
    p_wald: FloatArray
    p_lrt: FloatArray


def _binomial_deviance(y: FloatArray, mu: FloatArray, n: FloatArray) -> FloatArray:
    """Row sums of ``binomial()$dev.resids`` (0*log(0) taken as 0; n = 0 rows add nothing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(y > 0, y * np.log(y / mu), 0.0)
        miss = np.where(y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0)
    total: FloatArray = (2 * n * (hit + miss)).sum(axis=1)
    return total


def _linkinv(eta: FloatArray) -> FloatArray:
    """``binomial()$linkinv``: inverse logit with R's clamping beyond ±30."""
    with np.errstate(over="ignore"):
        tmp = np.where(eta < -_ETA_CLAMP, _DBL_EPS,
                       np.where(eta > _ETA_CLAMP, 1 / _DBL_EPS, np.exp(eta)))  # fmt: skip
    mu: FloatArray = tmp / (1 + tmp)
    return mu


def _mu_eta(eta: FloatArray) -> FloatArray:
    """``binomial()$mu.eta``: d mu / d eta, DBL_EPSILON beyond ±30 (as R's C code)."""
    with np.errstate(over="ignore"):
        e = np.exp(eta)
        value = e / (1 + e) ** 2
    out: FloatArray = np.where(np.abs(eta) > _ETA_CLAMP, _DBL_EPS, value)
    return out


def _saturated_irls(x: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per-study logits and IRLS weights where ``glm(cbind(x, n - x) ~ study)`` stops.

    In the saturated model each study's working response is fitted exactly, so IRLS is a
    per-study Newton update; only the stopping rule is shared across a dataset's studies.
    """
    used = n > 0
    safe_n = np.where(used, n, 1.0)
    y = np.where(used, x / safe_n, 0.5)
    mu = (safe_n * y + 0.5) / (safe_n + 1.0)
    eta = special.logit(mu)
    weights = np.zeros_like(eta)
    dev_old = _binomial_deviance(y, mu, np.where(used, n, 0.0))
    active = np.ones(x.shape[0], dtype=bool)
    for _ in range(_GLM_MAXIT):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        mu_r = _linkinv(eta[rows])
        slope = _mu_eta(eta[rows])
        weights[rows] = np.where(used[rows], n[rows] * slope**2 / (mu_r * (1.0 - mu_r)), 0.0)
        eta[rows] += (y[rows] - mu_r) / slope
        dev = _binomial_deviance(y[rows], _linkinv(eta[rows]), np.where(used[rows], n[rows], 0.0))
        done = np.abs(dev - dev_old[rows]) / (np.abs(dev) + 0.1) < _GLM_EPSILON
        dev_old[rows] = dev
        active[rows[done]] = False
    return eta, weights


def glmm_heterogeneity(x: FloatArray, n: FloatArray) -> GlmmHeterogeneity:
    """``QE.Wld``, ``QE.LRT`` and their chi-square p-values (df = k - 1) for each row.

    Mirrors the intercept-only branch of ``metafor::rma.glmm`` (3.8-1): both statistics are
    truncated at zero, and rows with a single study get NaN.
    """
    used = n > 0
    k = used.sum(axis=1).astype(np.float64)
    eta, w = _saturated_irls(x, n)
    sum_w = w.sum(axis=1)
    centre = np.where(used, w * eta, 0.0).sum(axis=1) / sum_w
    q_wald = np.where(used, w * (eta - centre[:, None]) ** 2, 0.0).sum(axis=1)

    pooled = x.sum(axis=1) / n.sum(axis=1)
    p_sat = _linkinv(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll_fe = special.xlogy(x, pooled[:, None]) + special.xlog1py(n - x, -pooled[:, None])
        ll_sat = special.xlogy(x, p_sat) + special.xlog1py(n - x, -p_sat)
    diff = np.where(used, ll_fe - ll_sat, 0.0).sum(axis=1)
    q_lrt = -2.0 * diff

    q_wald = np.maximum(q_wald, 0.0)
    q_lrt = np.maximum(q_lrt, 0.0)
    df = k - 1.0
    single = k < 2
    nan = np.nan
    return GlmmHeterogeneity(
        q_wald=np.where(single, nan, q_wald),
        q_lrt=np.where(single, nan, q_lrt),
        q_df=np.where(single, nan, df),
        p_wald=np.where(single, nan, stats.chi2.sf(q_wald, np.maximum(df, 1.0))),
        p_lrt=np.where(single, nan, stats.chi2.sf(q_lrt, np.maximum(df, 1.0))),
    )
