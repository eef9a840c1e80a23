"""Small-study-effect diagnostics as metafor 3.8-1: ``regtest``, ``ranktest``, ``trimfill``.

For logit proportions the estimate and its SE are correlated by construction, so these tests
over-detect asymmetry; prefer a sample-size predictor (``predictor="ninv"``) and read any of
them as a hint, not a verdict. They are here because reviewers ask for them.

Conventions mirrored from metafor:

* ``regtest``: Egger-type test; default ``model="rma"`` (a meta-regression on the predictor with
  the same τ² method and test as the pooled model) and ``predictor="sei"``; ``model="lm"`` is
  the classical weighted least squares version (weights ``1/vi``, t with ``k - 2`` df). For
  ``sei``/``vi``/``ninv``/``sqrtninv`` the intercept is the "limit estimate" (a study of
  infinite precision), reported with its CI.
* ``ranktest``: Kendall's τ_b between standardised deviates ``(yi - θ_FE)/sqrt(vi - 1/Σwi)``
  and ``vi``; exact p (``cor.test(exact=TRUE)``) unless there are ties, then the normal
  approximation without continuity correction, as R does.
* ``trimfill``: side from the sign of the ``sqrt(vi)`` slope (negative → missing on the
  right), ``L0`` (or ``R0``) estimator iterated to a fixed point, ``k0`` rounded half to
  even as R's ``round``; the filled data are refit with the original τ² method and metafor's
  refit defaults (``test="z"``, ``level=95``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats._checks import as_vector, effects_and_variances
from postcart.stats.regression import MetaRegression, RegMethod, RegTest, meta_regression

FloatArray = npt.NDArray[np.float64]
Predictor = Literal["sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv"]
LIMIT_PREDICTORS = ("sei", "vi", "ninv", "sqrtninv")


def _plain(obj: Any) -> dict[str, Any]:
    out = asdict(obj)
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in out.items()}


@dataclass(frozen=True)
class RegTestResult:
    """Egger-type regression test (metafor ``regtest``)."""

    model: str
    predictor: str
    method: str
    test: str
    k: int
    stat: float
    pval: float
    ddf: int | None
    limit_estimate: float | None
    limit_ci_low: float | None
    limit_ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON and reports."""
        return _plain(self)

    def summary(self) -> str:
        """One line like ``print(regtest(...))``."""
        name = "z" if self.ddf is None else f"t(df = {self.ddf})"
        limit = "" if self.limit_estimate is None else f"; limit estimate {self.limit_estimate:.4f}"
        return (
            f"Regression test for funnel plot asymmetry ({self.model}, predictor {self.predictor}):"
            f" {name} = {self.stat:.4f}, p = {self.pval:.4g}{limit}"
        )


@dataclass(frozen=True)
class RankTestResult:
    """Begg–Mazumdar rank correlation test (metafor ``ranktest``)."""

    k: int
    tau: float
    pval: float
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON and reports."""
        return _plain(self)

    def summary(self) -> str:
        """One line like ``print(ranktest(...))``."""
        how = "exact" if self.exact else "normal approximation"
        return f"Rank correlation test: Kendall's tau = {self.tau:.4f}, p = {self.pval:.4g} ({how})"


@dataclass(frozen=True)
class TrimFillResult:
    """Trim-and-fill (metafor ``trimfill``): the filled studies and the refit model."""

    k0: int
    se_k0: float
    side: str
    estimator: str
    yi: FloatArray
    vi: FloatArray
    filled: npt.NDArray[np.bool_]
    fit: MetaRegression

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view for JSON and reports (refit included)."""
        out = {k: v for k, v in _plain(self).items() if k != "fit"}
        out["fit"] = self.fit.to_dict()
        return out

    def summary(self) -> str:
        """Missing-study count and the adjusted estimate."""
        return (
            f"Trim-and-fill ({self.estimator}): estimated {self.k0} missing on the {self.side} side"
            f" (SE {self.se_k0:.4f}); adjusted estimate {self.fit.beta[0]:.4f}"
            f" [{self.fit.ci_low[0]:.4f}, {self.fit.ci_high[0]:.4f}]"
        )


def _inputs(
    yi: Sequence[float] | FloatArray, vi: Sequence[float] | FloatArray
) -> tuple[FloatArray, FloatArray]:
    return effects_and_variances(yi, vi)


def _predictor(v: FloatArray, ni: FloatArray | None, predictor: str) -> FloatArray:
    if predictor == "sei":
        return np.sqrt(v)
    if predictor == "vi":
        return v
    if ni is None:
        raise InputError(f"column 'ni': predictor {predictor!r} needs sample sizes")
    transforms = {"ni": ni, "ninv": 1 / ni, "sqrtni": np.sqrt(ni), "sqrtninv": 1 / np.sqrt(ni)}
    if predictor not in transforms:
        raise InputError(f"column 'predictor': unknown predictor {predictor!r}")
    return np.asarray(transforms[predictor], dtype=np.float64)


