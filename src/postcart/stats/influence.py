"""Case-deletion diagnostics as metafor 3.8-1: ``leave1out`` and ``influence``.

Both refit the model once per omitted study with the same τ² method, test and level.

``influence`` follows ``influence.rma.uni`` (Viechtbauer & Cheung 2010):

* ``rstudent``: ``(yi - x_i'β_(-i)) / sqrt(s2w_(-i)(vi + τ²_(-i)) + x_i'V_(-i)x_i)``.
* ``dffits``: ``(ŷ_i - x_i'β_(-i)) / sqrt(s2w_(-i) h_i (τ²_(-i) + vi))``.
* ``cook_d``: ``(β - β_(-i))' V⁻¹ (β - β_(-i))`` over all coefficients.
* ``cov_r``: ``det V_(-i) / det V``; ``tau2_del``, ``qe_del``: from the deletion fit.
* ``hat``, ``weight`` (percent) of the full fit; ``dfbetas`` per coefficient.
* ``inf`` flags a study when ``|dffits| > 3 sqrt(p/(k-p))``, or ``P(χ²_p ≤ cook_d) > 0.5``,
  or ``hat > 3p/k``, or any ``|dfbetas| > 1`` (metafor's rule).

``s2w`` is the Knapp–Hartung scale factor (1 unless ``test="knha"``). A deletion fit that
fails (e.g. the design becomes rank deficient) leaves NaN in that row, as metafor leaves NA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats._checks import effects_and_variances
from postcart.stats.regression import (
    FloatArray,
    MetaRegression,
    RegMethod,
    RegTest,
    design_matrix,
    meta_regression,
    wls_cov,
)
from postcart.stats.rma import rma

Mods = Sequence[float] | Sequence[Sequence[float]] | FloatArray | None


def _lists(obj: Any, names: Sequence[str]) -> dict[str, Any]:
    return {n: np.asarray(getattr(obj, n)).tolist() for n in names}


@dataclass(frozen=True)
class LeaveOneOut:
    """One row per omitted study: the intercept-only model refit without it."""

    estimate: FloatArray
    se: FloatArray
    stat: FloatArray
    pval: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    q: FloatArray
    q_p: FloatArray
    tau2: FloatArray
    i2: FloatArray
    h2: FloatArray
    method: str
    test: str
    level: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON and reports."""
        cols = ("estimate", "se", "stat", "pval", "ci_low", "ci_high", "q", "q_p", "tau2")
        out = _lists(self, (*cols, "i2", "h2"))
        out.update(method=self.method, test=self.test, level=self.level)
        return out

    def summary(self) -> str:
        """Table like ``print(leave1out(res))``."""
        head = f"{'omitted':>8s}{'estimate':>10s}{'se':>9s}{'ci.lb':>9s}{'ci.ub':>9s}"
        rows = [head + f"{'Q':>9s}{'tau2':>9s}{'I2':>8s}"]
        for i in range(self.estimate.size):
            rows.append(
                f"{i + 1:8d}{self.estimate[i]:10.4f}{self.se[i]:9.4f}{self.ci_low[i]:9.4f}"
                f"{self.ci_high[i]:9.4f}{self.q[i]:9.4f}{self.tau2[i]:9.4f}{self.i2[i]:8.2f}"
            )
        return "\n".join(rows)


