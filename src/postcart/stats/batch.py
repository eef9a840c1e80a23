"""Many normal–normal meta-analyses in one call: ``rma`` vectorised over datasets.

Simulation studies, sensitivity grids and the living-evidence rebuild fit thousands of small
meta-analyses; looping ``rma`` (or metafor's ``rma()``) spends nearly all its time in per-call
overhead. ``rma_batch`` takes ``(m, k_max)`` arrays with a boolean mask for ragged k and runs
every step of ``rma`` (τ², Knapp–Hartung, Q, I², Q-profile CI, back-transform) as array
operations, taking the same iterative steps as metafor so each row agrees with ``rma``.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray
from scipy import special, stats

from postcart.errors import InputError
from postcart.stats._checks import (
    VI_MAX,
    VI_MIN,
    VI_RATIO_MAX,
    YI_MAX,
    as_matrix,
    check_choice,
    check_level,
)
from postcart.stats._qprofile_batch import q_profile_batch
from postcart.stats._quadrature import FloatArray, ilogit_normal_mean
from postcart.stats._tau2_batch import (
    VECTOR_METHODS,
    estimate_tau2_batch,
    trace_p,
    weighted_rss,
    weights_at,
)
from postcart.stats.batch_result import (
    BackTransformArrays,
    BatchResult,
    stack_results,
    take_rows,
    without_false_ok,
)
from postcart.stats.inference import DOUBLE_EPS, RESCALED_TESTS, T_TESTS, TESTS
from postcart.stats.results import Status
from postcart.stats.rma import CI_METHODS, rma
from postcart.stats.tau2 import TAU2_METHODS
from postcart.stats.transforms import PFT_SIZE_RATIO_WARNING, iarcsin, pft_warnings

#: Scales ``rma_batch`` back-transforms, as ``rma``; ``"PFT"`` also needs the study sizes ``ni``.
BATCH_MEASURES: tuple[str, ...] = ("GEN", "PLO", "PR", "PAS", "PFT")
#: Slack around the PFT range when screening rows for ``pft_warnings`` (which then decides),
#: so a last-digit difference between numpy's and ``math``'s arcsine cannot lose a warning.
_PFT_RANGE_SLACK = 1e-9
#: Groups of similar k fitted separately (each trimmed to its widest row).
_SIZE_GROUPS = 8
_LOCAL_MAX_NOTE = "Fisher scoring may have stopped at a local maximum; tau2 set to 0"


def rma_batch(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    mask: npt.ArrayLike | None = None,
    *,
    method: str = "REML",
    test: str = "knha",
    level: float = 95.0,
    measure: str = "GEN",
    ni: npt.ArrayLike | None = None,
) -> BatchResult:
    """Fit ``m`` intercept-only meta-analyses, one per row of ``yi``/``vi``.

    Row ``i`` reproduces ``rma(yi[i][mask[i]], vi[i][mask[i]], method=..., test=...,
    measure=..., ni=ni[i][mask[i]])``, which mirrors ``metafor::rma.uni`` (3.8-1) with its
    default ``control``.

    Parameters
    ----------
    yi, vi
        ``(m, k_max)`` effect sizes and sampling variances; cells outside ``mask`` are ignored.
    mask
        ``(m, k_max)`` booleans marking real studies (default: all).
    method
        τ² estimator as in ``rma``; FE, DL, HE, HS, REML, ML and EB run vectorised, PM and SJ
        call ``rma`` for each row.
    test
        ``"knha"`` (Knapp–Hartung, the default here), ``"adhoc"`` (its factor floored at 1),
        ``"t"`` (t on k − 1 df, variance unscaled) or ``"z"``; see
        :mod:`postcart.stats.inference`. Rows with k = 1 use ``"z"``, as metafor does.
    level
        Confidence level in percent.
    measure
        ``"GEN"``, ``"PLO"``, ``"PR"``, ``"PAS"`` or ``"PFT"`` (the scale for the
        back-transform).
    ni
        ``(m, k_max)`` study sizes, required for ``"PFT"`` (each row is back-transformed at
        the harmonic mean of its own sizes, metafor ``transf.ipft.hm``); other measures
        ignore it.

    Returns
    -------
    BatchResult
        Arrays named like ``MetaResult`` fields; ``result[i]`` is a ``MetaResult``.
    """
    y, v, used = _validated(yi, vi, mask)
    check_choice("method", method, TAU2_METHODS)
    check_choice("test", test, TESTS)
    check_choice("measure", measure, BATCH_MEASURES)
    sizes = _validated_sizes(ni, used, measure)
    alpha = check_level(level)
    if method not in VECTOR_METHODS:
        return _row_by_row(y, v, used, method, test, level, measure, sizes)
    return without_false_ok(_by_size(y, v, used, method, test, level, alpha, measure, sizes))


def _by_size(
    y: FloatArray,
    v: FloatArray,
    used: NDArray[np.bool_],
    method: str,
    test: str,
    level: float,
    alpha: float,
    measure: str,
    sizes: FloatArray,
) -> BatchResult:
    """Fit rows in groups of similar k, each trimmed to its own width.

    Padding costs as much as data in every array pass, so when k varies (3 to 40, say) this
    halves the work. Studies are moved to the front of each row first; the weights are put
    back in their original columns afterwards.
    """
    m, width = y.shape
    front = np.argsort(~used, axis=1, kind="stable")
    y_c = np.take_along_axis(y, front, axis=1)
    v_c = np.take_along_axis(v, front, axis=1)
    used_c = np.take_along_axis(used, front, axis=1)
    sizes_c = np.take_along_axis(sizes, front, axis=1)
    k = used.sum(axis=1)
    by_k = np.argsort(k, kind="stable")
    groups = [g for g in np.array_split(by_k, min(_SIZE_GROUPS, m)) if g.size]
    parts = []
    for rows in groups:
        cols = int(k[rows].max())
        parts.append(_vectorised(y_c[rows, :cols], v_c[rows, :cols], used_c[rows, :cols],
                                 method, test, level, alpha, measure,
                                 sizes_c[rows, :cols]))  # fmt: skip
    result = take_rows(parts, groups, m)
    compact = np.full((m, width), np.nan)
    compact[:, : result.weights.shape[1]] = result.weights
    weights = np.full((m, width), np.nan)
    np.put_along_axis(weights, front, compact, axis=1)
    return replace(result, weights=weights)


def _validated(
    yi: npt.ArrayLike, vi: npt.ArrayLike, mask: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """2-D float arrays and mask; errors name the analysis (row) and study (column), 1-based."""
    y, v = as_matrix(yi, "yi"), as_matrix(vi, "vi")
    if y.ndim != 2 or y.shape != v.shape:
        raise InputError(f"yi and vi must be 2-D arrays of one shape, got {y.shape} and {v.shape}")
    used = np.ones(y.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if used.shape != y.shape:
        raise InputError(f"mask has shape {used.shape}, expected {y.shape}")
    _reject_unusable("yi", y, used & ~(np.isfinite(y) & (np.abs(y) <= YI_MAX)))
    _reject_unusable("vi", v, used & ~(np.isfinite(v) & (v >= VI_MIN) & (v <= VI_MAX)))
    empty = ~used.any(axis=1)
    if empty.any():
        raise InputError(f"analysis {int(np.argmax(empty)) + 1}: no studies (k = 0)")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(used, v, 0.0).max(axis=1) / np.where(used, v, np.inf).min(axis=1)
    spread = ratio >= VI_RATIO_MAX
    if spread.any():
        row = int(np.argmax(spread))
        raise InputError(
            f"analysis {row + 1}, column 'vi': largest and smallest sampling variance differ "
            f"by a factor ≥ {VI_RATIO_MAX:g}; in double precision the smaller weights vanish"
        )
    return np.where(used, y, 0.0), np.where(used, v, 1.0), used


def _validated_sizes(ni: npt.ArrayLike | None, used: NDArray[np.bool_], measure: str) -> FloatArray:
    """PFT's study sizes as a float array of the mask's shape (1 outside the mask; all 1 for
    other measures, which ignore ``ni`` as ``rma`` does).

    ``rma`` falls back to a note when PFT lacks ``ni``; a batch is built by code that should
    say what it means, so here a missing ``ni`` is an error.
    """
    if measure != "PFT":
        return np.ones(used.shape)
    if ni is None:
        raise InputError("measure 'PFT' needs the study sizes ni (an (m, k_max) array)")
    sizes = np.asarray(ni, dtype=np.float64)
    if sizes.shape != used.shape:
        raise InputError(f"ni has shape {sizes.shape}, expected {used.shape} (as yi)")
    _reject_unusable("ni", sizes, used & ~(np.isfinite(sizes) & (sizes > 0)))
    return np.where(used, sizes, 1.0)


def _reject_unusable(name: str, values: FloatArray, bad: NDArray[np.bool_]) -> None:
    """Raise for the first flagged cell, naming the analysis (row) and study (column), 1-based."""
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(
            f"analysis {i + 1}, study {j + 1}, column '{name}': unusable value {values[i, j]:g}"
        )


def _vectorised(
    y: FloatArray,
    v: FloatArray,
    used: NDArray[np.bool_],
    method: str,
    test: str,
    level: float,
    alpha: float,
    measure: str,
    sizes: FloatArray,
) -> BatchResult:
    """Every step of ``rma`` as array operations over rows."""
    m = y.shape[0]
    k = used.sum(axis=1)
    present = used.astype(np.float64)
    fit = estimate_tau2_batch(method, y, v, present)
    tau2 = fit.tau2
    # metafor falls back to z for k = 1, so the test's choices apply row by row.
    t_dist = (test in T_TESTS) & (k > 1)
    rescaled = (test in RESCALED_TESTS) & (k > 1)

    w = weights_at(v, present, tau2)
    total = w.sum(axis=1)
    estimate = (w * y).sum(axis=1) / total
    variance = 1.0 / total
    rss = (w * (y - estimate[:, None]) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(rss <= DOUBLE_EPS, 0.0, rss / (k - 1))
    if test == "adhoc":
        factor = np.maximum(1.0, factor)
    variance = np.where(rescaled, variance * factor, variance)
    se = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = estimate / se
    df = np.where(t_dist, k - 1.0, math.inf)
    crit = np.where(t_dist, stats.t.isf(alpha / 2, np.maximum(df, 1.0)), stats.norm.isf(alpha / 2))
    pval = np.where(t_dist, 2 * stats.t.sf(np.abs(stat), np.maximum(df, 1.0)),
                    2 * stats.norm.sf(np.abs(stat)))  # fmt: skip
    common = method == "FE"
    half_pi = crit * np.sqrt(se**2 + tau2)
    nan = np.full(m, np.nan)
    pi_low = nan if common else estimate - half_pi
    pi_high = nan if common else estimate + half_pi

    w_fe = weights_at(v, present, 0.0)
    q = np.maximum(0.0, weighted_rss(y, w_fe))
    q_df = k - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        typical = q_df / trace_p(w_fe)
        if common:
            i2 = np.where(q > 0, np.maximum(0.0, 100 * (q - q_df) / q), 0.0)
            h2 = q / q_df
        else:
            i2 = 100 * tau2 / (typical + tau2)
            h2 = tau2 / typical + 1
    single = k == 1
    q, q_p = np.where(single, 0.0, q), np.where(single, 1.0, stats.chi2.sf(q, np.maximum(q_df, 1)))
    i2, h2 = np.where(single, 0.0, i2), np.where(single, 1.0, h2)

    notes: list[list[str]] = [[] for _ in range(m)]
    for i in np.flatnonzero(single & (test != "z")):
        notes[i].append('test set to "z" because k = 1 (as metafor)')
    if common and test in RESCALED_TESTS:
        for i in np.flatnonzero(~single):
            notes[i].append("Knapp–Hartung is not meant for a common-effect (FE) model")
    ratio = np.where(used, v, -np.inf).max(axis=1) / np.where(used, v, np.inf).min(axis=1)
    for i in np.flatnonzero(ratio >= 1e7):
        notes[i].append("ratio of largest to smallest sampling variance is extremely large")
    for i in np.flatnonzero(fit.stuck_at_local_max):
        notes[i].append(_LOCAL_MAX_NOTE)

    tau2_lo, tau2_hi, i2_lo, i2_hi = nan, nan, nan, nan
    if not common:
        ci = q_profile_batch(y, v, present, tau2, alpha)
        tau2_lo = np.where(single, np.nan, ci.low)
        tau2_hi = np.where(single, np.nan, ci.high)
        i2_lo = 100 * tau2_lo / (typical + tau2_lo)
        i2_hi = 100 * tau2_hi / (typical + tau2_hi)
        for i in np.flatnonzero(~single):
            if ci.notes[i]:
                notes[i].append(ci.notes[i])

    ci_low, ci_high = estimate - crit * se, estimate + crit * se
    back = _back(measure, estimate, ci_low, ci_high, pi_low, pi_high, tau2, notes,
                 np.where(used, sizes, np.nan))  # fmt: skip
    reason = [
        ""
        if ok
        else f"{method}: Fisher scoring did not converge in 100 iterations "
        "(try control stepadj=0.5 or a larger maxiter)"
        for ok in fit.converged
    ]
    status: tuple[Status, ...] = tuple("ok" if ok else "not_converged" for ok in fit.converged)
    weights = np.where(used, 100 * w / total[:, None], np.nan)
    return BatchResult(
        k=k.astype(np.int64), measure=measure, method=method, test=test, level=float(level),
        estimate=estimate, se=se, stat=stat, pval=pval, ci_low=ci_low, ci_high=ci_high,
        pi_low=pi_low, pi_high=pi_high, tau2=tau2, se_tau2=fit.se_tau2,
        tau2_ci_low=tau2_lo, tau2_ci_high=tau2_hi, tau=np.sqrt(tau2), i2=i2, h2=h2,
        q=q, q_df=q_df.astype(np.int64), q_p=q_p, back=back, weights=weights,
        status=status, reason=tuple(reason), warnings=tuple(tuple(n) for n in notes),
        df=df, iterations=fit.iterations,
        settings=_settings(method, test, level),
        i2_ci_low=i2_lo, i2_ci_high=i2_hi,
    )  # fmt: skip


def _back(
    measure: str,
    estimate: FloatArray,
    ci_low: FloatArray,
    ci_high: FloatArray,
    pi_low: FloatArray,
    pi_high: FloatArray,
    tau2: FloatArray,
    notes: list[list[str]],
    sizes: FloatArray,
) -> BackTransformArrays:
    """The proportion-scale block of ``transforms.back_transform`` for whole arrays.

    ``sizes`` holds each row's study sizes, NaN outside the mask (used by PFT only).
    """
    if measure == "PFT":
        return _back_pft(np.stack([estimate, ci_low, ci_high, pi_low, pi_high]), sizes, notes)
    if measure == "PLO":
        return BackTransformArrays(
            special.expit(estimate), special.expit(ci_low), special.expit(ci_high),
            special.expit(pi_low), special.expit(pi_high),
            ilogit_normal_mean(estimate, tau2), ilogit_normal_mean(ci_low, tau2),
            ilogit_normal_mean(ci_high, tau2),
            transform="transf.ilogit",
            label="median proportion (inverse logit of the pooled logit)",
        )  # fmt: skip
    nan = np.full(len(estimate), np.nan)
    if measure == "PR":
        outside = (pi_low < 0) | (pi_high > 1)
        for i in np.flatnonzero(outside):
            notes[i].append("prediction interval for the raw proportion extends beyond [0, 1]")
        return BackTransformArrays(estimate, ci_low, ci_high, pi_low, pi_high, nan, nan, nan,
                                   transform="identity", label="pooled proportion")  # fmt: skip
    if measure == "PAS":
        return BackTransformArrays(
            iarcsin(estimate), iarcsin(ci_low), iarcsin(ci_high), iarcsin(pi_low),
            iarcsin(pi_high), nan, nan, nan,
            transform="transf.iarcsin", label="proportion (sin² of the pooled arcsine)",
        )  # fmt: skip
    return BackTransformArrays.empty(len(estimate))


def _back_pft(values: FloatArray, sizes: FloatArray, notes: list[list[str]]) -> BackTransformArrays:
    """metafor ``transf.ipft.hm`` with each row's own harmonic-mean n, as array operations.

    ``values`` is ``(5, m)``: estimate, CI and PI bounds. The inverse is ``transforms.ipft``
    with n broadcast over rows. Rows that may need a warning are screened here and worded by
    ``transforms.pft_warnings`` (a loop over those rows only), so the text is ``rma``'s.
    """
    n_hm = 1.0 / (np.nansum(1.0 / sizes, axis=1) / np.isfinite(sizes).sum(axis=1))
    low, high = _pft(0.0, n_hm), _pft(1.0, n_hm)
    sine = np.sin(2 * values)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = 1 - (sine + (sine - 1 / sine) / n_hm) ** 2
        back = 0.5 * (1 - np.sign(np.cos(2 * values)) * np.sqrt(inner))
    back = np.where(values > high, 1.0, back)
    back = np.where(values < low, 0.0, back)
    estimate = values[0]
    inside = (estimate > low + _PFT_RANGE_SLACK) & (estimate < high - _PFT_RANGE_SLACK)
    spread = np.nanmax(sizes, axis=1) / np.nanmin(sizes, axis=1) > PFT_SIZE_RATIO_WARNING
    for i in np.flatnonzero(~inside | spread):
        row_sizes = sizes[i][np.isfinite(sizes[i])]
        notes[i].extend(pft_warnings(float(estimate[i]), row_sizes))
    nan = np.full(len(estimate), np.nan)
    return BackTransformArrays(
        back[0], back[1], back[2], back[3], back[4], nan, nan, nan,
        transform="transf.ipft.hm",
        label="proportion (Freeman–Tukey inverse at harmonic-mean n)",
    )  # fmt: skip


def _pft(p: float, n: FloatArray) -> FloatArray:
    """Freeman–Tukey transform of one proportion at many sizes (``transforms.pft`` for arrays)."""
    x = p * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def _row_by_row(
    y: FloatArray,
    v: FloatArray,
    used: NDArray[np.bool_],
    method: str,
    test: str,
    level: float,
    measure: str,
    sizes: FloatArray,
) -> BatchResult:
    """Estimators without a vectorised form (PM, SJ): call ``rma`` per row and stack."""
    rows = [
        rma(y[i, used[i]], v[i, used[i]], method=method, test=test, level=level,
            measure=measure, ni=sizes[i, used[i]] if measure == "PFT" else None)
        for i in range(y.shape[0])
    ]  # fmt: skip
    return stack_results(rows, used, test)


def _settings(method: str, test: str, level: float) -> dict[str, object]:
    """The choices behind every row, worded as ``rma`` records them."""
    common = method == "FE"
    ci_method = CI_METHODS[test]
    return {
        "engine": "postcart.stats.rma_batch (vectorised rma; mirrors metafor 3.8 rma.uni)",
        "estimator": "common effect (tau2 = 0)" if common else method,
        "ci_method": ci_method,
        "level": level,
        "tau2_ci": "none" if common else "Q-profile (metafor confint type='QP')",
        "i2_definition": "Q-based" if common else "tau2-based, typical vi = (k−1)/tr(P)",
        "control": "metafor defaults (threshold 1e-5, maxiter 100, stepadj 1, ll0check)",
    }
