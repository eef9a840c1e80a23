"""Mixed-effects meta-regression, mirroring metafor 3.8-1 ``rma(yi, vi, mods=~...)``.

The core ``rma`` handles intercept-only models; moderators need τ² estimated with a design
matrix ``X`` (``k × p``), which this module does generically (:func:`fit_tau2`), following
metafor's algorithms so that results agree to ~1e-8 rather than merely "at the optimum":

* ``DL``: method of moments with fixed-effect weights, ``(Q_E - (k - p)) / tr(P)``, truncated at 0.
* ``HE``: unweighted method of moments, ``(RSS_OLS - tr(P_OLS V)) / (k - p)``, truncated at 0.
* ``ML``/``REML``: Fisher scoring from the (truncated) ``HE`` value, step halving to stay ≥ 0,
  stopping when ``|Δτ²| ≤ 1e-5`` (metafor's ``threshold``), at most 100 iterations, then
  metafor's check that the likelihood at τ² = 0 is not higher (else τ² is set to 0).
* ``FE``/``EE``: τ² = 0.

Inference follows ``rma.uni``: Wald ``z`` (default) or ``knha``/``t`` (t with ``k - p`` df;
under ``knha`` the covariance is scaled by ``RSS/(k - p)``). QM tests the coefficients in
``btt`` (all but the intercept by default): χ²(m) under ``z``, ``F(m, k - p)`` as ``QM/m``
under ``knha``/``t``. QE is the residual-heterogeneity test; pseudo-R² is metafor's default
``(τ²_RE − τ²) / τ²_RE`` in percent, truncated at 0, ``τ²_RE`` from the intercept-only fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats._checks import as_vector, check_level, check_variances, same_length

FloatArray = npt.NDArray[np.float64]
RegMethod = Literal["REML", "ML", "DL", "HE", "FE", "EE"]
RegTest = Literal["z", "t", "knha"]
METHODS: tuple[str, ...] = ("REML", "ML", "DL", "HE", "FE", "EE")
TESTS: tuple[str, ...] = ("z", "t", "knha")
#: metafor ``control`` defaults for Fisher scoring.
THRESHOLD = 1e-5
MAXITER = 100
LL0_TOL = float(np.finfo(float).eps ** 0.25)


@dataclass(frozen=True)
class Tau2Fit:
    """τ² estimate with its SE as ``rma.uni`` reports them, and how it was reached."""

    tau2: float
    se_tau2: float
    iterations: int
    converged: bool


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


def _proj(X: FloatArray, w: FloatArray) -> FloatArray:
    """metafor's ``P = W - W X (X'WX)^-1 X' W``, as ``W^½ (I - QQ') W^½``."""
    q, _ = _qr(X, w)
    sw = np.sqrt(w)
    return np.asarray(sw[:, None] * (np.eye(w.size) - q @ q.T) * sw[None, :], dtype=np.float64)


def _loglik(yc: FloatArray, vi: FloatArray, X: FloatArray, tau2: float, reml: bool) -> float:
    k, p = X.shape
    w = 1.0 / (vi + tau2)
    b = wls_beta(X, w, yc)
    rss = float(np.sum(w * (yc - X @ b) ** 2))
    if not reml:
        return float(-0.5 * k * np.log(2 * np.pi) - 0.5 * np.sum(np.log(vi + tau2)) - 0.5 * rss)
    logdet = float(np.linalg.slogdet(X.T @ (w[:, None] * X))[1])
    const = -0.5 * (k - p) * np.log(2 * np.pi)
    return float(const - 0.5 * np.sum(np.log(vi + tau2)) - 0.5 * logdet - 0.5 * rss)


def _he(yc: FloatArray, vi: FloatArray, X: FloatArray) -> tuple[float, FloatArray]:
    """Hedges' unweighted moment estimate (untruncated) and ``P_OLS V``."""
    k, p = X.shape
    P = _proj(X, np.ones(k))
    PV = P * vi[None, :]
    return float((yc @ P @ yc - np.trace(PV)) / (k - p)), PV


