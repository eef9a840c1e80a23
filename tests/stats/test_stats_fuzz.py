"""Hostile input to every public statistics function (issue 16): each call either raises a
project error (``PostcartError``, naming the argument and row) or returns a result whose
status is ``"ok"`` only when its estimates are finite. Never a ZeroDivisionError,
OverflowError, LinAlgError or a NaN reported as "ok".

The arrays mix tiny and huge variances (down to 5e-324, up to 1.8e308), ratios beyond 1e16,
NaN, ±inf, booleans, empty input, k = 1, wrong shapes and text.

Examples per test come from ``POSTCART_FUZZ_EXAMPLES`` (300 by default, so ``make test``
runs 2,400 across the eight tests in a few seconds; ``make fuzz`` sets 1,300 per test).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postcart.errors import PostcartError
from postcart.stats import (
    baujat,
    cumul,
    escalc,
    funnel,
    influence,
    landmark_effects,
    leave1out,
    meta_regression,
    ranktest,
    regtest,
    rma,
    rma_batch,
    rma_glmm,
    rma_glmm_batch,
    subgroup_analysis,
    trimfill,
)
from postcart.stats.tau2 import TAU2_METHODS

EXAMPLES = int(os.environ.get("POSTCART_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))  # fmt: skip

#: Values at and beyond the edges of double precision and of the accepted ranges.
EDGES = (0.0, -0.0, 5e-324, 1e-320, 1e-300, 1e-51, 1e-50, 1e-20, 1e-16, 1e16, 1e50, 1e51,
         1e300, 1.7e308, -1.0, 1.0, math.nan, math.inf, -math.inf)  # fmt: skip
hostile_number = st.one_of(
    st.sampled_from(EDGES),
    st.floats(-10, 10),
    st.builds(lambda e: 10.0**e, st.floats(-330, 308)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.integers(-5, 500),
)
hostile_vector: st.SearchStrategy[Any] = st.one_of(
    st.lists(hostile_number, min_size=0, max_size=7),
    st.lists(hostile_number, min_size=1, max_size=7).map(lambda v: np.array(v, dtype=object)),
    st.lists(st.floats(-5, 5), min_size=1, max_size=4).map(lambda v: [v, v]),  # 2-D
    hostile_number,  # a bare scalar (k = 1)
    st.just("text"),
    st.lists(st.booleans(), min_size=1, max_size=4).map(np.array),
)
#: Mostly usable data of one length k, so the numerics (not only the first check) meet the
#: extremes: positive variances over the whole double range (also all equal, so their ratio
#: passes), ordinary, huge or identical effect sizes (identical: Knapp–Hartung factor 0).
POSITIVE_EDGES = (5e-324, 1e-300, 1e-51, 1e-50, 1e-35, 1e-20, 1e-12, 1e-4, 1.0, 1e4, 1e20,
                  1e35, 1e50, 1e51, 1e300)  # fmt: skip
positive = st.one_of(st.sampled_from(POSITIVE_EDGES),
                     st.builds(lambda e: 10.0**e, st.floats(-330, 308)))  # fmt: skip


def _study_data(k: int) -> st.SearchStrategy[tuple[list[float], list[float]]]:
    effects = st.one_of(
        st.lists(st.one_of(st.floats(-10, 10), st.sampled_from((1e50, -1e51, 1e300))),
                 min_size=k, max_size=k),
        st.just([0.5] * k),
    )  # fmt: skip
    variances = st.one_of(st.lists(positive, min_size=k, max_size=k),
                          positive.map(lambda v: [v] * k))  # fmt: skip
    return st.tuples(effects, variances)


usable = st.integers(1, 7).flatmap(_study_data)
hostile = st.tuples(hostile_vector, hostile_vector)
#: (yi, vi) pairs: two parts usable-but-extreme to one part hostile.
study_data = st.one_of(usable, usable, hostile)

#: Proportion-type inputs: counts near the edges and hostile values.
counts = st.lists(st.one_of(st.integers(0, 60), st.sampled_from((1e16, 1e300, -1.0, 0.5))),
                  min_size=0, max_size=6)  # fmt: skip
methods = st.sampled_from(TAU2_METHODS)
tests = st.sampled_from(("z", "t", "knha", "adhoc"))

#: Fields that must be finite whenever a result says "ok".
ESTIMATE_FIELDS = ("estimate", "se", "ci_low", "ci_high")


def _ok_means_finite(result: Any) -> None:
    """A result (single or batch) reports "ok" only where its estimates are finite."""
    status = getattr(result, "status", None)
    if isinstance(status, tuple):  # BatchResult: one status per analysis
        for i, row_status in enumerate(status):
            if row_status == "ok":
                for name in ESTIMATE_FIELDS:
                    assert np.isfinite(getattr(result, name)[i]), (name, i, result.reason[i])
        return
    if status == "ok":
        for name in ESTIMATE_FIELDS:
            assert math.isfinite(getattr(result, name)), (name, result.reason)


def _survives(call: Callable[[], Any]) -> Any:
    """Run ``call``; a project error is an accepted answer, anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's overflow warnings are not the contract
        try:
            result = call()
        except PostcartError:
            return None
    _ok_means_finite(result)
    return result


