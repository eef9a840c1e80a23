"""Between-study variance τ² estimators of an intercept-only model, as ``metafor::rma.uni``.

Each estimator reproduces metafor 3.8's algorithm step for step, because its iterative
ones stop at loose tolerances (Fisher scoring at a change < 1e-5, ``uniroot`` at ~1e-4):
agreeing to 1e-6 means taking the same steps, not finding a more exact optimum.

The k × k matrices metafor builds (P = W − W1(1'W1)⁻¹1'W) collapse to sums over studies
for an intercept-only model, so every estimator here is O(k) numpy work.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from postcart.stats._checks import FloatArray
from postcart.stats._rootfind import R_UNIROOT_TOL, uniroot

#: Estimators of τ² offered by ``rma`` (FE fixes τ² = 0).
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
    mean = float(np.sum(wi * yi) / np.sum(wi))
    return float(np.sum(wi * (yi - mean) ** 2))


def sum_of_others(values: FloatArray) -> FloatArray:
    """For each i, Σ_{j≠i} values_j from prefix and suffix sums (no cancellation when one
    study carries nearly all the weight, unlike total − values_i)."""
    prefix = np.concatenate(([0.0], np.cumsum(values)[:-1]))
    suffix = np.concatenate((np.cumsum(values[::-1])[::-1][1:], [0.0]))
    return np.asarray(prefix + suffix, dtype=np.float64)


def trace_p(wi: FloatArray) -> float:
    """tr(P) = Σ wᵢ (Σw − wᵢ) / Σw."""
    return float(np.sum(wi * sum_of_others(wi))) / float(np.sum(wi))


def sum_p2(wi: FloatArray, a: FloatArray | float = 1.0, b: FloatArray | float = 1.0) -> float:
    """Σᵢⱼ P²ᵢⱼ aᵢ bⱼ for P = W − ww'/Σw (gives tr(PP), tr(PVPV) and Σ PV∘P).

    Pᵢᵢ = wᵢ(Σw − wᵢ)/Σw and Pᵢⱼ = −wᵢwⱼ/Σw, summed without forming the k × k matrix.
    """
    total = float(np.sum(wi))
    a_arr = np.broadcast_to(np.asarray(a, dtype=np.float64), wi.shape)
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), wi.shape)
    diagonal = wi * sum_of_others(wi) / total
    off_diagonal = float(np.sum(wi**2 * a_arr * sum_of_others(wi**2 * b_arr))) / total**2
    return float(np.sum(diagonal**2 * a_arr * b_arr)) + off_diagonal


def q_at(tau2: float, yi: FloatArray, vi: FloatArray) -> float:
    """Generalised Q at a given τ² (metafor's ``.QE.func`` with objective 0)."""
    return weighted_rss(yi, 1.0 / (vi + tau2))


def estimate_tau2(
    method: str, yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]
) -> Tau2Fit:
    """Dispatch to the estimator named as in metafor (k ≥ 2; k = 1 and FE give τ² = 0)."""
    if method == "FE" or len(yi) == 1:
        return Tau2Fit(0.0)
    estimator = _ESTIMATORS[method]
    return estimator(yi, vi, control)


