"""Landmark survival rates → yi/vi: checked against hand calculations written here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats.landmark import (
    N_APPROX_LABEL,
    back_interval,
    back_transform,
    landmark_effects,
    transform,
)

REL = 1e-12
Z95 = 1.959963984540054  # qnorm(0.975)


def test_cloglog_from_ci_by_hand() -> None:
    # S = 0.60, 95% CI 0.50–0.70 on log(-log S)
    res = landmark_effects([0.60], ci_low=[0.50], ci_high=[0.70], scale="cloglog")
    g_lo, g_hi = math.log(-math.log(0.50)), math.log(-math.log(0.70))
    se = abs(g_hi - g_lo) / (2 * Z95)
    assert res.yi[0] == pytest.approx(math.log(-math.log(0.60)), rel=REL)
    assert res.vi[0] == pytest.approx(se**2, rel=REL)
    assert res.source == ("ci",)
    assert not res.any_approximated


def test_logit_from_percent_ci_at_90_level() -> None:
    res = landmark_effects(
        [45.0], ci_low=[35.0], ci_high=[55.0], scale="logit", level=90, unit="percent"
    )
    z90 = 1.6448536269514722
    lg = math.log(0.55 / 0.45) - math.log(0.35 / 0.65)
    assert res.yi[0] == pytest.approx(math.log(0.45 / 0.55), rel=REL)
    assert res.vi[0] == pytest.approx((lg / (2 * z90)) ** 2, rel=REL)


def test_se_on_proportion_scale_uses_delta_method() -> None:
    res = landmark_effects([0.8, 0.8], se=[0.05, 0.05], scale="logit")
    assert res.vi[0] == pytest.approx((0.05 / (0.8 * 0.2)) ** 2, rel=REL)
    res2 = landmark_effects([0.8], se=[0.05], scale="cloglog")
    assert res2.vi[0] == pytest.approx((0.05 / (0.8 * abs(math.log(0.8)))) ** 2, rel=REL)
    assert res2.source == ("se",)


def test_n_only_is_flagged_as_approximation_everywhere() -> None:
    res = landmark_effects([0.5, 0.7], ci_low=[0.4, None], ci_high=[0.6, None], n=[100, 50])
    assert res.source == ("ci", "n_approx")
    assert res.approximated.tolist() == [False, True]
    assert res.any_approximated
    assert res.settings["n_approximation"] == N_APPROX_LABEL
    assert res.settings["approximated_rows"] == [2]
    d = res.to_dict()
    assert d["approximated"] == [False, True]
    assert d["any_approximated"] is True
    # binomial variance 0.7*0.3/50 through the delta method of log(-log S)
    expected = 0.7 * 0.3 / 50 / (0.7 * math.log(0.7)) ** 2
    assert res.vi[1] == pytest.approx(expected, rel=REL)


def test_logit_n_only_equals_escalc_plo_variance() -> None:
    # With x = n*S events, escalc(measure="PLO") gives vi = 1/x + 1/(n-x) = 1/(n S (1-S)).
    res = landmark_effects([0.25], n=[40], scale="logit")
    assert res.vi[0] == pytest.approx(1 / 10 + 1 / 30, rel=REL)


def test_ci_touching_one_uses_the_finite_half() -> None:
    res = landmark_effects([0.9], ci_low=[0.8], ci_high=[1.0], scale="logit")
    half = math.log(0.9 / 0.1) - math.log(0.8 / 0.2)
    assert res.source == ("ci_half",)
    assert res.vi[0] == pytest.approx((half / Z95) ** 2, rel=REL)


@pytest.mark.parametrize("scale", ["logit", "cloglog"])
def test_back_transform_inverts_transform(scale: str) -> None:
    p = np.array([0.05, 0.3, 0.5, 0.77, 0.99])
    assert np.allclose(back_transform(transform(p, scale), scale), p, rtol=1e-13)  # type: ignore[arg-type]


def test_back_interval_swaps_on_cloglog() -> None:
    lo, hi = back_interval(-1.0, 0.0, "cloglog")
    assert lo == pytest.approx(math.exp(-1.0), rel=REL)
    assert hi == pytest.approx(math.exp(-math.exp(-1.0)), rel=REL)
    assert lo < hi


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"estimate": [0.5, 1.0], "n": [10, 10]}, "row 2, column 'estimate'"),
        ({"estimate": [0.5], "ci_low": [0.6], "ci_high": [0.7]}, "row 1"),
        ({"estimate": [0.5]}, "no precision"),
        ({"estimate": [0.5], "se": [-0.1]}, "column 'se'"),
        ({"estimate": [0.5], "n": [10, 12]}, "column 'n'"),
    ],
)
def test_bad_input_names_row_and_column(kwargs: dict[str, object], where: str) -> None:
    with pytest.raises(InputError, match=where):
        landmark_effects(**kwargs)  # type: ignore[arg-type]