@FUZZ
@given(study_data, methods, tests)
def test_rma_refuses_or_reports_honestly(data: Any, method: str, test: str) -> None:
    yi, vi = data
    _survives(lambda: rma(yi, vi, method=method, test=test))
    _survives(lambda: rma(yi, vi, method=method, test=test, pi_type="riley"))


@FUZZ
@given(study_data, methods, tests)
def test_batch_refuses_or_reports_honestly(data: Any, method: str, test: str) -> None:
    yi, vi = data
    _survives(lambda: rma_batch([yi, yi], [vi, vi], method=method, test=test))
    _survives(lambda: rma_batch(yi, vi, method=method, test=test))


@FUZZ
@given(counts, counts, st.sampled_from(("PLO", "PR", "PAS", "PFT")))
def test_counts_refuse_or_report_honestly(xi: Any, ni: Any, measure: str) -> None:
    sizes = _survives(lambda: escalc(measure, xi=xi, ni=ni))
    if sizes is not None:
        _survives(lambda: rma(sizes.yi, sizes.vi, measure=measure, ni=sizes.ni))
    _survives(lambda: rma_glmm(xi, ni))
    _survives(lambda: rma_glmm_batch([xi], [ni]))


@FUZZ
@given(study_data)
def test_generic_escalc_refuses_or_passes_through(data: Any) -> None:
    yi, vi = data
    _survives(lambda: escalc("GEN", yi=yi, vi=vi))


@FUZZ
@given(study_data, st.sampled_from(("REML", "DL", "FE")), tests)
def test_diagnostics_refuse_or_report_honestly(data: Any, method: str, test: str) -> None:
    yi, vi = data
    _survives(lambda: leave1out(yi, vi, method=method, test=test))
    _survives(lambda: influence(yi, vi, method=method, test=test))  # type: ignore[arg-type]
    _survives(lambda: regtest(yi, vi))
    _survives(lambda: ranktest(yi, vi))
    _survives(lambda: trimfill(yi, vi))


@FUZZ
@given(study_data, st.sampled_from(("REML", "DL", "FE")))
def test_models_with_structure_refuse_or_report_honestly(data: Any, method: str) -> None:
    yi, vi = data
    k = len(yi) if isinstance(yi, list) else 1
    _survives(lambda: subgroup_analysis(yi, vi, ["a", "b"] * (k // 2) + ["a"] * (k % 2),
                                        method=method))  # fmt: skip
    _survives(lambda: meta_regression(yi, vi, list(range(k)), method=method))  # type: ignore[arg-type]


@FUZZ
@given(hostile_vector, hostile_vector, hostile_vector)
def test_landmark_rates_refuse_or_pass(rate: Any, low: Any, n: Any) -> None:
    _survives(lambda: landmark_effects(rate, ci_low=low, ci_high=low))
    _survives(lambda: landmark_effects(rate, n=n))


@FUZZ
@given(study_data, st.sampled_from(("sei", "ni", "vinv", "wi")), tests)
def test_methods_refuse_or_return_numbers(data: Any, yaxis: Any, test: str) -> None:
    yi, vi = data
    k = len(yi) if isinstance(yi, list) else 1
    _survives(lambda: funnel(yi, vi, ni=[10 + i for i in range(k)], yaxis=yaxis, test=test))
    cu = _survives(lambda: cumul(yi, vi, order=list(range(k, 0, -1)), test=test))
    if cu is not None:
        _ok_means_finite(cu.fits)
    _survives(lambda: baujat(yi, vi, test=test))
