"""KM, Greenwood, median and Cox against hand calculations written here (R is the other oracle)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import postcart.stats.survival as survival
from postcart.errors import InputError
from postcart.stats.survival import cox_arms, coxph, kaplan_meier

Z = 1.959963984540054


def test_public_api_is_what_all_says() -> None:
    assert sorted(survival.__all__) == sorted(
        [
            "CleanCurve",
            "CoxResult",
            "KaplanMeier",
            "Landmark",
            "PooledMedian",
            "PooledSurvival",
            "Quantile",
            "Reconstruction",
            "RiskCheck",
            "clean_curve",
            "cox_arms",
            "coxph",
            "isotonic_nonincreasing",
            "kaplan_meier",
            "pool_survival",
            "reconstruct",
        ]
    )
    for name in survival.__all__:
        assert getattr(survival, name) is not None


def test_km_greenwood_by_hand() -> None:
    # times 1,2,2+,3,4,5 (all events but the censored 2): S = 5/6, 4/6, 4/6*2/3, ...
    km = kaplan_meier([1, 2, 2, 3, 4, 5], [1, 1, 0, 1, 1, 1])
    assert km.time.tolist() == [1, 2, 3, 4, 5]
    assert km.n_risk.tolist() == [6, 5, 3, 2, 1]
    assert km.surv[2] == pytest.approx(5 / 6 * 4 / 5 * 2 / 3, rel=1e-14)
    var = 1 / (6 * 5) + 1 / (5 * 4) + 1 / (3 * 2)
    assert km.std_err[2] == pytest.approx(math.sqrt(var), rel=1e-14)
    assert km.lower[2] == pytest.approx(km.surv[2] * math.exp(-Z * math.sqrt(var)), rel=1e-12)
    assert km.upper[0] == 1.0  # capped
    assert math.isinf(km.std_err[-1])
    assert math.isnan(km.lower[-1])
    med = km.median()
    assert (med.estimate, med.ci_low) == (3.0, 2.0)
    assert math.isnan(med.ci_high)
    lm = km.at(3.5)
    assert lm.surv == pytest.approx(km.surv[2])
    assert lm.se == pytest.approx(km.surv[2] * math.sqrt(var))
    assert lm.n_risk == 2


def test_median_on_a_flat_half_is_the_midpoint() -> None:
    km = kaplan_meier([1, 2, 3, 4], [1, 1, 1, 1])  # S = 0.5 on [2, 3)
    assert km.median().estimate == 2.5


def test_landmark_outside_follow_up_is_refused() -> None:
    km = kaplan_meier([1, 2, 3], [1, 0, 1])
    with pytest.raises(InputError, match="after the last follow-up"):
        km.at(4.0)
    assert km.at(0.5).surv == 1.0


@pytest.mark.parametrize(
    ("time", "event", "message"),
    [([], [], "no observations"), ([1, -1], [1, 1], "row 2"), ([1, 2], [1, 2], "0 or 1")],
)
def test_km_bad_input(time, event, message) -> None:
    with pytest.raises(InputError, match=message):
        kaplan_meier(time, event)


def test_cox_two_patients_by_hand() -> None:
    # arm 0 dies at 1, arm 1 dies at 2: partial likelihood 1/(1+e^b) -> b -> -inf
    res = coxph([1, 2], [1, 1], [0, 1])
    assert res.status == "not_converged"
    assert math.isnan(res.hr)
    # no ties: score equation for 3 patients, x = 0,1,0 dying at 1,2,3 and one censored
    t = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([1, 1, 1, 0])
    x = np.array([0.0, 1.0, 0.0, 1.0])
    fit = coxph(t, e, x)
    b = fit.coef
    # d/db of sum_i [x_i b - log sum_{R_i} e^{x b}] = 0 at the MLE
    score = (
        (0 - (2 * math.exp(b)) / (2 + 2 * math.exp(b)))
        + (1 - 2 * math.exp(b) / (1 + 2 * math.exp(b)))
        + (0 - math.exp(b) / (1 + math.exp(b)))
    )
    assert score == pytest.approx(0.0, abs=1e-10)
    assert fit.hr == pytest.approx(math.exp(b))
    same = cox_arms(t[x == 0], e[x == 0], t[x == 1], e[x == 1])
    assert same.coef == pytest.approx(b, rel=1e-12)


def test_efron_and_breslow_differ_only_with_ties() -> None:
    t = [1.0, 1.0, 2.0, 3.0, 3.0, 4.0]
    e = [1, 1, 1, 1, 1, 0]
    x = [0, 1, 0, 1, 0, 1]
    assert coxph(t, e, x).coef != pytest.approx(coxph(t, e, x, ties="breslow").coef)
    u = [1.0, 1.5, 2.0, 3.0, 3.5, 4.0]
    assert coxph(u, e, x).coef == pytest.approx(coxph(u, e, x, ties="breslow").coef, rel=1e-12)


def test_cox_bad_input() -> None:
    with pytest.raises(InputError, match="constant"):
        coxph([1, 2], [1, 1], [1, 1])
    with pytest.raises(InputError, match="no events"):
        coxph([1, 2], [0, 0], [0, 1])
