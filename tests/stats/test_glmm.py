"""Binomial-normal GLMM: quadrature, heterogeneity tests and fits, against hand calculations.

The live comparison with ``metafor::rma.glmm`` is in ``tests/oracle``; here every expected
number is derived independently (closed forms, ``scipy.integrate.quad``, or the published
metafor output for ``dat.pritz1997`` in the shared research notes).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from postcart.errors import InputError
from postcart.stats._glmm_heterogeneity import glmm_heterogeneity
from postcart.stats._quadrature import (
    agq_log_marginal,
    conditional_modes,
    gauss_hermite_rule,
    ilogit_normal_mean,
)
from postcart.stats.glmm import rma_glmm, rma_glmm_batch

PRITZ_X = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_N = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]


def test_hermite_rule_reproduces_normal_moments() -> None:
    z, w = gauss_hermite_rule(7)
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert (w * z**2).sum() == pytest.approx(1.0, abs=1e-13)
    assert (w * z**4).sum() == pytest.approx(3.0, abs=1e-12)
    assert (w * z**6).sum() == pytest.approx(15.0, abs=1e-11)


def test_agq_at_theta_zero_is_the_binomial_kernel() -> None:
    x, n, beta = np.array([3.0, 0.0, 7.0]), np.array([10.0, 5.0, 7.0]), np.full(3, -0.4)
    theta = np.zeros(3)
    mode, curv = conditional_modes(x, n, beta, theta, np.zeros(3))
    got = agq_log_marginal(x, n, beta, theta, mode, curv)
    # Relative to each study's saturated log-likelihood: 3·log(0.3) + 7·log(0.7) for the
    # first; 0 for the studies with 0 and all events.
    saturated = np.array([3 * np.log(0.3) + 7 * np.log(0.7), 0.0, 0.0])
    expected = x * beta - n * np.log1p(np.exp(beta)) - saturated
    np.testing.assert_allclose(got, expected, rtol=1e-13)


AGQ_CASES = [(3, 10, -0.5, 0.8), (0, 40, -2, 1.5), (25, 25, 1.0, 0.4), (1, 300, -4, 2.0)]


@pytest.mark.parametrize(("x", "n", "beta", "theta"), AGQ_CASES)
def test_agq_matches_direct_integration(x: int, n: int, beta: float, theta: float) -> None:
    def integrand(u: float) -> float:
        eta = beta + theta * u
        return float(math.exp(x * eta - n * np.logaddexp(0, eta)) * stats.norm.pdf(u))

    exact = math.log(integrate.quad(integrand, -12, 12, epsabs=0, epsrel=1e-12, limit=400)[0])
    # The kernel is taken relative to its maximum, the study's saturated log-likelihood.
    saturated = x * math.log(x / n) + (n - x) * math.log1p(-x / n) if 0 < x < n else 0.0
    exact -= saturated
    xs, ns = np.array([float(x)]), np.array([float(n)])
    bs, ts = np.array([beta]), np.array([theta])
    mode, curv = conditional_modes(xs, ns, bs, ts, np.zeros(1))
    assert agq_log_marginal(xs, ns, bs, ts, mode, curv, 30)[0] == pytest.approx(exact, rel=1e-7)


def test_ilogit_mean_matches_quad_and_symmetry() -> None:
    mu, tau2 = 0.7, 2.3
    exact = integrate.quad(lambda z: special.expit(mu + math.sqrt(tau2) * z) * stats.norm.pdf(z),
                           -10, 10, epsabs=0, epsrel=1e-13)[0]  # fmt: skip
    assert ilogit_normal_mean(np.array(mu), np.array(tau2)) == pytest.approx(exact, rel=1e-12)
    assert ilogit_normal_mean(np.array(0.0), np.array(5.0)) == pytest.approx(0.5, abs=1e-12)
    assert ilogit_normal_mean(np.array(1.2), np.array(0.0)) == special.expit(1.2)


def test_heterogeneity_without_zero_cells_equals_closed_forms() -> None:
    # glm() takes the Wald covariance from its last IRLS weights (one step before the final
    # fit), so the closed form with the final p agrees to ~1e-7, not to rounding.
    x, n = np.array([[4.0, 12.0, 30.0, 9.0]]), np.array([[20.0, 25.0, 60.0, 40.0]])
    p = x / n
    eta, w = special.logit(p), n * p * (1 - p)
    wald = float((w * (eta - (w * eta).sum() / w.sum()) ** 2).sum())
    pooled = x.sum() / n.sum()
    lrt = float(2 * (x * np.log(p / pooled) + (n - x) * np.log((1 - p) / (1 - pooled))).sum())
    het = glmm_heterogeneity(x, n)
    assert het.q_wald[0] == pytest.approx(wald, rel=1e-6)
    assert het.q_lrt[0] == pytest.approx(lrt, rel=1e-9)
    assert het.p_lrt[0] == pytest.approx(stats.chi2.sf(lrt, 3), rel=1e-9)


def test_homogeneous_studies_give_the_common_logistic_fit() -> None:
    # Identical proportions: tau2 = 0 and the fixed-effect logistic estimate, by hand.
    x, n = [4, 8, 12], [20, 40, 60]
    res = rma_glmm(x, n)
    p = 24 / 120
    assert res.status == "ok"
    assert res.tau2 == pytest.approx(0.0, abs=1e-12)
    assert res.estimate == pytest.approx(math.log(p / (1 - p)), rel=1e-8)
    assert res.se == pytest.approx(1 / math.sqrt(120 * p * (1 - p)), rel=1e-6)


def test_pritz_matches_published_metafor_values() -> None:
    # anchors_metaanalysis.md §5.2: metafor 3.8-1 rma.glmm(measure="PLO") on dat.pritz1997.
    res = rma_glmm(PRITZ_X, PRITZ_N)
    assert res.estimate == pytest.approx(1.376604, rel=1e-5)
    assert res.se == pytest.approx(0.288387, rel=1e-5)
    assert res.tau2 == pytest.approx(0.589331, rel=1e-4)
    assert res.i2 == pytest.approx(67.790, rel=1e-4)
    assert res.settings["extras"]["q_wald"] == pytest.approx(25.0979, rel=1e-5)
    assert res.settings["extras"]["q_lrt"] == pytest.approx(42.2324, rel=1e-5)
    assert (res.back.estimate, res.back.ci_low) == pytest.approx((0.798445, 0.692403), rel=1e-5)
    assert (res.back.pi_low, res.back.pi_high) == pytest.approx((0.442584, 0.951841), rel=1e-5)
    t_based = rma_glmm(PRITZ_X, PRITZ_N, test="knha")
    assert (t_based.back.ci_low, t_based.back.ci_high) == pytest.approx((0.679959, 0.880758),
                                                                        rel=1e-5)  # fmt: skip
    assert t_based.df == 13
    assert t_based.settings["metafor_call"].endswith('test="t")')


def test_t_interval_uses_k_minus_1_df_and_level() -> None:
    z90 = rma_glmm(PRITZ_X, PRITZ_N, level=90)
    t95 = rma_glmm(PRITZ_X, PRITZ_N, test="t")
    half_z90 = (z90.ci_high - z90.ci_low) / 2
    half_t95 = (t95.ci_high - t95.ci_low) / 2
    assert half_z90 / z90.se == pytest.approx(stats.norm.isf(0.05), rel=1e-12)
    assert half_t95 / t95.se == pytest.approx(stats.t.isf(0.025, 13), rel=1e-12)


def test_order_of_studies_does_not_matter() -> None:
    order = np.random.default_rng(3).permutation(len(PRITZ_X))
    a = rma_glmm(PRITZ_X, PRITZ_N)
    b = rma_glmm(np.array(PRITZ_X)[order], np.array(PRITZ_N)[order])
    assert (b.estimate, b.se, b.tau2) == pytest.approx((a.estimate, a.se, a.tau2), rel=1e-6)


@pytest.mark.parametrize(("x", "n", "words"), [([0, 0, 0], [10, 20, 30], "zero events"),
                                               ([5, 9], [5, 9], "all events"),
                                               ([3], [10], "fewer than two")])  # fmt: skip
def test_unfittable_data_report_status_not_exception(
    x: list[int], n: list[int], words: str
) -> None:
    res = rma_glmm(x, n)
    assert res.status == "not_converged"
    assert words in res.reason
    assert math.isnan(res.estimate)


def test_bad_counts_name_row_and_column() -> None:
    with pytest.raises(InputError, match=r"row 2, column 'xi'"):
        rma_glmm([1, 12, 3], [10, 10, 10])
    with pytest.raises(InputError, match="measure"):
        rma_glmm([1, 2], [10, 10], measure="PR")
    with pytest.raises(InputError, match="analysis 2"):
        rma_glmm_batch([[1, 2], [3, -1]], [[10, 10], [10, 10]])


def test_batch_rows_equal_single_fits_with_scattered_mask() -> None:
    xi = np.array([[16, 0, 10, 4], [3, 7, 99, 12], [0, 1, 2, 0]], dtype=float)
    ni = np.array([[17, 5, 12, 8], [30, 20, 99, 40], [9, 10, 12, 7]], dtype=float)
    mask = np.array([[1, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1]], dtype=bool)
    batch = rma_glmm_batch(xi, ni, mask)
    assert len(batch) == 3
    for i in range(3):
        single = rma_glmm(xi[i, mask[i]], ni[i, mask[i]])
        got = batch[i]
        assert got.k == single.k
        for key in ("estimate", "se", "tau2", "q", "i2", "pi_low"):
            assert getattr(got, key) == pytest.approx(getattr(single, key), rel=1e-5, abs=1e-7)
    assert list(batch.to_frame()["k"]) == [3, 3, 4]
