"""Binomial-normal meta-analysis of single proportions, as ``metafor::rma.glmm(measure="PLO")``.

The one-stage GLMM uses the exact binomial likelihood, so studies with 0 or all events need no
continuity correction (the two-step logit model pulls them towards 50 %). metafor fits it with
``lme4::glmer(nAGQ = 7)`` by maximum likelihood; we maximise the same adaptive-quadrature
likelihood (``_glmm_fit``) and reproduce metafor's heterogeneity statistics, I² (with a
"typical" within-study variance from the continuity-corrected ``vi``), prediction interval and
back-transforms. Many datasets are fitted in one vectorised pass (``rma_glmm_batch``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from postcart.errors import InputError
from postcart.stats._checks import (
    as_matrix,
    as_vector,
    check_choice,
    check_counts,
    check_level,
    same_length,
)
from postcart.stats._glmm_fit import fit_binomial_normal
from postcart.stats._glmm_heterogeneity import glmm_heterogeneity
from postcart.stats._quadrature import FloatArray, ilogit_normal_mean
from postcart.stats.batch_result import (
    BackTransformArrays,
    BatchResult,
    status_from_reason,
    take_rows,
    without_false_ok,
)
from postcart.stats.results import MetaResult

#: Tests accepted; ``"knha"`` has no GLMM version, so it maps to metafor's ``test="t"``.
GLMM_TESTS: tuple[str, ...] = ("z", "t", "knha")
#: metafor's ``nAGQ`` default for ``rma.glmm``.
DEFAULT_NODES = 7
#: Groups of similar k that a batch is split into.
_SIZE_GROUPS = 6
_BACK_LABEL = "median proportion (inverse logit of the pooled logit)"


def rma_glmm(
    xi: npt.ArrayLike,
    ni: npt.ArrayLike,
    *,
    measure: str = "PLO",
    test: str = "z",
    level: float = 95.0,
    nAGQ: int = DEFAULT_NODES,
) -> MetaResult:
    """Random-intercept logistic meta-analysis of events ``xi`` out of ``ni``.

    Mirrors ``metafor::rma.glmm(xi=, ni=, measure="PLO", method="ML", nAGQ=7)`` (3.8-1),
    which calls ``lme4::glmer`` with adaptive Gauss–Hermite quadrature.

    Parameters
    ----------
    xi, ni
        Events and group sizes per study (whole numbers, ``0 <= xi <= ni``, ``ni > 0``).
    measure
        Only ``"PLO"`` (logit link) is supported.
    test
        ``"z"`` (metafor's default) or ``"t"``/``"knha"``: t with k - 1 df for the test, CI
        and PI (metafor's ``test="t"``; Knapp–Hartung does not exist for GLMMs).
    level
        Confidence level in percent.
    nAGQ
        Quadrature nodes per study (1 = Laplace).

    Returns
    -------
    MetaResult
        ``q`` is the Wald-type test (``QE.Wld``); ``settings["extras"]`` also has the
        likelihood-ratio test (``QE.LRT``). ``status="not_converged"`` (never an exception)
        when the ML fit fails, e.g. when every study has zero events.
    """
    x = as_vector(xi, "xi")
    n = as_vector(ni, "ni")
    same_length([("xi", x), ("ni", n)])
    check_counts(x, n)
    return without_false_ok(_fit(x[None, :], n[None, :], measure, test, level, nAGQ))[0]


def rma_glmm_batch(
    xi: npt.ArrayLike,
    ni: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    *,
    measure: str = "PLO",
    test: str = "z",
    level: float = 95.0,
    nAGQ: int = DEFAULT_NODES,
) -> BatchResult:
    """``rma_glmm`` for m datasets at once; ``xi``/``ni`` are ``(m, k_max)``, ragged by ``mask``.

    Row ``i`` of the result equals ``rma_glmm(xi[i][mask[i]], ni[i][mask[i]], ...)``.
    """
    x, n = as_matrix(xi, "xi"), as_matrix(ni, "ni")
    if x.ndim != 2 or x.shape != n.shape:
        raise InputError(f"xi and ni must be 2-D arrays of one shape, got {x.shape} and {n.shape}")
    used = np.ones(x.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if used.shape != x.shape:
        raise InputError(f"mask has shape {used.shape}, expected {x.shape}")
    _check_batch_counts(x, n, used)
    # Studies to the front of each row, rows grouped by k and trimmed: padding costs as much
    # quadrature work as data, and k often ranges widely (3 to 40, say).
    front = np.argsort(~used, axis=1, kind="stable")
    x_c = np.take_along_axis(np.where(used, x, 0.0), front, axis=1)
    n_c = np.take_along_axis(np.where(used, n, 0.0), front, axis=1)
    k = used.sum(axis=1)
    groups = [g for g in np.array_split(np.argsort(k, kind="stable"), min(_SIZE_GROUPS, len(k)))
              if g.size]  # fmt: skip
    parts = [_fit(x_c[g, : k[g].max()], n_c[g, : k[g].max()], measure, test, level, nAGQ)
             for g in groups]  # fmt: skip
    fitted = replace(take_rows(parts, groups, len(k)), weights=np.full(x.shape, np.nan))
    return without_false_ok(fitted)


def _check_batch_counts(x: FloatArray, n: FloatArray, used: npt.NDArray[np.bool_]) -> None:
    """Reuse the single-analysis checks row by row, naming the analysis in the message."""
    empty = ~used.any(axis=1)
    if empty.any():
        raise InputError(f"analysis {int(np.argmax(empty)) + 1}: no studies (k = 0)")
    for i in range(x.shape[0]):
        try:
            check_counts(x[i, used[i]], n[i, used[i]])
            as_vector(x[i, used[i]], "xi")
            as_vector(n[i, used[i]], "ni")
        except InputError as exc:
            raise InputError(f"analysis {i + 1} (rows count unmasked studies): {exc}") from exc


def _typical_variance(x: FloatArray, n: FloatArray) -> FloatArray:
    """metafor's ``vt`` for I²: ``(k - 1) / tr(P)`` from logit ``vi`` with add=1/2, to="only0"."""
    used = n > 0
    edge = (x == 0) | (x == n)
    add = np.where(edge, 0.5, 0.0)
    with np.errstate(divide="ignore"):
        wi = np.where(used, 1.0 / (1.0 / (x + add) + 1.0 / (n - x + add)), 0.0)
    sum_w = wi.sum(axis=1)
    tr_p = sum_w - (wi**2).sum(axis=1) / sum_w
    k = used.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        vt: FloatArray = np.where(k > 1, (k - 1) / tr_p, np.nan)
    return vt


def _fit(
    x: FloatArray, n: FloatArray, measure: str, test: str, level: float, nodes: int
) -> BatchResult:
    """Fit every row (``n = 0`` marks padding) and assemble the batch result."""
    check_choice("measure", measure, ("PLO",))
    check_choice("test", test, GLMM_TESTS)
    alpha = check_level(level)
    if not 1 <= nodes <= 50:
        raise InputError(f"nAGQ must be between 1 and 50, got {nodes}")
    fit = fit_binomial_normal(x, n, nodes=nodes)
    het = glmm_heterogeneity(x, n)
    k = (n > 0).sum(axis=1)
    tau2 = fit.theta**2
    se = np.sqrt(fit.vcov[:, 0, 0])
    stat = fit.beta / se
    vt = _typical_variance(x, n)

    t_based = test != "z"
    df = np.where(t_based & (k > 1), k - 1.0, np.nan)
    if t_based:
        with np.errstate(invalid="ignore"):
            crit = stats.t.isf(alpha / 2, df)
            pval = 2 * stats.t.sf(np.abs(stat), df)
    else:
        crit = np.full(len(k), stats.norm.isf(alpha / 2))
        pval = 2 * stats.norm.sf(np.abs(stat))
    half_ci = crit * se
    half_pi = crit * np.sqrt(se**2 + tau2)
    est = fit.beta
    ci_low, ci_high = est - half_ci, est + half_ci
    back = BackTransformArrays(
        estimate=special.expit(est),
        ci_low=special.expit(ci_low),
        ci_high=special.expit(ci_high),
        pi_low=special.expit(est - half_pi),
        pi_high=special.expit(est + half_pi),
        mean=ilogit_normal_mean(est, tau2),
        mean_ci_low=ilogit_normal_mean(ci_low, tau2),
        mean_ci_high=ilogit_normal_mean(ci_high, tau2),
        transform="transf.ilogit",
        label=_BACK_LABEL,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        i2 = 100 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1
    m = len(k)
    nan = np.full(m, np.nan)
    return BatchResult(
        k=k.astype(np.int64),
        measure=measure,
        method="ML",
        test=test,
        level=level,
        estimate=est,
        se=se,
        stat=stat,
        pval=pval,
        ci_low=ci_low,
        ci_high=ci_high,
        pi_low=est - half_pi,
        pi_high=est + half_pi,
        tau2=tau2,
        se_tau2=nan,
        tau2_ci_low=nan,
        tau2_ci_high=nan,
        tau=fit.theta,
        i2=i2,
        h2=h2,
        q=het.q_wald,
        q_df=np.where(k > 1, k - 1, 0).astype(np.int64),
        q_p=het.p_wald,
        back=back,
        weights=np.full(x.shape, np.nan),
        status=status_from_reason(fit.reason),
        reason=tuple(fit.reason),
        warnings=tuple(() for _ in range(m)),
        df=df,
        iterations=fit.iterations,
        i2_ci_low=nan,
        i2_ci_high=nan,
        settings=_settings(test, nodes),
        extras={
            "q_wald": het.q_wald,
            "q_wald_p": het.p_wald,
            "q_lrt": het.q_lrt,
            "q_lrt_p": het.p_lrt,
        },
    )


def _settings(test: str, nodes: int) -> dict[str, Any]:
    """Every modelling choice, spelled as metafor would, so a reader can re-run it in R."""
    return {
        "model": "binomial-normal GLMM, random intercept per study (logit link)",
        "estimation": "ML, adaptive Gauss-Hermite quadrature",
        "nAGQ": nodes,
        "metafor_call": f'rma.glmm(xi, ni, measure="PLO", test="{"z" if test == "z" else "t"}")',
        "test_note": (
            "normal (z) test and intervals"
            if test == "z"
            else "t with k-1 df for test, CI and PI (metafor test='t'; no Knapp-Hartung for GLMMs)"
        ),
        "q": "Wald-type test of the saturated model (metafor QE.Wld); QE.LRT is in extras",
        "i2": "tau2 / (vt + tau2), vt from logit vi with add=1/2 to='only0' (metafor i2def 1)",
        "weights": "not defined for a GLMM",
        "back_mean": "mean proportion: E[ilogit(mu + tau z)], z ~ N(0,1) (transf.ilogit.int)",
        "tau2_ci": "not available for rma.glmm",
    }
