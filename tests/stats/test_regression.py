"""Meta-regression checked against closed-form hand calculations written in the tests."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats.regression import meta_regression

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
    fit = meta_regression(YI, VI, method="DL")
    assert fit.tau2 == pytest.approx(tau2, rel=REL)


def _wls_rss(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> float:
    """Weighted residual sum of squares of the WLS fit at τ², by numpy least squares."""
    root_w = 1 / np.sqrt(v + tau2)
    beta = np.linalg.lstsq(x * root_w[:, None], y * root_w, rcond=None)[0]
    return float(np.sum((y - x @ beta) ** 2 / (v + tau2)))


def _loglik(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float, reml: bool) -> float:
    """ML / REML log-likelihood up to a constant, written out from the textbook formula."""
    ll = -0.5 * np.sum(np.log(v + tau2)) - 0.5 * _wls_rss(y, v, x, tau2)
    if reml:
        ll -= 0.5 * np.linalg.slogdet(x.T @ (x / (v + tau2)[:, None]))[1]
    return float(ll)


Y8 = np.array([0.1, 0.9, -0.5, 1.2, 0.3, -0.2, 0.8, 0.0])
V8 = np.array([0.05, 0.08, 0.04, 0.10, 0.06, 0.05, 0.07, 0.09])
X8 = np.arange(8.0)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_likelihood_estimates_sit_at_the_maximum(method: str) -> None:
    fit = meta_regression(Y8, V8, X8, method=method)  # type: ignore[arg-type]
    assert fit.tau2 > 0
    x = np.column_stack([np.ones(8), X8])
    reml = method == "REML"
    at = _loglik(Y8, V8, x, fit.tau2, reml)
    for h in (1e-3, -1e-3):
        assert at >= _loglik(Y8, V8, x, fit.tau2 + h, reml)


def test_paule_mandel_sets_generalised_q_to_residual_df() -> None:
    """PM with a moderator: Q(τ²) = Σ w (y − Xβ̂)² equals k − p = 6 at the estimate."""
    fit = meta_regression(Y8, V8, X8, method="PM")
    x = np.column_stack([np.ones(8), X8])
    assert fit.tau2 > 0
    assert _wls_rss(Y8, V8, x, fit.tau2) == pytest.approx(6.0, abs=1e-3)  # uniroot's tol


def test_sidik_jonkman_with_a_moderator_by_hand() -> None:
    """τ²₀ = population variance of y; τ² = τ²₀ · RSS(τ²₀) / (k − p)."""
    fit = meta_regression(Y8, V8, X8, method="SJ")
    tau2_0 = float(np.mean((Y8 - Y8.mean()) ** 2))
    x = np.column_stack([np.ones(8), X8])
    assert fit.tau2 == pytest.approx(tau2_0 * _wls_rss(Y8, V8, x, tau2_0) / 6, rel=REL)


def test_empirical_bayes_is_a_fixed_point() -> None:
    """EB stops where RSS·k/(k − p) = k, i.e. RSS(τ²) = k − p (to metafor's 1e-5 steps)."""
    fit = meta_regression(Y8, V8, X8, method="EB")
    x = np.column_stack([np.ones(8), X8])
    assert _wls_rss(Y8, V8, x, fit.tau2) == pytest.approx(6.0, rel=1e-3)


def test_adhoc_floors_the_knapp_hartung_factor_at_one() -> None:
    """Near-collinear effects: the KH factor RSS/(k − p) is < 1, so adhoc equals test t."""
    y = 0.1 + 0.05 * X8 + np.array([0.01, -0.01, 0.0, 0.01, -0.01, 0.0, 0.01, -0.01])
    knha = meta_regression(y, V8, X8, method="FE", test="knha")
    adhoc = meta_regression(y, V8, X8, method="FE", test="adhoc")
    t_test = meta_regression(y, V8, X8, method="FE", test="t")
    assert knha.s2w < 1
    assert adhoc.s2w == 1.0
    assert adhoc.se == pytest.approx(t_test.se, rel=REL)
    assert adhoc.ddf == t_test.ddf == 6


def test_paule_mandel_failure_is_a_status_not_an_exception() -> None:
    fit = meta_regression(Y8, V8, X8, method="PM", control={"tau2_max": 1e-6})
    assert not fit.converged
    assert "tau2_max" in fit.reason
    assert np.isnan(fit.tau2)
    assert np.isnan(fit.beta).all()


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