@dataclass(frozen=True)
class Influence:
    """Influence diagnostics per study (metafor ``influence.rma.uni``)."""

    rstudent: FloatArray
    dffits: FloatArray
    cook_d: FloatArray
    cov_r: FloatArray
    tau2_del: FloatArray
    qe_del: FloatArray
    hat: FloatArray
    weight: FloatArray
    dfbetas: FloatArray
    inf: npt.NDArray[np.bool_]
    names: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON and reports."""
        cols = ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight")
        out = _lists(self, (*cols, "dfbetas", "inf"))
        out["names"] = list(self.names)
        return out

    def summary(self) -> str:
        """Table like ``print(influence(res))``; ``*`` marks influential studies."""
        rows = [
            f"{'study':>6s}{'rstudent':>9s}{'dffits':>9s}{'cook.d':>9s}{'cov.r':>9s}"
            f"{'tau2.del':>9s}{'QE.del':>9s}{'hat':>7s}{'weight':>8s}"
        ]
        for i in range(self.hat.size):
            rows.append(
                f"{i + 1:6d}{self.rstudent[i]:9.4f}{self.dffits[i]:9.4f}{self.cook_d[i]:9.4f}"
                f"{self.cov_r[i]:9.4f}{self.tau2_del[i]:9.4f}{self.qe_del[i]:9.4f}"
                f"{self.hat[i]:7.4f}{self.weight[i]:8.4f} {'*' if self.inf[i] else ''}"
            )
        return "\n".join(rows)


def leave1out(
    yi: Sequence[float] | FloatArray,
    vi: Sequence[float] | FloatArray,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 95.0,
) -> LeaveOneOut:
    """Refit the intercept-only model (core ``rma``) omitting each study in turn.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances (``k ≥ 3``).
    method, test, level
        As the pooled model (metafor ``leave1out.rma.uni`` reuses the fitted object's);
        any τ² estimator ``rma`` accepts.

    Returns
    -------
    LeaveOneOut
        Arrays indexed by the omitted study: estimate, se, stat, p, CI, Q, Q p, τ², I², H².
    """
    y, v = effects_and_variances(yi, vi)
    k = len(y)
    if k < 3:
        raise InputError(f"column 'yi': leave-one-out needs at least 3 studies, got {k}")
    fits = [rma(np.delete(y, i), np.delete(v, i), method=method, test=test, level=level)
            for i in range(k)]  # fmt: skip
    cols = {n: np.array([getattr(f, n) for f in fits], dtype=np.float64) for n in _L1O_FIELDS}
    cols["q_p"] = np.array([f.q_p for f in fits], dtype=np.float64)
    return LeaveOneOut(**cols, method=method, test=test, level=level)


_L1O_FIELDS = ("estimate", "se", "stat", "pval", "ci_low", "ci_high", "q", "tau2", "i2", "h2")


def _deletion_fit(
    y: FloatArray, v: FloatArray, X: FloatArray, i: int, method: RegMethod, test: RegTest
) -> MetaRegression | None:
    keep = np.arange(y.size) != i
    try:
        return meta_regression(y[keep], v[keep], X[keep], intercept=False, method=method, test=test)
    except (InputError, np.linalg.LinAlgError):
        return None


def influence(
    yi: Sequence[float] | FloatArray,
    vi: Sequence[float] | FloatArray,
    mods: Mods = None,
    *,
    intercept: bool = True,
    method: RegMethod = "REML",
    test: RegTest = "z",
    level: float = 95.0,
) -> Influence:
    """Case-deletion influence diagnostics (metafor ``influence(rma(yi, vi, mods=...))``).

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    mods, intercept
        Moderators as in :func:`postcart.stats.regression.meta_regression` (none by default).
    method, test, level
        As the fitted model.

    Returns
    -------
    Influence
        rstudent, dffits, cook_d, cov_r, tau2_del, qe_del, hat, weight, dfbetas, inf.
    """
    full = meta_regression(yi, vi, mods, intercept=intercept, method=method, test=test, level=level)
    y, v = np.asarray(yi, dtype=np.float64), np.asarray(vi, dtype=np.float64)
    X, _ = design_matrix(mods, y.size, intercept=intercept)
    k, p = X.shape
    out = {n: np.full(k, np.nan) for n in ("rstudent", "dffits", "cook_d", "cov_r", "tau2", "qe")}
    dfbetas = np.full((k, p), np.nan)
    pred = X @ full.beta
    w_full = 1.0 / (v + full.tau2)
    det_full = float(np.linalg.det(full.vb))
    for i in range(k):
        fit = _deletion_fit(y, v, X, i, method, test)
        if fit is None:
            continue
        xi = X[i]
        delpred = float(xi @ fit.beta)
        resid = y[i] - delpred
        resid = 0.0 if abs(resid) < 100 * np.finfo(float).eps else resid
        se_resid = np.sqrt(fit.s2w * (v[i] + fit.tau2) + float(xi @ fit.vb @ xi))
        out["rstudent"][i] = resid / se_resid
        out["dffits"][i] = (pred[i] - delpred) / np.sqrt(fit.s2w * full.hat[i] * (fit.tau2 + v[i]))
        vb_del = wls_cov(X, 1.0 / (v + fit.tau2))
        dfb = full.beta - fit.beta
        dfbetas[i] = dfb / np.sqrt(fit.s2w * np.diag(vb_del))
        out["cook_d"][i] = float(np.sum(w_full * (X @ dfb) ** 2)) / full.s2w if full.s2w else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):  # det V = 0 gives Inf/NaN, as R
            out["cov_r"][i] = np.float64(np.linalg.det(fit.vb)) / np.float64(det_full)
        out["tau2"][i], out["qe"][i] = fit.tau2, fit.qe
    with np.errstate(invalid="ignore"):
        flagged = (
            (np.abs(out["dffits"]) > 3 * np.sqrt(p / (k - p)))
            | (sps.chi2.cdf(out["cook_d"], p) > 0.5)
            | (full.hat > 3 * p / k)
            | (np.abs(dfbetas) > 1).any(axis=1)
        )
    return Influence(
        rstudent=out["rstudent"], dffits=out["dffits"], cook_d=out["cook_d"], cov_r=out["cov_r"],
        tau2_del=out["tau2"], qe_del=out["qe"], hat=full.hat, weight=full.weights,
        dfbetas=dfbetas, inf=np.asarray(flagged, dtype=bool), names=full.names,
    )  # fmt: skip
