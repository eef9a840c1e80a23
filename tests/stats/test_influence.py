"""leave1out / influence against hand calculations, including exact rational arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats.influence import influence, leave1out

REL = 1e-10
YI = np.array([0.12, 0.45, -0.10, 0.80, 0.30, 0.05])
VI = np.array([0.03, 0.08, 0.04, 0.10, 0.02, 0.05])
#: Calendar years make X'WX ill-conditioned (cond ~ 1e9); dat.egger2001-like.
YEARS = np.array([1984, 1986, 1987, 1988, 1989, 1990, 1991, 1993, 1994, 1996], dtype=float)
Y_YEARS = np.array([-0.9, -1.4, 0.1, -0.5, -0.2, -1.1, 0.3, -0.6, -0.05, -0.3])
V_YEARS = np.array([0.6, 0.2, 0.35, 0.9, 0.15, 0.5, 0.3, 0.25, 0.4, 0.1])


def test_leave1out_fixed_effect_is_weighted_mean_without_the_study() -> None:
    res = leave1out(YI, VI, method="FE")
    w = 1 / VI
    for i in range(YI.size):
        keep = np.arange(YI.size) != i
        mu = np.sum(w[keep] * YI[keep]) / w[keep].sum()
        q = np.sum(w[keep] * (YI[keep] - mu) ** 2)
        assert res.estimate[i] == pytest.approx(mu, rel=REL)
        assert res.se[i] == pytest.approx(1 / math.sqrt(w[keep].sum()), rel=REL)
        assert res.q[i] == pytest.approx(q, rel=REL)
    assert "omitted" in res.summary()
    assert len(res.to_dict()["estimate"]) == YI.size


def test_leave1out_needs_three_studies() -> None:
    with pytest.raises(InputError, match="at least 3"):
        leave1out([0.1, 0.2], [0.1, 0.1])


def test_fixed_effect_intercept_only_diagnostics_by_hand() -> None:
    res = influence(YI, VI, method="FE")
    w = 1 / VI
    mu = np.sum(w * YI) / w.sum()
    assert res.hat == pytest.approx(w / w.sum(), rel=REL)
    assert res.weight == pytest.approx(100 * w / w.sum(), rel=REL)
    for i in range(YI.size):
        keep = np.arange(YI.size) != i
        mu_del = np.sum(w[keep] * YI[keep]) / w[keep].sum()
        var_del = 1 / w[keep].sum()
        assert res.rstudent[i] == pytest.approx((YI[i] - mu_del) / math.sqrt(VI[i] + var_del))
        assert res.cook_d[i] == pytest.approx((mu - mu_del) ** 2 * w.sum(), rel=1e-9)
        assert res.cov_r[i] == pytest.approx(var_del * w.sum(), rel=REL)
        assert res.dffits[i] == pytest.approx(
            (mu - mu_del) / math.sqrt(res.hat[i] * VI[i]), rel=1e-9
        )


def _exact_dl_slope_fit(rows: list[int]) -> tuple[Fraction, list[Any]]:
    """DL τ² and WLS coefficients of y ~ year in exact rational arithmetic (2 × 2 algebra)."""
    y = [Fraction(Y_YEARS[i]) for i in rows]
    x = [Fraction(YEARS[i]) for i in rows]
    v = [Fraction(V_YEARS[i]) for i in rows]

    def wls(w: list[Fraction]) -> tuple[list[Any], list[list[Any]]]:
        s0, s1 = sum(w), sum(wi * xi for wi, xi in zip(w, x, strict=True))
        s2 = sum(wi * xi * xi for wi, xi in zip(w, x, strict=True))
        t0 = sum(wi * yi for wi, yi in zip(w, y, strict=True))
        t1 = sum(wi * xi * yi for wi, xi, yi in zip(w, x, y, strict=True))
        det = s0 * s2 - s1 * s1
        inv = [[s2 / det, -s1 / det], [-s1 / det, s0 / det]]
        return [inv[0][0] * t0 + inv[0][1] * t1, inv[1][0] * t0 + inv[1][1] * t1], inv

    w = [1 / vi for vi in v]
    b, inv = wls(w)
    rss = sum(wi * (yi - b[0] - b[1] * xi) ** 2 for wi, yi, xi in zip(w, y, x, strict=True))
    a0, a1 = sum(wi**2 for wi in w), sum(wi**2 * xi for wi, xi in zip(w, x, strict=True))
    a2 = sum(wi**2 * xi**2 for wi, xi in zip(w, x, strict=True))
    tr_p = sum(w) - (inv[0][0] * a0 + 2 * inv[0][1] * a1 + inv[1][1] * a2)
    tau2 = max(Fraction(0), (rss - (len(rows) - 2)) / tr_p)
    return tau2, wls([1 / (vi + tau2) for vi in v])[0]


def test_calendar_year_moderator_matches_exact_arithmetic() -> None:
    # Normal equations lose ~6 digits here (metafor itself is off by ~1e-5 in dfbetas);
    # the QR-based fit must agree with exact rational arithmetic.
    res = influence(Y_YEARS, V_YEARS, YEARS, method="DL")
    n = YEARS.size
    _, beta_full = _exact_dl_slope_fit(list(range(n)))
    for i in (0, 4, 9):
        tau2_del, beta_del = _exact_dl_slope_fit([j for j in range(n) if j != i])
        assert res.tau2_del[i] == pytest.approx(float(tau2_del), rel=1e-9)
        w = [1 / (Fraction(vj) + tau2_del) for vj in V_YEARS]
        s0 = sum(w)
        s1 = sum(wj * Fraction(xj) for wj, xj in zip(w, YEARS, strict=True))
        s2 = sum(wj * Fraction(xj) ** 2 for wj, xj in zip(w, YEARS, strict=True))
        var_slope = s0 / (s0 * s2 - s1 * s1)
        dfb_slope = float(beta_full[1] - beta_del[1]) / math.sqrt(float(var_slope))
        assert res.dfbetas[i, 1] == pytest.approx(dfb_slope, rel=1e-8)


def test_influential_flag_follows_the_hat_rule() -> None:
    vi = np.array([0.001, 0.5, 0.5, 0.5, 0.5, 0.5])
    res = influence([0.0, 0.1, -0.1, 0.2, 0.05, 0.0], vi, method="FE")
    assert res.hat[0] > 3 * 1 / 6
    assert res.inf[0]
    assert "*" in res.summary()