def fit_tau2(yi: FloatArray, vi: FloatArray, X: FloatArray, method: RegMethod = "REML") -> Tau2Fit:
    """Estimate τ² in ``yi = X β + u + e`` as metafor ``rma.uni(yi, vi, mods=X)`` does.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances (``vi > 0``).
    X
        Design matrix, ``k × p`` with ``k > p``.
    method
        ``"REML"`` (metafor default), ``"ML"``, ``"DL"``, ``"HE"``, ``"FE"``/``"EE"``.

    Returns
    -------
    Tau2Fit
        τ² (truncated at 0), its SE by metafor's formula for the method, iterations used.
    """
    k, p = X.shape
    yc = yi - yi.mean()
    if method in ("FE", "EE"):
        return Tau2Fit(0.0, float("nan"), 0, True)
    if method == "DL":
        w = 1.0 / vi
        P = _proj(X, w)
        trp = float(np.trace(P))
        tau2 = max(0.0, (float(yc @ P @ yc) - (k - p)) / trp)
        se = np.sqrt((2 * (k - p) + 4 * tau2 * trp + 2 * tau2**2 * float(np.sum(P * P))) / trp**2)
        return Tau2Fit(tau2, float(se), 0, True)
    he, PV = _he(yc, vi, X)
    if method == "HE":
        tau2 = max(0.0, he)
        trpv = float(np.trace(PV))
        se2 = 2 * float(np.sum(PV * PV.T)) + 4 * tau2 * trpv + 2 * tau2**2 * (k - p)
        se2 /= (k - p) ** 2
        return Tau2Fit(tau2, float(np.sqrt(se2)), 0, True)
    if method not in ("ML", "REML"):
        raise InputError(f"column 'method': unknown method {method!r}; use one of {METHODS}")
    tau2, iterations, change = max(0.0, he), 0, THRESHOLD + 1.0
    while change > THRESHOLD:
        iterations += 1
        old = tau2
        w = 1.0 / (vi + tau2)
        P = _proj(X, w)
        Py = P @ yc
        if method == "ML":
            adj = (float(Py @ Py) - float(w.sum())) / float(np.sum(w**2))
        else:
            adj = (float(Py @ Py) - float(np.trace(P))) / float(np.sum(P * P.T))
        if np.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0.0:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if iterations > MAXITER:
            return Tau2Fit(tau2, float("nan"), iterations, False)
    reml = method == "REML"
    ll_gain = _loglik(yc, vi, X, 0.0, reml) - _loglik(yc, vi, X, tau2, reml)
    if ll_gain > LL0_TOL and tau2 > THRESHOLD:  # metafor's ll0check
        tau2 = 0.0
    w = 1.0 / (vi + tau2)
    se = np.sqrt(2.0 / np.sum(w**2)) if not reml else np.sqrt(2.0 / np.sum(_proj(X, w) ** 2))
    return Tau2Fit(max(0.0, tau2), float(se), iterations, True)


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
    """Omnibus Wald test of ``beta[idx]``: χ²(m), or ``F(m, ddf)`` as ``QM/m``."""
    bsub = beta[list(idx)]
    qm = float(bsub @ np.linalg.solve(vb[np.ix_(idx, idx)], bsub))
    m = len(idx)
    if ddf is None:
        return qm, (m, None), float(sps.chi2.sf(qm, m))
    return qm / m, (m, ddf), float(sps.f.sf(qm / m, m, ddf))


def _heterogeneity(
    y: FloatArray, v: FloatArray, X: FloatArray, tau2: float, method: str
) -> tuple[float, float, float]:
    """QE, I² (percent) and H² as ``rma.uni`` (τ²-based unless FE/EE, "typical" vi via tr(P))."""
    k, p = X.shape
    P = _proj(X, 1.0 / v)
    yc = y - y.mean()
    qe = max(0.0, float(yc @ P @ yc))
    vt = (k - p) / float(np.trace(P))
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
        As in metafor: ``method="REML"``, ``test="z"`` (or ``"knha"``/``"t"``), ``level=95``.
    btt
        0-based coefficients for the QM omnibus test; default all but the intercept.

    Returns
    -------
    MetaRegression
        Coefficients with Wald/t inference, τ², I², H², R², QE and QM.
    """
    _check_options(method, test)
    y, v = as_vector(yi, "yi"), as_vector(vi, "vi")
    k = same_length([("yi", y), ("vi", v)])
    check_variances(v)
    X, coef_names = design_matrix(mods, k, intercept=intercept, names=names)
    p = X.shape[1]
    if k <= p:
        raise InputError(f"column 'mods': {p} coefficients need more than {k} studies")
    if np.linalg.matrix_rank(X) < p:
        raise InputError("column 'mods': design matrix is rank deficient (redundant moderators)")
    fit = fit_tau2(y, v, X, method)
    tau2 = fit.tau2
    w = 1.0 / (v + tau2)
    vb = wls_cov(X, w)
    hat = np.sum(_qr(X, w)[0] ** 2, axis=1)
    beta = wls_beta(X, w, y)
    ddf = k - p if test in ("knha", "t") else None
    s2w = 1.0
    if test == "knha":
        rss = float(np.sum(w * (y - X @ beta) ** 2))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
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
            tau2_re = fit_tau2(y, v, np.ones((k, 1)), method).tau2
            r2 = 0.0 if tau2_re == 0.0 else max(0.0, 100 * (tau2_re - tau2) / tau2_re)
    return MetaRegression(
        k=k, p=p, method=method, test=test, level=level, names=coef_names,
        beta=beta, se=se, stat=stat, pval=np.asarray(pval, dtype=np.float64),
        ci_low=beta - crit * se, ci_high=beta + crit * se, vb=vb, s2w=s2w, ddf=ddf,
        tau2=tau2, se_tau2=fit.se_tau2, i2=i2, h2=h2, r2=r2,
        qe=qe, qe_df=k - p, qe_p=float(sps.chi2.sf(qe, k - p)),
        qm=qm, qm_df=qm_df, qm_p=qm_p, btt=idx,
        weights=100 * w / w.sum(), hat=hat, fitted=X @ beta, converged=fit.converged,
    )  # fmt: skip