def _dl(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    """DerSimonian–Laird moment estimator."""
    k = len(yi)
    wi = 1.0 / vi
    tr = trace_p(wi)
    tau2 = max(control["tau2_min"], (weighted_rss(yi, wi) - (k - 1)) / tr)
    se = math.sqrt((2 * (k - 1) + 4 * tau2 * tr + 2 * tau2**2 * sum_p2(wi)) / tr**2)
    return Tau2Fit(tau2, se)


def _he(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    """Hedges (unweighted) moment estimator."""
    tau2_raw = _he_raw(yi, vi)
    tau2 = max(control["tau2_min"], tau2_raw)
    k = len(yi)
    ones = np.ones_like(yi)
    tr_pv = float(np.sum(vi)) * (k - 1) / k
    pvpv = sum_p2(ones, vi, vi)
    se = math.sqrt((2 * pvpv + 4 * tau2 * tr_pv + 2 * tau2**2 * (k - 1)) / (k - 1) ** 2)
    return Tau2Fit(tau2, se)


def _he_raw(yi: FloatArray, vi: FloatArray) -> float:
    """Untruncated Hedges estimate; metafor also uses it to start ML/REML/EB."""
    k = len(yi)
    rss = float(np.sum((yi - np.mean(yi)) ** 2))
    return (rss - float(np.sum(vi)) * (k - 1) / k) / (k - 1)


def _hs(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    """Hunter–Schmidt estimator."""
    k = len(yi)
    wi = 1.0 / vi
    total = float(np.sum(wi))
    tau2 = max(control["tau2_min"], (weighted_rss(yi, wi) - k) / total)
    se = math.sqrt((2 * (k - 1) + 4 * tau2 * trace_p(wi) + 2 * tau2**2 * sum_p2(wi)) / total**2)
    return Tau2Fit(tau2, se)


def _sj(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    """Sidik–Jonkman estimator, started at the population variance of yi as metafor."""
    k = len(yi)
    tau2_0 = control["tau2_init"]
    if tau2_0 is None:
        tau2_0 = float(np.mean((yi - np.mean(yi)) ** 2))
    wi = 1.0 / (vi + tau2_0)
    tau2 = max(control["tau2_min"], tau2_0 * weighted_rss(yi, wi) / (k - 1))
    inner = 2 * sum_p2(wi, vi, vi) + 4 * tau2 * sum_p2(wi, 1.0, vi) + 2 * tau2**2 * sum_p2(wi)
    return Tau2Fit(tau2, math.sqrt(tau2_0**2 / (k - 1) ** 2 * inner))


def _pm(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    """Paule–Mandel: the τ² at which generalised Q equals k − 1, by R's uniroot steps."""
    k = len(yi)
    target = k - 1
    low, high = control["tau2_min"], control["tau2_max"]
    q_low = q_at(low, yi, vi) - target
    if q_low < 0:
        tau2, iterations, converged, reason = low, 0, True, ""
    else:
        q_high = q_at(high, yi, vi) - target
        if q_high > 0:
            return Tau2Fit(
                math.nan,
                converged=False,
                reason=f"Paule–Mandel: Q still above k − 1 at tau2_max = {high:g}; "
                "increase control tau2_max or use another method",
            )
        root = uniroot(
            lambda t: q_at(t, yi, vi) - target,
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
    wi = 1.0 / (vi + tau2)
    se = math.sqrt(2 * k**2 / (k - 1) / float(np.sum(wi)) ** 2)
    return Tau2Fit(tau2, se, iterations, converged, reason=reason)


def _fisher_step(method: str, yi: FloatArray, vi: FloatArray, tau2: float) -> float:
    """One Fisher-scoring (ML, REML) or fixed-point (EB) update of τ², as metafor."""
    k = len(yi)
    wi = 1.0 / (vi + tau2)
    if method == "EB":
        return (weighted_rss(yi, wi) * k / (k - 1) - k) / float(np.sum(wi))
    mean = float(np.sum(wi * yi) / np.sum(wi))
    residual_sq = float(np.sum((wi * (yi - mean)) ** 2))
    if method == "ML":
        return (residual_sq - float(np.sum(wi))) / float(np.sum(wi**2))
    return (residual_sq - trace_p(wi)) / sum_p2(wi)


def _log_likelihood(method: str, yi: FloatArray, vi: FloatArray, tau2: float) -> float:
    """ML or REML log-likelihood of the intercept-only model at τ²."""
    k = len(yi)
    wi = 1.0 / (vi + tau2)
    rss = weighted_rss(yi, wi)
    if method == "ML":
        return -0.5 * k * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(vi + tau2))) - 0.5 * rss
    return (
        -0.5 * (k - 1) * math.log(2 * math.pi)
        - 0.5 * float(np.sum(np.log(vi + tau2)))
        - 0.5 * math.log(float(np.sum(wi)))
        - 0.5 * rss
    )


def _iterative(method: str, yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    """ML / REML (Fisher scoring) and EB, with metafor's start, step halving and checks."""
    k = len(yi)
    tau_min = control["tau2_min"]
    init = control["tau2_init"]
    tau2 = max(0.0, _he_raw(yi, vi), tau_min) if init is None else float(init)
    iteration, change, converged = 0, control["threshold"] + 1, True
    while change > control["threshold"]:
        iteration += 1
        previous = tau2
        step = _fisher_step(method, yi, vi, tau2) * control["stepadj"]
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
        gain_at_zero = _log_likelihood(method, yi, vi, 0.0) - _log_likelihood(method, yi, vi, tau2)
        if gain_at_zero > control["tol"] and tau2 > control["threshold"]:
            warnings = ("Fisher scoring may have stopped at a local maximum; tau2 set to 0",)
            tau2 = 0.0
    tau2 = max(tau_min, tau2)
    wi = 1.0 / (vi + tau2)
    if method == "ML":
        se = math.sqrt(2 / float(np.sum(wi**2)))
    elif method == "REML":
        se = math.sqrt(2 / sum_p2(wi))
    else:
        se = math.sqrt(2 * k**2 / (k - 1) / float(np.sum(wi)) ** 2)
    return Tau2Fit(tau2, se, iteration, True, warnings)


def _ml(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    return _iterative("ML", yi, vi, control)


def _reml(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    return _iterative("REML", yi, vi, control)


def _eb(yi: FloatArray, vi: FloatArray, control: Mapping[str, Any]) -> Tau2Fit:
    return _iterative("EB", yi, vi, control)


_ESTIMATORS = {
    "DL": _dl,
    "HE": _he,
    "HS": _hs,
    "SJ": _sj,
    "PM": _pm,
    "ML": _ml,
    "REML": _reml,
    "EB": _eb,
}
