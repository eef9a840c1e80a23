"""Mixed-effects meta-regression, mirroring metafor 3.8-1 ``rma(yi, vi, mods=~...)``.

τ² comes from the same estimators as the intercept-only model (``tau2.estimate_tau2`` with
the design matrix ``X``): DL, HE, HS, SJ, PM, ML, REML and EB, each following metafor's
algorithm with ``k − p`` residual degrees of freedom, so results agree to ~1e-8 rather than
merely "at the optimum". ``FE``/``EE`` fix τ² = 0.

Inference follows ``rma.uni``: Wald ``z`` (default), ``t`` (t with ``k − p`` df), ``knha``
(t, covariance scaled by ``RSS/(k − p)``) or ``adhoc`` (that factor floored at 1). QM tests
the coefficients in ``btt`` (all but the intercept by default): χ²(m) under ``z``,
``F(m, k − p)`` as ``QM/m`` otherwise. QE is the residual-heterogeneity test; pseudo-R² is
metafor's default ``(τ²_RE − τ²) / τ²_RE`` in percent, truncated at 0, ``τ²_RE`` from the
intercept-only fit with the same estimator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats._checks import check_level, effects_and_variances
from postcart.stats._projection import DesignProjection
from postcart.stats.inference import DOUBLE_EPS, RESCALED_TESTS, T_TESTS
from postcart.stats.inference import TESTS as TESTS
from postcart.stats.tau2 import TAU2_METHODS, estimate_tau2, resolve_control

FloatArray = npt.NDArray[np.float64]
RegMethod = Literal["REML", "ML", "DL", "HE", "HS", "SJ", "PM", "EB", "FE", "EE"]
RegTest = Literal["z", "t", "knha", "adhoc"]
#: Every τ² estimator of ``rma`` plus metafor's ``EE`` (equal effects), an alias of ``FE``.
METHODS: tuple[str, ...] = (*TAU2_METHODS, "EE")


@dataclass(frozen=True)
class MetaRegression:
    """A fitted meta-regression; fields mirror the components of a metafor ``rma.uni`` object."""

    k: int
    p: int
    method: str
    test: str
    level: float
    names: tuple[str, ...]
    beta: FloatArray
    se: FloatArray
    stat: FloatArray
    pval: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    vb: FloatArray
    s2w: float
    ddf: int | None
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    r2: float | None
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df: tuple[int, int | None]
    qm_p: float
    btt: tuple[int, ...]
    weights: FloatArray
    hat: FloatArray
    fitted: FloatArray
    converged: bool
    #: Why τ² could not be estimated (e.g. Paule–Mandel above ``tau2_max``); "" when fine.
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view (lists and floats) for JSON and reports."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, np.ndarray):
                out[key] = value.tolist()
        out["names"] = list(self.names)
        out["btt"] = list(self.btt)
        out["qm_df"] = list(self.qm_df)
        return out

    def summary(self) -> str:
        """A short human-readable table, like ``print(rma(...))``."""
        r2 = "" if self.r2 is None else f"; R^2 = {self.r2:.2f}%"
        lines = [
            f"Meta-regression (k = {self.k}; tau^2 estimator: {self.method}; test: {self.test})",
            f"tau^2 = {self.tau2:.4f}; I^2 = {self.i2:.2f}%; H^2 = {self.h2:.2f}{r2}",
            f"QE(df = {self.qe_df}) = {self.qe:.4f}, p = {self.qe_p:.4g}; "
            f"QM(df = {self.qm_df}) = {self.qm:.4f}, p = {self.qm_p:.4g}",
        ]
        lines += [
            f"{n[:12]:12s}{b:10.4f}{se:10.4f}{z:10.4f}{p:10.4g}{lo:10.4f}{hi:10.4f}"
            for n, b, se, z, p, lo, hi in zip(self.names, self.beta, self.se, self.stat,
                                              self.pval, self.ci_low, self.ci_high, strict=True)
        ]  # fmt: skip
        return "\n".join(lines)


def _qr(X: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """QR of ``W^½ X``: keeps calendar-year moderators (ill-conditioned ``X'WX``) accurate."""
    q, r = np.linalg.qr(np.sqrt(w)[:, None] * X)
    return np.asarray(q, dtype=np.float64), np.asarray(r, dtype=np.float64)


def wls_cov(X: FloatArray, w: FloatArray) -> FloatArray:
    """``(X' W X)^-1`` for diagonal ``W = diag(w)``, via QR."""
    _, r = _qr(X, w)
    r_inv = np.linalg.solve(r, np.eye(r.shape[0]))
    return np.asarray(r_inv @ r_inv.T, dtype=np.float64)


def wls_beta(X: FloatArray, w: FloatArray, y: FloatArray) -> FloatArray:
    """Weighted least squares coefficients, solved by QR rather than normal equations."""
    q, r = _qr(X, w)
    return np.asarray(np.linalg.solve(r, q.T @ (np.sqrt(w) * y)), dtype=np.float64)


def design_matrix(
    mods: Sequence[float] | Sequence[Sequence[float]] | FloatArray | None,
    k: int,
    *,
    intercept: bool = True,
    names: Sequence[str] | None = None,
) -> tuple[FloatArray, tuple[str, ...]]:
    """Build ``X`` from moderator columns (``k`` rows), prepending an intercept column."""
    cols: list[FloatArray] = []
    if mods is not None:
        m = np.asarray(mods, dtype=np.float64)
        m = m.reshape(-1, 1) if m.ndim == 1 else m
        if m.shape[0] != k:
            raise InputError(f"column 'mods': has {m.shape[0]} rows, 'yi' has {k}")
        bad = np.argwhere(~np.isfinite(m))
        if bad.size:
            raise InputError(f"row {bad[0, 0] + 1}, column 'mods[{bad[0, 1]}]': not finite")
        cols.extend(m[:, j] for j in range(m.shape[1]))
    mod_names = list(names) if names is not None else [f"x{j + 1}" for j in range(len(cols))]
    if len(mod_names) != len(cols):
        raise InputError(f"column 'names': {len(mod_names)} names for {len(cols)} moderators")
    if intercept:
        cols.insert(0, np.ones(k))
        mod_names.insert(0, "intrcpt")
    if not cols:
        raise InputError("column 'mods': a model needs an intercept or at least one moderator")
    return np.column_stack(cols), tuple(mod_names)


def _check_options(method: str, test: str) -> None:
    if method not in METHODS:
        raise InputError(f"column 'method': unknown method {method!r}; use one of {METHODS}")
    if test not in TESTS:
        raise InputError(f"column 'test': unknown test {test!r}; use one of {TESTS}")


def _fe_r2(yi: FloatArray, X: FloatArray, w: FloatArray) -> float:
    """``adj.r.squared`` of ``lm(yi ~ X, weights = wi)`` in percent, truncated at 0."""
    k, p = X.shape
    b = wls_beta(X, w, yi)
    rss = float(np.sum(w * (yi - X @ b) ** 2))
    mean = float(np.sum(w * yi) / np.sum(w))
    tss = float(np.sum(w * (yi - mean) ** 2))
    if tss == 0.0:
        return 0.0
    return float(max(0.0, 100 * (1 - (rss / tss) * (k - 1) / (k - p))))


def _qm_test(
    beta: FloatArray, vb: FloatArray, idx: tuple[int, ...], ddf: int | None
) -> tuple[float, tuple[int, int | None], float]:
    """Omnibus Wald test of ``beta[idx]``: χ²(m), or ``F(m, ddf)`` as ``QM/m``.

    A singular covariance (e.g. Knapp–Hartung's factor is 0 when the studies agree exactly)
    gives QM = NaN, as metafor's ``try(chol(...))`` gives NA.
    """
    bsub = beta[list(idx)]
    try:
        qm = float(bsub @ np.linalg.solve(vb[np.ix_(idx, idx)], bsub))
    except np.linalg.LinAlgError:
        qm = math.nan
    m = len(idx)
    if ddf is None:
        return qm, (m, None), float(sps.chi2.sf(qm, m))
    return qm / m, (m, ddf), float(sps.f.sf(qm / m, m, ddf))


def _heterogeneity(
    y: FloatArray, v: FloatArray, X: FloatArray, tau2: float, method: str
) -> tuple[float, float, float]:
    """QE, I² (percent) and H² as ``rma.uni`` (τ²-based unless FE/EE, "typical" vi via tr(P))."""
    k, p = X.shape
    fixed = DesignProjection(X, 1.0 / v)
    qe = max(0.0, fixed.rss(y - y.mean()))
    vt = (k - p) / fixed.trace()
    if method in ("FE", "EE"):
        return qe, (max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0), qe / (k - p)
    return qe, 100 * tau2 / (vt + tau2), tau2 / vt + 1


def meta_regression(
    yi: Sequence[float] | FloatArray,
    vi: Sequence[float] | FloatArray,
    mods: Sequence[float] | Sequence[Sequence[float]] | FloatArray | None = None,
    *,
    names: Sequence[str] | None = None,
    intercept: bool = True,
    method: RegMethod = "REML",
    test: RegTest = "z",
    level: float = 95.0,
    btt: Sequence[int] | None = None,
    control: Mapping[str, Any] | None = None,
) -> MetaRegression:
    """Fit ``rma(yi, vi, mods=~x1+x2, method=, test=, level=)`` (metafor ``rma.uni``).

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances.
    mods
        Moderators: one column (1-D) or ``k × q``; dummy-code factors before passing.
    names
        Moderator names (default ``x1, x2, ...``); the intercept is ``"intrcpt"``.
    intercept
        Prepend an intercept column (metafor's default).
    method, test, level
        As in metafor: ``method="REML"`` (or any of :data:`METHODS`), ``test="z"`` (or
        ``"t"``, ``"knha"``, ``"adhoc"``), ``level=95``.
    btt
        0-based coefficients for the QM omnibus test; default all but the intercept.
    control
        metafor's ``control=`` settings, as for :func:`postcart.stats.rma`.

    Returns
    -------
    MetaRegression
        Coefficients with Wald/t inference, τ², I², H², R², QE and QM. When τ² cannot be
        estimated (metafor stops with an error), ``converged`` is False, ``reason`` says
        why and the numbers are NaN.
    """
    _check_options(method, test)
    y, v = effects_and_variances(yi, vi)
    k = len(y)
    X, coef_names = design_matrix(mods, k, intercept=intercept, names=names)
    p = X.shape[1]
    if k <= p:
        raise InputError(f"column 'mods': {p} coefficients need more than {k} studies")
    if np.linalg.matrix_rank(X) < p:
        raise InputError("column 'mods': design matrix is rank deficient (redundant moderators)")
    con = resolve_control(control, y)
    tau2_method = "FE" if method == "EE" else method
    fit = estimate_tau2(tau2_method, y, v, con, X)
    if math.isnan(fit.tau2):
        return _not_estimated(k, X, coef_names, method, test, level, fit.reason)
    tau2 = fit.tau2
    w = 1.0 / (v + tau2)
    vb = wls_cov(X, w)
    hat = np.sum(_qr(X, w)[0] ** 2, axis=1)
    beta = wls_beta(X, w, y)
    ddf = k - p if test in T_TESTS else None
    s2w = 1.0
    if test in RESCALED_TESTS:
        rss = float(np.sum(w * (y - X @ beta) ** 2))
        s2w = 0.0 if rss <= DOUBLE_EPS else rss / (k - p)
        if test == "adhoc":
            s2w = max(1.0, s2w)
        vb = vb * s2w
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    alpha = check_level(level)
    if ddf is None:
        pval = 2 * sps.norm.sf(np.abs(stat))
        crit = float(sps.norm.isf(alpha / 2))
    else:
        pval = 2 * sps.t.sf(np.abs(stat), ddf)
        crit = float(sps.t.isf(alpha / 2, ddf))
    idx = tuple(btt) if btt is not None else (tuple(range(1, p)) if intercept and p > 1 else (0,))
    if not idx or min(idx) < 0 or max(idx) >= p:
        raise InputError(f"column 'btt': {btt!r} does not name coefficients 0..{p - 1}")
    qm, qm_df, qm_p = _qm_test(beta, vb, idx, ddf)
    qe, i2, h2 = _heterogeneity(y, v, X, tau2, method)
    r2: float | None = None
    if intercept and p > 1:
        if method in ("FE", "EE"):
            r2 = _fe_r2(y, X, w)
        else:
            tau2_re = estimate_tau2(tau2_method, y, v, con).tau2
            r2 = 0.0 if tau2_re == 0.0 else max(0.0, 100 * (tau2_re - tau2) / tau2_re)
            r2 = math.nan if math.isnan(tau2_re) else r2
    return MetaRegression(
        k=k, p=p, method=method, test=test, level=level, names=coef_names,
        beta=beta, se=se, stat=stat, pval=np.asarray(pval, dtype=np.float64),
        ci_low=beta - crit * se, ci_high=beta + crit * se, vb=vb, s2w=s2w, ddf=ddf,
        tau2=tau2, se_tau2=fit.se_tau2, i2=i2, h2=h2, r2=r2,
        qe=qe, qe_df=k - p, qe_p=float(sps.chi2.sf(qe, k - p)),
        qm=qm, qm_df=qm_df, qm_p=qm_p, btt=idx,
        weights=100 * w / w.sum(), hat=hat, fitted=X @ beta, converged=fit.converged,
        reason=fit.reason,
    )  # fmt: skip


def _not_estimated(
    k: int, X: FloatArray, names: tuple[str, ...], method: str, test: str, level: float,
    reason: str,
) -> MetaRegression:  # fmt: skip
    """The result when τ² has no estimate (metafor stops with an error): NaN, with the reason."""
    p = X.shape[1]
    nan_p = np.full(p, math.nan)
    nan_k = np.full(k, math.nan)
    return MetaRegression(
        k=k, p=p, method=method, test=test, level=level, names=names,
        beta=nan_p, se=nan_p, stat=nan_p, pval=nan_p, ci_low=nan_p, ci_high=nan_p,
        vb=np.full((p, p), math.nan), s2w=math.nan, ddf=None, tau2=math.nan,
        se_tau2=math.nan, i2=math.nan, h2=math.nan, r2=None, qe=math.nan, qe_df=k - p,
        qe_p=math.nan, qm=math.nan, qm_df=(max(p - 1, 1), None), qm_p=math.nan, btt=(),
        weights=nan_k, hat=nan_k, fitted=nan_k, converged=False, reason=reason,
    )  # fmt: skip
