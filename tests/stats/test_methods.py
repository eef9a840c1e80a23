"""Funnel data, cumulative meta-analysis, Baujat coordinates and the Riley prediction
interval on examples small enough to work by hand (metafor agreement: tests/oracle)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import postcart.stats
from postcart.errors import InputError
from postcart.stats import baujat, cumul, funnel, rma

#: t quantiles written out so the expected values below do not call the code under test.
T1_975 = 12.706204736174705  # qt(0.975, 1)
Z_975 = 1.959963984540054  # qnorm(0.975)


def test_public_api_lists_the_new_methods() -> None:
    for name in ("funnel", "cumul", "baujat", "FunnelData", "FunnelRegion", "Cumulative",
                 "Baujat"):  # fmt: skip
        assert name in postcart.stats.__all__
        assert getattr(postcart.stats, name) is not None


def test_riley_interval_by_hand() -> None:
    # yi = (0, 2), vi = (1, 1), DL: Q = 2, tau2 = (Q − 1)/tr(P) = 1; w = 1/2 each, so the
    # estimate is 1 and se² = 1/Σw = 1. Riley: t with max(1, k − 2) = 1 df.
    fit = rma([0, 2], [1, 1], method="DL", pi_type="riley")
    half = T1_975 * math.sqrt(1 + 1)
    assert fit.pi_low == pytest.approx(1 - half, rel=1e-12)
    assert fit.pi_high == pytest.approx(1 + half, rel=1e-12)
    assert "Riley" in fit.settings["pi_formula"]


def test_simple_interval_leaves_out_the_se() -> None:
    fit = rma([0, 2], [1, 1], method="DL", pi_type="simple")  # 1 ± z·sqrt(tau2 = 1)
    assert (fit.pi_low, fit.pi_high) == pytest.approx((1 - Z_975, 1 + Z_975), rel=1e-12)


def test_default_interval_is_unchanged() -> None:
    fit = rma([0, 2], [1, 1], method="DL")  # z: 1 ± z·sqrt(1 + 1)
    assert fit.pi_high == pytest.approx(1 + Z_975 * math.sqrt(2), rel=1e-12)
    assert fit.settings["pi_formula"].endswith("crit from Wald z")


def test_unknown_pi_type_is_refused() -> None:
    with pytest.raises(InputError, match="pi_type='Riley' is not one of"):
        rma([0, 2], [1, 1], pi_type="Riley")  # type: ignore[arg-type]


def test_funnel_region_by_hand() -> None:
    # FE: weights 4 and 1, refline = (0·4 + 1·1)/5 = 0.2. SE axis from max se = 1 down to 0,
    # region grid from 1.1 (10 % below the axis) to 0.
    data = funnel([0, 1], [0.25, 1], yaxis="sei", method="FE")
    assert data.refline == pytest.approx(0.2, rel=1e-12)
    assert data.y.tolist() == [0.5, 1.0]
    assert data.ylim == (1.0, 0.0)
    assert data.grid[0] == pytest.approx(1.1)
    assert data.grid[-1] == 0.0
    (region,) = data.regions
    assert region.lower[0] == pytest.approx(0.2 - Z_975 * 1.1, rel=1e-12)
    assert region.upper[-1] == pytest.approx(0.2, rel=1e-12)
    # xlim: the region's bottom corners (0.2 ± z·1) padded by 10 % of their span.
    span = 2 * Z_975
    assert data.xlim == pytest.approx((0.2 - Z_975 - 0.1 * span, 0.2 + Z_975 + 0.1 * span))


def test_contour_levels_are_listed_widest_first() -> None:
    data = funnel([0, 1, 0.5], [0.25, 1, 0.5], level=[90, 99, 95], method="FE")
    assert [r.level for r in data.regions] == [99.0, 95.0, 90.0]


def test_sample_size_axis_has_points_but_no_region() -> None:
    data = funnel([0.1, 0.9, 0.4], [0.2, 0.3, 0.1], ni=[40, 25, 120], yaxis="ni")
    assert data.y.tolist() == [40, 25, 120]
    assert data.regions == ()
    assert data.grid.size == 0
    assert data.ylim == (25, 120)
    assert data.ylab == "Sample Size"


def test_sample_size_axis_needs_sizes() -> None:
    with pytest.raises(InputError, match="column 'ni': yaxis='sqrtni' needs the study sizes"):
        funnel([0.1, 0.9], [0.2, 0.3], yaxis="sqrtni")


def test_cumul_adds_studies_in_key_order_with_stable_ties() -> None:
    yi, vi = [0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]
    cu = cumul(yi, vi, order=[2020, 2019, 2020, 2018], method="FE", labels=list("abcd"))
    assert cu.labels == ("d", "b", "a", "c")  # 2018, 2019, then the 2020 tie in input order
    # Equal variances under FE: each step is the running mean of the added effects.
    assert cu.estimate.tolist() == pytest.approx([3.0, 2.0, 4 / 3, 1.5], rel=1e-12)
    assert cu.se[0] == pytest.approx(1.0)
    assert cu.se[3] == pytest.approx(0.5)
    down = cumul(yi, vi, order=[2020, 2019, 2020, 2018], decreasing=True, method="FE",
                 labels=list("abcd"))  # fmt: skip
    assert down.labels == ("a", "c", "b", "d")


def test_cumul_first_step_is_the_single_study_with_z() -> None:
    cu = cumul([0.3, 0.5, 0.1], [0.04, 0.09, 0.01], test="knha")
    assert cu.k.tolist() == [1, 2, 3]
    assert cu.fits[0].test == "z"
    assert (cu.estimate[0], cu.se[0]) == pytest.approx((0.3, 0.2), rel=1e-12)
    assert cu.fits[2].estimate == pytest.approx(rma([0.3, 0.5, 0.1], [0.04, 0.09, 0.01],
                                                    test="knha").estimate, rel=1e-12)  # fmt: skip


def test_cumul_refuses_missing_or_incomparable_keys() -> None:
    with pytest.raises(InputError, match="row 2, column 'order': missing key"):
        cumul([0.1, 0.2], [0.1, 0.1], order=[1, None])
    with pytest.raises(InputError, match="keys cannot be compared"):
        cumul([0.1, 0.2], [0.1, 0.1], order=[1, "2020"])


def test_baujat_by_hand() -> None:
    # FE, yi = (0, 2), vi = (1, 1): estimate 1, so x = (0 − 1)²/1 = 1 each; leaving a study
    # out gives the other one (estimate 2 or 0, variance 1), so y = (2 − 1)²/1 = 1 each.
    b = baujat([0, 2], [1, 1], method="FE")
    assert b.x.tolist() == pytest.approx([1.0, 1.0])
    assert b.y.tolist() == pytest.approx([1.0, 1.0])
    assert b.xlab == "Contribution to Overall Heterogeneity"


def test_baujat_x_sums_to_q_under_a_common_effect() -> None:
    yi, vi = np.array([0.1, 0.8, 0.3, -0.4]), np.array([0.05, 0.1, 0.02, 0.2])
    assert baujat(yi, vi, method="FE").x.sum() == pytest.approx(rma(yi, vi, method="FE").q)


def test_baujat_needs_two_studies() -> None:
    with pytest.raises(InputError, match="needs at least 2 studies, got 1"):
        baujat([0.1], [0.1])
