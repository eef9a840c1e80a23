"""rma on cases small enough to calculate by hand (metafor comparisons: tests/oracle)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from scipy import stats

from postcart.errors import InputError
from postcart.stats import escalc, rma

#: Hand calculations below are exact up to floating-point rounding.
HAND_REL_TOL = 1e-12
Z975 = 1.959963984540054


def test_dl_two_studies_by_hand() -> None:
    # yi = (0, 2), vi = (1, 1): Q = 2, tr(P) = 1, tau2_DL = (2 - 1)/1 = 1,
    # RE weights 1/2 each, estimate 1, se = 1, I2 = 100·1/(1 + 1) = 50, H2 = 2.
    res = rma([0.0, 2.0], [1.0, 1.0], method="DL")
    assert res.tau2 == pytest.approx(1.0, rel=HAND_REL_TOL)
    assert res.estimate == pytest.approx(1.0, rel=HAND_REL_TOL)
    assert res.se == pytest.approx(1.0, rel=HAND_REL_TOL)
    assert res.q == pytest.approx(2.0, rel=HAND_REL_TOL)
    assert res.i2 == pytest.approx(50.0, rel=HAND_REL_TOL)
    assert res.h2 == pytest.approx(2.0, rel=HAND_REL_TOL)
    assert res.ci_low == pytest.approx(1 - Z975, rel=1e-9)
    assert res.pi_high == pytest.approx(1 + Z975 * math.sqrt(2), rel=1e-9)
    assert res.weights == pytest.approx((50.0, 50.0))


def test_knha_two_studies_by_hand() -> None:
    # Same data: residual mean square Σw(y−μ)²/(k−1) = (0.5 + 0.5)/1 = 1, so se stays 1
    # and the CI uses t with 1 df.
    res = rma([0.0, 2.0], [1.0, 1.0], method="DL", test="knha")
    t_crit = float(stats.t.isf(0.025, 1))
    assert res.se == pytest.approx(1.0, rel=HAND_REL_TOL)
    assert res.ci_high == pytest.approx(1 + t_crit, rel=1e-9)
    assert res.df == 1


def test_common_effect_has_no_tau2_or_prediction_interval() -> None:
    res = rma([0.0, 2.0], [1.0, 1.0], method="FE")
    assert res.tau2 == 0
    assert res.se == pytest.approx(math.sqrt(0.5), rel=HAND_REL_TOL)
    assert math.isnan(res.pi_low)
    assert res.to_dict()["pi_low"] is None
    assert res.i2 == 50.0  # Q-based: 100·(2 − 1)/2


def test_k1_forces_z_and_zero_tau2_like_metafor() -> None:
    res = rma([0.3], [0.04], method="REML", test="knha")
    assert res.test == "z"
    assert res.tau2 == 0
    assert res.q == 0
    assert res.q_p == 1
    assert any("k = 1" in w for w in res.warnings)
    assert math.isnan(res.tau2_ci_low)


def test_identical_studies_have_zero_heterogeneity() -> None:
    res = rma([0.5] * 4, [0.1] * 4, method="REML", test="knha")
    assert res.tau2 == 0
    assert res.i2 == 0
    assert res.se == 0  # metafor: Knapp–Hartung factor 0 when the RSS is ~0


def test_q_is_exact_where_metafor_loses_digits() -> None:
    # One study 3.7e11 times more precise than the other: metafor's Y'PY gives
    # Q = 0.600002269; rational arithmetic gives the value we must reproduce.
    yi = [2.499998750000625e-07, 0.16666666666666666]
    vi = [1.2499984375014061e-13, 0.0462962962962963]
    w = [1 / Fraction(v) for v in vi]
    y = [Fraction(v) for v in yi]
    mean = sum(a * b for a, b in zip(w, y, strict=True)) / sum(w)
    exact_q = float(sum(a * (b - mean) ** 2 for a, b in zip(w, y, strict=True)))
    assert rma(yi, vi, method="FE").q == pytest.approx(exact_q, rel=1e-12)


def test_pritz_logit_reml_matches_published_anchor() -> None:
    # anchors_metaanalysis.md §5.2 (metafor 3.8-1, rounded to 6 decimals).
    d_xi = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
    d_ni = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]
    sizes = escalc("PLO", xi=d_xi, ni=d_ni)
    res = rma(sizes.yi, sizes.vi, measure="PLO", test="knha")
    assert res.estimate == pytest.approx(1.138909, abs=1e-6)
    assert res.back.ci_low == pytest.approx(0.648129, abs=1e-6)
    assert res.back.pi_high == pytest.approx(0.927318, abs=1e-6)
    assert res.tau2_ci_low == pytest.approx(0.041370, abs=1e-6)
    assert res.tau2_ci_high == pytest.approx(2.050993, abs=1e-6)
    assert res.back.mean == pytest.approx(0.741933, abs=1e-6)
    assert "median" in res.back.label


def test_pft_pathology_warns() -> None:
    xi, ni = [0, 0, 1, 0, 40], [10, 12, 15, 20, 20000]
    sizes = escalc("PFT", xi=xi, ni=ni, add=0)
    res = rma(sizes.yi, sizes.vi, method="FE", measure="PFT", ni=sizes.ni)
    assert res.back.estimate == 0.0
    assert any("harmonic-mean" in w for w in res.warnings)


def test_level_is_honoured() -> None:
    wide = rma([0.0, 2.0, 1.0], [1.0, 1.0, 0.5], level=99)
    narrow = rma([0.0, 2.0, 1.0], [1.0, 1.0, 0.5], level=90)
    assert wide.ci_high - wide.ci_low > narrow.ci_high - narrow.ci_low
    assert wide.tau2_ci_high >= narrow.tau2_ci_high


def test_non_convergence_is_reported_not_raised() -> None:
    res = rma([0.0, 2.0, 1.0, 5.0], [1.0, 1.0, 0.5, 0.1], method="REML", control={"maxiter": 1})
    assert res.status == "not_converged"
    assert "Fisher scoring" in res.reason


@pytest.mark.parametrize(
    ("yi", "vi", "message"),
    [
        ([0.1, 0.2], [0.1, -0.2], r"row 2, column 'vi'"),
        ([0.1, 0.2], [0.1, 0.0], r"row 2, column 'vi'"),
        ([0.1, float("inf")], [0.1, 0.2], r"row 2, column 'yi'"),
        ([0.1], [0.1, 0.2], "differ in length"),
    ],
)
def test_bad_input_names_row_and_column(yi: list[float], vi: list[float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        rma(yi, vi)


def test_unknown_method_and_test_are_rejected() -> None:
    with pytest.raises(InputError, match="method"):
        rma([0.1, 0.2], [0.1, 0.1], method="XYZ")
    with pytest.raises(InputError, match="test"):
        rma([0.1, 0.2], [0.1, 0.1], test="wald")


def test_t_knha_and_adhoc_by_hand() -> None:
    """Three studies that agree more than their variances imply: the Knapp–Hartung factor
    is RSS/(k − 1) = 10·(0.05² + 0.05² + 0)/2 = 0.025, so knha is narrower than t, and
    adhoc floors the factor at 1, giving exactly the t interval."""
    yi, vi = [0.1, 0.2, 0.15], [0.1, 0.1, 0.1]
    crit = 4.302652729749464  # R: qt(0.975, 2)
    se_t = math.sqrt(1 / 30)
    fits = {test: rma(yi, vi, method="FE", test=test) for test in ("t", "knha", "adhoc")}
    assert fits["t"].se == pytest.approx(se_t, rel=1e-12)
    assert fits["knha"].se == pytest.approx(math.sqrt(0.025 / 30), rel=1e-12)
    assert fits["adhoc"].se == pytest.approx(se_t, rel=1e-12)
    for fit in fits.values():
        assert fit.df == 2
        assert fit.ci_high - fit.estimate == pytest.approx(crit * fit.se, rel=1e-12)
    assert "floored at 1" in fits["adhoc"].settings["ci_method"]
