"""Properties that must hold for any data (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from postcart.stats import rma
from postcart.stats.tau2 import TAU2_METHODS

#: Reordering or shifting only changes the floating-point summation order.
PROPERTY_REL_TOL = 1e-7

effects = st.lists(
    st.tuples(
        st.floats(-5, 5, allow_nan=False),
        st.floats(1e-3, 5, allow_nan=False),
    ),
    min_size=2,
    max_size=25,
)
methods = st.sampled_from(TAU2_METHODS)


def _close(a: float, b: float, scale: float = 1.0) -> bool:
    return math.isclose(a, b, rel_tol=PROPERTY_REL_TOL, abs_tol=PROPERTY_REL_TOL * scale)


@given(effects, methods, st.randoms(use_true_random=False))
def test_study_order_does_not_matter(data, method, rnd) -> None:
    yi, vi = map(np.array, zip(*data, strict=True))
    order = list(range(len(yi)))
    rnd.shuffle(order)
    a = rma(yi, vi, method=method)
    b = rma(yi[order], vi[order], method=method)
    assert a.status == b.status
    if a.status == "ok":
        assert _close(a.estimate, b.estimate, 10)
        assert _close(a.tau2, b.tau2, 10)


@given(effects, methods, st.floats(-10, 10, allow_nan=False))
def test_location_shift_moves_estimate_only(data, method, shift) -> None:
    yi, vi = map(np.array, zip(*data, strict=True))
    a = rma(yi, vi, method=method, test="knha")
    b = rma(yi + shift, vi, method=method, test="knha")
    if a.status == "ok" and b.status == "ok":
        assert _close(a.estimate + shift, b.estimate, 100)
        assert _close(a.tau2, b.tau2, 10)
        assert _close(a.se, b.se, 10)


@given(effects, methods)
def test_tau2_and_i2_stay_in_range(data, method) -> None:
    yi, vi = map(np.array, zip(*data, strict=True))
    res = rma(yi, vi, method=method)
    if res.status == "ok":
        assert res.tau2 >= 0
        assert 0 <= res.i2 <= 100
        assert res.ci_low <= res.estimate <= res.ci_high
        if method != "FE" and math.isfinite(res.tau2_ci_low):
            assert res.tau2_ci_low <= res.tau2_ci_high


@given(effects)
def test_random_effects_with_zero_tau2_equals_common_effect(data) -> None:
    yi, vi = map(np.array, zip(*data, strict=True))
    fe = rma(yi, vi, method="FE")
    dl = rma(yi, vi, method="DL")
    if dl.tau2 == 0:
        assert dl.estimate == pytest.approx(fe.estimate, rel=PROPERTY_REL_TOL, abs=1e-12)
