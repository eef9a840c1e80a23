"""Subgroup pooling and Q-between against hand calculations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from postcart.errors import InputError
from postcart.stats.subgroups import q_between, subgroup_analysis

REL = 1e-10
YI = np.array([0.10, 0.30, 0.25, 0.80, 0.95, 0.60, 0.70])
VI = np.array([0.02, 0.04, 0.03, 0.05, 0.02, 0.06, 0.04])
GROUPS = ["CAR-T A", "CAR-T A", "CAR-T A", "CAR-T B", "CAR-T B", "CAR-T B", "CAR-T B"]


def _fe(y: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    w = 1 / v
    return float(np.sum(w * y) / w.sum()), float(1 / np.sqrt(w.sum()))


def test_fixed_effect_q_between_by_hand_and_partition_of_q() -> None:
    a, b = np.arange(3), np.arange(3, 7)
    (ma, sa), (mb, sb) = _fe(YI[a], VI[a]), _fe(YI[b], VI[b])
    wa, wb = 1 / sa**2, 1 / sb**2
    pooled = (wa * ma + wb * mb) / (wa + wb)
    q_b = wa * (ma - pooled) ** 2 + wb * (mb - pooled) ** 2
    res = subgroup_analysis(YI, VI, GROUPS, method="FE")
    assert res.levels == ("CAR-T A", "CAR-T B")
    assert res.estimate == pytest.approx([ma, mb], rel=REL)
    assert res.q_between == pytest.approx(q_b, rel=REL)
    assert res.q_between_df == (1, None)
    assert res.q_between_p == pytest.approx(sps.chi2.sf(q_b, 1), rel=REL)
    # Under a common effect, Q_total = Q_within(A) + Q_within(B) + Q_between.
    w = 1 / VI
    q_total = np.sum(w * (YI - np.sum(w * YI) / w.sum()) ** 2)
    assert q_total == pytest.approx(res.fits[0].q + res.fits[1].q + res.q_between, rel=REL)


def test_q_between_three_levels() -> None:
    est, se = np.array([0.1, 0.5, 0.3]), np.array([0.1, 0.2, 0.1])
    w = 1 / se**2
    mean = np.sum(w * est) / w.sum()
    q, df, p = q_between(est, se)
    assert q == pytest.approx(np.sum(w * (est - mean) ** 2), rel=REL)
    assert df == 2
    assert p == pytest.approx(sps.chi2.sf(q, 2), rel=REL)


def test_common_tau2_fixed_effect_estimates_equal_separate_ones() -> None:
    sep = subgroup_analysis(YI, VI, GROUPS, method="FE")
    com = subgroup_analysis(YI, VI, GROUPS, method="FE", tau2="common")
    assert com.estimate == pytest.approx(sep.estimate, rel=REL)
    assert com.q_between == pytest.approx(sep.q_between, rel=REL)
    assert com.common_tau2 == 0.0
    assert com.tau2_convention == "common"


def test_separate_fits_are_reachable_by_label_and_serialisable() -> None:
    res = subgroup_analysis(YI, VI, GROUPS, method="REML", test="knha")
    assert res.fit("CAR-T B").k == 4
    d = res.to_dict()
    assert set(d["fits"]) == {"CAR-T A", "CAR-T B"}
    assert "subgroup differences" in res.summary()


@pytest.mark.parametrize(
    ("groups", "kwargs", "match"),
    [
        (["x"] * 7, {}, "at least 2 levels"),
        (["x", "y"], {}, "column 'groups'"),
        (GROUPS, {"tau2": "pooled"}, "column 'tau2'"),
        (GROUPS, {"tau2": "common", "method": "GLMM"}, "method='GLMM'"),
    ],
)
def test_bad_input_is_named(groups: list[str], kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(InputError, match=match):
        subgroup_analysis(YI, VI, groups, **kwargs)  # type: ignore[arg-type]
