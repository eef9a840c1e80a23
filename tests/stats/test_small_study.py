"""regtest / ranktest / trimfill against hand calculations and independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats.small_study import _k0_step, _kendall_cdf, ranktest, regtest, trimfill

REL = 1e-10
YI = np.array([0.42, 0.10, 0.65, -0.05, 0.80, 0.30, 0.95, 0.22, 0.58])
VI = np.array([0.02, 0.01, 0.06, 0.015, 0.09, 0.03, 0.12, 0.025, 0.05])


def test_kendall_null_distribution_is_mahonian() -> None:
    # n = 4: inversion counts 0..6 occur 1, 3, 5, 6, 5, 3, 1 times out of 24 permutations.
    cumulative = np.cumsum([1, 3, 5, 6, 5, 3, 1]) / 24
    assert [_kendall_cdf(q, 4) for q in range(7)] == pytest.approx(cumulative.tolist(), rel=1e-14)
    assert _kendall_cdf(-1, 4) == 0.0


def test_ranktest_matches_scipy_kendall_on_hand_standardised_deviates() -> None:
    w = 1 / VI
    theta = np.sum(w * YI) / w.sum()
    ystar = (YI - theta) / np.sqrt(VI - 1 / w.sum())
    ref = sps.kendalltau(ystar, VI, method="exact")
    res = ranktest(YI, VI)
    assert res.exact
    assert res.tau == pytest.approx(ref.statistic, rel=REL)
    assert res.pval == pytest.approx(ref.pvalue, rel=1e-9)


def test_ranktest_with_ties_uses_normal_approximation() -> None:
    vi = np.array([0.02, 0.02, 0.05, 0.05, 0.08, 0.1, 0.1])
    yi = np.array([0.1, 0.3, 0.2, 0.6, 0.5, 0.9, 0.7])
    w = 1 / vi
    ystar = (yi - np.sum(w * yi) / w.sum()) / np.sqrt(vi - 1 / w.sum())
    ref = sps.kendalltau(ystar, vi, method="asymptotic")
    res = ranktest(yi, vi)
    assert not res.exact
    assert res.tau == pytest.approx(ref.statistic, rel=REL)
    assert res.pval == pytest.approx(ref.pvalue, rel=1e-9)


def test_regtest_lm_equals_classical_egger_regression() -> None:
    # Egger 1997: regress y/se on 1/se; the intercept's t-test is the asymmetry test.
    se = np.sqrt(VI)
    ref = sps.linregress(1 / se, YI / se)
    res = regtest(YI, VI, model="lm")
    assert res.stat == pytest.approx(ref.intercept / ref.intercept_stderr, rel=1e-9)
    assert res.ddf == YI.size - 2
    assert res.limit_estimate == pytest.approx(ref.slope, rel=1e-9)


def test_regtest_rma_fixed_effect_is_weighted_slope_z_test() -> None:
    se = np.sqrt(VI)
    w = 1 / VI
    sbar = np.sum(w * se) / w.sum()
    sxx = np.sum(w * (se - sbar) ** 2)
    slope = np.sum(w * (se - sbar) * (YI - np.sum(w * YI) / w.sum())) / sxx
    res = regtest(YI, VI, method="FE")
    assert res.stat == pytest.approx(slope * math.sqrt(sxx), rel=REL)
    assert res.pval == pytest.approx(2 * sps.norm.sf(abs(res.stat)), rel=REL)
    assert res.ddf is None


def test_regtest_sample_size_predictor_needs_ni() -> None:
    with pytest.raises(InputError, match="column 'ni'"):
        regtest(YI, VI, predictor="ninv")
    res = regtest(YI, VI, ni=np.arange(20.0, 29.0), predictor="ni")
    assert res.limit_estimate is None


def test_l0_estimator_by_hand() -> None:
    # Centred values with signed ranks +1, -2, +3, +4, -5: S_r = 8, k = 5.
    k0, _ = _k0_step(np.array([0.1, -0.2, 0.3, 0.4, -0.5]), "L0")
    assert k0 == pytest.approx((4 * 8 - 5 * 6) / (2 * 5 - 1), rel=REL)


def test_trimfill_without_missing_studies_returns_the_original_model() -> None:
    # Extreme effects already sit on the "left": the L0 statistic is negative, so k0 = 0.
    yi = np.array([-0.9, -0.6, 0.0, 0.05, 0.1])
    vi = np.array([0.2, 0.1, 0.01, 0.02, 0.03])
    k = yi.size
    w = 1 / vi
    mu = np.sum(w * yi) / w.sum()
    ranks = sps.rankdata(np.abs(yi - mu), method="ordinal")
    s_r = ranks[yi - mu > 0].sum()
    assert (4 * s_r - k * (k + 1)) / (2 * k - 1) < 0
    res = trimfill(yi, vi, method="FE", side="left", test="knha")
    assert res.k0 == 0
    assert not res.filled.any()
    assert res.fit.test == "knha"
    assert res.fit.beta[0] == pytest.approx(mu, rel=REL)


def test_trimfill_mirrors_the_extreme_studies_around_the_trimmed_estimate() -> None:
    res = trimfill(YI, VI, method="FE")
    assert res.k0 > 0
    assert res.side == "left"  # large studies show small effects: missing on the left
    filled = res.yi[res.filled]
    # Filled studies are mirror images of the k0 largest effects.
    largest = np.sort(YI)[-res.k0 :]
    centres = (filled + largest) / 2
    assert np.allclose(centres, centres[0], rtol=1e-12)
    assert res.vi[res.filled].tolist() == VI[np.argsort(YI)][-res.k0 :].tolist()
    assert res.fit.k == YI.size + res.k0
    assert "missing" in res.summary()
