"""Between-study variance τ² estimators, as ``metafor::rma.uni`` (with or without moderators).

Each estimator reproduces metafor 3.8's algorithm step for step, because its iterative
ones stop at loose tolerances (Fisher scoring at a change < 1e-5, ``uniroot`` at ~1e-4):
agreeing to 1e-6 means taking the same steps, not finding a more exact optimum.

Every estimator is written once against the residual projection ``P`` (``_projection``):
for the intercept-only model (``X=None``) its quantities collapse to O(k) sums; with a
``k × p`` design matrix (meta-regression) ``P`` is formed by QR. As metafor, the τ²
computations use the mean-centred ``yi`` and the residual degrees of freedom ``k − p``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from postcart.stats._checks import FloatArray
from postcart.stats._projection import InterceptProjection, Projection, projection
from postcart.stats._rootfind import R_UNIROOT_TOL, uniroot

#: Estimators of τ² offered by ``rma`` and ``meta_regression`` (FE fixes τ² = 0).
TAU2_METHODS: tuple[str, ...] = ("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "HS")

#: metafor's ``rma.uni`` control defaults (names with '_' for '.').
DEFAULT_CONTROL: Mapping[str, Any] = {
    "tau2_init": None,
    "tau2_min": 0.0,
    "tau2_max": 100.0,
    "threshold": 1e-5,
    "tol": R_UNIROOT_TOL,
    "ll0check": True,
    "maxiter": 100,
    "stepadj": 1.0,
}


@dataclass(frozen=True, slots=True)
class Tau2Fit:
    """An estimated τ², its standard error (metafor's ``se.tau2``) and how it was reached."""

    tau2: float
    se_tau2: float = math.nan
    iterations: int = 0
    converged: bool = True
    warnings: tuple[str, ...] = field(default=())
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Data:
    """What every estimator reads: centred effects, variances, the design and its df."""

    y: FloatArray
    v: FloatArray
    X: FloatArray | None
    k: int
    p: int

    def at(self, w: FloatArray) -> Projection:
        return projection(self.X, w)


def resolve_control(control: Mapping[str, Any] | None, yi: FloatArray) -> dict[str, Any]:
    """Merge user control with metafor's defaults; accepts ``tau2.max`` or ``tau2_max``."""
    merged = dict(DEFAULT_CONTROL)
    for key, value in (control or {}).items():
        name = key.replace(".", "_")
        if name not in merged:
            raise KeyError(f"unknown control setting {key!r}; known: {', '.join(merged)}")
        merged[name] = value
    if control is None or not any(k.replace(".", "_") == "tau2_max" for k in control):
        merged["tau2_max"] = max(100.0, 10 * _mad(yi) ** 2)
    return merged


def _mad(y: FloatArray) -> float:
    """R's ``mad()``: 1.4826 × median absolute deviation from the median."""
    return float(1.4826 * np.median(np.abs(y - np.median(y))))


def weighted_rss(yi: FloatArray, wi: FloatArray) -> float:
    """Σ wᵢ (yᵢ − ȳ_w)², i.e. metafor's Y'PY (Cochran's Q when wᵢ = 1/vᵢ)."""
    return InterceptProjection(wi).rss(yi)


def trace_p(wi: FloatArray) -> float:
    """tr(P) = Σ wᵢ (Σw − wᵢ) / Σw."""
    return InterceptProjection(wi).trace()


def q_at(tau2: float, yi: FloatArray, vi: FloatArray, X: FloatArray | None = None) -> float:
    """Generalised Q at a given τ² (metafor's ``.QE.func`` with objective 0)."""
    return projection(X, 1.0 / (vi + tau2)).rss(yi)


def estimate_tau2(
    method: str,
    yi: FloatArray,
    vi: FloatArray,
    control: Mapping[str, Any],
    X: FloatArray | None = None,
) -> Tau2Fit:
    """Dispatch to the estimator named as in metafor.

    ``X`` is the ``k × p`` design matrix of a meta-regression (``None``: intercept only).
    k = 1 (intercept only) and FE give τ² = 0.
    """
    p = 1 if X is None else X.shape[1]
    if method == "FE" or (X is None and len(yi) == 1):
        return Tau2Fit(0.0)
    data = _Data(yi - float(np.mean(yi)), vi, X, len(yi), p)
    return _ESTIMATORS[method](data, control)


def _dl(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    """DerSimonian–Laird moment estimator."""
    proj = d.at(1.0 / d.v)
    tr = proj.trace()
    tau2 = max(control["tau2_min"], (proj.rss(d.y) - (d.k - d.p)) / tr)
    se = math.sqrt((2 * (d.k - d.p) + 4 * tau2 * tr + 2 * tau2**2 * proj.sum_sq()) / tr**2)
    return Tau2Fit(tau2, se)


def _he(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    """Hedges (unweighted) moment estimator."""
    ols = d.at(np.ones(d.k))
    tau2 = max(control["tau2_min"], _he_raw(d, ols))
    tr_pv = float(np.sum(ols.diagonal() * d.v))
    df = d.k - d.p
    se = math.sqrt((2 * ols.sum_sq(d.v, d.v) + 4 * tau2 * tr_pv + 2 * tau2**2 * df) / df**2)
    return Tau2Fit(tau2, se)


def _he_raw(d: _Data, ols: Projection | None = None) -> float:
    """Untruncated Hedges estimate; metafor also uses it to start ML/REML/EB."""
    ols = ols if ols is not None else d.at(np.ones(d.k))
    return (ols.rss(d.y) - float(np.sum(ols.diagonal() * d.v))) / (d.k - d.p)


def _hs(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    """Hunter–Schmidt estimator."""
    wi = 1.0 / d.v
    proj = d.at(wi)
    total = float(np.sum(wi))
    tau2 = max(control["tau2_min"], (proj.rss(d.y) - d.k) / total)
    inner = 2 * (d.k - d.p) + 4 * tau2 * proj.trace() + 2 * tau2**2 * proj.sum_sq()
    return Tau2Fit(tau2, math.sqrt(inner / total**2))


def _sj(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    """Sidik–Jonkman estimator, started at the population variance of yi as metafor."""
    tau2_0 = control["tau2_init"]
    if tau2_0 is None:
        tau2_0 = float(np.mean(d.y**2))
    proj = d.at(1.0 / (d.v + tau2_0))
    df = d.k - d.p
    tau2 = max(control["tau2_min"], tau2_0 * proj.rss(d.y) / df)
    pv_pv, pv_p, p_p = proj.sum_sq(d.v, d.v), proj.sum_sq(1.0, d.v), proj.sum_sq()
    inner = 2 * pv_pv + 4 * tau2 * pv_p + 2 * tau2**2 * p_p
    return Tau2Fit(tau2, math.sqrt(tau2_0**2 / df**2 * inner))


def _pm(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    """Paule–Mandel: the τ² at which generalised Q equals k − p, by R's uniroot steps."""
    target = d.k - d.p
    low, high = control["tau2_min"], control["tau2_max"]
    q_low = q_at(low, d.y, d.v, d.X) - target
    if q_low < 0:
        tau2, iterations, converged, reason = low, 0, True, ""
    else:
        q_high = q_at(high, d.y, d.v, d.X) - target
        if q_high > 0:
            return Tau2Fit(
                math.nan,
                converged=False,
                reason=f"Paule–Mandel: Q still above k − p at tau2_max = {high:g}; "
                "increase control tau2_max or use another method",
            )
        root = uniroot(
            lambda t: q_at(t, d.y, d.v, d.X) - target,
            low,
            high,
            f_lower=q_low,
            f_upper=q_high,
            tol=control["tol"],
            maxiter=control["maxiter"],
        )
        tau2, iterations, converged = root.root, root.iterations, root.converged
        reason = "" if converged else "Paule–Mandel root search did not converge"
    tau2 = max(control["tau2_min"], tau2)
    return Tau2Fit(tau2, _moment_se(d, tau2), iterations, converged, reason=reason)


def _moment_se(d: _Data, tau2: float) -> float:
    """metafor's se(τ²) for EB and PM: sqrt(2k² / (k − p) / (Σw)²)."""
    total = float(np.sum(1.0 / (d.v + tau2)))
    return math.sqrt(2 * d.k**2 / (d.k - d.p) / total**2)


def _fisher_step(method: str, d: _Data, tau2: float) -> float:
    """One Fisher-scoring (ML, REML) or fixed-point (EB) update of τ², as metafor."""
    wi = 1.0 / (d.v + tau2)
    proj = d.at(wi)
    if method == "EB":
        return (proj.rss(d.y) * d.k / (d.k - d.p) - d.k) / float(np.sum(wi))
    residual_sq = float(np.sum(proj.residuals(d.y) ** 2))
    if method == "ML":
        return (residual_sq - float(np.sum(wi))) / float(np.sum(wi**2))
    return (residual_sq - proj.trace()) / proj.sum_sq()


def _log_likelihood(method: str, d: _Data, tau2: float) -> float:
    """ML or REML log-likelihood at τ² (the β that maximises it profiled out)."""
    proj = d.at(1.0 / (d.v + tau2))
    log_var = float(np.sum(np.log(d.v + tau2)))
    if method == "ML":
        return -0.5 * d.k * math.log(2 * math.pi) - 0.5 * log_var - 0.5 * proj.rss(d.y)
    return (
        -0.5 * (d.k - d.p) * math.log(2 * math.pi)
        - 0.5 * log_var
        - 0.5 * proj.logdet_xwx()
        - 0.5 * proj.rss(d.y)
    )


def _iterative(method: str, d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    """ML / REML (Fisher scoring) and EB, with metafor's start, step halving and checks."""
    tau_min = control["tau2_min"]
    init = control["tau2_init"]
    tau2 = max(0.0, _he_raw(d), tau_min) if init is None else float(init)
    iteration, change, converged = 0, control["threshold"] + 1, True
    while change > control["threshold"]:
        iteration += 1
        previous = tau2
        step = _fisher_step(method, d, tau2) * control["stepadj"]
        if math.isnan(step):
            step = 0.0
        while tau2 + step < tau_min:
            step /= 2
        tau2 = tau2 + step
        change = abs(previous - tau2)
        if iteration > control["maxiter"]:
            converged = False
            break
    if not converged:
        return Tau2Fit(
            max(tau_min, tau2),
            iterations=iteration,
            converged=False,
            reason=f"{method}: Fisher scoring did not converge in {control['maxiter']} "
            "iterations (try control stepadj=0.5 or a larger maxiter)",
        )
    warnings: tuple[str, ...] = ()
    if method in ("ML", "REML") and control["ll0check"]:
        gain_at_zero = _log_likelihood(method, d, 0.0) - _log_likelihood(method, d, tau2)
        if gain_at_zero > control["tol"] and tau2 > control["threshold"]:
            warnings = ("Fisher scoring may have stopped at a local maximum; tau2 set to 0",)
            tau2 = 0.0
    tau2 = max(tau_min, tau2)
    wi = 1.0 / (d.v + tau2)
    if method == "ML":
        se = math.sqrt(2 / float(np.sum(wi**2)))
    elif method == "REML":
        se = math.sqrt(2 / d.at(wi).sum_sq())
    else:
        se = _moment_se(d, tau2)
    return Tau2Fit(tau2, se, iteration, True, warnings)


def _ml(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    return _iterative("ML", d, control)


def _reml(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    return _iterative("REML", d, control)


def _eb(d: _Data, control: Mapping[str, Any]) -> Tau2Fit:
    return _iterative("EB", d, control)


_ESTIMATORS: Mapping[str, Callable[[_Data, Mapping[str, Any]], Tau2Fit]] = {
    "DL": _dl,
    "HE": _he,
    "HS": _hs,
    "SJ": _sj,
    "PM": _pm,
    "ML": _ml,
    "REML": _reml,
    "EB": _eb,
}