def regtest(
    yi: Sequence[float] | FloatArray,
    vi: Sequence[float] | FloatArray,
    *,
    ni: Sequence[float] | FloatArray | None = None,
    model: Literal["rma", "lm"] = "rma",
    predictor: Predictor = "sei",
    method: RegMethod = "REML",
    test: RegTest = "z",
    level: float = 95.0,
) -> RegTestResult:
    """Egger's regression test for funnel-plot asymmetry (metafor ``regtest``).

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    ni
        Sample sizes, needed for the ``ni``-based predictors.
    model
        ``"rma"`` (metafor default: meta-regression with ``method``/``test``) or ``"lm"``.
    predictor
        ``"sei"`` (default), ``"vi"``, ``"ni"``, ``"ninv"``, ``"sqrtni"``, ``"sqrtninv"``.
    method, test, level
        Those of the model being checked (metafor takes them from the fitted object).

    Returns
    -------
    RegTestResult
        Test statistic of the predictor's slope, its p-value, and the limit estimate.
    """
    y, v = _inputs(yi, vi)
    n = None if ni is None else as_vector(ni, "ni")
    x = _predictor(v, n, predictor)
    if model == "rma":
        fit = meta_regression(y, v, x, names=[predictor], method=method, test=test, level=level)
        stat, pval, ddf = float(fit.stat[1]), float(fit.pval[1]), fit.ddf
        est, lo, hi = float(fit.beta[0]), float(fit.ci_low[0]), float(fit.ci_high[0])
    elif model == "lm":
        stat, pval, ddf, est, lo, hi = _wls_test(y, v, x, level)
    else:
        raise InputError(f"column 'model': unknown model {model!r}; use 'rma' or 'lm'")
    limit = predictor in LIMIT_PREDICTORS
    return RegTestResult(
        model=model, predictor=predictor, method=method if model == "rma" else "lm",
        test=test if model == "rma" else "t", k=y.size, stat=stat, pval=pval, ddf=ddf,
        limit_estimate=est if limit else None, limit_ci_low=lo if limit else None,
        limit_ci_high=hi if limit else None,
    )  # fmt: skip


def _wls_test(
    y: FloatArray, v: FloatArray, x: FloatArray, level: float
) -> tuple[float, float, int, float, float, float]:
    """``summary(lm(yi ~ x, weights = 1/vi))``: slope t-test and intercept CI."""
    k = y.size
    X = np.column_stack([np.ones(k), x])
    w = 1 / v
    xtwx_inv = np.linalg.inv(X.T @ (w[:, None] * X))
    b = xtwx_inv @ (X.T @ (w * y))
    ddf = k - 2
    sigma2 = float(np.sum(w * (y - X @ b) ** 2)) / ddf
    se = np.sqrt(np.diag(xtwx_inv) * sigma2)
    stat = float(b[1] / se[1])
    crit = float(sps.t.isf((1 - level / 100) / 2, ddf))
    pval = float(2 * sps.t.sf(abs(stat), ddf))
    return stat, pval, ddf, float(b[0]), float(b[0] - crit * se[0]), float(b[0] + crit * se[0])


def _tie_counts(a: FloatArray) -> npt.NDArray[np.int64]:
    _, counts = np.unique(a, return_counts=True)
    return np.asarray(counts[counts > 1], dtype=np.int64)


def _kendall_cdf(q: int, n: int) -> float:
    """``P(T ≤ q)`` for the number of concordant pairs among ``n`` untied values (R pkendall)."""
    dist = np.ones(1)
    for m in range(2, n + 1):
        # Inserting the m-th element adds 0..m-1 inversions, each equally likely.
        new = np.zeros(dist.size + m - 1)
        for j in range(m):
            new[j : j + dist.size] += dist
        dist = new / m
    return float(dist[: max(0, q + 1)].sum())


def ranktest(yi: Sequence[float] | FloatArray, vi: Sequence[float] | FloatArray) -> RankTestResult:
    """Rank correlation test for funnel-plot asymmetry (metafor ``ranktest``).

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.

    Returns
    -------
    RankTestResult
        Kendall's τ_b and its two-sided p-value (exact without ties, as ``cor.test``).
    """
    y, v = _inputs(yi, vi)
    n = y.size
    if n < 3:
        raise InputError(f"column 'yi': ranktest needs at least 3 studies, got {n}")
    w = 1 / v
    theta = float(np.sum(w * y) / np.sum(w))
    ystar = (y - theta) / np.sqrt(v - 1 / w.sum())
    s = float(np.sum(np.sign(ystar[:, None] - ystar[None, :]) * np.sign(v[:, None] - v[None, :])))
    s /= 2.0
    tx, ty = _tie_counts(ystar), _tie_counts(v)
    t0 = n * (n - 1) / 2
    t1, t2 = float(np.sum(tx * (tx - 1)) / 2), float(np.sum(ty * (ty - 1)) / 2)
    tau = s / np.sqrt((t0 - t1) * (t0 - t2))
    if tx.size == 0 and ty.size == 0:
        q = round((tau + 1) * n * (n - 1) / 4)
        p = 1 - _kendall_cdf(q - 1, n) if q > n * (n - 1) / 4 else _kendall_cdf(q, n)
        return RankTestResult(k=n, tau=float(tau), pval=min(2 * p, 1.0), exact=True)
    var_s = (
        (n * (n - 1) * (2 * n + 5) - np.sum(tx * (tx - 1) * (2 * tx + 5))
         - np.sum(ty * (ty - 1) * (2 * ty + 5))) / 18
        + np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1)) / (2 * n * (n - 1))
        + np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2))
        / (9 * n * (n - 1) * (n - 2))
    )  # fmt: skip
    z = s / np.sqrt(var_s)
    return RankTestResult(k=n, tau=float(tau), pval=float(2 * sps.norm.sf(abs(z))), exact=False)


