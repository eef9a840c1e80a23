"""Meta-regression checked against closed-form hand calculations written in the tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats.regression import _loglik, fit_tau2, meta_regression

REL = 1e-10
YI = np.array([0.10, 0.35, -0.20, 0.60, 0.25, 0.05, 0.40])
VI = np.array([0.04, 0.09, 0.05, 0.12, 0.03, 0.07, 0.06])
X1 = np.array([1.0, 2.5, 0.5, 4.0, 2.0, 1.5, 3.0])


def test_fixed_effect_slope_is_weighted_least_squares_by_hand() -> None:
    w = 1 / VI
    xbar, ybar = np.sum(w * X1) / w.sum(), np.sum(w * YI) / w.sum()
    sxx = np.sum(w * (X1 - xbar) ** 2)
    slope = np.sum(w * (X1 - xbar) * (YI - ybar)) / sxx
    intercept = ybar - slope * xbar
    res = meta_regression(YI, VI, X1, method="FE")
    assert res.beta == pytest.approx([intercept, slope], rel=REL)
    assert res.se[1] == pytest.approx(np.sqrt(1 / sxx), rel=REL)
    qe = np.sum(w * (YI - intercept - slope * X1) ** 2)
    assert res.qe == pytest.approx(qe, rel=REL)
    assert res.qe_df == 5
    assert res.qm == pytest.approx((slope / np.sqrt(1 / sxx)) ** 2, rel=REL)
    assert res.qm_p == pytest.approx(sps.chi2.sf(res.qm, 1), rel=REL)
    assert res.qm_df == (1, None)


def test_knha_scales_covariance_and_uses_f_test() -> None:
    fe = meta_regression(YI, VI, X1, method="FE")
    kh = meta_regression(YI, VI, X1, method="FE", test="knha")
    s2w = fe.qe / (7 - 2)  # RSS / (k - p) with τ² = 0
    assert kh.se == pytest.approx(fe.se * np.sqrt(s2w), rel=REL)
    assert kh.qm == pytest.approx(kh.stat[1] ** 2, rel=REL)
    assert kh.qm_df == (1, 5)
    assert kh.pval[1] == pytest.approx(2 * sps.t.sf(abs(kh.stat[1]), 5), rel=REL)
    crit = sps.t.isf(0.025, 5)
    assert kh.ci_low[1] == pytest.approx(kh.beta[1] - crit * kh.se[1], rel=REL)


def test_dl_intercept_only_matches_dersimonian_laird_formula() -> None:
    w = 1 / VI
    mu = np.sum(w * YI) / w.sum()
    q = np.sum(w * (YI - mu) ** 2)
    tau2 = max(0.0, (q - 6) / (w.sum() - np.sum(w**2) / w.sum()))
    fit = fit_tau2(YI, VI, np.ones((7, 1)), "DL")
    assert fit.tau2 == pytest.approx(tau2, rel=REL)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_likelihood_estimates_sit_at_the_maximum(method: str) -> None:
    y = np.array([0.1, 0.9, -0.5, 1.2, 0.3, -0.2, 0.8, 0.0])
    v = np.array([0.05, 0.08, 0.04, 0.10, 0.06, 0.05, 0.07, 0.09])
    x = np.column_stack([np.ones(8), np.arange(8.0)])
    fit = fit_tau2(y, v, x, method)  # type: ignore[arg-type]
    assert fit.tau2 > 0
    reml = method == "REML"
    yc = y - y.mean()
    at = _loglik(yc, v, x, fit.tau2, reml)
    for h in (1e-3, -1e-3):
        assert at >= _loglik(yc, v, x, fit.tau2 + h, reml)


def test_r2_is_zero_without_heterogeneity_and_names_are_kept() -> None:
    v = np.full(6, 0.5)
    y = np.array([0.0, 0.01, -0.01, 0.02, 0.0, 0.01])
    res = meta_regression(y, v, np.arange(6.0), names=["dose"], method="REML")
    assert res.tau2 == 0.0
    assert res.r2 == 0.0
    assert res.names == ("intrcpt", "dose")
    assert "dose" in res.summary()
    assert res.to_dict()["qm_df"] == [1, None]


def test_hat_values_sum_to_number_of_coefficients_and_weights_to_100() -> None:
    res = meta_regression(YI, VI, np.column_stack([X1, X1**2]), method="REML")
    assert res.hat.sum() == pytest.approx(3.0, rel=1e-12)
    assert res.weights.sum() == pytest.approx(100.0, rel=1e-12)


@pytest.mark.parametrize(
    ("mods", "vi", "match"),
    [
        (np.column_stack([X1, 2 * X1]), VI, "rank deficient"),
        (np.ones((7, 7)), VI, "need more than"),
        (X1, np.where(np.arange(7) == 3, 0.0, VI), "row 4, column 'vi'"),
        (X1[:5], VI, "column 'mods'"),
    ],
)
def test_bad_input_is_named(mods: np.ndarray, vi: np.ndarray, match: str) -> None:
    with pytest.raises(InputError, match=match):
        meta_regression(YI, vi, mods)
