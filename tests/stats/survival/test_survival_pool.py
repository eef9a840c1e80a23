"""Pooled survival: each landmark is the landmark machinery on Greenwood SEs, nothing else."""

from __future__ import annotations

import math

import numpy as np
import pytest

from postcart.errors import InputError
from postcart.stats import rma
from postcart.stats.survival import kaplan_meier, pool_survival
from postcart.stats.survival.simulate import simulate_arm


@pytest.fixture(scope="module")
def curves():
    rng = np.random.default_rng(2014)
    arms = [simulate_arm(rng, n, median=m) for n, m in ((80, 5.0), (120, 6.5), (60, 4.5))]
    return [kaplan_meier(a.time, a.event) for a in arms]


def test_landmark_is_rma_on_cloglog_greenwood(curves) -> None:
    res = pool_survival(curves, labels=["A", "B", "C"], times=[6.0])
    lm = res.landmarks[0]
    s = np.array([km.at(6.0).surv for km in curves])
    se_s = np.array([km.at(6.0).se for km in curves])
    yi = np.log(-np.log(s))
    vi = (se_s / (s * np.abs(np.log(s)))) ** 2
    fit = rma(yi, vi, method="REML", test="knha")
    assert lm.fit is not None
    assert lm.fit.estimate == pytest.approx(fit.estimate, rel=1e-12)
    assert lm.fit.back.estimate == pytest.approx(math.exp(-math.exp(fit.estimate)), rel=1e-12)
    # the back-transform swaps the ends on the log(-log) scale
    assert lm.fit.back.ci_low == pytest.approx(math.exp(-math.exp(fit.ci_high)), rel=1e-12)
    assert lm.studies == ("A", "B", "C")


def test_pooled_median_is_read_off_the_pooled_curve(curves) -> None:
    res = pool_survival(curves, times=[3.0, 6.0], grid_step=0.5)
    med = res.median
    assert med.ci_low <= med.estimate <= med.ci_high
    # the pooled curve at the median is at or below 0.5, half a step earlier above it
    at = pool_survival(curves, times=[med.estimate, med.estimate - 0.5])
    fits = [lm.fit for lm in at.landmarks]
    assert fits[0] is not None
    assert fits[1] is not None
    assert fits[0].back.estimate <= 0.5 < fits[1].back.estimate
    out = res.to_dict()
    assert out["k"] == 3
    assert out["median"]["estimate"] == med.estimate


def test_studies_without_follow_up_are_left_out_with_a_reason(curves) -> None:
    short = kaplan_meier([1.0, 2.0, 3.0, 4.0], [1, 0, 1, 0])
    res = pool_survival([*curves, short], times=[10.0])
    assert "follow-up ends at 4" in res.landmarks[0].left_out["study 4"]


def test_pooling_needs_two_curves(curves) -> None:
    with pytest.raises(InputError, match="at least 2"):
        pool_survival(curves[:1])