def _k0_step(yc: FloatArray, estimator: str) -> tuple[float, float]:
    k = yc.size
    order = np.argsort(np.abs(yc), kind="stable")
    ranks = np.empty(k)
    ranks[order] = np.arange(1, k + 1)
    signed = np.sign(yc) * ranks
    if estimator == "R0":
        neg = -signed[signed < 0]
        k0 = (k - (neg.max() if neg.size else -np.inf)) - 1
        return float(k0), float(np.sqrt(2 * max(0.0, k0) + 2))
    sr = float(signed[signed > 0].sum())
    k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
    var_sr = (
        k * (k + 1) * (2 * k + 1) + 10 * k0**3 + 27 * k0**2 + 17 * k0
        - 18 * k * k0**2 - 18 * k * k0 + 6 * k**2 * k0
    ) / 24  # fmt: skip
    return k0, float(4 * np.sqrt(var_sr) / (2 * k - 1))


def trimfill(
    yi: Sequence[float] | FloatArray,
    vi: Sequence[float] | FloatArray,
    *,
    method: RegMethod = "REML",
    estimator: Literal["L0", "R0"] = "L0",
    side: Literal["left", "right"] | None = None,
    test: RegTest = "z",
    level: float = 95.0,
    refit_test: RegTest = "z",
    refit_level: float = 95.0,
    maxiter: int = 100,
) -> TrimFillResult:
    """Duval & Tweedie trim-and-fill (metafor ``trimfill``, estimator ``L0`` by default).

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    method
        τ² estimator of the pooled model (used for every fit, as metafor).
    estimator
        ``"L0"`` (default) or ``"R0"``.
    side
        Side with missing studies; ``None`` chooses it from the ``sqrt(vi)`` regression slope.
    test, level
        Those of the original model (the result when no study is filled).
    refit_test, refit_level
        For the refit on the filled data (metafor's defaults ``"z"``, ``95``).
    maxiter
        Iteration cap for the ``k0`` fixed point.

    Returns
    -------
    TrimFillResult
        ``k0``, its SE, the side, the augmented data and the refit model.
    """
    y, v = _inputs(yi, vi)
    if estimator not in ("L0", "R0"):
        raise InputError(f"column 'estimator': unknown estimator {estimator!r}; use 'L0' or 'R0'")
    if side is None:
        slope = meta_regression(y, v, np.sqrt(v), method=method).beta[1]
        side = "right" if slope < 0 else "left"
    sgn = -1.0 if side == "right" else 1.0
    order = np.argsort(sgn * y, kind="stable")
    ys, vs = sgn * y[order], v[order]
    k = ys.size
    k0, k0_prev, iteration, beta, se_k0 = 0, -1, 0, 0.0, 0.0
    while k0 != k0_prev:
        k0_prev, iteration = k0, iteration + 1
        if iteration > maxiter:
            raise InputError(f"column 'yi': trim-and-fill did not converge in {maxiter} iterations")
        beta = float(meta_regression(ys[: k - k0], vs[: k - k0], method=method).beta[0])
        raw, se_k0 = _k0_step(ys - beta, estimator)
        k0, se_k0 = max(0, round(raw)), max(0.0, se_k0)
    mirrored = sgn * (2 * beta - ys[k - k0 :])
    y_fill = np.concatenate([y, mirrored])
    v_fill = np.concatenate([v, vs[k - k0 :]])
    if k0 == 0:
        fit = meta_regression(y, v, method=method, test=test, level=level)
    else:
        fit = meta_regression(y_fill, v_fill, method=method, test=refit_test, level=refit_level)
    filled = np.concatenate([np.zeros(k, dtype=bool), np.ones(k0, dtype=bool)])
    return TrimFillResult(
        k0=k0, se_k0=se_k0, side=side, estimator=estimator,
        yi=y_fill, vi=v_fill, filled=filled, fit=fit,
    )  # fmt: skip
